// What a source does with a message that is not a notification (redis-pubsub's channel, redis-streams' entries).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

namespace spdlog {
class logger;
}

namespace yunity {
class Metrics;
}

namespace yunity::notifications {

// Counts each rejected message by reason in yunity_notifications_rejected_total{reason}, and logs it at most
// once per `interval` (with a count of those not logged since), so that a misbehaving publisher cannot flood the
// log. Used on the loop only.
class RejectionLog {
public:
    RejectionLog(Metrics& metrics, std::shared_ptr<spdlog::logger> logger, std::chrono::milliseconds interval);

    // "ignored <what>: <reason> (<detail>): <the message's first 120 bytes>..."; `what` names the message, e.g.
    // `a message on "notifications"`.
    void reject(std::string_view what, std::string_view reason, std::string_view detail, std::string_view message);

private:
    Metrics& metrics_;
    std::shared_ptr<spdlog::logger> logger_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point last_log_{};
    std::uint64_t unlogged_ = 0;
};

}  // namespace yunity::notifications
