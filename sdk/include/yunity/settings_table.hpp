// A plugin's settings, declared as a table of Setting (see setting.hpp), read from its config section with one
// call, and described for `yunity-sockets --config-reference`:
//
//   struct Config {
//       std::string channel = "notifications";
//       std::chrono::milliseconds timeout{2000};
//   };
//   const yunity::SettingsTable<Config>& settings() {
//       static const yunity::SettingsTable<Config> table{
//           yunity::Setting<Config>{"channel", &Config::channel, "the channel to listen on"}.non_empty(),
//           {"timeout_ms", &Config::timeout, "how long to wait for the server"},
//       };
//       return table;
//   }
//   YUNITY_PLUGIN_SETTINGS(settings())          // in the plugin's library: the reference shows them
//   ... Config config = settings().parse(context.config());   // in the plugin's constructor
#pragma once

#include <yunity/setting.hpp>
#include <yunity/settings_description.hpp>
#include <yunity/quoted.hpp>

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace yunity {

template <class Config>
class SettingsTable {
    static_assert(std::is_default_constructible_v<Config>, "the defaults are a value-initialized Config");

public:
    // Throws std::logic_error on a name declared twice: a mistake in the plugin.
    SettingsTable(std::initializer_list<Setting<Config>> settings) : settings_(settings) {
        texts_.reserve(settings_.size());
        rows_.reserve(settings_.size());
        // A Config without members has no setting to declare (a plugin that takes none). Not compiling the loop
        // for it also spares GCC 12 a false -Warray-bounds on the member pointers it would never follow.
        if constexpr (!std::is_empty_v<Config>) {
            const Config defaults{};
            for (std::size_t i = 0; i < settings_.size(); ++i) {
                const auto& s = settings_[i];
                if (index_of(s.name()) != i)
                    throw std::logic_error("setting \"" + s.name() + "\" is declared twice");
                texts_.push_back({s.type(), s.default_value(defaults)});
            }
        }
        // Pointers into texts_ and settings_, which never change again (the table is neither copied nor moved).
        for (std::size_t i = 0; i < settings_.size(); ++i) {
            const auto& s = settings_[i];
            rows_.push_back({s.name().c_str(), texts_[i].type.c_str(), texts_[i].default_value.c_str(),
                             s.environment().empty() ? nullptr : s.environment().c_str(), s.description().c_str()});
        }
        description_ = {static_cast<std::uint32_t>(rows_.size()), rows_.data()};
    }
    SettingsTable(const SettingsTable&) = delete;
    SettingsTable& operator=(const SettingsTable&) = delete;

    // Reads `section`, the plugin's member of the config file (an object; null stands for none), over the
    // defaults, then the settings' environment variables, which win. Throws std::runtime_error with one line
    // naming the culprit: an unknown setting (with the known ones), a value of the wrong kind, a variable that
    // does not parse, a required setting that is missing. The core prefixes it with "plugin <name>: ".
    Config parse(const rapidjson::Value& section, const Getenv& getenv = process_environment) const {
        if (!section.IsNull() && !section.IsObject()) throw std::runtime_error("the settings must be a JSON object");
        Config config{};
        std::vector<bool> given(settings_.size(), false);
        if (section.IsObject()) {
            for (const auto& m : section.GetObject()) {
                const std::string_view key(m.name.GetString(), m.name.GetStringLength());
                const std::size_t i = index_of(key);
                if (i == settings_.size())
                    throw std::runtime_error("unknown setting " + quoted(key) + " (" + known() + ")");
                settings_[i].read(m.value, config);
                given[i] = true;
            }
        }
        for (std::size_t i = 0; i < settings_.size(); ++i) {
            if (settings_[i].read_environment(getenv, config)) given[i] = true;
            if (settings_[i].is_required() && !given[i])
                throw std::runtime_error("setting \"" + settings_[i].name() + "\" is required (" +
                                         settings_[i].type() + ")");
        }
        return config;
    }

    // What YUNITY_PLUGIN_SETTINGS exports; valid as long as the table (normally a function's static).
    const SettingsDescription& description() const { return description_; }

private:
    struct Texts {
        std::string type, default_value;
    };

    std::size_t index_of(std::string_view key) const {
        std::size_t i = 0;
        while (i < settings_.size() && settings_[i].name() != key) ++i;
        return i;
    }

    std::string known() const {
        if (settings_.empty()) return "it takes no settings";
        std::string out = "known: " + settings_.front().name();
        for (std::size_t i = 1; i < settings_.size(); ++i) out += ", " + settings_[i].name();
        return out;
    }

    std::vector<Setting<Config>> settings_;
    std::vector<Texts> texts_;
    std::vector<SettingDescription> rows_;
    SettingsDescription description_{};
};

}  // namespace yunity
