// The core's router: a notification becomes one Deliver to its users' connections, carrying its offset.
#include "router.hpp"
#include "event_bus.hpp"
#include "metrics_registry.hpp"
#include "registry.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/null_sink.h>

using namespace yunity;

TEST_CASE("router: a notification's offset goes with the Deliver it makes; describe() shows it") {
    boost::asio::io_context io;
    auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_st>());
    core::EventBus bus(io, logger);
    core::Registry registry;
    core::MetricsRegistry metrics;
    CoreSettings settings;
    core::Recovery recovery(bus, registry, metrics, logger, settings, {});
    core::Router router(bus, registry, recovery, metrics, logger);
    router.subscribe();
    std::vector<events::Deliver> delivered;
    bus.subscribe<events::Deliver>("test", [&](const events::Deliver& d) { delivered.push_back(d); });

    ConnectionInfo c;
    c.id = 7;
    c.public_id = "c7";
    c.transport = "websocket";
    registry.open(std::move(c));
    registry.authenticate(7, "s");
    registry.resolve("s", std::string("u"));

    events::Notification n{{"u"}, std::make_shared<const std::string>("{\"data\":1}"), "1764707000000-3"};
    CHECK(yunity::describe(events::Notification::kind, &n) ==
          "Notification for 1 users, 10 bytes, offset 1764707000000-3");
    bus.publish(n);
    bus.publish(events::Notification{{"u"}, n.payload, ""});
    io.run();

    REQUIRE(delivered.size() == 2);
    CHECK(delivered[0].connections == std::vector<ConnectionId>{7});
    CHECK(delivered[0].offset == "1764707000000-3");
    CHECK(delivered[0].payload == n.payload);
    CHECK(yunity::describe(events::Deliver::kind, &delivered[0]) ==
          "Deliver message to 1 connections, offset 1764707000000-3");
    CHECK(delivered[1].offset.empty());
    CHECK(yunity::describe(events::Deliver::kind, &delivered[1]) == "Deliver message to 1 connections");
}
