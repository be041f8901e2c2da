// The dashboard's charts: the last minutes of a few numbers of this instance, one sample a second, kept in
// memory by the admin plugin (no external service). Pure, like the report: the plugin's timer feeds it readings.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace yunity::admin {

// What the plugin reads each second: the connection gauge and the running totals of three counters.
struct SeriesReading {
    std::int64_t time_ms = 0;       // wall clock (milliseconds since the epoch): the charts' time axis
    std::int64_t monotonic_ms = 0;  // steady clock: what the rates divide by
    std::uint64_t connections = 0;
    std::uint64_t deliveries = 0;     // yunity_deliveries_routed_total
    std::uint64_t notifications = 0;  // yunity_notifications_routed_total
    std::uint64_t rejected = 0;       // the sources' rejection counters, every reason
};

// One point of each chart. The rates are per second since the reading before; NaN for the first reading
// (there is none before it) and when no time passed on the steady clock.
struct SeriesSample {
    std::int64_t time_ms = 0;
    std::uint64_t connections = 0;
    double deliveries = 0;
    double notifications = 0;
    double rejected = 0;
};

// A ring of the last `capacity` samples: memory is fixed at construction, the oldest sample makes room.
class TimeSeries {
public:
    static constexpr std::size_t default_capacity = 900;  // 15 minutes at one sample a second
    static constexpr std::chrono::milliseconds default_interval{1000};

    // `interval`: how often the plugin samples; only reported (the page's time axis spans capacity x interval).
    explicit TimeSeries(std::size_t capacity = default_capacity, std::chrono::milliseconds interval = default_interval);

    // Turns a reading into a sample: counters become rates over the time since the previous reading; a
    // counter lower than before was reset (its process restarted, or it wrapped): its rate counts from zero.
    void add(const SeriesReading& reading);

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return ring_.size(); }
    // The i-th sample kept, 0 being the oldest.
    const SeriesSample& at(std::size_t i) const;

    // {"interval_ms":N,"capacity":N,"time":[ms...],"connections":[...],"deliveries_per_second":[...],
    //  "notifications_per_second":[...],"rejected_per_second":[...]}: one array per chart, oldest first, rates
    // rounded to 3 decimals, null where there is no rate.
    std::string json() const;

    // Per second from two readings of a counter `elapsed_ms` apart; NaN when elapsed_ms <= 0. A reading below
    // the one before means the counter started again from zero.
    static double rate(std::uint64_t before, std::uint64_t now, std::int64_t elapsed_ms);

private:
    std::vector<SeriesSample> ring_;
    std::size_t next_ = 0;  // where the next sample goes
    std::size_t size_ = 0;
    std::chrono::milliseconds interval_;
    bool have_last_ = false;
    SeriesReading last_;
};

}  // namespace yunity::admin
