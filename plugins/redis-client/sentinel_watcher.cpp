#include "sentinel_watcher.hpp"

#include "whole_number.hpp"

#include <spdlog/spdlog.h>

#include "redis_target.hpp"

namespace yunity::redis {
namespace {

// "Nobody answered" is logged at warning level at most this often while it lasts.
constexpr std::chrono::seconds warning_interval{30};
// After a +switch-master, answers naming another master are ignored this long: the other sentinels learn of a
// failover from the leader's hello messages (every 2 s), so for a few seconds some still name the old master.
constexpr std::chrono::seconds announcement_wins{5};

std::vector<std::string_view> split_spaces(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto space = text.find(' ');
        if (space != 0) out.push_back(text.substr(0, space));
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
    }
    return out;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    std::uint16_t value = 0;
    if (!parse_whole_number(text, value) || value == 0) return std::nullopt;
    return value;
}

}  // namespace

SentinelWatcher::SentinelWatcher(boost::asio::io_context& io, SentinelOptions options,
                                 std::shared_ptr<spdlog::logger> logger)
    : io_(io), options_(std::move(options)), log_(logger ? std::move(logger) : spdlog::default_logger()) {
    for (const auto& sentinel : options_.sentinels) {
        LinkOptions link;
        link.url = sentinel;
        link.connect_timeout = options_.connect_timeout;
        link.command_timeout = options_.command_timeout;
        link.name = options_.name + "-sentinel-" + address_of(sentinel);
        commands_.push_back(std::make_unique<RedisLink>(io_, link, log_));
        link.name += "-events";
        events_.push_back(std::make_unique<RedisLink>(io_, link, log_));
    }
}

SentinelWatcher::~SentinelWatcher() { stop(); }

void SentinelWatcher::follow(RedisLink& link) { followed_.push_back(&link); }

void SentinelWatcher::on_switch(std::function<void(const std::string&, const std::string&)> callback) {
    on_switch_ = std::move(callback);
}

std::size_t SentinelWatcher::sentinels_connected() const {
    std::size_t n = 0;
    for (const auto& link : events_) n += link->connected() ? 1 : 0;
    return n;
}

void SentinelWatcher::start() {
    if (running_) return;
    running_ = true;
    alive_ = std::make_shared<bool>(true);
    poll_timer_.emplace(io_);
    for (std::size_t i = 0; i < commands_.size(); ++i) {
        // The first sentinel to connect is asked at once; a later one only while no master is known.
        commands_[i]->on_connected([this] {
            if (master_.empty()) ask();
        });
        // Whatever was announced while this sentinel's channel was down is lost: ask again.
        events_[i]->subscribe("+switch-master",
                              [this](std::string_view, std::string_view message) { on_switch_message(message); });
        events_[i]->on_connected([this] { ask(); });
        commands_[i]->start();
        events_[i]->start();
    }
    log_->info("asking sentinels for the master \"{}\"", options_.master_name);
    arm_poll();
}

void SentinelWatcher::stop() {
    if (!running_) return;
    running_ = false;
    if (alive_) *alive_ = false;
    for (auto& link : events_) link->stop();
    for (auto& link : commands_) link->stop();
    poll_timer_.reset();
}

void SentinelWatcher::arm_poll() {
    if (!poll_timer_) return;
    poll_timer_->expires_after(options_.poll_interval);
    poll_timer_->async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (ec || !*alive) return;
        bool all_up = links_started_;
        for (const RedisLink* link : followed_) all_up = all_up && link->connected();
        if (!all_up) ask();
        arm_poll();
    });
}

void SentinelWatcher::ask() {
    if (!running_) return;
    // A round in progress already asks the sentinels in turn; a new one would only double the questions.
    if (asking_) return;
    asking_ = true;
    ask_sentinel(0, ++round_);
}

void SentinelWatcher::ask_sentinel(std::size_t index, std::uint64_t round) {
    if (!running_ || round != round_) return;
    if (index >= commands_.size()) {
        asking_ = false;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_warning_ >= warning_interval) {
            last_warning_ = now;
            log_->warn("no sentinel could name the master \"{}\" ({} sentinels, {} reachable); asking again",
                       options_.master_name, commands_.size(), sentinels_connected());
        }
        return;
    }
    RedisLink& link = *commands_[index];
    if (!link.connected()) return ask_sentinel(index + 1, round);
    link.command({"SENTINEL", "get-master-addr-by-name", options_.master_name},
                 [this, index, round, alive = alive_](const Reply* reply, const std::string& error) {
                     if (!*alive || round != round_) return;
                     if (reply && reply->is_array() && reply->elements.size() == 2) {
                         if (const auto port = parse_port(reply->elements[1].str)) {
                             asking_ = false;
                             // Right after a +switch-master a sentinel that has not heard of it yet still names the old
                             // master: the announcement wins for a while, or the links would go back to a dead server.
                             RedisUrl named;
                             named.host = reply->elements[0].str;
                             named.port = *port;
                             if (address_of(named) != master_ &&
                                 std::chrono::steady_clock::now() - switched_at_ < announcement_wins) {
                                 log_->debug(
                                     "sentinel {} still names {} as the master; the last +switch-master said {}",
                                     address_of(commands_[index]->options().url), address_of(named), master_);
                                 return;
                             }
                             return use_master(reply->elements[0].str, *port,
                                               "sentinel " + address_of(commands_[index]->options().url));
                         }
                     }
                     log_->debug("sentinel {} did not name the master: {}", address_of(commands_[index]->options().url),
                                 reply ? std::string("no such master") : error);
                     ask_sentinel(index + 1, round);
                 });
}

void SentinelWatcher::on_switch_message(std::string_view message) {
    // +switch-master <master name> <old ip> <old port> <new ip> <new port>
    const auto parts = split_spaces(message);
    if (parts.size() != 5 || parts[0] != options_.master_name) return;
    const auto port = parse_port(parts[4]);
    if (!port) return;
    log_->warn("sentinels switched the master \"{}\" from {}:{} to {}:{}", options_.master_name, parts[1], parts[2],
               parts[3], parts[4]);
    switched_at_ = std::chrono::steady_clock::now();
    use_master(std::string(parts[3]), *port, "+switch-master");
}

void SentinelWatcher::use_master(const std::string& host, std::uint16_t port, const std::string& source) {
    RedisUrl where;
    where.host = host;
    where.port = port;
    const std::string address = address_of(where);
    if (address != master_) {
        const std::string previous = master_;
        master_ = address;
        if (previous.empty()) {
            log_->info("the master \"{}\" is {} ({})", options_.master_name, address, source);
        } else {
            ++switches_;
            log_->warn("the master \"{}\" moved from {} to {} ({}): moving {} links", options_.master_name, previous,
                       address, source, followed_.size());
        }
        for (RedisLink* link : followed_) link->retarget(host, port);
        if (on_switch_) on_switch_(previous, address);
    }
    if (!links_started_) {
        links_started_ = true;
        for (RedisLink* link : followed_) link->start();
    }
}

}  // namespace yunity::redis
