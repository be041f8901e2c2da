#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace yunity {
class Metrics;
}

namespace yunity::redis {

struct CanaryOptions {
    // A probe is sent this often (and at once after restart()).
    std::chrono::milliseconds interval{1000};
    // A probe has failed when neither it nor anything else came through the watched subscription within this.
    std::chrono::milliseconds timeout{3000};
};

// An end-to-end probe of a delivery path: the owner sends a probe the way the data it watches travels (a
// PUBLISH on the notifications channel, a SET on a session key) and reports it when it comes back through the
// subscription. It is `ok` only while probes come back within the timeout, so a subscription that stopped
// delivering without any error shows up as a failed probe, not as silence.
//
// A subscription that is busy delivering is alive: redis delivers in order on one connection, so a probe sent
// behind a backlog (a burst, a slow server) comes back once the data before it is read. The owner reports
// every other message of the subscription (progress()), and a probe fails only after `timeout` without either,
// never merely late behind data: making the subscription again would throw that backlog away.
//
// One probe is in flight at a time. Threading and lifetime as RedisLink (stop() before the io_context goes).
class Canary {
public:
    // `send` sends the probe named `token` (unique per probe and per process, "yunity-canary:<random>:<n>") and
    // returns true, or returns false when it cannot now (a link is down: that is reported already), and it is
    // asked again shortly. `on_failure` hears every probe that did not come back in time, with the reason; `on_ok`
    // hears every change to ok (a probe back after a start, a restart or failures: `after_failures` says which).
    Canary(boost::asio::io_context& io, CanaryOptions options, std::function<bool(const std::string& token)> send,
           std::function<void(const std::string& why)> on_failure, std::function<void(bool after_failures)> on_ok);
    ~Canary();
    Canary(const Canary&) = delete;
    Canary& operator=(const Canary&) = delete;

    // yunity_redis_canary_ok{source}, yunity_redis_canary_round_trip_seconds{source} (-1 before the first probe
    // came back) and yunity_redis_canary_failures_total{source}, under `owner` (the plugin, also the source).
    void add_metrics(Metrics& metrics, const std::string& owner);

    void start();
    void stop();
    // The path was lost or made again: the probe in flight (if any) is forgotten, so that a known outage is not
    // counted as a failed probe, and the canary is not ok until a probe sent from now on comes back (one goes as
    // soon as `send` can send it). No callback: the owner, who called it, knows.
    void restart();
    // A probe came back; tokens of other processes and stale ones are ignored. Returns whether it was one of
    // this canary's probes (current or not), so that the owner does not take it for data.
    bool arrived(std::string_view token);
    // Something other than a probe came through the watched subscription: it delivers, so the probe in flight
    // (if any) is behind data and gets `timeout` more from now.
    void progress() { last_progress_ = std::chrono::steady_clock::now(); }
    // Whether the token has this canary's form (whoever sent it): a probe, never data.
    static bool is_probe(std::string_view token);

    bool ok() const { return ok_; }
    // The last completed probe's round trip.
    std::optional<std::chrono::microseconds> round_trip() const { return round_trip_; }
    std::uint64_t failures() const { return failures_; }

private:
    void tick();
    void send_probe();

    boost::asio::io_context& io_;
    CanaryOptions options_;
    std::function<bool(const std::string&)> send_;
    std::function<void(const std::string&)> on_failure_;
    std::function<void(bool)> on_ok_;
    std::atomic<std::uint64_t>* failures_total_ = nullptr;
    std::optional<boost::asio::steady_timer> timer_;
    std::shared_ptr<bool> alive_;
    const std::string instance_;  // random, so that the probes of several servers on one redis never mix
    std::uint64_t seq_ = 0;
    std::string in_flight_;  // empty when no probe is out
    std::chrono::steady_clock::time_point sent_at_{};
    std::chrono::steady_clock::time_point last_progress_{};
    std::chrono::steady_clock::time_point next_send_{};
    bool ok_ = false;
    std::optional<std::chrono::microseconds> round_trip_;
    std::uint64_t failures_ = 0;
    std::uint64_t failures_since_ok_ = 0;
};

}  // namespace yunity::redis
