#include "recovery.hpp"

#include <algorithm>
#include <vector>

namespace yunity::core {

namespace {

// A record is the start offset and the session id, split at the first newline (offsets never hold one).
std::string encode_record(const std::string& start, const std::string& session_id) { return start + '\n' + session_id; }

// A replay from the log reads this many entries (every user's) per round trip.
constexpr std::size_t log_page = 1000;
// A replay goes out in slices of about this many bytes, the next once the transport has written the last: well
// under any sensible max_queue_bytes (1 MB by default), so that a client far behind is not cut off as too slow.
constexpr std::size_t slice_bytes = 128 * 1024;
constexpr std::size_t deliver_overhead = 64;  // the event's name and offset around each payload, roughly

}  // namespace

Recovery::Recovery(Bus& bus, Registry& registry, Metrics& metrics, std::shared_ptr<spdlog::logger> logger,
                   const CoreSettings& settings, FindService find_service)
    : bus_(bus),
      registry_(registry),
      metrics_(metrics),
      logger_(std::move(logger)),
      window_(settings.recovery_window),
      find_service_(std::move(find_service)),
      max_replay_(std::max<std::size_t>(settings.recovery_history, 1000)),
      history_(settings.recovery_window.count() > 0 ? settings.recovery_history : 0),
      recovered_(metrics.counter("yunity_recoveries_total", "Clients that came back and got what they missed",
                                 "result=\"recovered\"")),
      replayed_(
          metrics.counter("yunity_replayed_notifications_total", "Notifications replayed to recovering clients")) {}

RecoveryRecords& Recovery::records() {
    if (auto* found = service<RecoveryRecords>()) return *found;
    return own_records_;
}

// What a client given its pid now has seen everything up to: the last notification routed, or before any, where
// this process began reading the log (a client that comes back after a restart is then replayed from there).
std::string Recovery::newest_offset() {
    if (!last_routed_.empty()) return last_routed_;
    if (auto* log = this->log()) return log->start();
    return {};
}

void Recovery::opened(const events::ConnectionOpened& e) {
    if (!enabled() || e.pid.empty()) return;
    if (auto old = tracked_.find(e.connection); old != tracked_.end()) untrack_pid(e.connection, old->second.pid);
    tracked_[e.connection] = Tracked{e.pid, newest_offset()};
    track_pid(e.connection, e.pid);
}

void Recovery::track_pid(ConnectionId id, const std::string& pid) {
    // The view is of the pid in tracked_, not of the caller's string.
    const auto& kept = tracked_.at(id).pid;
    holders_.erase(std::string_view(kept));  // a kept key would still view the string of its first holder
    holders_.emplace(std::string_view(kept), id);
}

void Recovery::untrack_pid(ConnectionId id, const std::string& pid) {
    if (auto h = holders_.find(std::string_view(pid)); h != holders_.end() && h->second == id) holders_.erase(h);
}

void Recovery::closing(ConnectionId id) {
    erase_pending(id);
    resumed_.erase(id);
    replays_.erase(id);
    auto t = tracked_.find(id);
    if (t == tracked_.end()) return;
    untrack_pid(id, t->second.pid);
    auto node = tracked_.extract(t);
    if (saved_all_) return;
    save(id, node.mapped());
}

void Recovery::save(ConnectionId id, const Tracked& t) {
    const auto* info = registry_.find(id);
    // Without a session there is nothing to give back: its client starts afresh whatever it presents.
    if (!info || !info->session_id || t.pid.empty()) return;
    records().save(t.pid, encode_record(t.start, *info->session_id), window_);
}

void Recovery::save_all() {
    if (saved_all_) return;
    for (const auto& [id, t] : tracked_) save(id, t);
    saved_all_ = true;
}

void Recovery::resume(const events::Resume& e) {
    if (!registry_.find(e.connection)) return;
    if (!enabled()) {
        pending_[e.connection];
        return fail(e.connection, "recovery off");
    }
    // One resume per connection: each scans the history and may replay up to all of it, so a client repeating
    // `authenticate {sessionId, offset}` could keep the core busy. A connection that has resumed is up to date.
    if (!resumed_.insert(e.connection).second) {
        pending_[e.connection];
        return fail(e.connection, "already resumed");
    }
    pending_[e.connection] = Pending{e.pid, e.offset, false, {}};
    if (e.pid.empty()) return try_finish(e.connection);  // explicit: the Authenticate just before named the session
    // Its own pid (a client connecting a namespace again on the same connection): nothing to find or take over.
    if (auto h = holders_.find(std::string_view(e.pid)); h != holders_.end() && h->second == e.connection)
        return fail(e.connection, "unknown pid");
    if (take_over(e.connection, e.pid)) return;
    records().take(e.pid, [this, id = e.connection](std::optional<std::string> record, std::string error) {
        on_taken(id, std::move(record), error);
    });
}

// A client back with the pid of a connection still here: it dropped without the server seeing it (no FIN on a
// network change, a polling client between two polls), and would otherwise be seen only at its heartbeat's
// timeout, with no record written until then and whatever was routed to it meanwhile lost for its client. The
// claim takes it over: its record is made here rather than stored, the connection is closed (writing none), and
// the replay from the client's offset covers what was sent to it.
bool Recovery::take_over(ConnectionId id, const std::string& pid) {
    auto let = let_go(pid);
    if (!let) return false;
    auto& [old, tracked] = *let;
    std::optional<std::string> record;
    if (const auto* info = registry_.find(old); info && info->session_id)
        record = encode_record(tracked.start, *info->session_id);
    logger_->info("connection #{} continues connection #{} (its client came back with its pid): closing #{}", id, old,
                  old);
    bus_.publish(events::CloseConnection{old, CloseReason::taken_over});
    on_taken(id, std::move(record), {});
    return true;
}

// The same claim made on another instance, which found no record: the connection's record is written for it, and
// the connection closed.
bool Recovery::release(const std::string& pid) {
    auto let = let_go(pid);
    if (!let) return false;
    auto& [old, tracked] = *let;
    logger_->info("connection #{}: its client came back to another instance with its pid: closing it", old);
    save(old, tracked);
    bus_.publish(events::CloseConnection{old, CloseReason::taken_over});
    return true;
}

// The connection holding `pid` stops being tracked, so that its close writes no record.
std::optional<std::pair<ConnectionId, Recovery::Tracked>> Recovery::let_go(const std::string& pid) {
    const auto holder = holders_.find(std::string_view(pid));
    if (holder == holders_.end()) return std::nullopt;
    const ConnectionId old = holder->second;
    holders_.erase(holder);
    auto node = tracked_.extract(old);
    if (node.empty()) return std::nullopt;
    return std::pair{old, std::move(node.mapped())};
}

void Recovery::on_taken(ConnectionId id, std::optional<std::string> record, const std::string& error) {
    auto p = pending_.find(id);
    if (p == pending_.end()) return;  // gone meanwhile
    if (!record) {
        if (!error.empty()) logger_->warn("connection #{}: recovery records unavailable: {}", id, error);
        return fail(id, error.empty() ? "unknown pid" : "records unavailable");
    }
    const auto newline = record->find('\n');
    if (newline == std::string::npos) return fail(id, "unknown pid");  // not a record of ours
    if (p->second.offset.empty()) p->second.offset = record->substr(0, newline);
    p->second.session_known = true;
    // The session back: through the bus, so that the resolvers look it up as for any authenticate (re-resolved:
    // one logged out meanwhile gets nothing). The Router's handler calls authenticated() after the registry's.
    bus_.publish(events::Authenticate{id, record->substr(newline + 1)});
}

void Recovery::authenticated(ConnectionId id) {
    if (pending_.count(id)) try_finish(id);
}

void Recovery::resolved(const std::string& session_id) {
    auto it = awaiting_.find(session_id);
    if (it == awaiting_.end()) return;
    const auto waiting = std::move(it->second);
    awaiting_.erase(it);
    for (auto id : waiting) {
        auto p = pending_.find(id);
        if (p == pending_.end()) continue;
        p->second.waiting_on.clear();
        try_finish(id);  // by the connection's session now: a client that authenticated again waits for that one
    }
}

void Recovery::wait_for_resolution(ConnectionId id, Pending& p, const std::string& session_id) {
    if (p.waiting_on == session_id) return;
    unlist(id, p);
    p.waiting_on = session_id;
    awaiting_[session_id].push_back(id);
}

void Recovery::unlist(ConnectionId id, Pending& p) {
    if (p.waiting_on.empty()) return;
    if (auto it = awaiting_.find(p.waiting_on); it != awaiting_.end()) {
        std::erase(it->second, id);
        if (it->second.empty()) awaiting_.erase(it);
    }
    p.waiting_on.clear();
}

void Recovery::erase_pending(ConnectionId id) {
    auto p = pending_.find(id);
    if (p == pending_.end()) return;
    unlist(id, p->second);
    pending_.erase(p);
}

void Recovery::try_finish(ConnectionId id) {
    auto p = pending_.find(id);
    if (p == pending_.end()) return;
    const auto* info = registry_.find(id);
    if (!info) {
        erase_pending(id);
        return;
    }
    if (!p->second.pid.empty() && !p->second.session_known) return;  // the record is still being read
    if (!info->session_id) return fail(id, "no session");
    const auto* answer = registry_.session_user(*info->session_id);
    // The resolver has not answered yet: its SessionResolved comes back here.
    if (!answer) return wait_for_resolution(id, p->second, *info->session_id);
    const std::optional<std::string>& user = **answer;
    if (!user) return fail(id, "logged out");
    finish(id, *user);
}

void Recovery::finish(ConnectionId id, const std::string& user) {
    unlist(id, pending_.at(id));
    auto pending = std::move(pending_.at(id));
    pending_.erase(id);
    std::vector<const NotificationHistory::Entry*> missed;
    if (!history_.for_user_after(pending.offset, user, [&](const auto& e) { missed.push_back(&e); })) {
        auto* log = this->log();
        if (log && !pending.offset.empty() && log->knows(pending.offset))
            return replay_from_log(id, user, std::move(pending.pid), std::move(pending.offset));
        return fail(id, "offset unknown");  // the session stays: live notifications from now on
    }
    succeed(id, pending.pid, missed.size());
    if (missed.empty()) return;
    Replay replay{user, std::move(pending.pid), {}, {}, false, false, false, {}, {}, 0};
    replay.found.reserve(missed.size());
    for (const auto* e : missed) replay.found.push_back(Held{e->offset, e->payload});
    send_slice(id, replays_.insert_or_assign(id, std::move(replay)).first->second, false);
}

// The client's pid is its own again (the next drop writes its record again), it has seen everything routed so far,
// and it is told: Resumed before any replayed Deliver, which the transport would not send before it.
void Recovery::succeed(ConnectionId id, const std::string& pending_pid, std::size_t replayed) {
    std::string pid;
    if (auto t = tracked_.find(id); t != tracked_.end()) {
        if (!pending_pid.empty() && pending_pid != t->second.pid) {
            untrack_pid(id, t->second.pid);
            t->second.pid = pending_pid;
            track_pid(id, t->second.pid);
        }
        t->second.start = newest_offset();
        pid = t->second.pid;
    }
    logger_->debug("connection #{} recovered, {} notifications to replay", id, replayed);
    recovered_.fetch_add(1, std::memory_order_relaxed);
    replayed_.fetch_add(replayed, std::memory_order_relaxed);
    bus_.publish(events::Resumed{id, true, pid, {}, replayed});
}

void Recovery::replay_from_log(ConnectionId id, std::string user, std::string pid, std::string after) {
    replays_[id] =
        Replay{std::move(user), std::move(pid), std::move(after), last_log_routed_, true, true, false, {}, {}, 0};
    read_page(id);
}

void Recovery::read_page(ConnectionId id) {
    auto& replay = replays_.at(id);
    auto* log = this->log();
    if (!log) return release(id, replay, false, "offset unknown");
    const bool first = std::exchange(replay.first, false);
    log->read(replay.next, replay.upto, log_page, first,
              [this, id](NotificationLog::Page page) { on_page(id, std::move(page)); });
}

void Recovery::on_page(ConnectionId id, NotificationLog::Page page) {
    auto it = replays_.find(id);
    if (it == replays_.end()) return;  // the connection went away meanwhile
    auto& replay = it->second;
    if (!page.error.empty()) {
        logger_->warn("connection #{}: the notification log could not be read: {}", id, page.error);
        return release(id, replay, false, "log unavailable");
    }
    if (!page.gap.empty()) return release(id, replay, false, page.gap);
    replay.upto = std::move(page.upto);
    for (auto& n : page.notifications)
        if (std::find(n.users.begin(), n.users.end(), replay.user) != n.users.end())
            replay.found.push_back(Held{std::move(n.offset), std::move(n.payload)});
    if (replay.found.size() > max_replay_) return release(id, replay, false, "too far behind");
    if (!page.complete && !page.next.empty() && page.next != replay.next) {
        replay.next = std::move(page.next);
        return read_page(id);
    }
    release(id, replay, true, {});
}

// The end of a replay from the log: the answer, then what was found (when recovered), then what was held.
void Recovery::release(ConnectionId id, Replay& replay, bool recovered, const std::string& reason) {
    if (recovered) succeed(id, replay.pid, replay.found.size());
    else fail(id, reason);
    if (!recovered) replay.found.clear();
    replay.reading = false;
    send_slice(id, replay, false);
}

// Sends the next slice (everything, with `all`), and asks the transport to say when it is written; the replay
// ends, and the connection is live again, once found and held are both sent.
void Recovery::send_slice(ConnectionId id, Replay& replay, bool all) {
    std::size_t bytes = 0;
    const auto total = [&] { return replay.found.size() + replay.held.size(); };
    while (replay.sent < total() && (all || bytes < slice_bytes)) {
        auto& h = replay.sent < replay.found.size() ? replay.found[replay.sent]
                                                    : replay.held[replay.sent - replay.found.size()];
        ++replay.sent;
        bytes += deliver_overhead + (h.payload ? h.payload->size() : 0);
        bus_.publish(events::Deliver{{id}, "message", std::move(h.payload), std::move(h.offset)});
    }
    if (replay.sent == total()) {
        replays_.erase(id);
        return;
    }
    replay.awaiting_drain = true;
    bus_.publish(events::AwaitDrain{id});
}

void Recovery::drained(ConnectionId id) {
    auto it = replays_.find(id);
    if (it == replays_.end() || !std::exchange(it->second.awaiting_drain, false)) return;
    send_slice(id, it->second, false);
}

void Recovery::hold_for_replays(std::vector<ConnectionId>& targets, const events::Notification& n) {
    std::vector<ConnectionId> over;
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [&](ConnectionId id) {
                                     auto r = replays_.find(id);
                                     if (r == replays_.end()) return false;
                                     r->second.held.push_back(Held{n.offset, n.payload});
                                     if (r->second.held.size() > max_replay_) over.push_back(id);
                                     return true;
                                 }),
                  targets.end());
    // Live notifications piling up faster than the log is read: give up the replay, send what was held. Faster
    // than the client takes the slices: send the rest at once, and the transport's bound decides (a client cut
    // off as too slow comes back from its last offset).
    for (auto id : over) {
        auto r = replays_.find(id);
        if (r == replays_.end()) continue;
        if (r->second.reading) release(id, r->second, false, "too far behind");
        else send_slice(id, r->second, true);
    }
}

void Recovery::fail(ConnectionId id, const std::string& reason) {
    erase_pending(id);
    std::string pid;
    if (auto t = tracked_.find(id); t != tracked_.end()) pid = t->second.pid;
    logger_->debug("connection #{} not recovered: {}", id, reason);
    metrics_
        .counter("yunity_recoveries_total", "Clients that came back and got what they missed",
                 "result=\"failed\",reason=\"" + reason + "\"")
        .fetch_add(1, std::memory_order_relaxed);
    bus_.publish(events::Resumed{id, false, pid, reason, 0});
}

}  // namespace yunity::core
