#pragma once

#include "memory_recovery_records.hpp"
#include "notification_history.hpp"
#include "registry.hpp"

#include <yunity/bus.hpp>
#include <yunity/metrics.hpp>
#include <yunity/notification_log.hpp>
#include <yunity/plugin.hpp>

#include <spdlog/logger.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace yunity::core {

// Connection state recovery: keeps the history of routed notifications, writes a recovery record (the pid's
// session, and where its client's knowledge starts) when a connection with a pid goes away, and answers each
// Resume: the session back, then every notification the client missed, before anything live.
//
// Why nothing is lost or sent twice: the replay is read from the history in the same bus dispatch in which the
// connection joins its user (the Authenticate or SessionResolved that completes it; the Router's handler runs
// first), so every notification routed before is in the history and every later one is routed to the
// connection live, after the replay in the bus's order.
//
// When the history does not reach back to the client's offset (another instance's client, a restart, a long
// absence) and a source keeps a log (redis-streams: the stream), the replay is read from the log, page by page: up
// to the last of its notifications routed when the connection joined (or, before any, where this process began
// reading it), while the Router hands this Recovery the connection's live notifications to hold; they follow the
// replay. The replay ends where live began, so nothing comes twice.
class Recovery {
public:
    // The plugins' service directory: a store for the records (else the core keeps its own) and a log to replay from.
    using FindService = std::function<void*(std::string_view name)>;

    Recovery(Bus& bus, Registry& registry, Metrics& metrics, std::shared_ptr<spdlog::logger> logger,
             const CoreSettings& settings, FindService find_service);

    // Called by the Router, in its handlers, so that they run in a known order around the registry's changes.
    void routed(const events::Notification& n) {
        history_.add(n);
        last_routed_ = n.offset;
        if (auto* log = this->log(); log && log->knows(n.offset)) last_log_routed_ = n.offset;
    }
    // Takes out of `targets` the connections whose replay from the log is under way, and keeps `n` for them.
    void hold(std::vector<ConnectionId>& targets, const events::Notification& n) {
        if (!replays_.empty()) hold_for_replays(targets, n);
    }
    void opened(const events::ConnectionOpened& e);
    void closing(ConnectionId id);  // before the registry forgets the connection
    void authenticated(ConnectionId id);
    void resolved(const std::string& session_id);
    void resume(const events::Resume& e);
    void drained(ConnectionId id);  // the transport wrote the last slice

    // Once every plugin has started (and provided its services): the log is looked up once, not per notification.
    void plugins_started() {
        log_ = service<NotificationLog>();
        services_known_ = true;
        if (auto* shared = service<RecoveryRecords>())
            shared->on_claim([this](const std::string& pid) { return release(pid); });
    }

    // At shutdown, before the plugins stop: every live connection's record, while the stores can still take
    // them. Closings after this write nothing.
    void save_all();

    bool enabled() const { return window_.count() > 0; }
    std::size_t history_size() const { return history_.size(); }
    std::size_t replays_under_way() const { return replays_.size(); }

private:
    struct Tracked {
        std::string pid;    // what the client holds; empty for connections without one (protocol 4)
        std::string start;  // the newest offset when it was given the pid: it has seen nothing after it
    };
    struct Pending {
        std::string pid;     // the pid the client came back with; empty for an explicit resume
        std::string offset;  // replay after this
        bool session_known = false;
        std::string waiting_on;  // the session whose resolution it waits for (listed in awaiting_); empty: none
    };

    struct Held {
        std::string offset;
        std::shared_ptr<const std::string> payload;
    };
    // A replay under way: read from the log (`reading`), then sent in slices, each once the transport has
    // written the last (`found`, then `held`). The connection's live notifications are held until the end.
    struct Replay {
        std::string user;
        std::string pid;   // the pid the client came back with; empty for an explicit resume
        std::string next;  // read after this
        std::string upto;  // the last of the log's notifications routed before it joined (empty: the log's start)
        bool first = true;
        bool reading = true;
        bool awaiting_drain = false;
        std::vector<Held> found;  // the user's, to send once the whole range is read
        std::vector<Held> held;   // live ones meanwhile, to send after them
        std::size_t sent = 0;     // of found, then of held
    };

    template <typename Service>
    Service* service() const {
        return find_service_ ? static_cast<Service*>(find_service_(Service::service_name)) : nullptr;
    }
    RecoveryRecords& records();
    NotificationLog* log() {  // looked up until the plugins have started, then kept: no lookup per notification
        return services_known_ ? log_ : service<NotificationLog>();
    }
    std::string newest_offset();
    void hold_for_replays(std::vector<ConnectionId>& targets, const events::Notification& n);
    void replay_from_log(ConnectionId id, std::string user, std::string pid, std::string after);
    void read_page(ConnectionId id);
    void on_page(ConnectionId id, NotificationLog::Page page);
    void succeed(ConnectionId id, const std::string& pending_pid, std::size_t replayed);
    void release(ConnectionId id, Replay& replay, bool recovered, const std::string& reason);
    void send_slice(ConnectionId id, Replay& replay, bool all);
    void save(ConnectionId id, const Tracked& t);
    bool take_over(ConnectionId id, const std::string& pid);
    bool release(const std::string& pid);
    std::optional<std::pair<ConnectionId, Tracked>> let_go(const std::string& pid);
    void track_pid(ConnectionId id, const std::string& pid);
    void untrack_pid(ConnectionId id, const std::string& pid);
    void on_taken(ConnectionId id, std::optional<std::string> record, const std::string& error);
    void try_finish(ConnectionId id);
    void wait_for_resolution(ConnectionId id, Pending& p, const std::string& session_id);
    void unlist(ConnectionId id, Pending& p);
    void erase_pending(ConnectionId id);
    void finish(ConnectionId id, const std::string& user);
    void fail(ConnectionId id, const std::string& reason);

    Bus& bus_;
    Registry& registry_;
    Metrics& metrics_;
    std::shared_ptr<spdlog::logger> logger_;
    std::chrono::milliseconds window_;
    FindService find_service_;
    std::size_t max_replay_;  // notifications one replay from the log may send
    MemoryRecoveryRecords own_records_;
    NotificationHistory history_;
    std::unordered_map<ConnectionId, Tracked> tracked_;
    // Who holds each pid now, to find a live connection a client claims to continue. The keys view the pids in
    // tracked_, whose nodes do not move: an entry goes before its pid changes or its node is erased.
    std::unordered_map<std::string_view, ConnectionId> holders_;
    std::unordered_map<ConnectionId, Pending> pending_;
    // The pending connections waiting for each session's resolution: a reconnect storm resolves thousands of
    // sessions while thousands of connections wait, and each resolution finishes its own without a look at all.
    std::unordered_map<std::string, std::vector<ConnectionId>> awaiting_;
    std::unordered_set<ConnectionId> resumed_;
    std::unordered_map<ConnectionId, Replay> replays_;
    std::string last_routed_;
    std::string last_log_routed_;
    NotificationLog* log_ = nullptr;
    bool services_known_ = false;  // connections that asked once: a second resume is refused
    bool saved_all_ = false;
    std::atomic<std::uint64_t>& recovered_;
    std::atomic<std::uint64_t>& replayed_;
};

}  // namespace yunity::core
