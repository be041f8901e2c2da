#pragma once

#include "recovery.hpp"
#include "registry.hpp"

#include <yunity/bus.hpp>
#include <yunity/metrics.hpp>

#include <spdlog/logger.h>

namespace yunity::core {

// Keeps the registry in step with the bus and turns each notification into one delivery to the connections
// of its users; tells Recovery of each change after the registry's (the order its no-loss argument needs).
class Router {
public:
    Router(Bus& bus, Registry& registry, Recovery& recovery, Metrics& metrics, std::shared_ptr<spdlog::logger> logger);
    void subscribe();

private:
    void announce(const Registry::Change& change);

    Bus& bus_;
    Registry& registry_;
    Recovery& recovery_;
    std::shared_ptr<spdlog::logger> logger_;
    std::atomic<std::uint64_t>& notifications_;
    std::atomic<std::uint64_t>& deliveries_;
};

}  // namespace yunity::core
