// Which plugins this server runs, by name. The core provides it under the service name "loaded-plugins" before
// any plugin is constructed, so that a plugin can pick a default by its company from its constructor on (the
// presence plugin keeps to memory when no plugin of the server talks to redis).
#pragma once

#include <boost/config.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace yunity {

inline constexpr std::string_view loaded_plugins_service = "loaded-plugins";

class BOOST_SYMBOL_VISIBLE LoadedPlugins {
public:
    static constexpr std::string_view service_name = loaded_plugins_service;  // context.service<LoadedPlugins>()

    virtual ~LoadedPlugins() = default;
    // The names the plugins declare (YUNITY_PLUGIN's "name"), in load order, the asking plugin among them.
    virtual const std::vector<std::string>& names() const = 0;
    bool contains(std::string_view name) const {
        for (const auto& n : names())
            if (n == name) return true;
        return false;
    }
};

}  // namespace yunity
