#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "canary.hpp"

using namespace std::chrono_literals;
using yunity::redis::Canary;
using yunity::redis::CanaryOptions;

namespace {

// A canary whose probes go nowhere unless the test answers them, on a real io_context and real timers.
struct Probed {
    boost::asio::io_context io;
    std::vector<std::string> sent;
    std::vector<std::string> failures;
    int oks = 0;
    Canary canary{io, CanaryOptions{100ms, 300ms},
                  [this](const std::string& token) {
                      sent.push_back(token);
                      return true;
                  },
                  [this](const std::string& why) { failures.push_back(why); }, [this](bool) { ++oks; }};
};

// Calls `fn` every `every` until `until` has passed, on the test's io_context.
void every(boost::asio::io_context& io, std::chrono::milliseconds period, std::chrono::milliseconds until,
           std::function<void()> fn) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io);
    const auto end = std::chrono::steady_clock::now() + until;
    // The pending wait owns the step; the step only observes itself, so the chain is freed when it ends (or with
    // the io_context) instead of keeping itself alive.
    auto step = std::make_shared<std::function<void()>>();
    *step = [timer, end, period, fn, weak = std::weak_ptr(step)] {
        if (std::chrono::steady_clock::now() >= end) return;
        fn();
        timer->expires_after(period);
        timer->async_wait([self = weak.lock()](const boost::system::error_code& ec) {
            if (!ec && self) (*self)();
        });
    };
    (*step)();
}

}  // namespace

TEST_CASE("canary: a probe that comes back makes it ok; one that does not is a failure") {
    Probed p;
    p.canary.start();
    p.io.run_for(50ms);
    REQUIRE(p.sent.size() == 1);
    CHECK_FALSE(p.canary.ok());
    CHECK(p.canary.arrived(p.sent.back()));
    CHECK(p.canary.ok());
    CHECK(p.oks == 1);
    CHECK(p.canary.round_trip().has_value());
    // The next probe is never answered: after the timeout it has failed, once, and the canary is not ok.
    p.io.restart();
    p.io.run_for(250ms);
    REQUIRE(p.sent.size() == 2);
    p.io.restart();
    p.io.run_for(300ms);
    CHECK(p.failures.size() == 1);
    CHECK_FALSE(p.canary.ok());
    CHECK(p.canary.failures() == 1);
    p.canary.stop();
}

TEST_CASE("canary: a probe behind data that keeps coming is waited for, not failed") {
    Probed p;
    p.canary.start();
    // Data comes through the subscription every 50 ms for 1.5 s (five timeouts) while the probe is stuck behind it.
    every(p.io, 50ms, 1500ms, [&] { p.canary.progress(); });
    p.io.run_for(1500ms);
    REQUIRE(p.sent.size() == 1);
    CHECK(p.failures.empty());
    // The backlog read, the probe arrives: ok, with its whole round trip.
    CHECK(p.canary.arrived(p.sent.back()));
    CHECK(p.canary.ok());
    CHECK(*p.canary.round_trip() >= 1400ms);
    // Silence from now: the next probe fails after the timeout (about 500 ms from here; on a loaded machine the
    // timers run late, so the test waits for the failure rather than a fixed time, and then checks it came once).
    const auto silence = std::chrono::steady_clock::now();
    while (p.failures.empty() && std::chrono::steady_clock::now() - silence < 5s) {
        p.io.restart();
        p.io.run_for(50ms);
    }
    CHECK(p.failures.size() == 1);
    CHECK(std::chrono::steady_clock::now() - silence >= 300ms);
    p.canary.stop();
}

TEST_CASE("canary: data that stops leaves the probe in flight the timeout from the last message") {
    Probed p;
    p.canary.start();
    every(p.io, 50ms, 600ms, [&] { p.canary.progress(); });
    p.io.run_for(750ms);  // data until 600 ms, silence since: not yet 300 ms of it (the tick is 100 ms)
    CHECK(p.failures.empty());
    p.io.restart();
    p.io.run_for(300ms);
    CHECK(p.failures.size() == 1);
    CHECK(p.sent.size() >= 1);
    p.canary.stop();
}

TEST_CASE("canary: tokens of other processes and stale ones are probes, not data, and change nothing") {
    Probed p;
    p.canary.start();
    p.io.run_for(50ms);
    CHECK(Canary::is_probe("yunity-canary:0123:7"));
    CHECK_FALSE(Canary::is_probe("{\"users\":[1]}"));
    CHECK(p.canary.arrived("yunity-canary:someone-else:1"));
    CHECK_FALSE(p.canary.ok());
    CHECK_FALSE(p.canary.arrived("not a probe"));
    p.canary.stop();
}
