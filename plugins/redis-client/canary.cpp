#include "canary.hpp"

#include <algorithm>
#include <random>

#include <yunity/metrics.hpp>

namespace yunity::redis {
namespace {

constexpr std::string_view token_prefix = "yunity-canary:";

std::string random_instance() {
    std::random_device rd;
    std::uniform_int_distribution<std::uint64_t> dist;
    const std::uint64_t value = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ dist(rd);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int shift = 60; shift >= 0; shift -= 4) out += hex[(value >> shift) & 0xf];
    return out;
}

// The timer's granularity: a failed probe is noticed at most this late, and a probe sent at most this late.
constexpr std::chrono::milliseconds tick_period{100};

long long ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

}  // namespace

Canary::Canary(boost::asio::io_context& io, CanaryOptions options, std::function<bool(const std::string&)> send,
               std::function<void(const std::string&)> on_failure, std::function<void(bool)> on_ok)
    : io_(io),
      options_(options),
      send_(std::move(send)),
      on_failure_(std::move(on_failure)),
      on_ok_(std::move(on_ok)),
      instance_(random_instance()) {}

Canary::~Canary() { stop(); }

bool Canary::is_probe(std::string_view token) { return token.substr(0, token_prefix.size()) == token_prefix; }

void Canary::start() {
    if (timer_) return;
    alive_ = std::make_shared<bool>(true);
    timer_.emplace(io_);
    next_send_ = std::chrono::steady_clock::now();
    tick();
}

void Canary::stop() {
    if (alive_) *alive_ = false;
    timer_.reset();
    in_flight_.clear();
}

void Canary::add_metrics(Metrics& metrics, const std::string& owner) {
    const std::string labels = "source=\"" + owner + "\"";
    metrics.gauge(owner, "yunity_redis_canary_ok", "1 while the source's canary probes come back in time", labels,
                  [this] { return ok_ ? 1.0 : 0.0; });
    metrics.gauge(owner, "yunity_redis_canary_round_trip_seconds",
                  "Round trip of the source's last canary probe that came back", labels,
                  [this] { return round_trip_ ? static_cast<double>(round_trip_->count()) / 1e6 : -1.0; });
    failures_total_ = &metrics.counter("yunity_redis_canary_failures_total",
                                       "Canary probes that did not come back in time (a subscription that stopped "
                                       "delivering)",
                                       labels);
}

void Canary::restart() {
    in_flight_.clear();
    ok_ = false;
    next_send_ = std::chrono::steady_clock::now();
}

bool Canary::arrived(std::string_view token) {
    if (!is_probe(token)) return false;
    if (in_flight_.empty() || token != in_flight_) return true;
    const auto now = std::chrono::steady_clock::now();
    round_trip_ = std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_);
    in_flight_.clear();
    if (!ok_) {
        ok_ = true;
        const bool after_failures = failures_since_ok_ > 0;
        failures_since_ok_ = 0;
        if (on_ok_) on_ok_(after_failures);
    }
    return true;
}

void Canary::tick() {
    if (!timer_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!in_flight_.empty() && now - std::max(sent_at_, last_progress_) >= options_.timeout) {
        in_flight_.clear();
        ++failures_;
        ++failures_since_ok_;
        ok_ = false;
        if (failures_total_) failures_total_->fetch_add(1, std::memory_order_relaxed);
        // Every failed probe, not only the first: the owner acts again (reconnects) while it lasts.
        // (Nor anything else: a probe behind data is waited for, see progress().)
        if (on_failure_)
            on_failure_("a probe did not come back within " + std::to_string(ms(options_.timeout)) + " ms");
        next_send_ = now;
    }
    if (in_flight_.empty() && now >= next_send_) send_probe();
    timer_->expires_after(tick_period);
    timer_->async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (!ec && *alive) tick();
    });
}

void Canary::send_probe() {
    const auto now = std::chrono::steady_clock::now();
    const std::string token = std::string(token_prefix) + instance_ + ":" + std::to_string(++seq_);
    if (!send_(token)) return;
    in_flight_ = token;
    sent_at_ = now;
    next_send_ = now + options_.interval;
}

}  // namespace yunity::redis
