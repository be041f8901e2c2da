#pragma once

#include "core_option.hpp"

#include <yunity/settings_description.hpp>

#include <string>
#include <vector>

namespace yunity::core {

// The configuration reference that `yunity-sockets --config-reference` prints, in Markdown: the core's options
// with their config-file names, environment variables and defaults, then every plugin's settings. All of it
// comes from the tables the options and settings are read with (core_options(), each plugin's exported
// SettingsDescription), so docs/configuration.md, made from it, says what the code does.
class ConfigReference {
public:
    explicit ConfigReference(const std::vector<CoreOption>& options);

    // `settings`: what the plugin exports, or null when it exports nothing (a plugin built without the SDK's
    // settings table, which is optional).
    void add_plugin(std::string name, std::string description, const SettingsDescription* settings);

    std::string markdown() const;

private:
    struct Plugin {
        std::string name;
        std::string description;
        const SettingsDescription* settings;
    };

    const std::vector<CoreOption>& options_;
    std::vector<Plugin> plugins_;
};

}  // namespace yunity::core
