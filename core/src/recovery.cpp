#include "recovery.hpp"

#include <vector>

namespace yunity::core {

namespace {

// A record is the start offset and the session id, split at the first newline (offsets never hold one).
std::string encode_record(const std::string& start, const std::string& session_id) { return start + '\n' + session_id; }

}  // namespace

Recovery::Recovery(Bus& bus, Registry& registry, Metrics& metrics, std::shared_ptr<spdlog::logger> logger,
                   const CoreSettings& settings, FindRecords find_records)
    : bus_(bus),
      registry_(registry),
      metrics_(metrics),
      logger_(std::move(logger)),
      window_(settings.recovery_window),
      find_records_(std::move(find_records)),
      history_(settings.recovery_window.count() > 0 ? settings.recovery_history : 0),
      recovered_(metrics.counter("yunity_recoveries_total", "Clients that came back and got what they missed",
                                 "result=\"recovered\"")),
      replayed_(
          metrics.counter("yunity_replayed_notifications_total", "Notifications replayed to recovering clients")) {}

RecoveryRecords& Recovery::records() {
    if (auto* found = find_records_ ? find_records_() : nullptr) return *found;
    return own_records_;
}

void Recovery::opened(const events::ConnectionOpened& e) {
    if (!enabled() || e.pid.empty()) return;
    tracked_[e.connection] = Tracked{e.pid, history_.newest_offset()};
}

void Recovery::closing(ConnectionId id) {
    pending_.erase(id);
    auto node = tracked_.extract(id);
    if (node.empty() || saved_all_) return;
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
    pending_[e.connection] = Pending{e.pid, e.offset, false};
    if (e.pid.empty()) return try_finish(e.connection);  // explicit: the Authenticate just before named the session
    records().take(e.pid, [this, id = e.connection](std::optional<std::string> record, std::string error) {
        on_taken(id, std::move(record), error);
    });
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
    if (pending_.empty()) return;
    std::vector<ConnectionId> waiting;
    for (const auto& [id, p] : pending_) {
        const auto* info = registry_.find(id);
        if (info && info->session_id == session_id) waiting.push_back(id);
    }
    for (auto id : waiting) try_finish(id);
}

void Recovery::try_finish(ConnectionId id) {
    auto p = pending_.find(id);
    if (p == pending_.end()) return;
    const auto* info = registry_.find(id);
    if (!info) {
        pending_.erase(p);
        return;
    }
    if (!p->second.pid.empty() && !p->second.session_known) return;  // the record is still being read
    if (!info->session_id) return fail(id, "no session");
    const auto* answer = registry_.session_user(*info->session_id);
    if (!answer) return;  // the resolver has not answered yet: its SessionResolved comes back here
    const std::optional<std::string>& user = **answer;
    if (!user) return fail(id, "logged out");
    finish(id, *user);
}

void Recovery::finish(ConnectionId id, const std::string& user) {
    auto pending = std::move(pending_.at(id));
    pending_.erase(id);
    std::vector<const NotificationHistory::Entry*> missed;
    if (!history_.for_user_after(pending.offset, user, [&](const auto& e) { missed.push_back(&e); }))
        return fail(id, "offset unknown");  // the session stays: live notifications from now on
    std::string pid;
    if (auto t = tracked_.find(id); t != tracked_.end()) {
        if (!pending.pid.empty()) t->second.pid = pending.pid;  // the client keeps the pid it came back with
        t->second.start = history_.newest_offset();
        pid = t->second.pid;
    }
    logger_->debug("connection #{} recovered, {} notifications to replay", id, missed.size());
    recovered_.fetch_add(1, std::memory_order_relaxed);
    replayed_.fetch_add(missed.size(), std::memory_order_relaxed);
    bus_.publish(events::Resumed{id, true, pid, {}, missed.size()});
    for (const auto* e : missed) bus_.publish(events::Deliver{{id}, "message", e->payload, e->offset});
}

void Recovery::fail(ConnectionId id, const std::string& reason) {
    pending_.erase(id);
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
