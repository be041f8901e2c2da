// The socketio plugin's websocket protocol (WebsocketConnection) over an in-memory stream: the subclass below
// writes into a string and is fed the client's frames by hand, so the connection's states (open, sending_close,
// sending_final_close, draining, closed) are followed without sockets. Also the state table enter() asserts.
#include <doctest/doctest.h>

#include "client_frame.hpp"
#include "engine.hpp"
#include "listener.hpp"
#include "session.hpp"
#include "test_context.hpp"
#include "websocket_connection.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using yunity::CloseReason;
using yunity::Protocol;
using yunity::socketio::Engine;
using yunity::socketio::Listener;
using yunity::socketio::Session;
using yunity::socketio::TransportConfig;
using yunity::socketio::WebsocketConnection;
using yunity::socketio::WebsocketStart;
namespace ws = yunity::socketio::ws;
using State = WebsocketConnection::State;

namespace {

// The stream, in memory: writes complete at once (the client reads everything), reads are fed by the test.
class MemoryWebsocket final : public WebsocketConnection {
public:
    MemoryWebsocket(Engine& engine, Listener& listener, Protocol protocol)
        : WebsocketConnection(engine, listener, protocol) {}

    std::string written;         // everything the server wrote: the 101, then its frames
    bool stalled = false;        // the client reads nothing: what is queued stays queued
    bool reading = false;        // a read is pending
    bool half_closed = false;    // shutdown_send() was called
    bool stream_closed = false;  // close_stream() was called

    // The client's bytes arrive; returns whether the connection reads on.
    bool client_sends(std::string bytes) {
        reading = false;
        return received(std::span(bytes.data(), bytes.size()));
    }

    // The frames written after the 101: opcode and payload.
    std::vector<std::pair<ws::Opcode, std::string>> frames() const {
        std::vector<std::pair<ws::Opcode, std::string>> out;
        auto at = written.find("\r\n\r\n");
        REQUIRE(at != std::string::npos);
        at += 4;
        while (at < written.size()) {
            const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(written.at(i)); };
            const auto opcode = static_cast<ws::Opcode>(byte(at) & 0x0f);
            std::size_t size = byte(at + 1) & 0x7f;
            at += 2;
            if (size == 126) {
                size = (std::size_t{byte(at)} << 8) | byte(at + 1);
                at += 2;
            } else if (size == 127) {
                size = 0;
                for (int i = 0; i < 8; ++i) size = (size << 8) | byte(at + i);
                at += 8;
            }
            out.emplace_back(opcode, written.substr(at, size));
            at += size;
        }
        return out;
    }

private:
    void write() override {
        if (stalled) return;
        while (!write_waiting_ && !frames_.empty() && !stream_closed) {
            std::array<std::span<const char>, max_buffers> pieces;
            std::array<yunity::socketio::ws::Header, max_buffers / 2> headers;
            const std::size_t n = frames_.gather(pieces, headers);
            std::size_t total = 0;
            for (std::size_t i = 0; i < n; ++i) {
                written.append(pieces[i].data(), pieces[i].size());
                total += pieces[i].size();
            }
            frames_.consume(total);
        }
        if (frames_.empty() && !write_waiting_) drained();
    }
    void wait_read() override { reading = true; }
    void shutdown_send() override { half_closed = true; }
    void close_stream() override { stream_closed = true; }
    boost::asio::any_io_executor executor() override { return engine_.io().get_executor(); }
};

// Any client frame: masked, of any length, FIN set unless `fin` is false (a fragment that more follow).
std::string client_frame(ws::Opcode opcode, std::string_view payload, bool fin = true) {
    return yunity::test::client_frame((fin ? 0x80u : 0u) | static_cast<unsigned>(opcode), payload);
}

const std::string close_1000("\x03\xe8", 2);
const std::string close_1001("\x03\xe9", 2);
const std::string close_1002("\x03\xea", 2);
const std::string switching = "HTTP/1.1 101 Switching Protocols\r\n\r\n";

TransportConfig config() {
    TransportConfig c;
    c.ping_interval = 1000ms;
    c.ping_timeout = 1000ms;
    c.max_queue_bytes = 4096;
    c.websocket_handshake_timeout = 50ms;
    return c;
}

struct Fixture {
    yunity::test::TestContext context{"socketio"};
    Engine engine{context, config()};
    // Only for the tracking of connections and the flush queue: never started, it accepts nothing.
    std::shared_ptr<Listener> listener = std::make_shared<Listener>(engine, "127.0.0.1", 0);

    std::shared_ptr<MemoryWebsocket> connect(Protocol protocol, std::shared_ptr<Session> probing = nullptr) {
        auto link = std::make_shared<MemoryWebsocket>(engine, *listener, protocol);
        link->run(
            WebsocketStart{switching, std::move(probing), protocol, std::make_shared<yunity::Handshake>(), {}, {}});
        context.run_for(10ms);  // a new session's open packet follows the 101 after 2 ms
        return link;
    }
    // The session a link opened, by the sid of its open packet.
    std::shared_ptr<Session> session_of(const MemoryWebsocket& link) {
        const auto open = link.frames().at(0).second;
        const auto start = open.find("\"sid\":\"") + 7;
        return engine.find(open.substr(start, open.find('"', start) - start));
    }
    std::uint64_t closed_as(const char* reason) {
        return context.counter("yunity_socketio_disconnects_total", std::string("reason=\"") + reason + "\"");
    }
};

}  // namespace

TEST_SUITE("socketio websocket connection") {
    TEST_CASE("the state table: the closing handshake's moves, and nothing back, nothing out of closed") {
        const std::array all{State::open, State::sending_close, State::sending_final_close, State::draining,
                             State::closed};
        const std::vector<std::pair<State, State>> moves{
            {State::open, State::sending_close},   {State::open, State::sending_final_close},
            {State::open, State::closed},          {State::sending_close, State::draining},
            {State::sending_close, State::closed}, {State::sending_final_close, State::closed},
            {State::draining, State::closed},
        };
        for (auto from : all)
            for (auto to : all) {
                const bool listed = std::find(moves.begin(), moves.end(), std::pair{from, to}) != moves.end();
                CAPTURE(static_cast<int>(from));
                CAPTURE(static_cast<int>(to));
                CHECK(WebsocketConnection::allowed(from, to) == listed);
            }
    }

    TEST_CASE("a new session: the 101, the open packet, the CONNECT; our close goes sending_close, draining, closed") {
        Fixture f;
        auto link = f.connect(Protocol::eio4_sio5);
        CHECK(link->written.starts_with(switching));
        REQUIRE(link->frames().size() == 1);
        CHECK(link->frames()[0].second.starts_with("0{\"sid\":"));
        CHECK(link->reading);
        CHECK(link->client_sends(client_frame(ws::Opcode::text, "40")));
        f.context.run_for(5ms);  // frames go out after the turn's handlers
        CHECK(link->frames().back().second.starts_with("40{\"sid\":"));
        CHECK(link->state() == State::open);

        // The server stops: 1001, then the stream is half-closed and the client's close frame awaited.
        f.engine.close_all(CloseReason::server_shutdown);
        CHECK(link->state() == State::draining);
        CHECK(link->frames().back() == std::pair{ws::Opcode::close, close_1001});
        CHECK(link->half_closed);
        CHECK_FALSE(link->stream_closed);
        CHECK(link->reading);
        CHECK_FALSE(link->client_sends(client_frame(ws::Opcode::close, close_1001)));
        CHECK(link->state() == State::closed);
        CHECK(link->stream_closed);
        CHECK(f.closed_as("server shutdown") == 1);
    }

    TEST_CASE("the client closes: sending_final_close until our answer is out, then closed; the session closes too") {
        Fixture f;
        auto link = f.connect(Protocol::eio3_sio4);
        CHECK(f.engine.session_count() == 1);
        CHECK_FALSE(link->client_sends(client_frame(ws::Opcode::close, close_1000)));
        CHECK(link->state() == State::closed);  // the answer was written at once
        CHECK(link->frames().back() == std::pair{ws::Opcode::close, close_1000});
        CHECK_FALSE(link->half_closed);
        CHECK(link->stream_closed);
        CHECK(f.engine.session_count() == 0);
        CHECK(f.closed_as("client close") == 1);
    }

    TEST_CASE("a closing handshake the client never answers ends after websocket_handshake_timeout") {
        Fixture f;
        auto link = f.connect(Protocol::eio4_sio5);
        f.engine.close_all(CloseReason::server_shutdown);
        CHECK(link->state() == State::draining);
        f.context.run_for(20ms);
        CHECK(link->state() == State::draining);
        f.context.run_for(100ms);
        CHECK(link->state() == State::closed);
        CHECK(link->stream_closed);
    }

    TEST_CASE("a protocol error closes with 1002 (sending_final_close); a client too slow is cut, open to closed") {
        Fixture f;
        auto rude = f.connect(Protocol::eio4_sio5);
        CHECK_FALSE(
            rude->client_sends(std::string("\x81\x02"
                                           "40",
                                           4)));  // not masked
        CHECK(rude->state() == State::closed);
        CHECK(rude->frames().back() == std::pair{ws::Opcode::close, close_1002});
        CHECK(f.closed_as("protocol error") == 1);

        auto slow = f.connect(Protocol::eio3_sio4);
        auto session = f.session_of(*slow);
        REQUIRE(session);
        const auto written = slow->written.size();
        const auto chunk = std::make_shared<const std::string>(std::string(1000, 'x'));
        // Queued within one turn, never written: over max_queue_bytes at the fourth.
        for (int i = 0; i < 4; ++i) session->send({chunk, false});
        CHECK(session->closed());
        CHECK(slow->state() == State::closed);
        CHECK(slow->stream_closed);
        f.context.run_for(5ms);
        CHECK(slow->written.size() == written);  // cut: no close frame, nothing queued written
        CHECK(f.closed_as("too slow") == 1);
    }

    TEST_CASE(
        "partly read input counts with the queue against max_queue_bytes: fragments, a frame's start, attachments") {
        // max_queue_bytes is 4096, max_payload the default 1,000,000: only the connection's bound can stop these.
        Fixture f;
        const std::string kb(1000, 'x');

        // The fragments of a message that never ends.
        auto fragments = f.connect(Protocol::eio4_sio5);
        CHECK(fragments->client_sends(client_frame(ws::Opcode::text, "40")));
        f.context.run_for(5ms);  // the CONNECT's answer is written: nothing queued
        CHECK(fragments->client_sends(client_frame(ws::Opcode::text, "42[\"x\",\"" + kb + kb, false)));
        CHECK(fragments->client_sends(client_frame(ws::Opcode::continuation, kb + kb, false)));  // 4,008 held
        CHECK(fragments->state() == State::open);
        CHECK_FALSE(fragments->client_sends(client_frame(ws::Opcode::continuation, kb, false)));
        CHECK(fragments->state() == State::closed);
        CHECK(fragments->stream_closed);
        CHECK(f.closed_as("too slow") == 1);

        // One large frame, sent slowly: its first bytes are held until the rest comes.
        auto slow = f.connect(Protocol::eio4_sio5);
        const auto frame = client_frame(ws::Opcode::text, "4" + std::string(8000, 'x'));
        CHECK(slow->client_sends(frame.substr(0, 4000)));
        CHECK_FALSE(slow->client_sends(frame.substr(4000, 200)));
        CHECK(slow->state() == State::closed);
        CHECK(f.closed_as("too slow") == 2);

        // Attachments: the first one whole and held by the session, the second on its way.
        auto binary = f.connect(Protocol::eio4_sio5);
        CHECK(binary->client_sends(client_frame(ws::Opcode::text, "40")));
        f.context.run_for(5ms);
        CHECK(binary->client_sends(client_frame(
            ws::Opcode::text, R"(452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])")));
        CHECK(binary->client_sends(client_frame(ws::Opcode::binary, kb + kb + kb)));
        CHECK(binary->state() == State::open);
        CHECK_FALSE(binary->client_sends(client_frame(ws::Opcode::binary, kb + std::string(100, 'x'), false)));
        CHECK(binary->state() == State::closed);
        CHECK(f.closed_as("too slow") == 3);

        // With what waits to be written: 2,000 bytes queued and 2,000 partly read are over 4,096 together.
        auto stalled = f.connect(Protocol::eio4_sio5);
        CHECK(stalled->client_sends(client_frame(ws::Opcode::text, "40")));
        f.context.run_for(5ms);
        stalled->stalled = true;
        auto session = f.session_of(*stalled);
        REQUIRE(session);
        session->send({std::make_shared<const std::string>(kb + kb), false});
        CHECK_FALSE(session->closed());
        CHECK_FALSE(stalled->client_sends(client_frame(ws::Opcode::text, "42[\"x\",\"" + kb + kb, false)));
        CHECK(stalled->state() == State::closed);
        CHECK(session->closed());
        CHECK(f.closed_as("too slow") == 4);

        // Input that completes is no longer held: the same bytes as whole messages are fine.
        auto whole = f.connect(Protocol::eio4_sio5);
        CHECK(whole->client_sends(client_frame(ws::Opcode::text, "40")));
        for (int i = 0; i < 10; ++i)
            CHECK(whole->client_sends(client_frame(ws::Opcode::text, "42[\"x\",\"" + kb + "\"]")));
        CHECK(whole->state() == State::open);
    }

    TEST_CASE(
        "a probe: the session answers through the link, whose upgrade makes it the transport; a second is closed") {
        Fixture f;
        auto session =
            f.engine.create(Protocol::eio4_sio5, Session::Transport::polling, std::make_shared<yunity::Handshake>());
        session->start();
        auto probe = f.connect(Protocol::eio4_sio5, session);
        CHECK(probe->written == switching);  // no open packet: the session has one already
        CHECK(probe->reading);
        CHECK(probe->client_sends(client_frame(ws::Opcode::text, "2probe")));
        f.context.run_for(5ms);
        CHECK(probe->frames().back() == std::pair{ws::Opcode::text, std::string("3probe")});
        CHECK(session->transport() == Session::Transport::upgrading);

        // One probe at a time: another websocket for the session is accepted, then closed.
        auto second = f.connect(Protocol::eio4_sio5, session);
        CHECK(second->state() == State::draining);
        CHECK(second->frames().back() == std::pair{ws::Opcode::close, close_1000});

        CHECK(probe->client_sends(client_frame(ws::Opcode::text, "5")));
        CHECK(session->transport() == Session::Transport::websocket);
        CHECK(probe->client_sends(client_frame(ws::Opcode::text, "40")));
        f.context.run_for(5ms);
        CHECK(probe->frames().back().second.starts_with("40{\"sid\":"));
        CHECK(probe->state() == State::open);

        session->close(CloseReason::client_close);
        CHECK(probe->state() == State::draining);
        f.context.run_for(100ms);  // nobody answers: both closing handshakes time out
        CHECK(probe->state() == State::closed);
        CHECK(second->state() == State::closed);
    }

}  // TEST_SUITE
