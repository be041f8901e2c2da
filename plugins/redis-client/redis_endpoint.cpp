#include "redis_endpoint.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>
#include <yunity/metrics.hpp>

namespace yunity::redis {

RedisEndpoint::RedisEndpoint(boost::asio::io_context& io, const std::string& url, std::string name,
                             std::shared_ptr<spdlog::logger> logger)
    : io_(io), name_(std::move(name)), log_(logger ? std::move(logger) : spdlog::default_logger()) {
    std::string error;
    auto target = parse_redis_target(url, &error);
    if (!target) throw std::runtime_error("--redis: " + error);
    target_ = std::move(*target);
    if (target_.kind == RedisTarget::Kind::sentinel) {
        SentinelOptions options;
        options.sentinels = target_.seeds;
        options.master_name = target_.master_name;
        options.name = name_;
        sentinel_ = std::make_unique<SentinelWatcher>(io_, std::move(options), log_);
    }
}

RedisEndpoint::~RedisEndpoint() { stop(); }

RedisLink& RedisEndpoint::make_link(const std::string& name, std::chrono::milliseconds connect_timeout,
                                    std::chrono::milliseconds command_timeout) {
    LinkOptions options;
    options.url = target_.url;
    options.connect_timeout = connect_timeout;
    options.command_timeout = command_timeout;
    options.name = name;
    // Sentinel's answer may be stale (a failover under way) and a demoted master keeps answering as a replica:
    // only a server that says it is the master is used.
    options.require_master = sentinel_ != nullptr;
    if (is_cluster()) {
        for (std::size_t i = 1; i < target_.seeds.size(); ++i)
            options.alternatives.emplace_back(target_.seeds[i].host, target_.seeds[i].port);
    }
    links_.push_back(std::make_unique<RedisLink>(io_, std::move(options), log_));
    if (sentinel_) sentinel_->follow(*links_.back());
    return *links_.back();
}

RedisLink& RedisEndpoint::make_node_link(const std::string& name, const std::string& host, std::uint16_t port,
                                         std::chrono::milliseconds connect_timeout,
                                         std::chrono::milliseconds command_timeout) {
    LinkOptions options;
    options.url = target_.url;
    options.url.host = host;
    options.url.port = port;
    options.connect_timeout = connect_timeout;
    options.command_timeout = command_timeout;
    options.name = name;
    node_links_.push_back(std::make_unique<RedisLink>(io_, std::move(options), log_));
    return *node_links_.back();
}

ClusterTopology& RedisEndpoint::cluster() {
    if (!cluster_) {
        cluster_ = std::make_unique<ClusterTopology>(io_, target_, LinkOptions{}.connect_timeout,
                                                     LinkOptions{}.command_timeout, name_, log_);
        if (started_) cluster_->start();
    }
    return *cluster_;
}

void RedisEndpoint::start() {
    started_ = true;
    if (cluster_) cluster_->start();
    if (!sentinel_) {
        for (auto& link : links_) link->start();
        return;
    }
    sentinel_->on_switch([this](const std::string& from, const std::string& to) {
        if (!from.empty() && failovers_total_) failovers_total_->fetch_add(1, std::memory_order_relaxed);
        add_master_gauge(to);
    });
    sentinel_->start();
}

void RedisEndpoint::stop() {
    if (sentinel_) sentinel_->stop();
    if (cluster_) cluster_->stop();
    for (auto& link : node_links_) link->stop();
    for (auto& link : links_) link->stop();
}

std::string RedisEndpoint::master() const {
    if (sentinel_) return sentinel_->master();
    return address_of(target_.url);
}

std::uint64_t RedisEndpoint::failovers() const { return sentinel_ ? sentinel_->switches() : 0; }

std::string RedisEndpoint::describe() const {
    if (is_cluster()) {
        const std::size_t masters = cluster_ ? cluster_->masters().size() : 0;
        return redact(target_) + (cluster_ ? " (" + std::to_string(masters) + " masters)" : std::string());
    }
    if (!sentinel_) return redact(target_.url);
    const std::string master = sentinel_->master();
    return "master \"" + target_.master_name + "\" " + (master.empty() ? std::string("(not known yet)") : master) +
           " via " + std::to_string(target_.seeds.size()) + " sentinels (" +
           std::to_string(sentinel_->sentinels_connected()) + " reachable)";
}

void RedisEndpoint::add_metrics(Metrics& metrics, const std::string& owner) {
    metrics_ = &metrics;
    owner_ = owner;
    failovers_total_ = &metrics.counter("yunity_redis_failovers_total",
                                        "Times the redis master changed under a source (Sentinel failovers followed)",
                                        "source=\"" + owner + "\"");
    if (sentinel_) {
        metrics.gauge(owner, "yunity_redis_sentinels_connected", "Sentinels whose +switch-master channel is followed",
                      "source=\"" + owner + "\"",
                      [this] { return static_cast<double>(sentinel_->sentinels_connected()); });
        if (!sentinel_->master().empty()) add_master_gauge(sentinel_->master());
    } else if (!is_cluster()) {
        add_master_gauge(address_of(target_.url));
    }
}

// One gauge per address ever used, 1 for the current master: a Prometheus "info" metric whose label says
// where the source reads, so that a dashboard sees a failover as the 1 moving to another address.
void RedisEndpoint::add_master_gauge(const std::string& address) {
    if (!metrics_ || address.empty() || !addresses_seen_.insert(address).second) return;
    metrics_->gauge(owner_, "yunity_redis_master",
                    "1 for the redis master a source uses (by address), 0 for former ones",
                    "source=\"" + owner_ + "\",address=\"" + address + "\"",
                    [this, address] { return master() == address ? 1.0 : 0.0; });
}

}  // namespace yunity::redis
