// The dashboard's time series: a bounded ring of samples, rates from counters, counter resets, its JSON.
#include "time_series.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <stdexcept>

using namespace yunity::admin;

namespace {

SeriesReading reading(std::int64_t second, std::uint64_t connections, std::uint64_t deliveries,
                      std::uint64_t notifications = 0, std::uint64_t rejected = 0) {
    return {1'700'000'000'000 + second * 1000, second * 1000, connections, deliveries, notifications, rejected};
}

}  // namespace

TEST_CASE("time series: rates per second from counter readings, and counter resets") {
    CHECK(TimeSeries::rate(10, 30, 2000) == doctest::Approx(10.0));
    CHECK(TimeSeries::rate(10, 10, 1000) == 0.0);
    CHECK(TimeSeries::rate(0, 1, 250) == doctest::Approx(4.0));
    // Lower than before: the counter started again from zero, and counted 5 since.
    CHECK(TimeSeries::rate(1000, 5, 1000) == doctest::Approx(5.0));
    CHECK(TimeSeries::rate(1000, 0, 1000) == 0.0);
    // No time passed (or the clock went back): no rate rather than an infinite one.
    CHECK(std::isnan(TimeSeries::rate(1, 2, 0)));
    CHECK(std::isnan(TimeSeries::rate(1, 2, -5)));

    TimeSeries series(10);
    series.add(reading(0, 3, 100, 10, 1));
    REQUIRE(series.size() == 1);
    CHECK(series.at(0).connections == 3);
    CHECK(std::isnan(series.at(0).deliveries));  // the first reading has none before it
    CHECK(std::isnan(series.at(0).notifications));
    CHECK(std::isnan(series.at(0).rejected));

    series.add(reading(1, 4, 160, 12, 1));
    CHECK(series.at(1).deliveries == doctest::Approx(60.0));
    CHECK(series.at(1).notifications == doctest::Approx(2.0));
    CHECK(series.at(1).rejected == 0.0);

    // A stalled loop: the next reading comes 4 s later; the rates are the averages over the gap.
    series.add(reading(5, 4, 560, 20, 9));
    CHECK(series.at(2).deliveries == doctest::Approx(100.0));
    CHECK(series.at(2).notifications == doctest::Approx(2.0));
    CHECK(series.at(2).rejected == doctest::Approx(2.0));

    // The counters reset (the process that counts them started again): counted from zero, never negative.
    series.add(reading(6, 1, 7, 1, 0));
    CHECK(series.at(3).deliveries == doctest::Approx(7.0));
    CHECK(series.at(3).notifications == doctest::Approx(1.0));
    CHECK(series.at(3).rejected == 0.0);
    series.add(reading(7, 1, 17, 1, 0));
    CHECK(series.at(4).deliveries == doctest::Approx(10.0));
    CHECK(series.at(4).time_ms == 1'700'000'007'000);
    CHECK_THROWS_AS(series.at(5), std::out_of_range);
}

TEST_CASE("time series: a ring of fixed size, the oldest sample making room") {
    TimeSeries series(4);
    CHECK(series.capacity() == 4);
    CHECK(series.size() == 0);
    for (std::int64_t s = 0; s < 11; ++s)
        series.add(reading(s, static_cast<std::uint64_t>(s), 10 * static_cast<std::uint64_t>(s)));
    CHECK(series.size() == 4);
    CHECK(series.capacity() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(series.at(i).connections == 7 + i);  // oldest first: 7, 8, 9, 10
        CHECK(series.at(i).deliveries == doctest::Approx(10.0));
    }
    // The default: 15 minutes of one sample a second, whatever the uptime.
    TimeSeries quarter;
    CHECK(quarter.capacity() == 900);
    for (std::int64_t s = 0; s < 2000; ++s) quarter.add(reading(s, 1, static_cast<std::uint64_t>(s)));
    CHECK(quarter.size() == 900);
    CHECK(quarter.at(0).time_ms == 1'700'000'000'000 + 1100 * 1000);
    CHECK(quarter.at(899).time_ms == 1'700'000'000'000 + 1999 * 1000);
    // A capacity of 0 would hold nothing: it keeps one.
    TimeSeries tiny(0);
    tiny.add(reading(0, 1, 0));
    tiny.add(reading(1, 2, 0));
    CHECK(tiny.size() == 1);
    CHECK(tiny.at(0).connections == 2);
}

TEST_CASE("time series: JSON, one array per chart, oldest first, null where there is no rate") {
    TimeSeries series(3, std::chrono::milliseconds(1000));
    for (std::int64_t s = 0; s < 5; ++s)
        series.add(reading(s, 2, 3 * static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(s), s == 4 ? 1 : 0));
    const auto json = series.json();
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    REQUIRE(doc.IsObject());
    CHECK(doc["interval_ms"].GetInt() == 1000);
    CHECK(doc["capacity"].GetInt() == 3);
    REQUIRE(doc["time"].Size() == 3);
    CHECK(doc["time"][0].GetInt64() == 1'700'000'002'000);
    CHECK(doc["connections"][2].GetInt() == 2);
    CHECK(doc["deliveries_per_second"][0].GetDouble() == doctest::Approx(3.0));
    CHECK(doc["notifications_per_second"][1].GetDouble() == doctest::Approx(1.0));
    CHECK(doc["rejected_per_second"][2].GetDouble() == doctest::Approx(1.0));

    TimeSeries fresh(3);
    fresh.add(reading(0, 1, 1));
    fresh.add({1'700'000'000'000, 0, 1, 7, 0, 0});  // the same instant on the steady clock: no rate
    CHECK(fresh.json() == R"({"interval_ms":1000,"capacity":3,"time":[1700000000000,1700000000000],)"
                          R"("connections":[1,1],"deliveries_per_second":[null,null],)"
                          R"("notifications_per_second":[null,null],"rejected_per_second":[null,null]})");
    // Rates are rounded to 3 decimals.
    TimeSeries third(2);
    third.add(reading(0, 0, 0));
    third.add({1'700'000'003'000, 3000, 0, 1, 0, 0});
    CHECK(third.json().find(R"("deliveries_per_second":[null,0.333])") != std::string::npos);
}
