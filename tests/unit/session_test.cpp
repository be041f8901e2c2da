// The socketio plugin's Session and Engine without sockets: in-memory links (links.hpp) stand for the websocket
// and the held poll, and the test runs the loop by hand. Heartbeats, the upgrade, close reasons and queue bounds.
#include <doctest/doctest.h>

#include "engine.hpp"
#include "session.hpp"
#include "test_context.hpp"

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
    std::size_t bytes = 0;
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    std::optional<CloseReason> closed;

    SendStatus send(Frame frame) override {
        if (closed) return SendStatus::dropped;
        sent.push_back(frame.binary ? "<binary " + *frame.bytes + ">" : *frame.bytes);
        bytes += frame.bytes->size();
        return bytes > limit ? SendStatus::over_limit : SendStatus::queued;
    }
    void close(CloseReason reason) override {
        if (!closed) closed = reason;
    }
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
    CHECK(f.context.log().find("closed: too slow (over 4096 bytes queued)") != std::string::npos);

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

}  // TEST_SUITE
