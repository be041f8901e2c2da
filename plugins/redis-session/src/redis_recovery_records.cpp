#include "redis_recovery_records.hpp"

#include "cluster_slots.hpp"

#include <boost/asio/steady_timer.hpp>

#include <utility>

namespace yunity::redis_session {

namespace {

// The first look again comes this soon after the claim is written, each next one after twice the gap: the holder
// answers within a turn of its loop and a round trip to redis, unless it is busy.
constexpr std::chrono::milliseconds first_look{20};

}  // namespace

struct RedisRecoveryRecords::Wait {
    Wait(boost::asio::io_context& io, std::string pid, Taken done, std::chrono::milliseconds until)
        : pid(std::move(pid)), done(std::move(done)), timer(io), deadline(std::chrono::steady_clock::now() + until) {}
    std::string pid;
    Taken done;  // empty once called
    boost::asio::steady_timer timer;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::milliseconds gap = first_look;
};

RedisRecoveryRecords::RedisRecoveryRecords(boost::asio::io_context& io, std::string prefix,
                                           std::chrono::milliseconds claim_wait, Route route, RouteTo route_to)
    : io_(io),
      prefix_(std::move(prefix)),
      claim_wait_(claim_wait),
      route_(std::move(route)),
      route_to_(std::move(route_to)) {}

RedisRecoveryRecords::~RedisRecoveryRecords() { stop(); }

void RedisRecoveryRecords::stop() {
    stopped_ = true;
    for (auto& weak : std::exchange(waits_, {})) {
        auto wait = weak.lock();
        if (!wait || !wait->done) continue;
        wait->timer.cancel();
        std::exchange(wait->done, {})(std::nullopt, {});
    }
}

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
         [this, pid, done = std::move(done)](const redis::Reply* reply, const std::string& error) mutable {
             if (!reply) return done(std::nullopt, error.empty() ? "no reply" : error);
             if (reply->is_string()) return done(reply->str, {});
             // nil: never written, expired, taken by another connection, or held by another instance
             if (claim_wait_.count() <= 0 || stopped_) return done(std::nullopt, {});
             claim(pid, std::move(done));
         });
}

void RedisRecoveryRecords::claim(const std::string& pid, Taken done) {
    const std::string key = claim_prefix() + pid;
    auto* link = route_(key);
    if (!link) return done(std::nullopt, {});
    // The claim outlives the wait a little, and is not removed: a holder that hears of it late still lets go.
    send(*link, {"SET", key, "1", "PX", std::to_string(2 * claim_wait_.count())}, false, 0,
         [](const redis::Reply*, const std::string&) {});
    auto wait = std::make_shared<Wait>(io_, pid, std::move(done), claim_wait_);
    std::erase_if(waits_, [](const auto& w) { return w.expired(); });
    waits_.push_back(wait);
    wait->timer.expires_after(wait->gap);
    wait->timer.async_wait([this, wait](const boost::system::error_code& ec) {
        if (!ec) look_again(wait);
    });
}

void RedisRecoveryRecords::look_again(std::shared_ptr<Wait> wait) {
    if (!wait->done) return;
    const std::string key = prefix_ + wait->pid;
    auto* link = route_(key);
    if (!link) return std::exchange(wait->done, {})(std::nullopt, {});
    send(*link, {"GETDEL", key}, false, 0, [this, wait](const redis::Reply* reply, const std::string& error) {
        if (!wait->done) return;
        if (!reply) return std::exchange(wait->done, {})(std::nullopt, error.empty() ? "no reply" : error);
        if (reply->is_string()) return std::exchange(wait->done, {})(reply->str, {});
        wait->gap *= 2;
        if (std::chrono::steady_clock::now() + wait->gap > wait->deadline + first_look)
            return std::exchange(wait->done, {})(std::nullopt, {});  // nobody let it go: unknown
        wait->timer.expires_after(wait->gap);
        wait->timer.async_wait([this, wait](const boost::system::error_code& ec) {
            if (!ec) look_again(wait);
        });
    });
}

void RedisRecoveryRecords::claimed(const std::string& pid) {
    if (release_) release_(pid);  // writes the record through save(), when a connection here held the pid
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
