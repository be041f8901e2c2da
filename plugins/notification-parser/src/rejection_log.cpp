#include "rejection_log.hpp"

#include <yunity/metrics.hpp>

#include <spdlog/spdlog.h>

#include <string>

namespace yunity::notifications {

RejectionLog::RejectionLog(Metrics& metrics, std::shared_ptr<spdlog::logger> logger, std::chrono::milliseconds interval)
    : metrics_(metrics), logger_(std::move(logger)), interval_(interval) {}

void RejectionLog::reject(std::string_view what, std::string_view reason, std::string_view detail,
                          std::string_view message) {
    metrics_
        .counter("yunity_notifications_rejected_total", "Messages on the channel that were not notifications",
                 "reason=\"" + std::string(reason) + "\"")
        .fetch_add(1, std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log_ < interval_) {
        ++unlogged_;
        return;
    }
    last_log_ = now;
    const auto sample = message.substr(0, 120);
    logger_->warn("ignored {}: {} ({}): {}{}{}", what, reason, detail, sample,
                  message.size() > sample.size() ? "..." : "",
                  unlogged_ ? fmt::format(" [and {} more since the last report]", unlogged_) : "");
    unlogged_ = 0;
}

}  // namespace yunity::notifications
