// The core's metrics registry: counter_total, which the admin plugin's charts read every second.
#include "metrics_registry.hpp"

#include <doctest/doctest.h>

using namespace yunity;

TEST_CASE("metrics: counter_total sums a counter's series over their labels, 0 for an unknown one") {
    core::MetricsRegistry metrics;
    CHECK(metrics.counter_total("rejected_total") == 0);
    metrics.counter("rejected_total", "help", R"(reason="not JSON")") += 3;
    metrics.counter("rejected_total", "help", R"(reason="no users")") += 4;
    metrics.counter("other_total", "help") += 100;
    CHECK(metrics.counter_total("rejected_total") == 7);
    CHECK(metrics.counter_total("other_total") == 100);
    // A gauge is no counter: it has no total.
    metrics.gauge("test", "some_gauge", "help", "", [] { return 5.0; });
    CHECK(metrics.counter_total("some_gauge") == 0);
    CHECK(metrics.counter_total("rejected") == 0);
}
