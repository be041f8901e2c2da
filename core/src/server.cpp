#include "server.hpp"

#include "startup_error.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace yunity::core {

Server::Server(Options options, std::filesystem::path default_plugin_dir)
    : options_(std::move(options)),
      io_holder_(std::make_unique<boost::asio::io_context>(1)),
      io_(*io_holder_),
      logger_(spdlog::default_logger()),
      signals_(std::in_place, io_) {
    const std::filesystem::path dir =
        options_.plugin_dir.empty() ? default_plugin_dir : std::filesystem::path(options_.plugin_dir);
    libraries_ = PluginLibrary::load_set(options_.plugins, dir);
    std::set<std::string, std::less<>> names;
    for (const auto& lib : libraries_) {
        names.insert(lib.info().name);
        loaded_names_.list.emplace_back(lib.info().name);
        logger_->debug("loaded plugin {} from {}", lib.info().name, lib.path().string());
    }
    services_.emplace(loaded_plugins_service, &loaded_names_);  // before any plugin exists: constructors may ask
    for (auto& m : options_.config.GetObject()) {
        if (!m.value.IsObject()) continue;
        if (!names.count(std::string_view(m.name.GetString(), m.name.GetStringLength())))
            logger_->warn("config file: section \"{}\" names no loaded plugin", m.name.GetString());
    }
    bus_ = std::make_unique<EventBus>(io_, logger_);
    recovery_ = std::make_unique<Recovery>(*bus_, registry_, metrics_, logger_, options_.settings,
                                           [this](std::string_view name) -> void* {
                                               auto it = services_.find(name);
                                               return it == services_.end() ? nullptr : it->second;
                                           });
    router_ = std::make_unique<Router>(*bus_, registry_, *recovery_, metrics_, logger_);
    metrics_.gauge("core", "yunity_recovery_replays", "Replays from the notification log under way", "",
                   [this] { return static_cast<double>(recovery_->replays_under_way()); });
    metrics_.gauge("core", "yunity_recovery_history", "Notifications kept in memory for recovering clients", "",
                   [this] { return static_cast<double>(recovery_->history_size()); });
    metrics_.gauge("core", "yunity_bus_queue_depth", "Events published and not yet dispatched", "",
                   [this] { return static_cast<double>(bus_->queue_depth()); });
    metrics_.gauge("core", "yunity_connections", "Open client connections", "",
                   [this] { return static_cast<double>(registry_.connection_count()); });
    metrics_.gauge("core", "yunity_authenticated_connections", "Connections that belong to a user", "",
                   [this] { return static_cast<double>(registry_.authenticated_count()); });
    metrics_.gauge("core", "yunity_sessions", "Distinct sessions held by open connections", "",
                   [this] { return static_cast<double>(registry_.session_count()); });
    metrics_.gauge("core", "yunity_users", "Distinct users with an open connection", "",
                   [this] { return static_cast<double>(registry_.user_count()); });
}

Server::~Server() {
    // Reverse creation order: objects made by plugin code go before the libraries that hold that code.
    signals_->clear();
    while (!plugins_.empty()) {
        metrics_.drop_gauges(hosts_[plugins_.size() - 1]->plugin_name());
        plugins_.pop_back();
    }
    if (bus_) bus_->clear();
    signals_.reset();
    io_holder_.reset();  // pending handlers may be plugin code: destroy them while the libraries are loaded
    hosts_.clear();
}

void Server::run() {
    router_->subscribe();
    for (auto& lib : libraries_) {
        const auto& info = lib.info();
        const rapidjson::Value* section = nullptr;
        if (auto it = options_.config.FindMember(info.name); it != options_.config.MemberEnd()) section = &it->value;
        hosts_.push_back(std::make_unique<PluginHost>(*this, info.name, section));
        try {
            plugins_.emplace_back(info.create(*hosts_.back()));
        } catch (const std::exception& e) {
            throw StartupError("plugin " + std::string(info.name) + ": " + e.what());
        }
    }
    for (auto& plugin : plugins_) {
        try {
            plugin->start();
            ++started_;
        } catch (const std::exception& e) {
            const std::string name = hosts_[started_]->plugin_name();
            stop();
            throw StartupError("plugin " + name + " failed to start: " + e.what());
        }
    }
    recovery_->plugins_started();
    logger_->info("yunity-sockets running with {} plugins", plugins_.size());

    signals_->add(SIGINT);
    signals_->add(SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        logger_->info("received {}, shutting down", signo == SIGINT ? "SIGINT" : "SIGTERM");
        stop();
    });

    io_.run();

    // Drain: what the plugins' stop() began (closing sockets, answering polls) runs to completion, bounded.
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_timeout;
    while (io_.run_one_until(deadline) != 0) {
    }
    if (!io_.stopped())
        logger_->warn("shutdown: work still pending after {} ms, cut short", options_.shutdown_timeout.count());
    logger_->info("stopped");
}

void Server::stop() {
    if (stopping_) return;
    stopping_ = true;
    signals_->clear();
    signals_->cancel();
    // The recovery records of every live connection, while the stores can still take them: the clients come
    // back to another instance, or to this one restarted, and continue where they were.
    recovery_->save_all();
    for (std::size_t i = started_; i-- > 0;) {
        try {
            plugins_[i]->stop();
        } catch (const std::exception& e) {
            logger_->error("plugin {}: stop failed: {}", hosts_[i]->plugin_name(), e.what());
        }
    }
    started_ = 0;
    io_.stop();
}

}  // namespace yunity::core
