#include "cluster_topology.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace yunity::redis {
namespace {

// How often the map is read without a reason: a master that appears (a reshard, a failover the owner's links
// did not notice) is seen within this. CLUSTER SLOTS is cheap.
constexpr std::chrono::seconds refresh_interval{2};

}  // namespace

ClusterTopology::ClusterTopology(boost::asio::io_context& io, const RedisTarget& target,
                                 std::chrono::milliseconds connect_timeout, std::chrono::milliseconds command_timeout,
                                 std::string name, std::shared_ptr<spdlog::logger> logger)
    : io_(io), log_(logger ? std::move(logger) : spdlog::default_logger()) {
    slots_.fill(-1);
    LinkOptions options;
    options.url = target.url;
    options.url.db = 0;
    options.connect_timeout = connect_timeout;
    options.command_timeout = command_timeout;
    options.name = name + "-topology";
    for (std::size_t i = 1; i < target.seeds.size(); ++i)
        options.alternatives.emplace_back(target.seeds[i].host, target.seeds[i].port);
    link_ = std::make_unique<RedisLink>(io_, std::move(options), log_);
}

ClusterTopology::~ClusterTopology() { stop(); }

void ClusterTopology::on_change(std::function<void()> callback) { on_change_ = std::move(callback); }

void ClusterTopology::start() {
    alive_ = std::make_shared<bool>(true);
    timer_.emplace(io_);
    link_->on_connected([this] { ask(); });
    link_->start();
    arm_timer();
}

void ClusterTopology::stop() {
    if (alive_) *alive_ = false;
    timer_.reset();
    link_->stop();
}

void ClusterTopology::refresh() {
    if (asking_) {
        again_ = true;
        return;
    }
    ask();
}

std::optional<ClusterTopology::Address> ClusterTopology::master_of(std::uint16_t slot) const {
    if (slot >= cluster_slot_count || slots_[slot] < 0) return std::nullopt;
    return masters_[static_cast<std::size_t>(slots_[slot])];
}

void ClusterTopology::arm_timer() {
    if (!timer_) return;
    timer_->expires_after(refresh_interval);
    timer_->async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (ec || !*alive) return;
        refresh();
        arm_timer();
    });
}

void ClusterTopology::ask() {
    if (!link_->connected()) return;  // asked again when it connects
    asking_ = true;
    const std::string host = link_->options().url.host;
    link_->command({"CLUSTER", "SLOTS"}, [this, host, alive = alive_](const Reply* reply, const std::string& error) {
        if (!*alive) return;
        asking_ = false;
        std::optional<std::vector<SlotRange>> ranges;
        if (reply) ranges = parse_cluster_slots(*reply, host);
        if (!ranges) {
            log_->warn("cannot read the cluster's slots from {}: {}", host, reply ? "unexpected reply" : error);
        } else {
            apply(*ranges);
        }
        if (again_) {
            again_ = false;
            ask();
        }
    });
}

void ClusterTopology::apply(const std::vector<SlotRange>& ranges) {
    // Masters sorted by address, so that the list only changes when the set does.
    std::vector<Address> masters;
    for (const auto& r : ranges) masters.emplace_back(r.host, r.port);
    std::sort(masters.begin(), masters.end());
    masters.erase(std::unique(masters.begin(), masters.end()), masters.end());
    std::array<std::int16_t, cluster_slot_count> slots{};
    slots.fill(-1);
    for (const auto& r : ranges) {
        const Address a{r.host, r.port};
        const auto index =
            static_cast<std::int16_t>(std::lower_bound(masters.begin(), masters.end(), a) - masters.begin());
        for (std::size_t s = r.first; s <= r.last; ++s) slots[s] = index;
    }
    if (known_ && masters == masters_ && slots == slots_) return;
    const bool first = !known_;
    known_ = true;
    if (!first) ++changes_;
    std::size_t uncovered = 0;
    for (const auto s : slots) uncovered += s < 0 ? 1 : 0;
    masters_ = std::move(masters);
    slots_ = slots;
    log_->info("cluster map {}: {} masters{}", first ? "read" : "changed", masters_.size(),
               uncovered ? fmt::format(", {} slots served by nobody", uncovered) : std::string());
    if (on_change_) on_change_();
}

}  // namespace yunity::redis
