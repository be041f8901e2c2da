// A PluginContext for unit tests of a plugin's stateful parts (the socketio plugin's Session and Engine): the
// core's own event bus and metrics on an io_context the test runs by hand, a logger whose lines the test can
// read, an empty registry and a service table. No sockets, no plugins loaded.
#pragma once

#include "map_registry.hpp"

#include "event_bus.hpp"
#include "metrics_registry.hpp"

#include <yunity/plugin.hpp>

#include <boost/asio/io_context.hpp>
#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace yunity::test {

class TestContext final : public PluginContext {
public:
    explicit TestContext(std::string name = "test")
        : name_(std::move(name)),
          logger_(std::make_shared<spdlog::logger>(name_, std::make_shared<spdlog::sinks::ostream_sink_st>(lines_))),
          bus_(io_, logger_) {
        logger_->set_level(spdlog::level::debug);
        logger_->set_pattern("%l %v");
        config_.SetObject();
    }

    const std::string& plugin_name() const override { return name_; }
    boost::asio::io_context& io() override { return io_; }
    Bus& bus() override { return bus_; }
    Metrics& metrics() override { return metrics_; }
    const std::shared_ptr<spdlog::logger>& logger() const override { return logger_; }
    const rapidjson::Value& config() const override { return config_; }
    const CoreSettings& settings() const override { return settings_; }
    const RegistryView& registry() const override { return registry_; }
    void provide(std::string_view service, void* instance) override { services_[std::string(service)] = instance; }
    void* find(std::string_view service) const override {
        auto it = services_.find(service);
        return it == services_.end() ? nullptr : it->second;
    }

    // Runs the loop's ready handlers and timers for `d` of real time.
    void run_for(std::chrono::milliseconds d) {
        io_.restart();
        io_.run_for(d);
    }
    // Everything logged so far, one "level message" per line.
    std::string log() const { return lines_.str(); }
    // A counter's value (0 when nothing counted it yet).
    std::uint64_t counter(std::string_view name, std::string_view labels) {
        return metrics_.counter(name, "", labels).load();
    }

private:
    std::string name_;
    std::ostringstream lines_;
    std::shared_ptr<spdlog::logger> logger_;
    boost::asio::io_context io_;
    core::EventBus bus_;
    core::MetricsRegistry metrics_;
    rapidjson::Document config_;
    CoreSettings settings_;
    MapRegistry registry_;
    std::map<std::string, void*, std::less<>> services_;
};

}  // namespace yunity::test
