#pragma once

#include <yunity/recovery_records.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace yunity::core {

// The core's own recovery records, for when no plugin keeps them in a shared store: a client can then come back
// to this process only, within its lifetime. Expired records are swept as new ones come; `limit` bounds how
// many are kept (the oldest to expire go first).
class MemoryRecoveryRecords final : public RecoveryRecords {
public:
    explicit MemoryRecoveryRecords(std::size_t limit = 1'000'000) : limit_(limit) {}

    void save(const std::string& pid, std::string record, std::chrono::milliseconds ttl) override;
    void take(const std::string& pid, Taken done) override;

    std::size_t size() const { return records_.size(); }

private:
    using Clock = std::chrono::steady_clock;
    struct Record {
        std::string value;
        Clock::time_point expires;
    };
    void sweep(Clock::time_point now);

    std::size_t limit_;
    std::size_t sweep_at_ = 1024;  // the size that triggers the next sweep: amortised over the saves
    std::unordered_map<std::string, Record> records_;
};

}  // namespace yunity::core
