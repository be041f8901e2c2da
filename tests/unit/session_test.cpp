// The socketio plugin's Session and Engine without sockets: in-memory links (links.hpp) stand for the websocket
// and the held poll, and the test runs the loop by hand. Heartbeats, the upgrade, close reasons and queue bounds;
// the engine's delivery to many sessions, its admission limits, and its close of every session at shutdown.
#include <doctest/doctest.h>

#include "engine.hpp"
#include "session.hpp"
#include "test_context.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using yunity::CloseReason;
using yunity::Protocol;
using yunity::socketio::Engine;
using yunity::socketio::Frame;
using yunity::socketio::PollWaiter;
using yunity::socketio::SendStatus;
using yunity::socketio::Session;
using yunity::socketio::TransportConfig;
using yunity::socketio::WebsocketLink;
namespace eio = yunity::eio;

namespace {

// A websocket as the session sees it: what was sent, and how it was closed. `limit` plays the link's queue bound.
struct MemoryLink final : WebsocketLink {
    std::vector<std::string> sent;
    std::vector<std::shared_ptr<const std::string>> buffers;  // the buffers sent, as shared
    std::size_t bytes = 0;
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    std::optional<CloseReason> closed;

    SendStatus send(Frame frame) override {
        if (closed) return SendStatus::dropped;
        sent.push_back(frame.binary ? "<binary " + *frame.bytes + ">" : *frame.bytes);
        buffers.push_back(frame.bytes);
        bytes += frame.bytes->size();
        return bytes > limit ? SendStatus::over_limit : SendStatus::queued;
    }
    void watch_drain() override { ++drain_watches; }
    void trim() override { ++trims; }
    void close(CloseReason reason) override {
        if (!closed) closed = reason;
    }
    int drain_watches = 0;
    int trims = 0;
    bool got(const std::string& text) const { return std::find(sent.begin(), sent.end(), text) != sent.end(); }
};

// A held polling GET.
struct MemoryPoll final : PollWaiter {
    std::optional<std::string> body;
    void respond(std::string b, bool) override { body = std::move(b); }
};

TransportConfig fast_config() {
    TransportConfig c;
    c.ping_interval = 100ms;
    c.ping_timeout = 300ms;  // long beside the interval: the loop's timing is never the test's subject
    c.connect_timeout = 200ms;
    c.max_queue_bytes = 4096;
    return c;
}

struct Fixture {
    yunity::test::TestContext context{"socketio"};
    Engine engine{context, fast_config()};

    std::shared_ptr<Session> websocket_session(Protocol protocol, const std::shared_ptr<MemoryLink>& link) {
        auto s = engine.create(protocol, Session::Transport::websocket, std::make_shared<yunity::Handshake>());
        s->attach_websocket(link);
        s->start();
        return s;
    }
    std::shared_ptr<Session> polling_session(Protocol protocol) {
        auto s = engine.create(protocol, Session::Transport::polling, std::make_shared<yunity::Handshake>());
        s->start();
        return s;
    }
    // The client's text message over a websocket that is the session's transport.
    bool message(Session& s, MemoryLink& link, std::string_view text) {
        return s.on_websocket_message(link, true, text);
    }
    std::uint64_t closed_as(const char* reason) {
        return context.counter("yunity_socketio_disconnects_total", std::string("reason=\"") + reason + "\"");
    }
};

}  // namespace

TEST_SUITE("socketio session") {
    TEST_CASE("version 4: a ping each pingInterval keeps a session that answers; one that does not is closed") {
        Fixture f;
        auto link = std::make_shared<MemoryLink>();
        auto s = f.websocket_session(Protocol::eio4_sio5, link);
        CHECK(f.message(*s, *link, "40"));  // the CONNECT
        CHECK(s->state() == Session::State::open);
        CHECK(link->sent.at(0).starts_with("40{\"sid\":"));
        for (int round = 0; round < 3; ++round) {
            f.context.run_for(150ms);
            REQUIRE(link->sent.back() == "2");
            link->sent.clear();
            CHECK(f.message(*s, *link, "3"));
        }
        CHECK_FALSE(s->closed());
        CHECK(link->trims >= 3);  // each ping's turn gives back the link's idle queue room
        // No pong from here: gone at pingInterval + pingTimeout.
        f.context.run_for(500ms);
        CHECK(s->closed());
        CHECK(link->closed == CloseReason::ping_timeout);
        CHECK(f.closed_as("ping timeout") == 1);
        CHECK(f.engine.session_count() == 0);
    }

    TEST_CASE("version 3: the client pings and gets its pong; silence for pingInterval + pingTimeout closes") {
        Fixture f;
        auto link = std::make_shared<MemoryLink>();
        auto s = f.websocket_session(Protocol::eio3_sio4, link);
        CHECK(link->got("40"));  // Socket.IO 4 joins "/" at once
        CHECK(s->state() == Session::State::open);
        f.context.run_for(150ms);
        CHECK(f.message(*s, *link, "2"));
        CHECK(link->sent.back() == "3");
        f.context.run_for(150ms);  // 300 ms since the start, 150 since the ping: within pingInterval + pingTimeout
        CHECK_FALSE(s->closed());
        CHECK_FALSE(link->got("2"));  // the server never pings a version 3 client
        f.context.run_for(350ms);
        CHECK(s->closed());
        CHECK(link->closed == CloseReason::ping_timeout);
    }

    TEST_CASE("heartbeats: a chatty client adds no deadline entries; one entry per session, stale ones ignored") {
        Fixture f;
        auto link3 = std::make_shared<MemoryLink>();
        auto v3 = f.websocket_session(Protocol::eio3_sio4, link3);
        auto link4 = std::make_shared<MemoryLink>();
        auto v4 = f.websocket_session(Protocol::eio4_sio5, link4);
        CHECK(f.message(*v4, *link4, "40"));
        CHECK(f.engine.heartbeats().size() == 2);
        // Each ping and message of a version 3 client moves its deadline later: the entry it has stays.
        for (int i = 0; i < 1000; ++i) {
            CHECK(f.message(*v3, *link3, "2"));
            CHECK(f.message(*v3, *link3, "42[\"x\"]"));
        }
        CHECK(f.engine.heartbeats().size() == 2);
        // Version 4: the ping goes out, its pong comes back, round after round. Here pingInterval (100 ms) is
        // shorter than pingTimeout (300 ms), so each pong's deadline is sooner than the entry for the pong and adds
        // one: the stale ones are those of the last pingTimeout, however many rounds pass (v3's entry, v4's live
        // one, and at most three stale).
        for (int round = 0; round < 10; ++round) {
            f.context.run_for(150ms);
            REQUIRE(link4->sent.back() == "2");
            link4->sent.clear();
            CHECK(f.message(*v4, *link4, "3"));
            CHECK(f.message(*v3, *link3, "2"));
            CHECK(f.engine.heartbeats().size() <= 5);
        }
        CHECK_FALSE(v3->closed());
        CHECK_FALSE(v4->closed());
        f.context.run_for(500ms);  // silence from both: each closed at its own deadline
        CHECK(v3->closed());
        CHECK(v4->closed());
        CHECK(f.closed_as("ping timeout") == 2);
    }

    TEST_CASE("close reasons: a version 4 client's ping, a malformed frame, the client's close packet") {
        Fixture f;
        auto a = std::make_shared<MemoryLink>();
        auto s = f.websocket_session(Protocol::eio4_sio5, a);
        CHECK_FALSE(f.message(*s, *a, "2"));
        CHECK(a->closed == CloseReason::protocol_error);

        auto b = std::make_shared<MemoryLink>();
        auto t = f.websocket_session(Protocol::eio4_sio5, b);
        CHECK_FALSE(f.message(*t, *b, "9what"));
        CHECK(b->closed == CloseReason::protocol_error);

        auto c = std::make_shared<MemoryLink>();
        auto u = f.websocket_session(Protocol::eio4_sio5, c);
        CHECK(f.message(*u, *c, "40"));
        CHECK_FALSE(f.message(*u, *c, "1"));
        CHECK(c->closed == CloseReason::client_close);

        CHECK(f.closed_as("protocol error") == 2);
        CHECK(f.closed_as("client close") == 1);
        CHECK(f.engine.session_count() == 0);
    }

    TEST_CASE("version 4: a session without its CONNECT is pending, and dropped after connect_timeout") {
        Fixture f;
        auto link = std::make_shared<MemoryLink>();
        auto s = f.websocket_session(Protocol::eio4_sio5, link);
        CHECK(s->pending());
        CHECK(f.engine.pending_count() == 1);
        // Its heartbeat goes on meanwhile; it answers, but never connects.
        f.context.run_for(150ms);
        CHECK(f.message(*s, *link, "3"));
        f.context.run_for(200ms);
        CHECK(s->closed());
        CHECK(f.engine.pending_count() == 0);
        CHECK(f.context.log().find("no CONNECT within the connect timeout") != std::string::npos);
    }

    TEST_CASE("the upgrade: probe answered, the held poll released with a noop, the queue moved to the websocket") {
        Fixture f;
        auto s = f.polling_session(Protocol::eio4_sio5);
        CHECK(s->transport() == Session::Transport::polling);
        s->on_post({eio::Packet{eio::PacketType::message, false, "0"}});  // the CONNECT, over polling
        auto first = std::make_shared<MemoryPoll>();
        CHECK(s->on_poll(first, {}));
        f.context.run_for(10ms);  // responses go out after the turn of the loop
        REQUIRE(first->body);
        CHECK(first->body->starts_with("40{\"sid\":"));

        auto held = std::make_shared<MemoryPoll>();
        CHECK(s->on_poll(held, {}));
        auto probe = std::make_shared<MemoryLink>();
        CHECK(s->attach_probe(probe));
        CHECK_FALSE(s->attach_probe(std::make_shared<MemoryLink>()));  // one probe at a time
        CHECK(s->on_websocket_message(*probe, true, "2probe"));
        CHECK(probe->sent == std::vector<std::string>{"3probe"});
        CHECK(held->body == "6");
        CHECK(s->transport() == Session::Transport::upgrading);

        // A notification while upgrading waits in the polling queue, then goes over the websocket.
        s->send({std::make_shared<const std::string>("42[\"message\",1]"), false});
        CHECK(s->on_websocket_message(*probe, true, "2probe"));  // a repeated probe: still upgrading
        CHECK(s->transport() == Session::Transport::upgrading);
        CHECK(s->on_websocket_message(*probe, true, "5"));
        CHECK(s->transport() == Session::Transport::websocket);
        CHECK(probe->sent.back() == "42[\"message\",1]");
        s->send({std::make_shared<const std::string>("42[\"message\",2]"), false});
        CHECK(probe->sent.back() == "42[\"message\",2]");

        // Polling is over for this session: a GET is refused, and the session closed as engine.io does.
        std::string why;
        CHECK_FALSE(s->on_poll(std::make_shared<MemoryPoll>(), {}, &why));
        CHECK(why == "the session has upgraded to websocket");
    }

    TEST_CASE("a probe that goes away, or says anything but the probe and the upgrade, leaves the session polling") {
        Fixture f;
        auto s = f.polling_session(Protocol::eio3_sio4);
        auto probe = std::make_shared<MemoryLink>();
        CHECK(s->attach_probe(probe));
        CHECK(s->on_websocket_message(*probe, true, "2probe"));
        CHECK(s->transport() == Session::Transport::upgrading);
        s->on_websocket_closed(*probe, CloseReason::transport_error);
        CHECK(s->transport() == Session::Transport::polling);
        CHECK_FALSE(s->closed());

        auto rude = std::make_shared<MemoryLink>();
        CHECK(s->attach_probe(rude));
        s->on_websocket_message(*rude, true, "4hello");
        CHECK(rude->closed == CloseReason::protocol_error);
        CHECK(s->transport() == Session::Transport::polling);
        CHECK_FALSE(s->closed());
    }

    TEST_CASE("queue bounds: a polling session and a websocket over max_queue_bytes are closed as too slow") {
        Fixture f;
        auto s = f.polling_session(Protocol::eio4_sio5);
        const auto chunk = std::make_shared<const std::string>(std::string(1000, 'x'));
        int sent = 0;
        while (!s->closed() && sent < 100) {
            s->send({chunk, false});
            ++sent;
        }
        CHECK(s->closed());
        CHECK(sent == 4);  // 4 × (1000 + the entry's overhead) > 4096
        CHECK(f.closed_as("too slow") == 1);
        CHECK(f.context.log().find("closed: too slow (over 4096 bytes queued or partly read)") != std::string::npos);

        auto link = std::make_shared<MemoryLink>();
        link->limit = 2500;
        auto t = f.websocket_session(Protocol::eio3_sio4, link);
        t->send({chunk, false});
        t->send({chunk, false});
        CHECK_FALSE(t->closed());
        t->send({chunk, false});
        CHECK(t->closed());
        CHECK(link->closed == CloseReason::too_slow);
        CHECK(f.closed_as("too slow") == 2);
    }

    TEST_CASE("attachments being assembled count with the polling queue against max_queue_bytes") {
        // max_payload is the default 1,000,000: only the connection's bound stops these.
        Fixture f;
        const auto binary = [](std::size_t size) {
            return eio::Packet{eio::PacketType::message, true, std::string(size, 'b')};
        };
        const auto text = [](std::string t) { return eio::Packet{eio::PacketType::message, false, std::move(t)}; };
        const std::string two = R"(52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])";

        // Attachments alone: the first is held while the second is due.
        auto s = f.polling_session(Protocol::eio4_sio5);
        std::vector<eio::Packet> packets;
        packets.push_back(text("0"));
        packets.push_back(text(two));
        packets.push_back(binary(4100));
        s->on_post(std::move(packets));
        CHECK(s->closed());
        CHECK(f.closed_as("too slow") == 1);

        // With the queue: 2,000 bytes held and 2,000 queued are over 4,096 together, either way round.
        auto t = f.polling_session(Protocol::eio4_sio5);
        packets.clear();
        packets.push_back(text("0"));
        packets.push_back(text(two));
        packets.push_back(binary(2000));
        t->on_post(std::move(packets));
        CHECK_FALSE(t->closed());
        CHECK(t->partial_input() == 2000 + two.size());
        t->send({std::make_shared<const std::string>(std::string(2000, 'x')), false});
        CHECK(t->closed());
        CHECK(f.closed_as("too slow") == 2);

        // A packet whose attachments all came holds nothing more.
        auto u = f.polling_session(Protocol::eio4_sio5);
        packets.clear();
        packets.push_back(text("0"));
        packets.push_back(text(two));
        packets.push_back(binary(3000));
        packets.push_back(binary(3000));
        u->on_post(std::move(packets));
        CHECK_FALSE(u->closed());
        CHECK(u->partial_input() == 0);
    }

    TEST_CASE("two polling GETs at once close the session; a waiting GET learns of a server-side close") {
        Fixture f;
        auto s = f.polling_session(Protocol::eio4_sio5);
        auto first = std::make_shared<MemoryPoll>();
        CHECK(s->on_poll(first, {}));
        std::string why;
        CHECK_FALSE(s->on_poll(std::make_shared<MemoryPoll>(), {}, &why));
        CHECK(why == "overlapping polling requests");
        CHECK(s->closed());
        CHECK(first->body == "1");  // the close packet
        CHECK(f.closed_as("transport error") == 1);
    }

    TEST_CASE("a client may send the upgrade without waiting for the probe's answer: polling goes to websocket") {
        Fixture f;
        auto s = f.polling_session(Protocol::eio4_sio5);
        auto probe = std::make_shared<MemoryLink>();
        CHECK(s->attach_probe(probe));
        CHECK(s->on_websocket_message(*probe, true, "5"));
        CHECK(s->transport() == Session::Transport::websocket);
        // The link is the transport now: its packets are the session's (the CONNECT).
        CHECK(s->on_websocket_message(*probe, true, "40"));
        CHECK(s->state() == Session::State::open);
        CHECK(probe->sent.back().starts_with("40{\"sid\":"));
    }

    TEST_CASE("the default namespace: joined by the CONNECT, left by the DISCONNECT; a recovering CONNECT resumes") {
        Fixture f;
        auto link = std::make_shared<MemoryLink>();
        auto s = f.websocket_session(Protocol::eio4_sio5, link);
        CHECK(s->default_namespace() == Session::Namespace::none);
        CHECK(f.message(*s, *link, "40"));
        CHECK(s->default_namespace() == Session::Namespace::joined);
        CHECK(s->joined("/"));
        CHECK(f.message(*s, *link, "41"));  // the client leaves "/" and keeps its session
        CHECK(s->default_namespace() == Session::Namespace::none);
        CHECK_FALSE(s->joined("/"));
        CHECK_FALSE(s->closed());

        // socket.io-client 4.6+ coming back with its pid: nothing joined, no reply, until the core answers.
        link->sent.clear();
        CHECK(f.message(*s, *link, "40{\"pid\":\"old-pid\",\"offset\":\"1-0\"}"));
        CHECK(s->default_namespace() == Session::Namespace::resuming);
        CHECK_FALSE(s->joined("/"));
        CHECK(f.message(*s, *link, "40{\"pid\":\"old-pid\",\"offset\":\"1-0\"}"));  // repeated: ignored
        CHECK(link->sent.empty());
        f.engine.resumed(yunity::events::Resumed{s->id(), true, "old-pid", "", 0});
        CHECK(s->default_namespace() == Session::Namespace::joined);
        CHECK(link->sent ==
              std::vector<std::string>{"40{\"sid\":\"" + std::string(s->socket_id()) + "\",\"pid\":\"old-pid\"}"});
    }
}  // TEST_SUITE

TEST_SUITE("socketio engine") {
    TEST_CASE("deliver: one encoded payload shared by every session joined to \"/\"; the others are skipped") {
        Fixture f;
        auto a = std::make_shared<MemoryLink>();
        auto sa = f.websocket_session(Protocol::eio4_sio5, a);
        CHECK(f.message(*sa, *a, "40"));
        auto b = std::make_shared<MemoryLink>();
        auto sb = f.websocket_session(Protocol::eio3_sio4, b);  // joined "/" at once
        auto c = std::make_shared<MemoryLink>();
        auto sc = f.websocket_session(Protocol::eio4_sio5, c);  // no CONNECT yet
        auto d = std::make_shared<MemoryLink>();
        auto sd = f.websocket_session(Protocol::eio4_sio5, d);
        CHECK(f.message(*sd, *d, "40"));
        CHECK(f.message(*sd, *d, "41"));  // left "/"
        for (auto* l : {a.get(), b.get(), c.get(), d.get()}) {
            l->sent.clear();
            l->buffers.clear();
        }

        yunity::events::Deliver delivery;
        delivery.connections = {sa->id(), sb->id(), sc->id(), sd->id(), 999};  // 999: not ours
        delivery.payload = std::make_shared<const std::string>("{\"n\":1}");
        delivery.offset = "7-0";
        f.engine.deliver(delivery);

        REQUIRE(a->buffers.size() == 1);
        REQUIRE(b->buffers.size() == 1);
        CHECK(*a->buffers[0] == "42[\"message\",{\"n\":1},\"7-0\"]");
        CHECK(a->buffers[0] == b->buffers[0]);  // the same buffer, encoded once
        CHECK(c->sent.empty());
        CHECK(d->sent.empty());
        CHECK(f.context.counter("yunity_socketio_deliveries_total", "") == 2);
    }

    TEST_CASE("deliver: a plain Engine.IO session gets the payload alone, as a message packet") {
        Fixture f;
        auto link = std::make_shared<MemoryLink>();
        auto s = f.engine.create(Protocol::eio4_sio5, Session::Transport::websocket,
                                 std::make_shared<yunity::Handshake>(), "/raw/");
        s->attach_websocket(link);
        s->start();
        yunity::events::Deliver delivery;
        delivery.connections = {s->id()};
        delivery.payload = std::make_shared<const std::string>("[1,2]");
        f.engine.deliver(delivery);
        CHECK(link->sent.back() == "4[1,2]");
    }

    TEST_CASE("admit: max_connections, then per address max_connections_per_address and max_pending_per_address") {
        yunity::test::TestContext context{"socketio"};
        auto config = fast_config();
        config.max_connections = 4;
        config.max_connections_per_address = 2;
        config.max_pending_per_address = 1;
        Engine engine{context, config};
        const auto create = [&](Protocol protocol, const std::string& group) {
            auto s =
                engine.create(protocol, Session::Transport::polling, std::make_shared<yunity::Handshake>(), {}, group);
            s->start();
            return s;
        };
        const auto refused = [&](const char* limit) {
            return context.counter("yunity_socketio_refused_total", std::string("limit=\"") + limit + "\"");
        };

        CHECK_FALSE(engine.admit("a", true));
        auto a1 = create(Protocol::eio4_sio5, "a");  // pending until its CONNECT
        CHECK(engine.pending_count() == 1);
        auto pending_refusal = engine.admit("a", true);
        REQUIRE(pending_refusal);
        CHECK(pending_refusal->starts_with("max_pending_per_address (1 "));
        CHECK(refused("max_pending_per_address") == 1);
        CHECK_FALSE(engine.admit("a", false));  // a version 3 session owes no CONNECT
        auto a2 = create(Protocol::eio3_sio4, "a");
        auto per_address = engine.admit("a", false);
        REQUIRE(per_address);
        CHECK(per_address->starts_with("max_connections_per_address (2) reached for a"));
        CHECK(refused("max_connections_per_address") == 1);
        CHECK(context.log().find("refusing new sessions with 503") != std::string::npos);

        // Another address is counted apart.
        CHECK_FALSE(engine.admit("b", true));
        auto b1 = create(Protocol::eio3_sio4, "b");
        auto b2 = create(Protocol::eio3_sio4, "b");
        CHECK(engine.session_count() == 4);
        auto full = engine.admit("c", false);
        REQUIRE(full);
        CHECK(*full == "max_connections (4) reached");
        CHECK(refused("max_connections") == 1);

        // The CONNECT ends a1's pending count; a close frees a slot, for its address and overall.
        a1->on_post({eio::Packet{eio::PacketType::message, false, "0"}});
        CHECK(engine.pending_count() == 0);
        b2->close(CloseReason::client_close);
        CHECK_FALSE(engine.admit("c", true));
        a2->close(CloseReason::client_close);
        CHECK_FALSE(engine.admit("a", true));
    }

    TEST_CASE(
        "admit_connection: max_unbound_per_address connections per address group, none counted from trusted proxies") {
        yunity::test::TestContext context{"socketio"};
        auto config = fast_config();
        config.max_unbound_per_address = 2;
        config.trusted_proxies = {"10.0.0.0/8"};
        Engine engine{context, config};
        const auto ip = [](const char* a) { return boost::asio::ip::make_address(a); };

        auto a1 = engine.admit_connection(ip("192.0.2.1"));
        auto a2 = engine.admit_connection(ip("::ffff:192.0.2.1"));  // the same address, mapped into IPv6
        REQUIRE(a1);
        REQUIRE(a2);
        CHECK(engine.unbound_count() == 2);
        CHECK_FALSE(engine.admit_connection(ip("192.0.2.1")));
        CHECK(context.counter("yunity_socketio_refused_total", "limit=\"max_unbound_per_address\"") == 1);
        CHECK(context.log().find("max_unbound_per_address (2 connections without a session) reached for 192.0.2.1") !=
              std::string::npos);
        // An IPv6 /64 counts as one address; another one apart.
        auto v6a = engine.admit_connection(ip("2001:db8:1:2::1"));
        auto v6b = engine.admit_connection(ip("2001:db8:1:2::2"));
        REQUIRE(v6a);
        REQUIRE(v6b);
        CHECK_FALSE(engine.admit_connection(ip("2001:db8:1:2:ffff::3")));
        CHECK(engine.admit_connection(ip("2001:db8:1:3::1")));  // given back at once: the optional is a temporary
        // A trusted proxy's connections take no slot.
        std::vector<yunity::socketio::AddressSlots::Slot> proxy;
        for (int i = 0; i < 10; ++i) {
            auto slot = engine.admit_connection(ip("10.1.2.3"));
            REQUIRE(slot);
            CHECK_FALSE(slot->held());
            proxy.push_back(std::move(*slot));
        }
        CHECK(engine.unbound_count() == 4);

        // A slot given back (a request for a session, or the connection's end) makes room, once.
        a1->release();
        a1->release();
        CHECK(engine.unbound_count() == 3);
        auto a3 = engine.admit_connection(ip("192.0.2.1"));
        REQUIRE(a3);
        CHECK_FALSE(engine.admit_connection(ip("192.0.2.1")));
        a2.reset();
        CHECK(engine.unbound_count() == 3);
    }

    TEST_CASE("close_all: every session closes with the shutdown reason, and the bus hears it of the announced ones") {
        Fixture f;
        std::vector<std::pair<yunity::ConnectionId, CloseReason>> heard;
        f.context.bus().subscribe<yunity::events::ConnectionClosed>(
            "test", [&](const yunity::events::ConnectionClosed& e) { heard.emplace_back(e.connection, e.reason); });
        auto link = std::make_shared<MemoryLink>();
        auto ws = f.websocket_session(Protocol::eio3_sio4, link);  // open at once
        auto polling = f.polling_session(Protocol::eio4_sio5);
        polling->on_post({eio::Packet{eio::PacketType::message, false, "0"}});  // the CONNECT: open, announced
        auto poll = std::make_shared<MemoryPoll>();
        CHECK(polling->on_poll(poll, {}));
        f.context.run_for(10ms);
        CHECK(poll->body->starts_with("40{\"sid\":"));
        poll = std::make_shared<MemoryPoll>();
        CHECK(polling->on_poll(poll, {}));                      // held now
        auto pending = f.polling_session(Protocol::eio4_sio5);  // never announced: no ConnectionClosed owed

        f.engine.close_all(CloseReason::server_shutdown);
        CHECK(ws->closed());
        CHECK(polling->closed());
        CHECK(pending->closed());
        CHECK(link->closed == CloseReason::server_shutdown);
        CHECK(poll->body == "1");  // a held poll gets the close packet
        CHECK(f.engine.session_count() == 0);
        CHECK(f.engine.pending_count() == 0);
        CHECK(f.closed_as("server shutdown") == 3);
        f.context.run_for(10ms);                // the bus dispatches on the loop
        std::sort(heard.begin(), heard.end());  // sessions close in the table's order
        CHECK(heard == std::vector<std::pair<yunity::ConnectionId, CloseReason>>{
                           {ws->id(), CloseReason::server_shutdown}, {polling->id(), CloseReason::server_shutdown}});
    }

    TEST_CASE("await drain: polling answers once a GET took the queue; a websocket once its link has written") {
        Fixture f;
        std::vector<yunity::ConnectionId> drained;
        f.context.bus().subscribe<yunity::events::Drained>(
            "test", [&](const yunity::events::Drained& e) { drained.push_back(e.connection); });
        auto polling = f.polling_session(Protocol::eio4_sio5);
        polling->on_post({eio::Packet{eio::PacketType::message, false, "0"}});  // the CONNECT's answer is queued
        polling->await_drain();
        f.context.run_for(10ms);
        CHECK(drained.empty());  // the CONNECT's answer waits for a GET
        auto poll = std::make_shared<MemoryPoll>();
        CHECK(polling->on_poll(poll, {}));
        f.context.run_for(10ms);
        CHECK(poll->body->starts_with("40{\"sid\":"));
        CHECK(drained == std::vector<yunity::ConnectionId>{polling->id()});
        polling->await_drain();  // nothing queued: at once, from the loop
        f.context.run_for(10ms);
        CHECK(drained.size() == 2);

        auto link = std::make_shared<MemoryLink>();
        auto ws = f.websocket_session(Protocol::eio3_sio4, link);
        ws->await_drain();
        CHECK(link->drain_watches == 1);  // the link says when (WebsocketConnection::drained)
        ws->on_drained();
        f.context.run_for(10ms);
        CHECK(drained.back() == ws->id());
    }

}  // TEST_SUITE
