#include "plugin_host.hpp"

#include "server.hpp"

#include <spdlog/spdlog.h>

namespace yunity::core {

PluginHost::PluginHost(Server& server, std::string name, const rapidjson::Value* config)
    : server_(server), name_(std::move(name)) {
    // A clone keeps the core's sinks, pattern and level under the plugin's name.
    logger_ = spdlog::default_logger()->clone(name_);
    if (config) config_.CopyFrom(*config, config_.GetAllocator());
    else config_.SetObject();
}

boost::asio::io_context& PluginHost::io() { return server_.io(); }
Bus& PluginHost::bus() { return server_.bus(); }
Metrics& PluginHost::metrics() { return server_.metrics(); }
const CoreSettings& PluginHost::settings() const { return server_.settings(); }
const RegistryView& PluginHost::registry() const { return server_.registry(); }

void PluginHost::provide(std::string_view service, void* instance) {
    server_.services().insert_or_assign(std::string(service), instance);
}

void* PluginHost::find(std::string_view service) const {
    auto& s = server_.services();
    auto it = s.find(service);
    return it == s.end() ? nullptr : it->second;
}

}  // namespace yunity::core
