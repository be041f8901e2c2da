// Connection state recovery in the core: the history, the in-memory records, and the Resume flow through the
// real bus, registry and router (a session resolver is played by the test, publishing SessionResolved).
#include "recovery.hpp"
#include "event_bus.hpp"
#include "memory_recovery_records.hpp"
#include "metrics_registry.hpp"
#include "notification_history.hpp"
#include "registry.hpp"
#include "router.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/null_sink.h>

#include <thread>

using namespace yunity;

namespace {

events::Notification note(std::vector<std::string> users, std::string offset, std::string data = "{}") {
    return {std::move(users), std::make_shared<const std::string>(std::move(data)), std::move(offset)};
}

std::vector<std::string> offsets_after(const core::NotificationHistory& h, std::string_view offset,
                                       std::string_view user, bool* found = nullptr) {
    std::vector<std::string> out;
    const bool ok = h.for_user_after(offset, user, [&](const auto& e) { out.push_back(e.offset); });
    if (found) *found = ok;
    return out;
}

}  // namespace

TEST_CASE("history: what follows an offset, for one user, oldest first; unknown offsets are gaps") {
    core::NotificationHistory h(3);
    CHECK(h.newest_offset().empty());
    h.add(note({"a"}, "1-1"));
    h.add(note({"b"}, "1-2"));
    h.add(note({"a", "b"}, "1-3"));
    h.add(note({"a"}, ""));  // no offset: nobody can ask for it
    CHECK(h.size() == 3);
    CHECK(h.newest_offset() == "1-3");
    CHECK(offsets_after(h, "1-1", "a") == std::vector<std::string>{"1-3"});
    CHECK(offsets_after(h, "1-1", "b") == std::vector<std::string>{"1-2", "1-3"});
    CHECK(offsets_after(h, "1-3", "a").empty());
    CHECK(offsets_after(h, "", "a") == std::vector<std::string>{"1-1", "1-3"});  // nothing dropped yet
    bool found = true;
    CHECK(offsets_after(h, "9-9", "a", &found).empty());
    CHECK_FALSE(found);

    h.add(note({"a"}, "1-4"));  // drops 1-1
    CHECK(h.dropped_any());
    offsets_after(h, "1-1", "a", &found);
    CHECK_FALSE(found);  // dropped: a gap, not "nothing missed"
    offsets_after(h, "", "a", &found);
    CHECK_FALSE(found);
    CHECK(offsets_after(h, "1-2", "a") == std::vector<std::string>{"1-3", "1-4"});

    core::NotificationHistory none(0);
    none.add(note({"a"}, "1-1"));
    CHECK(none.size() == 0);
}

TEST_CASE("memory records: taken once, gone after their time, bounded") {
    core::MemoryRecoveryRecords records(4);
    std::optional<std::string> got;
    auto take = [&](const std::string& pid) {
        got.reset();
        bool called = false;
        records.take(pid, [&](std::optional<std::string> r, std::string error) {
            CHECK(error.empty());
            got = std::move(r);
            called = true;
        });
        CHECK(called);
        return got;
    };
    records.save("p1", "x", std::chrono::milliseconds(60000));
    CHECK(take("p1") == std::optional<std::string>("x"));
    CHECK_FALSE(take("p1").has_value());
    CHECK_FALSE(take("never").has_value());

    records.save("p2", "y", std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK_FALSE(take("p2").has_value());

    for (int i = 0; i < 2000; ++i) records.save("q" + std::to_string(i), "z", std::chrono::milliseconds(60000));
    CHECK(records.size() <= 1024 + 4);  // swept when it grew past the sweep mark, kept under the limit there
}

namespace {

// The core's pieces wired as the server wires them, with a test in the resolver's place.
struct Core {
    boost::asio::io_context io;
    std::shared_ptr<spdlog::logger> logger =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_st>());
    core::EventBus bus{io, logger};
    core::Registry registry;
    core::MetricsRegistry metrics;
    static CoreSettings with_window(std::chrono::milliseconds window) {
        CoreSettings s;
        s.recovery_window = window;
        return s;
    }
    CoreSettings settings;
    core::Recovery recovery{bus, registry, metrics, logger, settings, {}};
    core::Router router{bus, registry, recovery, metrics, logger};
    std::vector<std::string> seen;  // Resumed and Deliver, in bus order, as "resumed ok pid 2" / "deliver 7 1-3"
    std::vector<std::string> authenticates;

    explicit Core(std::chrono::milliseconds window = std::chrono::milliseconds(120000))
        : settings(with_window(window)) {
        router.subscribe();
        bus.subscribe<events::Resumed>("test", [this](const events::Resumed& r) {
            seen.push_back("resumed #" + std::to_string(r.connection) + (r.recovered ? " ok " : " no ") + r.pid + " " +
                           (r.recovered ? std::to_string(r.replayed) : r.reason));
        });
        bus.subscribe<events::Deliver>("test", [this](const events::Deliver& d) {
            for (auto c : d.connections) seen.push_back("deliver #" + std::to_string(c) + " " + d.offset);
        });
        bus.subscribe<events::Authenticate>(
            "test", [this](const events::Authenticate& a) { authenticates.push_back(a.session_id); });
    }
    void run() {
        io.restart();
        io.poll();
    }
    void open(ConnectionId id, std::string pid) {
        events::ConnectionOpened e;
        e.connection = id;
        e.public_id = "c" + std::to_string(id);
        e.pid = std::move(pid);
        bus.publish(std::move(e));
        run();
    }
};

}  // namespace

TEST_CASE("recovery: a pid's session comes back re-resolved; the missed notifications come after Resumed, once") {
    Core c;
    c.open(1, "P");
    c.bus.publish(events::Authenticate{1, "s"});
    c.bus.publish(events::SessionResolved{"s", std::string("u")});
    c.bus.publish(note({"u"}, "1-1"));
    c.run();
    CHECK(c.seen == std::vector<std::string>{"deliver #1 1-1"});
    c.bus.publish(events::ConnectionClosed{1, CloseReason::transport_error});
    c.bus.publish(note({"u"}, "1-2"));
    c.bus.publish(note({"other"}, "1-3"));
    c.bus.publish(note({"u", "other"}, "1-4"));
    c.run();

    c.seen.clear();
    c.open(2, "fresh");
    c.bus.publish(events::Resume{2, "P", "1-1"});
    c.run();
    // The record named the session: looked up as any authenticate. Nobody holds it now, so the core waits.
    CHECK(c.authenticates.back() == "s");
    CHECK(c.seen.empty());
    c.bus.publish(events::SessionResolved{"s", std::string("u")});
    c.bus.publish(note({"u"}, "1-5"));  // live, after the replay
    c.run();
    CHECK(c.seen ==
          std::vector<std::string>{"resumed #2 ok P 2", "deliver #2 1-2", "deliver #2 1-4", "deliver #2 1-5"});

    // The pid is the client's again: the next drop writes it again, and it recovers again.
    c.bus.publish(events::ConnectionClosed{2, CloseReason::ping_timeout});
    c.bus.publish(note({"u"}, "1-6"));
    c.run();
    c.seen.clear();
    c.open(3, "fresh3");
    c.bus.publish(events::Resume{3, "P", "1-5"});
    c.run();
    c.bus.publish(events::SessionResolved{"s", std::string("u")});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #3 ok P 1", "deliver #3 1-6"});

    // A client that got nothing since it was given its pid sends no offset: it gets what came after that moment.
    c.open(4, "Q");
    c.bus.publish(events::Authenticate{4, "s"});
    c.bus.publish(events::ConnectionClosed{4, CloseReason::transport_error});
    c.bus.publish(note({"u"}, "1-7"));
    c.run();
    c.seen.clear();
    c.open(5, "fresh5");
    c.bus.publish(events::Resume{5, "Q", ""});
    c.run();  // connection 3 holds the session, its user known: no lookup to wait for
    CHECK(c.seen == std::vector<std::string>{"resumed #5 ok Q 1", "deliver #5 1-7"});
}

TEST_CASE("recovery: unknown pid, logged out, unknown offset, no session: answered, with a fresh pid") {
    Core c;
    c.open(1, "fresh1");
    c.bus.publish(events::Resume{1, "nope", "1-1"});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #1 no fresh1 unknown pid"});

    c.seen.clear();
    c.open(2, "P2");
    c.bus.publish(events::Authenticate{2, "s2"});
    c.bus.publish(events::SessionResolved{"s2", std::string("u2")});
    c.bus.publish(events::ConnectionClosed{2, CloseReason::transport_error});
    c.run();
    c.open(3, "fresh3");
    c.bus.publish(events::Resume{3, "P2", ""});
    c.run();
    c.bus.publish(events::SessionResolved{"s2", std::nullopt});  // logged out meanwhile
    c.bus.publish(note({"u2"}, "1-1"));
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #3 no fresh3 logged out"});

    c.seen.clear();
    c.open(4, "");  // an explicit resume (protocol 4): the session from the Authenticate just before
    c.bus.publish(events::Authenticate{4, "s4"});
    c.bus.publish(events::Resume{4, "", "7-7"});
    c.bus.publish(events::SessionResolved{"s4", std::string("u4")});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #4 no  offset unknown"});
    c.bus.publish(note({"u4"}, "1-2"));  // the session stays: live from now on
    c.run();
    CHECK(c.seen.back() == "deliver #4 1-2");

    c.seen.clear();
    c.open(5, "");
    c.bus.publish(events::Resume{5, "", "1-1"});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #5 no  no session"});
}

TEST_CASE("recovery: off with a zero window; the records of live connections saved at shutdown") {
    Core off(std::chrono::milliseconds(0));
    CHECK_FALSE(off.recovery.enabled());
    off.open(1, "");
    off.bus.publish(events::Authenticate{1, "s"});
    off.bus.publish(events::Resume{1, "", "1-1"});
    off.run();
    CHECK(off.seen == std::vector<std::string>{"resumed #1 no  recovery off"});

    Core c;
    c.open(1, "P");
    c.bus.publish(events::Authenticate{1, "s"});
    c.bus.publish(events::SessionResolved{"s", std::string("u")});
    c.run();
    c.recovery.save_all();
    c.bus.publish(events::ConnectionClosed{1, CloseReason::server_shutdown});
    c.run();
    c.open(2, "fresh");
    c.bus.publish(events::Resume{2, "P", ""});
    c.run();
    c.bus.publish(events::SessionResolved{"s", std::string("u")});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #2 ok P 0"});
}
