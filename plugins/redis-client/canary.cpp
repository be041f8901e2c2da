#include "canary.hpp"

#include <random>

namespace yunity::redis {
namespace {

constexpr std::string_view kTokenPrefix = "yunity-canary:";

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
constexpr std::chrono::milliseconds kTick{100};

long long ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

}  // namespace

Canary::Canary(boost::asio::io_context& io, CanaryOptions options, std::function<bool(const std::string&)> send,
               std::function<void(bool, const std::string&)> on_change)
    : io_(io),
      options_(options),
      send_(std::move(send)),
      on_change_(std::move(on_change)),
      instance_(random_instance()) {}

Canary::~Canary() { stop(); }

bool Canary::is_probe(std::string_view token) { return token.substr(0, kTokenPrefix.size()) == kTokenPrefix; }

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

void Canary::restart() {
  in_flight_.clear();
  if (ok_) set_ok(false, "a redis link was lost or made again; waiting for a probe to come back");
  next_send_ = std::chrono::steady_clock::now();
}

bool Canary::arrived(std::string_view token) {
  if (!is_probe(token)) return false;
  if (in_flight_.empty() || token != in_flight_) return true;
  const auto now = std::chrono::steady_clock::now();
  round_trip_ = std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_);
  in_flight_.clear();
  ++completed_;
  set_ok(true, {});
  return true;
}

void Canary::tick() {
  if (!timer_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!in_flight_.empty() && now - sent_at_ >= options_.timeout) {
    in_flight_.clear();
    ++failures_;
    // Set even when already failing, so that the owner acts again (reconnects) while it lasts.
    ok_ = true;
    set_ok(false, "a probe did not come back within " + std::to_string(ms(options_.timeout)) + " ms");
    next_send_ = now;
  }
  if (in_flight_.empty() && now >= next_send_) send_probe();
  timer_->expires_after(kTick);
  timer_->async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) tick();
  });
}

void Canary::send_probe() {
  const auto now = std::chrono::steady_clock::now();
  const std::string token = std::string(kTokenPrefix) + instance_ + ":" + std::to_string(++seq_);
  if (!send_(token)) return;
  in_flight_ = token;
  sent_at_ = now;
  next_send_ = now + options_.interval;
}

void Canary::set_ok(bool ok, const std::string& why) {
  if (ok == ok_) return;
  ok_ = ok;
  if (on_change_) on_change_(ok, why);
}

}  // namespace yunity::redis
