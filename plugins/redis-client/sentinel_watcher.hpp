#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "redis_link.hpp"
#include "redis_url.hpp"

namespace spdlog {
class logger;
}

namespace yunity::redis {

struct SentinelOptions {
    std::vector<RedisUrl> sentinels;
    std::string master_name;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{5000};
    // While a followed link is not connected, the sentinels are asked again this often: the link may be stuck on
    // a dead master whose +switch-master was missed (every sentinel link down at the time), or on a replica.
    std::chrono::milliseconds poll_interval{1000};
    std::string name;  // for logs and link names: "pubsub", "session", ...
};

// Finds the master of a Sentinel-monitored group and keeps the links it follows on it: asks the sentinels
// (SENTINEL get-master-addr-by-name) at start, whenever a sentinel link comes back and while a followed link is
// down, and listens to every sentinel's +switch-master. The links themselves check ROLE (require_master), so an
// answer that is stale or wrong never makes them serve from a replica.
//
// Threading and lifetime: as RedisLink (the io_context's thread; stop() before the io_context goes).
class SentinelWatcher {
public:
    SentinelWatcher(boost::asio::io_context& io, SentinelOptions options, std::shared_ptr<spdlog::logger> logger);
    ~SentinelWatcher();
    SentinelWatcher(const SentinelWatcher&) = delete;
    SentinelWatcher& operator=(const SentinelWatcher&) = delete;

    // A link to move to every master learnt, and to start with the first. Call before start(); the link must
    // outlive the watcher's stop().
    void follow(RedisLink& link);
    // Called after the followed links were pointed at a new master; `from` is empty for the first one.
    void on_switch(std::function<void(const std::string& from, const std::string& to)> callback);

    void start();
    void stop();

    // The master's "host:port", empty until a sentinel has named one.
    const std::string& master() const { return master_; }
    // How many times the master changed after the first was learnt.
    std::uint64_t switches() const { return switches_; }
    // How many sentinel event links are connected.
    std::size_t sentinels_connected() const;

private:
    void ask();
    void ask_sentinel(std::size_t index, std::uint64_t round);
    void on_switch_message(std::string_view message);
    void use_master(const std::string& host, std::uint16_t port, const std::string& source);
    void arm_poll();

    boost::asio::io_context& io_;
    SentinelOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<std::unique_ptr<RedisLink>> commands_;  // one per sentinel
    std::vector<std::unique_ptr<RedisLink>> events_;    // one per sentinel, subscribed to +switch-master
    std::vector<RedisLink*> followed_;
    std::function<void(const std::string&, const std::string&)> on_switch_;
    std::optional<boost::asio::steady_timer> poll_timer_;
    std::shared_ptr<bool> alive_;  // completions queued before stop() find it false
    bool running_ = false;
    bool links_started_ = false;
    std::uint64_t round_ = 0;  // one round of asking at a time; a later one supersedes it
    bool asking_ = false;
    std::string master_;
    std::uint64_t switches_ = 0;
    std::chrono::steady_clock::time_point last_warning_{};
    std::chrono::steady_clock::time_point switched_at_{};  // the last +switch-master for this master
};

}  // namespace yunity::redis
