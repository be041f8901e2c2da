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

#include <algorithm>
#include <map>
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

TEST_CASE("history: offsets found through the index across drops and repeats; users of big notifications") {
    core::NotificationHistory h(50);
    // Hundreds of users, in no order, the one asked for among them.
    std::vector<std::string> many;
    for (int i = 999; i >= 500; --i) many.push_back("user" + std::to_string(i));
    for (int n = 1; n <= 120; ++n) {
        auto users = n % 3 == 0 ? many : std::vector<std::string>{"x", "user7" + std::to_string(n % 10)};
        h.add(note(std::move(users), "r-" + std::to_string(n)));
    }
    CHECK(h.size() == 50);  // r-71 .. r-120
    bool found = true;
    offsets_after(h, "r-70", "user750", &found);
    CHECK_FALSE(found);  // dropped
    CHECK(offsets_after(h, "r-110", "user750") == std::vector<std::string>{"r-111", "r-114", "r-117", "r-120"});
    CHECK(offsets_after(h, "r-71", "user75") == std::vector<std::string>{"r-85", "r-95", "r-115"});
    CHECK(offsets_after(h, "r-120", "user750").empty());
    CHECK(offsets_after(h, "r-119", "user501") == std::vector<std::string>{"r-120"});

    // A source that repeats an offset: the newest entry with it counts, and dropping the older keeps the newer.
    core::NotificationHistory r(3);
    r.add(note({"a"}, "o-1"));
    r.add(note({"a"}, "o-2"));
    r.add(note({"a"}, "o-1"));
    CHECK(offsets_after(r, "o-1", "a").empty());
    r.add(note({"a"}, "o-3"));  // drops the first o-1
    CHECK(offsets_after(r, "o-1", "a") == std::vector<std::string>{"o-3"});
    CHECK(offsets_after(r, "o-2", "a") == std::vector<std::string>{"o-1", "o-3"});
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
    std::map<std::string, void*, std::less<>> services;  // what plugins would provide
    core::Recovery recovery{bus, registry, metrics, logger, settings, [this](std::string_view name) -> void* {
                                auto it = services.find(name);
                                return it == services.end() ? nullptr : it->second;
                            }};
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
        bus.subscribe<events::AwaitDrain>(
            "test", [this](const events::AwaitDrain& a) { seen.push_back("await #" + std::to_string(a.connection)); });
        bus.subscribe<events::Authenticate>(
            "test", [this](const events::Authenticate& a) { authenticates.push_back(a.session_id); });
    }
    void run() {
        io.restart();
        io.poll();
    }
    // A connection without a pid (an explicit resume's) holding `session`, which is `user`'s.
    void join(ConnectionId id, const std::string& session, const std::string& user) {
        open(id, "");
        login(id, session, user);
    }
    // Connection `id` authenticates with `session`, which the resolver finds to be `user`'s.
    void login(ConnectionId id, const std::string& session, const std::string& user) {
        bus.publish(events::Authenticate{id, session});
        bus.publish(events::SessionResolved{session, user});
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
    c.login(1, "s", "u");
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

TEST_CASE("recovery: a pid still held by a live connection is taken over: closed, its session and missed ones here") {
    Core c;
    std::vector<std::string> closes;
    c.bus.subscribe<events::CloseConnection>("test", [&](const events::CloseConnection& e) {
        closes.push_back("#" + std::to_string(e.connection) + " " + to_string(e.reason));
        // As the transport does: the connection goes, reporting how.
        c.bus.publish(events::ConnectionClosed{e.connection, e.reason});
    });
    c.open(1, "P");
    c.login(1, "s", "u");
    c.bus.publish(note({"u"}, "1-1"));
    c.run();
    // The client is gone, but the server has not seen it: connection 1 is still here and gets these.
    c.bus.publish(note({"u"}, "1-2"));
    c.bus.publish(note({"u"}, "1-3"));
    c.run();
    CHECK(c.seen == std::vector<std::string>{"deliver #1 1-1", "deliver #1 1-2", "deliver #1 1-3"});

    c.seen.clear();
    c.open(2, "fresh");
    c.bus.publish(events::Resume{2, "P", "1-1"});
    c.run();
    CHECK(closes == std::vector<std::string>{"#1 taken over"});
    CHECK(c.authenticates.back() == "s");
    CHECK(c.registry.find(1) == nullptr);
    // Connection 1 held the session and its answer: no lookup to wait for.
    CHECK(c.seen == std::vector<std::string>{"resumed #2 ok P 2", "deliver #2 1-2", "deliver #2 1-3"});
    c.bus.publish(note({"u"}, "1-4"));
    c.run();
    CHECK(c.seen.back() == "deliver #2 1-4");

    // The closed one wrote no record: its pid is connection 2's now, and a later claim takes over 2 in turn.
    c.seen.clear();
    c.open(3, "fresh3");
    c.bus.publish(events::Resume{3, "P", "1-4"});
    c.run();
    CHECK(closes.back() == "#2 taken over");
    CHECK(c.seen == std::vector<std::string>{"resumed #3 ok P 0"});

    // A drop the server saw writes the record as before; nobody holds the pid then.
    c.bus.publish(events::ConnectionClosed{3, CloseReason::transport_error});
    c.bus.publish(note({"u"}, "1-5"));
    c.run();
    c.seen.clear();
    c.open(4, "fresh4");
    c.bus.publish(events::Resume{4, "P", "1-4"});
    c.run();
    CHECK(closes.size() == 2);
    c.bus.publish(events::SessionResolved{"s", std::string("u")});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #4 ok P 1", "deliver #4 1-5"});

    // A connection that never authenticated has nothing to give back: closed all the same, the claim not recovered.
    c.open(5, "N");
    c.seen.clear();
    c.open(6, "fresh6");
    c.bus.publish(events::Resume{6, "N", ""});
    c.run();
    CHECK(closes.back() == "#5 taken over");
    CHECK(c.seen == std::vector<std::string>{"resumed #6 no fresh6 unknown pid"});

    // Presenting the pid one holds itself (a namespace connected again) takes nothing over, and asks no store.
    c.open(7, "S");
    c.seen.clear();
    c.bus.publish(events::Resume{7, "S", ""});
    c.run();
    CHECK(closes.size() == 3);
    CHECK(c.seen == std::vector<std::string>{"resumed #7 no S unknown pid"});
}

namespace {

// A shared store as redis-session is one: what the core saved, and the core's answer to another instance's claim.
struct SharedRecords : RecoveryRecords {
    std::map<std::string, std::string> saved;
    Release release;
    void save(const std::string& pid, std::string record, std::chrono::milliseconds) override { saved[pid] = record; }
    void take(const std::string& pid, Taken done) override {
        auto it = saved.find(pid);
        if (it == saved.end()) return done(std::nullopt, {});
        auto record = std::move(it->second);
        saved.erase(it);
        done(std::move(record), {});
    }
    void on_claim(Release r) override { release = std::move(r); }
};

}  // namespace

TEST_CASE("recovery: a claim made on another instance closes the connection holding the pid and saves its record") {
    Core c;
    SharedRecords shared;
    c.services[std::string(RecoveryRecords::service_name)] = &shared;
    c.recovery.plugins_started();
    REQUIRE(shared.release);
    std::vector<ConnectionId> closed;
    c.bus.subscribe<events::CloseConnection>("test", [&](const events::CloseConnection& e) {
        closed.push_back(e.connection);
        c.bus.publish(events::ConnectionClosed{e.connection, e.reason});
    });
    c.open(1, "P");
    c.login(1, "s", "u");
    c.bus.publish(note({"u"}, "1-1"));
    c.run();

    CHECK_FALSE(shared.release("nobody's"));
    CHECK(shared.release("P"));
    // Written before the answer, so the claimant reads it next: the session, and where the client's knowledge began
    // (nothing was routed when it was given the pid; the claimant's own offset says how far it got).
    CHECK(shared.saved.at("P") == "\ns");
    c.run();
    CHECK(closed == std::vector<ConnectionId>{1});
    CHECK(c.registry.find(1) == nullptr);
    CHECK(shared.saved.size() == 1);   // the close wrote nothing more
    CHECK_FALSE(shared.release("P"));  // let go once
}

TEST_CASE("recovery: unknown pid, logged out, unknown offset, no session: answered, with a fresh pid") {
    Core c;
    c.open(1, "fresh1");
    c.bus.publish(events::Resume{1, "nope", "1-1"});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #1 no fresh1 unknown pid"});

    c.seen.clear();
    c.open(2, "P2");
    c.login(2, "s2", "u2");
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

TEST_CASE("recovery: one resume per connection; a second is refused without scanning or replaying") {
    Core c;
    c.join(1, "s", "u");
    c.bus.publish(note({"u"}, "1-1"));
    c.bus.publish(note({"u"}, "1-2"));
    c.run();
    c.seen.clear();
    c.bus.publish(events::Resume{1, "", "1-1"});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #1 ok  1", "deliver #1 1-2"});
    c.seen.clear();
    c.bus.publish(events::Resume{1, "", "1-1"});
    c.bus.publish(events::Resume{1, "", "1-1"});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #1 no  already resumed", "resumed #1 no  already resumed"});
    CHECK(c.metrics.render_prometheus().find("reason=\"already resumed\"} 2") != std::string::npos);
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
    c.login(1, "s", "u");
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

namespace {

// A log whose reads the test answers when it wants, so that live notifications can come in between. Offsets
// "<n>-<m>" are its own, as stream ids are.
struct PagedLog final : NotificationLog {
    struct Request {
        std::string after, upto;
        bool first;
        Read done;
    };
    std::vector<Request> requests;
    std::string start_at = "0-1";

    bool knows(std::string_view offset) const override { return offset.find('-') != std::string_view::npos; }
    std::string start() const override { return start_at; }
    void read(const std::string& after, const std::string& upto, std::size_t, bool first, Read done) override {
        requests.push_back({after, upto, first, std::move(done)});
    }
    void answer(std::vector<events::Notification> notes, bool complete, std::string gap = {}) {
        auto request = std::move(requests.back());
        requests.pop_back();
        Page page;
        page.notifications = std::move(notes);
        page.next = page.notifications.empty() ? request.after : page.notifications.back().offset;
        page.upto = request.upto.empty() ? start_at : request.upto;
        page.complete = complete;
        page.gap = std::move(gap);
        request.done(std::move(page));
    }
};

}  // namespace

TEST_CASE("recovery from the log: pages up to the last routed, live ones held until the replay is sent") {
    Core c;
    PagedLog log;
    c.services[std::string(NotificationLog::service_name)] = &log;
    c.join(1, "s", "u");
    c.bus.publish(note({"u"}, "5-1"));
    c.run();
    c.seen.clear();
    // An offset the in-memory history never held (another instance's client): asked of the log, up to 5-1.
    c.bus.publish(events::Resume{1, "", "1-1"});
    c.run();
    REQUIRE(log.requests.size() == 1);
    CHECK(log.requests[0].after == "1-1");
    CHECK(log.requests[0].upto == "5-1");
    CHECK(log.requests[0].first);
    c.bus.publish(note({"u"}, "5-2"));  // live while the replay is read: held
    c.run();
    CHECK(c.seen.empty());
    log.answer({note({"u"}, "2-1"), note({"other"}, "3-1")}, false);
    c.run();
    REQUIRE(log.requests.size() == 1);  // the next page, from where the last ended
    CHECK(log.requests[0].after == "3-1");
    CHECK(!log.requests[0].first);
    c.bus.publish(note({"u", "other"}, "5-3"));
    c.run();
    log.answer({note({"u"}, "4-1"), note({"u"}, "5-1")}, true);
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #1 ok  3", "deliver #1 2-1", "deliver #1 4-1", "deliver #1 5-1",
                                             "deliver #1 5-2", "deliver #1 5-3"});
    c.seen.clear();
    c.bus.publish(note({"u"}, "5-4"));  // live again
    c.run();
    CHECK(c.seen == std::vector<std::string>{"deliver #1 5-4"});
    CHECK(c.recovery.replays_under_way() == 0);
}

TEST_CASE("recovery from the log: a gap is told, what was held still comes; before anything routed, the start") {
    Core c;
    PagedLog log;
    c.services[std::string(NotificationLog::service_name)] = &log;
    c.join(1, "s", "u");
    c.bus.publish(events::Resume{1, "", "1-1"});
    c.run();
    REQUIRE(log.requests.size() == 1);
    CHECK(log.requests[0].upto.empty());  // nothing routed here yet: up to where the log's reading began
    c.bus.publish(note({"u"}, "6-1"));
    c.run();
    log.answer({}, false, "entries trimmed");
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #1 no  entries trimmed", "deliver #1 6-1"});
    CHECK(c.metrics.render_prometheus().find("reason=\"entries trimmed\"} 1") != std::string::npos);

    // A connection that goes away while its replay is read: the late answer finds nobody.
    c.open(2, "");
    c.bus.publish(events::Authenticate{2, "s"});
    c.bus.publish(events::Resume{2, "", "1-1"});
    c.run();
    REQUIRE(log.requests.size() == 1);
    c.bus.publish(events::ConnectionClosed{2, CloseReason::transport_error});
    c.run();
    c.seen.clear();
    log.answer({note({"u"}, "2-1")}, true);
    c.run();
    CHECK(c.seen.empty());
}

TEST_CASE("recovery: a long replay goes out in slices, each after the transport wrote the last; live ones after") {
    Core c;
    c.join(1, "s", "u");
    c.bus.publish(note({"u"}, "1-0"));
    for (int i = 1; i <= 3000; ++i) c.bus.publish(note({"u"}, "1-" + std::to_string(i), std::string(100, 'x')));
    c.run();
    c.seen.clear();
    c.bus.publish(events::Resume{1, "", "1-0"});
    c.run();
    const auto delivered = [&] {
        return std::count_if(c.seen.begin(), c.seen.end(), [](const auto& s) { return s.rfind("deliver", 0) == 0; });
    };
    REQUIRE(c.seen.front() == "resumed #1 ok  3000");
    REQUIRE(c.seen.back() == "await #1");  // a slice, then the wait
    const auto first = delivered();
    CHECK(first > 100);
    CHECK(first * 164 <= 128 * 1024 + 164);  // a slice stays near its size
    c.bus.publish(note({"u"}, "1-3001"));    // live meanwhile: after the replay
    c.bus.publish(events::Drained{7});       // another connection's: nothing
    c.run();
    CHECK(delivered() == first);
    int slices = 1;
    while (c.seen.back() == "await #1") {
        c.bus.publish(events::Drained{1});
        c.run();
        ++slices;
        REQUIRE(slices < 20);
    }
    CHECK(slices >= 4);
    CHECK(delivered() == 3001);
    std::vector<std::string> order;
    for (const auto& s : c.seen)
        if (s.rfind("deliver", 0) == 0) order.push_back(s);
    CHECK(order[0] == "deliver #1 1-1");
    CHECK(order[2999] == "deliver #1 1-3000");
    CHECK(order[3000] == "deliver #1 1-3001");
    c.seen.clear();
    c.bus.publish(events::Drained{1});  // late: nothing more to send
    c.bus.publish(note({"u"}, "1-3002"));
    c.run();
    CHECK(c.seen == std::vector<std::string>{"deliver #1 1-3002"});
}

TEST_CASE("recovery: a storm's resolutions finish each its own waiting connections, in any order") {
    Core c;
    // 300 clients, each its own session, dropped with their pids, then all back at once before any lookup answers.
    constexpr int n = 300;
    for (int i = 1; i <= n; ++i) {
        const auto id = static_cast<ConnectionId>(i);
        c.open(id, "P" + std::to_string(i));
        c.login(id, "s" + std::to_string(i), "u" + std::to_string(i));
    }
    c.bus.publish(note({"u7", "u8"}, "1-1"));
    c.run();
    for (int i = 1; i <= n; ++i)
        c.bus.publish(events::ConnectionClosed{static_cast<ConnectionId>(i), CloseReason::transport_error});
    c.bus.publish(note({"u8", "u9"}, "1-2"));
    c.run();
    c.seen.clear();
    for (int i = 1; i <= n; ++i) {
        const auto id = static_cast<ConnectionId>(1000 + i);
        c.open(id, "fresh" + std::to_string(i));
        c.bus.publish(events::Resume{id, "P" + std::to_string(i), "1-1"});
    }
    c.run();
    CHECK(c.seen.empty());  // every one waits for its session's lookup
    // One of them goes away while it waits; another authenticates again, with another session, and waits for that.
    c.bus.publish(events::ConnectionClosed{1005, CloseReason::transport_error});
    c.bus.publish(events::Authenticate{1006, "other"});
    c.run();
    // Answers come in reverse order.
    for (int i = n; i >= 1; --i) {
        c.bus.publish(events::SessionResolved{"s" + std::to_string(i), "u" + std::to_string(i)});
        c.run();
        if (i == 5 || i == 6) {
            CHECK(c.seen.empty());  // gone; waiting for "other"
        } else if (i == 8 || i == 9) {
            CHECK(c.seen ==
                  std::vector<std::string>{"resumed #" + std::to_string(1000 + i) + " ok P" + std::to_string(i) + " 1",
                                           "deliver #" + std::to_string(1000 + i) + " 1-2"});
        } else {
            CHECK(c.seen == std::vector<std::string>{"resumed #" + std::to_string(1000 + i) + " ok P" +
                                                     std::to_string(i) + " 0"});
        }
        c.seen.clear();
    }
    c.bus.publish(events::SessionResolved{"other", std::string("u6")});
    c.run();
    CHECK(c.seen == std::vector<std::string>{"resumed #1006 ok P6 0"});
    CHECK(c.recovery.replays_under_way() == 0);
}
