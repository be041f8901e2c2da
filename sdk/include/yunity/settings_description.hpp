// What a plugin tells the core about its settings, for `yunity-sockets --config-reference`. C-compatible, like
// PluginInfo: the core reads it from the library's optional `yunity_plugin_settings` symbol (see
// YUNITY_PLUGIN_SETTINGS in plugin.hpp) only after the ABI check passed. These are new types next to the ones
// api_version covers, so adding them did not change that version; changing their shape later must raise it.
#pragma once

#include <cstdint>

namespace yunity {

struct SettingDescription {
    const char* name;
    const char* type;           // what a value must be, worded as refusals word it: "a positive integer"
    const char* default_value;  // as written in the config file, or a word: "none", "required"
    const char* environment;    // the variable that wins over the config file, or nullptr
    const char* description;    // one line of Markdown: write `<placeholders>` as code, or they vanish
};

struct SettingsDescription {
    std::uint32_t count;
    const SettingDescription* settings;  // `count` of them, in the order the plugin declared them
};

}  // namespace yunity
