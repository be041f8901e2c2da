#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cluster_slots.hpp"
#include "redis_link.hpp"
#include "redis_target.hpp"

namespace spdlog {
class logger;
}

namespace yunity::redis {

// The slot map of a Redis Cluster, read with CLUSTER SLOTS from any node (the seeds in turn) at start, every
// few seconds (masters that appear, failovers) and whenever an owner asks (after a MOVED). Masters only.
//
// Threading and lifetime as RedisLink (the io_context's thread; stop() before the io_context goes).
class ClusterTopology {
public:
    using Address = std::pair<std::string, std::uint16_t>;

    ClusterTopology(boost::asio::io_context& io, const RedisTarget& target, std::chrono::milliseconds connect_timeout,
                    std::chrono::milliseconds command_timeout, std::string name,
                    std::shared_ptr<spdlog::logger> logger);
    ~ClusterTopology();
    ClusterTopology(const ClusterTopology&) = delete;
    ClusterTopology& operator=(const ClusterTopology&) = delete;

    void start();
    void stop();
    // Reads the map again soon (several calls close together make one question).
    void refresh();
    // Called after the map changed, the first time included.
    void on_change(std::function<void()> callback);

    bool known() const { return known_; }
    // The master serving `slot`; nullopt while the map is unknown or the slot is served by nobody.
    std::optional<Address> master_of(std::uint16_t slot) const;
    // Every master that serves at least one slot, in a stable order.
    const std::vector<Address>& masters() const { return masters_; }
    // How many times the map changed after it was first read.
    std::uint64_t changes() const { return changes_; }

private:
    void ask();
    void apply(const std::vector<SlotRange>& ranges);
    void arm_timer();

    boost::asio::io_context& io_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<RedisLink> link_;
    std::function<void()> on_change_;
    std::optional<boost::asio::steady_timer> timer_;
    std::shared_ptr<bool> alive_;
    bool asking_ = false;
    bool again_ = false;  // a refresh was asked for while a question was out
    bool known_ = false;
    std::uint64_t changes_ = 0;
    std::vector<Address> masters_;
    std::array<std::int16_t, cluster_slot_count> slots_{};  // index into masters_, -1: nobody
};

}  // namespace yunity::redis
