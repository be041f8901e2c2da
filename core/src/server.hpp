#pragma once

#include "event_bus.hpp"
#include "metrics_registry.hpp"
#include "options.hpp"
#include "plugin_host.hpp"
#include "plugin_library.hpp"
#include "registry.hpp"
#include "router.hpp"

#include <yunity/loaded_plugins.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace yunity::core {

// The yunity-sockets process: loads and checks every plugin, starts them, runs the loop, and shuts down in
// the order that keeps plugin code alive while anything of it may still run.
class Server {
public:
    // Loads every library and refuses a bad set (missing, not a plugin, other ABI, duplicate name) before any
    // plugin is created. Throws StartupError.
    Server(Options options, std::filesystem::path default_plugin_dir);
    ~Server();

    // Creates and starts the plugins, then runs until SIGINT or SIGTERM (or stop()). Throws StartupError when
    // a plugin fails to start.
    void run();
    // Stops the plugins and lets the loop drain; callable from the loop only.
    void stop();

    boost::asio::io_context& io() { return io_; }
    EventBus& bus() { return *bus_; }
    MetricsRegistry& metrics() { return metrics_; }
    Registry& registry() { return registry_; }
    const CoreSettings& settings() const { return options_.settings; }
    const std::string& log_level() const { return options_.log_level; }
    std::map<std::string, void*, std::less<>>& services() { return services_; }

    // How long the loop may take to drain after the plugins stopped before it is cut short.

private:
    // Members are destroyed bottom-up: the libraries (declared first) outlive everything their code made.
    Options options_;
    std::vector<PluginLibrary> libraries_;
    // Their names, the service "loaded-plugins" (yunity/loaded_plugins.hpp).
    class LoadedNames final : public LoadedPlugins {
    public:
        std::vector<std::string> list;
        const std::vector<std::string>& names() const override { return list; }
    } loaded_names_;
    MetricsRegistry metrics_;
    std::map<std::string, void*, std::less<>> services_;
    std::unique_ptr<boost::asio::io_context> io_holder_;
    boost::asio::io_context& io_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<EventBus> bus_;
    Registry registry_;
    std::unique_ptr<Recovery> recovery_;
    std::unique_ptr<Router> router_;
    std::vector<std::unique_ptr<PluginHost>> hosts_;
    std::vector<std::unique_ptr<Plugin>> plugins_;
    std::size_t started_ = 0;
    bool stopping_ = false;
    // Optional so that the destructor can end it before the io_context: an I/O object outliving its service
    // would call into freed memory.
    std::optional<boost::asio::signal_set> signals_;
};

}  // namespace yunity::core
