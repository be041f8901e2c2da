#include "memory_recovery_records.hpp"

#include <algorithm>
#include <vector>

namespace yunity::core {

void MemoryRecoveryRecords::save(const std::string& pid, std::string record, std::chrono::milliseconds ttl) {
    const auto now = Clock::now();
    if (records_.size() >= sweep_at_) sweep(now);
    records_.insert_or_assign(pid, Record{std::move(record), now + ttl});
}

void MemoryRecoveryRecords::take(const std::string& pid, Taken done) {
    auto it = records_.find(pid);
    if (it == records_.end() || it->second.expires <= Clock::now()) {
        if (it != records_.end()) records_.erase(it);
        return done(std::nullopt, {});
    }
    auto value = std::move(it->second.value);
    records_.erase(it);
    done(std::move(value), {});
}

void MemoryRecoveryRecords::sweep(Clock::time_point now) {
    std::erase_if(records_, [now](const auto& r) { return r.second.expires <= now; });
    if (records_.size() >= limit_) {
        // Still full of live records: the ones closest to expiry go (their clients had the least time left).
        std::vector<std::pair<Clock::time_point, std::string>> by_expiry;
        by_expiry.reserve(records_.size());
        for (const auto& [pid, r] : records_) by_expiry.emplace_back(r.expires, pid);
        const auto excess = records_.size() - limit_ / 2;
        std::nth_element(by_expiry.begin(), by_expiry.begin() + static_cast<std::ptrdiff_t>(excess), by_expiry.end());
        for (std::size_t i = 0; i < excess; ++i) records_.erase(by_expiry[i].second);
    }
    sweep_at_ = std::max<std::size_t>(1024, records_.size() * 2);
    sweep_at_ = std::min(sweep_at_, limit_);
}

}  // namespace yunity::core
