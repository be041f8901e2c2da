#include "router.hpp"

namespace yunity::core {

Router::Router(Bus& bus, Registry& registry, Recovery& recovery, Metrics& metrics,
               std::shared_ptr<spdlog::logger> logger)
    : bus_(bus),
      registry_(registry),
      recovery_(recovery),
      logger_(std::move(logger)),
      notifications_(metrics.counter("yunity_notifications_routed_total",
                                     "Notifications the core routed to their users' connections")),
      deliveries_(metrics.counter("yunity_deliveries_routed_total",
                                  "Connections the core addressed, summed over notifications")) {}

void Router::subscribe() {
    using namespace events;
    bus_.subscribe<ConnectionOpened>("core", [this](const ConnectionOpened& e) {
        ConnectionInfo info;
        info.id = e.connection;
        info.public_id = e.public_id;
        info.transport = e.transport;
        info.protocol = e.protocol;
        info.handshake = e.handshake;
        registry_.open(std::move(info));
        recovery_.opened(e);
    });
    bus_.subscribe<ConnectionClosed>("core", [this](const ConnectionClosed& e) {
        recovery_.closing(e.connection);
        registry_.close(e.connection);
    });
    bus_.subscribe<TransportChanged>(
        "core", [this](const TransportChanged& e) { registry_.set_transport(e.connection, e.transport); });
    bus_.subscribe<Authenticate>("core", [this](const Authenticate& e) {
        if (auto change = registry_.authenticate(e.connection, e.session_id)) announce(*change);
        recovery_.authenticated(e.connection);
    });
    bus_.subscribe<SessionResolved>("core", [this](const SessionResolved& e) {
        for (const auto& change : registry_.resolve(e.session_id, e.user)) announce(change);
        recovery_.resolved(e.session_id);
    });
    bus_.subscribe<Resume>("core", [this](const Resume& e) { recovery_.resume(e); });
    bus_.subscribe<Drained>("core", [this](const Drained& e) { recovery_.drained(e.connection); });
    bus_.subscribe<Notification>("core", [this](const Notification& e) {
        notifications_.fetch_add(1, std::memory_order_relaxed);
        recovery_.routed(e);
        auto targets = registry_.connections_of(e.users);
        recovery_.hold(targets, e);  // connections being replayed from the log get it after the replay
        if (targets.empty()) return;
        deliveries_.fetch_add(targets.size(), std::memory_order_relaxed);
        bus_.publish(Deliver{std::move(targets), "message", e.payload, e.offset});
    });
    // An Emit for a user becomes one for that user's live connections; transports write only those.
    bus_.subscribe<Emit>("core", [this](const Emit& e) {
        if (e.target != Emit::Target::user) return;
        auto targets = registry_.connections_of({e.user});
        if (targets.empty()) return;
        Emit out{Emit::Target::connections, std::move(targets), {}, e.nsp, e.event, e.args, e.attachments, e.ack_id};
        bus_.publish(std::move(out));
    });
}

void Router::announce(const Registry::Change& change) {
    // The session id is a credential: the log says only whether there is one.
    logger_->debug("connection #{} {} user {}", change.connection,
                   change.session_id ? "with a session" : "without a session", change.user.value_or("(none)"));
    bus_.publish(events::MembershipChanged{change.connection, change.session_id, change.user});
}

}  // namespace yunity::core
