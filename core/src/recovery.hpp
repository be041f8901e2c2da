#pragma once

#include "memory_recovery_records.hpp"
#include "notification_history.hpp"
#include "registry.hpp"

#include <yunity/bus.hpp>
#include <yunity/metrics.hpp>
#include <yunity/plugin.hpp>

#include <spdlog/logger.h>

#include <functional>
#include <string>
#include <unordered_map>

namespace yunity::core {

// Connection state recovery: keeps the history of routed notifications, writes a recovery record (the pid's
// session, and where its client's knowledge starts) when a connection with a pid goes away, and answers each
// Resume: the session back, then every notification the client missed, before anything live.
//
// Why nothing is lost or sent twice: the replay is read from the history in the same bus dispatch in which the
// connection joins its user (the Authenticate or SessionResolved that completes it; the Router's handler runs
// first), so every notification routed before is in the history and every later one is routed to the
// connection live, after the replay in the bus's order.
class Recovery {
public:
    using FindRecords = std::function<RecoveryRecords*()>;  // a plugin's store, or null: the core keeps its own

    Recovery(Bus& bus, Registry& registry, Metrics& metrics, std::shared_ptr<spdlog::logger> logger,
             const CoreSettings& settings, FindRecords find_records);

    // Called by the Router, in its handlers, so that they run in a known order around the registry's changes.
    void routed(const events::Notification& n) { history_.add(n); }
    void opened(const events::ConnectionOpened& e);
    void closing(ConnectionId id);  // before the registry forgets the connection
    void authenticated(ConnectionId id);
    void resolved(const std::string& session_id);
    void resume(const events::Resume& e);

    // At shutdown, before the plugins stop: every live connection's record, while the stores can still take
    // them. Closings after this write nothing.
    void save_all();

    bool enabled() const { return window_.count() > 0; }
    std::size_t history_size() const { return history_.size(); }

private:
    struct Tracked {
        std::string pid;    // what the client holds; empty for connections without one (protocol 4)
        std::string start;  // the newest offset when it was given the pid: it has seen nothing after it
    };
    struct Pending {
        std::string pid;     // the pid the client came back with; empty for an explicit resume
        std::string offset;  // replay after this
        bool session_known = false;
    };

    RecoveryRecords& records();
    void save(ConnectionId id, const Tracked& t);
    void on_taken(ConnectionId id, std::optional<std::string> record, const std::string& error);
    void try_finish(ConnectionId id);
    void finish(ConnectionId id, const std::string& user);
    void fail(ConnectionId id, const std::string& reason);

    Bus& bus_;
    Registry& registry_;
    Metrics& metrics_;
    std::shared_ptr<spdlog::logger> logger_;
    std::chrono::milliseconds window_;
    FindRecords find_records_;
    MemoryRecoveryRecords own_records_;
    NotificationHistory history_;
    std::unordered_map<ConnectionId, Tracked> tracked_;
    std::unordered_map<ConnectionId, Pending> pending_;
    bool saved_all_ = false;
    std::atomic<std::uint64_t>& recovered_;
    std::atomic<std::uint64_t>& replayed_;
};

}  // namespace yunity::core
