// The sessions' heartbeat deadlines on one timer: called in deadline order whatever the order added, a sooner
// deadline moves the timer, entries added while running are kept, stop() drops everything.
#include "heartbeats.hpp"

#include <doctest/doctest.h>

#include <vector>

using yunity::ConnectionId;
using yunity::socketio::Heartbeats;
using namespace std::chrono_literals;

TEST_SUITE("heartbeats") {
    TEST_CASE("entries come due in deadline order, each with the deadline it was added with, none early") {
        boost::asio::io_context io;
        std::vector<std::pair<ConnectionId, Heartbeats::Clock::time_point>> calls;
        std::vector<Heartbeats::Clock::time_point> called_at;
        Heartbeats beats(io, [&](ConnectionId id, Heartbeats::Clock::time_point deadline) {
            calls.emplace_back(id, deadline);
            called_at.push_back(Heartbeats::Clock::now());
        });
        const auto t0 = Heartbeats::Clock::now();
        beats.add(1, t0 + 60ms);
        beats.add(2, t0 + 20ms);  // sooner than the timer's wait: moves it
        beats.add(3, t0 + 40ms);
        beats.add(4, t0 + 20ms);
        CHECK(beats.size() == 4);
        io.run();
        REQUIRE(calls.size() == 4);
        CHECK(calls[0].second == t0 + 20ms);
        CHECK(calls[1].second == t0 + 20ms);
        CHECK(calls[2] == std::pair<ConnectionId, Heartbeats::Clock::time_point>{3, t0 + 40ms});
        CHECK(calls[3] == std::pair<ConnectionId, Heartbeats::Clock::time_point>{1, t0 + 60ms});
        for (std::size_t i = 0; i < calls.size(); ++i) CHECK(called_at[i] >= calls[i].second);
        CHECK(beats.size() == 0);
    }

    TEST_CASE("an entry added by the callee runs in its turn; stop() drops the rest and lets the loop end") {
        boost::asio::io_context io;
        std::vector<ConnectionId> calls;
        Heartbeats* self = nullptr;
        Heartbeats beats(io, [&](ConnectionId id, Heartbeats::Clock::time_point) {
            calls.push_back(id);
            if (id == 1) self->add(5, Heartbeats::Clock::now() + 10ms);  // a session re-arming on its due entry
            if (id == 5) self->stop();
        });
        self = &beats;
        const auto t0 = Heartbeats::Clock::now();
        beats.add(1, t0 + 5ms);
        beats.add(2, t0 + 10s);  // would hold the loop for 10 s without stop()
        io.run();
        CHECK(calls == std::vector<ConnectionId>{1, 5});
        CHECK(Heartbeats::Clock::now() - t0 < 5s);
        CHECK(beats.size() == 0);
    }

}  // TEST_SUITE
