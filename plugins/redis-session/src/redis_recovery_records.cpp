#include "redis_recovery_records.hpp"

#include "cluster_slots.hpp"

namespace yunity::redis_session {

RedisRecoveryRecords::RedisRecoveryRecords(std::string prefix, Route route, RouteTo route_to)
    : prefix_(std::move(prefix)), route_(std::move(route)), route_to_(std::move(route_to)) {}

void RedisRecoveryRecords::save(const std::string& pid, std::string record, std::chrono::milliseconds ttl) {
    const std::string key = prefix_ + pid;
    auto* link = route_(key);
    if (!link) return;  // no master known: that client starts afresh
    ++writes_in_flight_;
    send(*link, {"SET", key, std::move(record), "PX", std::to_string(ttl.count())}, false, 0,
         [this](const redis::Reply*, const std::string&) {
             if (--writes_in_flight_ == 0 && writes_done_) writes_done_();
         });
}

void RedisRecoveryRecords::take(const std::string& pid, Taken done) {
    const std::string key = prefix_ + pid;
    auto* link = route_(key);
    if (!link) return done(std::nullopt, "no redis master known for the record");
    send(*link, {"GETDEL", key}, false, 0,
         [done = std::move(done)](const redis::Reply* reply, const std::string& error) {
             if (!reply) return done(std::nullopt, error.empty() ? "no reply" : error);
             if (reply->is_string()) return done(reply->str, {});
             done(std::nullopt, {});  // nil: never written, expired, or taken by another connection
         });
}

// A cluster redirect (a slot moved, or being migrated) is followed once to the node redis names, when it is a
// master we hold a link to; otherwise the command fails like one on a lost link.
void RedisRecoveryRecords::send(redis::RedisLink& link, std::vector<std::string> argv, bool asking, int redirects,
                                std::function<void(const redis::Reply*, const std::string&)> done) {
    if (asking) link.command({"ASKING"}, {});
    auto again = argv;
    link.command(std::move(argv), [this, again = std::move(again), redirects, done = std::move(done)](
                                      const redis::Reply* reply, const std::string& error) mutable {
        if (!reply && redirects == 0) {
            if (auto redirect = redis::parse_redirect(error)) {
                if (auto* target = route_to_(redirect->host, redirect->port))
                    return send(*target, std::move(again), redirect->ask, redirects + 1, std::move(done));
            }
        }
        done(reply, error);
    });
}

}  // namespace yunity::redis_session
