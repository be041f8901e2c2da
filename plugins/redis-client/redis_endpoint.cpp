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
  if (target->kind == RedisTarget::Kind::cluster) {
    throw std::runtime_error("--redis: redis-cluster:// is not supported yet; use redis:// or redis-sentinel://");
  }
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
  links_.push_back(std::make_unique<RedisLink>(io_, std::move(options), log_));
  if (sentinel_) sentinel_->follow(*links_.back());
  return *links_.back();
}

void RedisEndpoint::start() {
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
  for (auto& link : links_) link->stop();
}

std::string RedisEndpoint::master() const {
  if (sentinel_) return sentinel_->master();
  return address_of(target_.url);
}

std::uint64_t RedisEndpoint::failovers() const { return sentinel_ ? sentinel_->switches() : 0; }

std::string RedisEndpoint::describe() const {
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
  } else {
    add_master_gauge(address_of(target_.url));
  }
}

// One gauge per address ever used, 1 for the current master: a Prometheus "info" metric whose label says
// where the source reads, so that a dashboard sees a failover as the 1 moving to another address.
void RedisEndpoint::add_master_gauge(const std::string& address) {
  if (!metrics_ || address.empty() || !addresses_seen_.insert(address).second) return;
  metrics_->gauge(owner_, "yunity_redis_master", "1 for the redis master a source uses (by address), 0 for former ones",
                  "source=\"" + owner_ + "\",address=\"" + address + "\"",
                  [this, address] { return master() == address ? 1.0 : 0.0; });
}

}  // namespace yunity::redis
