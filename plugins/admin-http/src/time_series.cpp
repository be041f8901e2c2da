#include "time_series.hpp"

#include "json_out.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace yunity::admin {

TimeSeries::TimeSeries(std::size_t capacity, std::chrono::milliseconds interval)
    : ring_(capacity == 0 ? 1 : capacity), interval_(interval) {}

double TimeSeries::rate(std::uint64_t before, std::uint64_t now, std::int64_t elapsed_ms) {
    if (elapsed_ms <= 0) return std::numeric_limits<double>::quiet_NaN();
    const std::uint64_t counted = now >= before ? now - before : now;
    return static_cast<double>(counted) * 1000.0 / static_cast<double>(elapsed_ms);
}

void TimeSeries::add(const SeriesReading& r) {
    SeriesSample s;
    s.time_ms = r.time_ms;
    s.connections = r.connections;
    if (have_last_) {
        const auto elapsed = r.monotonic_ms - last_.monotonic_ms;
        s.deliveries = rate(last_.deliveries, r.deliveries, elapsed);
        s.notifications = rate(last_.notifications, r.notifications, elapsed);
        s.rejected = rate(last_.rejected, r.rejected, elapsed);
    } else {
        s.deliveries = s.notifications = s.rejected = std::numeric_limits<double>::quiet_NaN();
    }
    last_ = r;
    have_last_ = true;
    ring_[next_] = s;
    next_ = (next_ + 1) % ring_.size();
    if (size_ < ring_.size()) ++size_;
}

const SeriesSample& TimeSeries::at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("time series: no such sample");
    return ring_[(next_ + ring_.size() - size_ + i) % ring_.size()];
}

std::string TimeSeries::json() const {
    std::string out;
    out.reserve(64 + size_ * 40);
    StringOut os{out};
    JsonWriter w(os);
    w.SetMaxDecimalPlaces(3);
    w.StartObject();
    w.Key("interval_ms");
    w.Int64(interval_.count());
    w.Key("capacity");
    w.Uint64(ring_.size());
    w.Key("time");
    w.StartArray();
    for (std::size_t i = 0; i < size_; ++i) w.Int64(at(i).time_ms);
    w.EndArray();
    w.Key("connections");
    w.StartArray();
    for (std::size_t i = 0; i < size_; ++i) w.Uint64(at(i).connections);
    w.EndArray();
    const auto rates = [&](const char* key, double SeriesSample::*member) {
        w.Key(key);
        w.StartArray();
        for (std::size_t i = 0; i < size_; ++i) {
            const double v = at(i).*member;
            if (std::isfinite(v)) w.Double(v);
            else w.Null();
        }
        w.EndArray();
    };
    rates("deliveries_per_second", &SeriesSample::deliveries);
    rates("notifications_per_second", &SeriesSample::notifications);
    rates("rejected_per_second", &SeriesSample::rejected);
    w.EndObject();
    return out;
}

}  // namespace yunity::admin
