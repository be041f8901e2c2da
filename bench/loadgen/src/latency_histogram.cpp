#include "latency_histogram.hpp"

#include <charconv>
#include <cmath>

namespace yunity::bench {

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    if (other.max_ > max_) max_ = other.max_;
}

void LatencyHistogram::clear() { *this = LatencyHistogram{}; }

std::uint64_t LatencyHistogram::lower_bound(std::size_t i) {
    if (i < (1U << sub_bits)) return i;
    const int e = static_cast<int>(i >> sub_bits) + sub_bits - 1;
    const auto mantissa = i & ((1U << sub_bits) - 1);
    return ((1ULL << sub_bits) + mantissa) << (e - sub_bits);
}

std::uint64_t LatencyHistogram::midpoint(std::size_t i) {
    if (i + 1 >= bucket_count) return lower_bound(i);
    return lower_bound(i) + (lower_bound(i + 1) - lower_bound(i)) / 2;
}

std::uint64_t LatencyHistogram::percentile(double fraction) const {
    if (count_ == 0) return 0;
    if (fraction >= 1.0) return max_;
    const auto rank = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank && seen > 0) return std::min(midpoint(i), max_);
    }
    return max_;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> LatencyHistogram::buckets() const {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    for (std::size_t i = 0; i < bucket_count; ++i)
        if (counts_[i] != 0) out.emplace_back(midpoint(i), counts_[i]);
    return out;
}

std::string LatencyHistogram::serialize() const {
    std::string out = std::to_string(max_) + " " + std::to_string(count_);
    for (std::size_t i = 0; i < bucket_count; ++i)
        if (counts_[i] != 0) out += " " + std::to_string(i) + ":" + std::to_string(counts_[i]);
    return out;
}

LatencyHistogram LatencyHistogram::parse(std::string_view text) {
    LatencyHistogram h;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    const auto number = [&](std::uint64_t& v) {
        while (p < end && (*p == ' ' || *p == ':')) ++p;
        const auto r = std::from_chars(p, end, v);
        p = r.ptr;
        return r.ec == std::errc{};
    };
    if (!number(h.max_) || !number(h.count_)) return LatencyHistogram{};
    std::uint64_t i = 0, c = 0;
    while (p < end && number(i) && number(c))
        if (i < bucket_count) h.counts_[i] = c;
    return h;
}

}  // namespace yunity::bench
