// The plugin interface, the context the core hands each plugin, and the one-line declaration macro.
//
// Lifetime rules: the core loads every plugin library once at startup (RTLD_NOW) and never unloads one while
// its code may run. start() and stop() run on the core's executor; stop() must cancel the plugin's I/O so
// the loop can drain. Shutdown order: stop plugins in reverse load order, drain the loop, destroy plugin
// objects, then release the libraries.
#pragma once

#include <yunity/abi.hpp>
#include <yunity/bus.hpp>
#include <yunity/metrics.hpp>
#include <yunity/registry.hpp>
#include <yunity/settings_description.hpp>

#include <rapidjson/document.h>
#include <spdlog/logger.h>
#include <boost/asio/io_context.hpp>
#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace yunity {

// Settings from the command line that several plugins share.
struct CoreSettings {
    std::string client_bind = "0.0.0.0";  // where client-facing listeners bind (-w)
    std::uint16_t client_port = 0;        // 0: any free port
    std::string admin_bind = "127.0.0.1";
    std::uint16_t admin_port = 0;
    std::string redis_url = "redis://127.0.0.1:6379/0";
    // PEM files for https/wss on the client port (--tls-cert, --tls-key); both empty: plain http/ws.
    std::string tls_cert;
    std::string tls_key;
    // Connection state recovery (--recovery-window): how long after a connection went away its client may come
    // back and get what it missed; zero turns recovery off. --recovery-history: notifications the core keeps in
    // memory to replay from.
    std::chrono::milliseconds recovery_window{120000};
    std::size_t recovery_history = 10000;
};

class BOOST_SYMBOL_VISIBLE PluginContext {
public:
    virtual ~PluginContext() = default;

    virtual const std::string& plugin_name() const = 0;
    // The core's loop: bus handlers run here, and plugins that do I/O normally run it here too.
    virtual boost::asio::io_context& io() = 0;
    virtual Bus& bus() = 0;
    virtual Metrics& metrics() = 0;
    // A logger named after the plugin, honouring --log-level.
    virtual const std::shared_ptr<spdlog::logger>& logger() const = 0;
    // The plugin's own section of the config file (an empty object where there is none).
    virtual const rapidjson::Value& config() const = 0;
    virtual const CoreSettings& settings() const = 0;
    virtual const RegistryView& registry() const = 0;

    // A small service directory so plugins can offer each other interfaces by name (e.g. admin routes).
    // The pointer stays owned by the provider, which must outlive every user (provide it in start()).
    virtual void provide(std::string_view service, void* instance) = 0;
    virtual void* find(std::string_view service) const = 0;

    // The same, typed: a service interface declares its name (`static constexpr std::string_view service_name`),
    // so that the name and the type cannot be paired wrongly at a call site. Null when no plugin provides it.
    template <class Service>
    Service* service() const {
        return static_cast<Service*>(find(Service::service_name));
    }
    template <class Service>
    void provide(Service* instance) {
        provide(Service::service_name, static_cast<void*>(instance));
    }
};

class BOOST_SYMBOL_VISIBLE Plugin {
public:
    virtual ~Plugin() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
};

// What a plugin library exports, C-compatible so that the core can read it before trusting anything else.
struct PluginInfo {
    std::uint32_t api_version;
    const char* build_signature;
    const char* name;
    const char* description;
    Plugin* (*create)(PluginContext& context);  // owned by the caller
};

// The symbol (a Boost.DLL alias) every plugin library exports.
inline constexpr const char* plugin_entry_symbol = "yunity_plugin_info";

// The symbol a plugin library may export besides, describing its settings for --config-reference (see
// YUNITY_PLUGIN_SETTINGS). A second, optional symbol rather than a member of PluginInfo: PluginInfo is what every
// plugin built so far exports, and growing it would change the ABI and refuse them all; a library without this
// symbol still loads and runs, and the reference says it describes no settings.
inline constexpr const char* plugin_settings_symbol = "yunity_plugin_settings";

}  // namespace yunity

// Declares the plugin class `Class`, constructed as `Class(yunity::PluginContext&)`, under `name`.
#define YUNITY_PLUGIN(Class, name, description)                                                                      \
    namespace {                                                                                                      \
    ::yunity::Plugin* yunity_create_plugin_(::yunity::PluginContext& c) { return new Class(c); }                     \
    const ::yunity::PluginInfo yunity_plugin_info_{::yunity::api_version, YUNITY_BUILD_SIGNATURE, name, description, \
                                                   &yunity_create_plugin_};                                          \
    const ::yunity::PluginInfo* yunity_plugin_info_fn_() { return &yunity_plugin_info_; }                            \
    }                                                                                                                \
    BOOST_DLL_ALIAS(yunity_plugin_info_fn_, yunity_plugin_info)

// Exports the description of the plugin's settings: `table` is an expression naming an object that lives as
// long as the library (normally a function returning a static yunity::SettingsTable, see settings_table.hpp)
// and has description(). Write it once per library, beside YUNITY_PLUGIN.
#define YUNITY_PLUGIN_SETTINGS(table)                                                                    \
    namespace {                                                                                          \
    const ::yunity::SettingsDescription* yunity_plugin_settings_fn_() { return &(table).description(); } \
    }                                                                                                    \
    BOOST_DLL_ALIAS(yunity_plugin_settings_fn_, yunity_plugin_settings)
