#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "cluster_topology.hpp"
#include "redis_link.hpp"
#include "redis_target.hpp"
#include "sentinel_watcher.hpp"

namespace spdlog {
class logger;
}

namespace yunity {
class Metrics;
}

namespace yunity::redis {

// The redis a plugin talks to, as `--redis` names it: one server, the master a group of sentinels names, or a
// cluster. It makes the plugin's links and keeps them on the master (a SentinelWatcher behind Sentinel), so that
// the plugin only deals with links that connect, drop and connect again. In a cluster, make_link's links go to
// any node (the seeds in turn), which is all pub/sub needs; per-master links come from make_node_link, by the
// map of cluster().
class RedisEndpoint {
public:
    // Throws std::runtime_error ("--redis: ...") on a URL that is wrong.
    RedisEndpoint(boost::asio::io_context& io, const std::string& url, std::string name,
                  std::shared_ptr<spdlog::logger> logger);
    ~RedisEndpoint();
    RedisEndpoint(const RedisEndpoint&) = delete;
    RedisEndpoint& operator=(const RedisEndpoint&) = delete;

    // A link to the master with these timeouts (its url is filled in); owned by the endpoint, valid until it is
    // destroyed. Make every link before start().
    RedisLink& make_link(const std::string& name, std::chrono::milliseconds connect_timeout,
                         std::chrono::milliseconds command_timeout);

    // A cluster only: a link to the node at host:port (a master of the map), not started: the owner starts and
    // stops it. Owned by the endpoint, valid until it is destroyed.
    RedisLink& make_node_link(const std::string& name, const std::string& host, std::uint16_t port,
                              std::chrono::milliseconds connect_timeout, std::chrono::milliseconds command_timeout);
    // A cluster only: its slot map, made at the first call and started by start() (or at once after it).
    ClusterTopology& cluster();
    bool is_cluster() const { return target_.kind == RedisTarget::Kind::cluster; }

    // Starts the links (behind Sentinel: once a sentinel has named the master).
    void start();
    void stop();

    // Gauges and counters under `owner`: yunity_redis_master{source,address} (1 for the current master, 0 for
    // those before), yunity_redis_failovers_total{source}, and behind Sentinel
    // yunity_redis_sentinels_connected{source}.
    void add_metrics(Metrics& metrics, const std::string& owner);

    const RedisTarget& target() const { return target_; }
    // The database the links SELECT (keyspace channels name it).
    int db() const { return target_.url.db; }
    // The master's "host:port" (empty while Sentinel has not named one).
    std::string master() const;
    // How many times the master changed (Sentinel failovers followed).
    std::uint64_t failovers() const;
    // For logs and readiness: "redis://127.0.0.1:6379", or "master \"m\" 10.0.0.5:6379 via 3 sentinels".
    std::string describe() const;

private:
    boost::asio::io_context& io_;
    RedisTarget target_;
    std::string name_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<std::unique_ptr<RedisLink>> links_;
    std::vector<std::unique_ptr<RedisLink>> node_links_;  // a cluster's per-master links, started by the owner
    std::unique_ptr<SentinelWatcher> sentinel_;
    std::unique_ptr<ClusterTopology> cluster_;
    bool started_ = false;
    Metrics* metrics_ = nullptr;
    std::string owner_;
    std::set<std::string> addresses_seen_;  // each has its yunity_redis_master gauge
    std::atomic<std::uint64_t>* failovers_total_ = nullptr;
    void add_master_gauge(const std::string& address);
};

}  // namespace yunity::redis
