#pragma once

// Latencies in nanoseconds, log-linear buckets (64 per power of two: under 1.6 % error), so that percentiles up to
// p99.9 and the whole distribution survive being merged across processes at a fixed 30 KB.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::bench {

class LatencyHistogram {
public:
    static constexpr int sub_bits = 6;
    static constexpr std::size_t bucket_count = (64 - sub_bits + 1) << sub_bits;

    void record(std::uint64_t ns) {
        ++counts_[index(ns)];
        ++count_;
        if (ns > max_) max_ = ns;
    }
    void merge(const LatencyHistogram& other);
    void clear();

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    // The value below which `fraction` of the samples lie (the bucket's midpoint; the exact max for 1.0).
    std::uint64_t percentile(double fraction) const;
    // Non-empty buckets as (representative value, count), ascending: the distribution for a plot.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const;

    // "max count i:c i:c ...", one line, for the workers' reports.
    std::string serialize() const;
    static LatencyHistogram parse(std::string_view text);

    static std::size_t index(std::uint64_t v) {
        if (v < (1ULL << sub_bits)) return static_cast<std::size_t>(v);
        const int e = 63 - __builtin_clzll(v);
        const auto mantissa = (v >> (e - sub_bits)) & ((1ULL << sub_bits) - 1);
        return (static_cast<std::size_t>(e - sub_bits + 1) << sub_bits) + mantissa;
    }
    static std::uint64_t lower_bound(std::size_t i);
    static std::uint64_t midpoint(std::size_t i);

private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace yunity::bench
