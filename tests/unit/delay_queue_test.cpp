// The one-timer queue of the websocket open packets, on a real io_context and real timers.
#include "delay_queue.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using yunity::socketio::Delayed;
using yunity::socketio::DelayQueue;

namespace {

struct Marker : Delayed {
    Marker(std::vector<std::string>& log, std::string name) : log(log), name(std::move(name)) {}
    void due() override {
        log.push_back(name);
        at = std::chrono::steady_clock::now();
        if (then) then();
    }
    std::vector<std::string>& log;
    std::string name;
    std::chrono::steady_clock::time_point at;
    std::function<void()> then;
};

}  // namespace

TEST_CASE("delay queue: each is due its delay after it was added, in order; one gone by then is skipped") {
    boost::asio::io_context io;
    auto queue = std::make_shared<DelayQueue>(io.get_executor(), 30ms);
    std::vector<std::string> log;
    auto a = std::make_shared<Marker>(log, "a");
    auto b = std::make_shared<Marker>(log, "b");
    auto c = std::make_shared<Marker>(log, "c");
    const auto start = std::chrono::steady_clock::now();
    queue->add(a);
    queue->add(b);
    queue->add(c);
    b.reset();  // gone before it is due: the queue did not keep it
    // `a`, once due, adds another: it waits its own full delay, not the run it was added in.
    auto d = std::make_shared<Marker>(log, "d");
    a->then = [&] { queue->add(d); };
    io.run();
    CHECK(log == std::vector<std::string>{"a", "c", "d"});
    CHECK(a->at - start >= 30ms);
    CHECK(d->at - a->at >= 30ms);
    CHECK(queue->size() == 0);
}

TEST_CASE("delay queue: idle, then added to again, it arms again; a due() that adds with no delay does not spin") {
    boost::asio::io_context io;
    std::vector<std::string> log;
    auto queue = std::make_shared<DelayQueue>(io.get_executor(), 10ms);
    auto a = std::make_shared<Marker>(log, "a");
    queue->add(a);
    io.run();
    CHECK(log == std::vector<std::string>{"a"});
    io.restart();
    auto b = std::make_shared<Marker>(log, "b");
    queue->add(b);  // the queue was empty and its timer idle
    io.run();
    CHECK(log == std::vector<std::string>{"a", "b"});

    // With no delay, each due() adds the next: every one is due at once, yet each waits for the next run.
    auto none = std::make_shared<DelayQueue>(io.get_executor(), 0ms);
    auto c = std::make_shared<Marker>(log, "c");
    int runs = 0;
    c->then = [&] {
        if (++runs < 5) none->add(c);
    };
    none->add(c);
    io.restart();
    io.run_one();  // one firing of the timer: one due(), the one added meanwhile left for the next
    CHECK(runs == 1);
    io.run();
    CHECK(runs == 5);
    CHECK(none->size() == 0);
}
