#include "latency_histogram.hpp"

#include <doctest/doctest.h>

#include <cmath>

using yunity::bench::LatencyHistogram;

TEST_CASE("percentiles are within the buckets' precision") {
    LatencyHistogram h;
    for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 us .. 100 ms, uniform
    CHECK(h.count() == 100'000);
    CHECK(h.max() == 100'000'000);
    const auto near = [](std::uint64_t got, double want) { return std::abs(static_cast<double>(got) - want) <= want * 0.016; };
    CHECK(near(h.percentile(0.5), 50e6));
    CHECK(near(h.percentile(0.99), 99e6));
    CHECK(near(h.percentile(0.999), 99.9e6));
    CHECK(h.percentile(1.0) == 100'000'000);
}

TEST_CASE("buckets grow monotonically and small values are exact") {
    for (std::uint64_t v = 0; v < 64; ++v) CHECK(LatencyHistogram::index(v) == v);
    std::size_t last = 0;
    for (std::uint64_t v = 1; v < (1ULL << 40); v = v * 3 / 2 + 1) {
        const auto i = LatencyHistogram::index(v);
        CHECK(i >= last);
        CHECK(LatencyHistogram::lower_bound(i) <= v);
        CHECK(i < LatencyHistogram::bucket_count);
        last = i;
    }
}

TEST_CASE("a histogram survives the trip between processes and merges") {
    LatencyHistogram a, b;
    for (std::uint64_t v : {5ULL, 700ULL, 123'456ULL, 9'000'000ULL}) a.record(v);
    b.record(42);
    const auto copy = LatencyHistogram::parse(a.serialize());
    CHECK(copy.count() == 4);
    CHECK(copy.max() == 9'000'000);
    CHECK(copy.serialize() == a.serialize());
    b.merge(copy);
    CHECK(b.count() == 5);
    CHECK(b.max() == 9'000'000);
    CHECK(b.percentile(0.2) == 5);  // values under 64 ns have buckets of their own
    CHECK(b.percentile(0.4) == 42);
    CHECK(LatencyHistogram::parse("garbage").count() == 0);
}
