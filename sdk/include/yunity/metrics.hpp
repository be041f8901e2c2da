// Counters and gauges any plugin can add to; the admin plugin renders them in Prometheus text format.
#pragma once

#include <boost/config.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace yunity {

class BOOST_SYMBOL_VISIBLE Metrics {
public:
    virtual ~Metrics() = default;

    // A monotonically increasing counter. The same name and labels always give the same counter, which lives
    // as long as the core; keep the reference and increment it from any thread. `labels` is Prometheus label
    // syntax without braces, e.g. `reason="too slow"`.
    virtual std::atomic<std::uint64_t>& counter(std::string_view name, std::string_view help,
                                                std::string_view labels = {}) = 0;

    // A value read when metrics are rendered, on the core's executor. `owner` is the plugin's name: the core
    // drops an owner's gauges before it destroys that plugin.
    virtual void gauge(std::string_view owner, std::string_view name, std::string_view help, std::string_view labels,
                       std::function<double()> read) = 0;

    // Every counter and gauge in Prometheus text exposition format 0.0.4.
    virtual std::string render_prometheus() const = 0;

    // The sum of a counter's series over all their labels (e.g. every reason of a rejection counter); 0 while
    // the counter has none. Cheap: the admin plugin reads it every second for the dashboard's charts.
    virtual std::uint64_t counter_total(std::string_view name) const = 0;
};

}  // namespace yunity
