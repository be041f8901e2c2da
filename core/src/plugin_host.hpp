#pragma once

#include <yunity/plugin.hpp>

#include <map>

namespace yunity::core {

class Server;

// The context one plugin sees: the core's shared pieces, plus its own name, logger and config section.
class PluginHost final : public PluginContext {
public:
    PluginHost(Server& server, std::string name, const rapidjson::Value* config);

    const std::string& plugin_name() const override { return name_; }
    boost::asio::io_context& io() override;
    Bus& bus() override;
    Metrics& metrics() override;
    const std::shared_ptr<spdlog::logger>& logger() const override { return logger_; }
    const rapidjson::Value& config() const override { return config_; }
    const CoreSettings& settings() const override;
    const RegistryView& registry() const override;
    void provide(std::string_view service, void* instance) override;
    void* find(std::string_view service) const override;

private:
    Server& server_;
    std::string name_;
    std::shared_ptr<spdlog::logger> logger_;
    rapidjson::Document config_;
};

}  // namespace yunity::core
