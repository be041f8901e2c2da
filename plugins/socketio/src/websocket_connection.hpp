// A websocket connection's protocol, whatever stream carries it: RFC 6455 framing (websocket_frames.hpp), the send
// queue (outgoing_frames.hpp), the closing handshake, the open packet, and the link to its session. The stream's
// I/O is a subclass's: plain_websocket.cpp (plain TCP, reactor-style reads into one buffer per thread) and
// tls_websocket.cpp (TLS). So every fix of the protocol is made once, for both; uWebSockets' WebSocket<SSL> over
// one protocol core is the same shape.
#pragma once

#include "delay_queue.hpp"
#include "flush_queue.hpp"
#include "links.hpp"
#include "listener.hpp"
#include "outgoing_frames.hpp"
#include "websocket_frames.hpp"

#include <yunity/events.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace yunity::socketio {

class Engine;
class Session;

// What the HTTP side's upgrade hands to a new websocket.
struct WebsocketStart {
    std::string response;                     // the 101, the first bytes written
    std::shared_ptr<Session> session;         // the session this websocket probes for; none: it opens a new session
    Protocol protocol = Protocol::eio4_sio5;  // a new session's
    std::shared_ptr<const Handshake> handshake;
    std::string raw_path;  // a plugin's plain Engine.IO path, else empty
    std::string group;     // the client's address group
};

class WebsocketConnection : public std::enable_shared_from_this<WebsocketConnection>,
                            public WebsocketLink,
                            public Closable,
                            public Flushable,
                            public Delayed,
                            private ws::FrameSink {
public:
    // The open packet follows the 101 response after this pause: a client of the `ws` library that awaits 'open'
    // before listening for messages (the official test suites do) loses a frame that arrives in the same read as
    // the 101; engine.io's own pace leaves such a gap, and so do we.
    static constexpr std::chrono::milliseconds open_packet_delay{2};

    // A connection's life. `open` carries frames both ways; the closing handshake goes through
    // `sending_close` (our close frame queued: then wait for the client's, half-closed, in `draining`) or
    // `sending_final_close` (the client closed or broke the protocol: the connection ends once the frame is out);
    // `closed` is for good. enter() is the only way from one to another.
    enum class State { open, sending_close, sending_final_close, draining, closed };
    // The moves enter() allows (asserted in debug builds: the sanitizer builds run every test with them).
    static bool allowed(State from, State to);

    ~WebsocketConnection() override;

    // Writes the 101, then probes for `start.session` or opens a new session on this websocket.
    void run(WebsocketStart start);

    SendStatus send(Frame frame) override;
    void watch_drain() override;
    void close(CloseReason reason) override;
    void trim() override { frames_.trim(); }
    void shutdown() override;
    void flush() override;
    void due() override { open(); }  // the open packet's delay is over

    State state() const { return state_; }

protected:
    WebsocketConnection(Engine& engine, Listener& listener, Protocol protocol);

    // ---- The stream's I/O, by the subclass ----
    // Writes what frames_ holds, as the stream takes it: consumes from frames_ what it hands over, sets
    // write_waiting_ while a write (or the wait for room) is pending, and calls drained() whenever the queue is
    // empty with no write pending.
    virtual void write() = 0;
    // Reads once data comes (at most once pending), handing it to received(), or reporting read_failed().
    virtual void wait_read() = 0;
    // After our close frame, when the client's is awaited: the stream's half-close, if it has one.
    virtual void shutdown_send() = 0;
    // Ends the connection at once; pending operations complete with an error.
    virtual void close_stream() = 0;
    virtual boost::asio::any_io_executor executor() = 0;

    // ---- What the I/O calls ----
    // Bytes arrived: every whole frame in them is handled, the end of a frame kept for the next call. Returns
    // whether to go on reading.
    bool received(std::span<char> data);
    // The stream failed to read: at its end (`eof`), or with an error.
    void read_failed(bool eof);
    // The queue is empty and nothing is being written.
    void drained();
    // The connection failed (reset, a write error): the session hears it once, and the connection ends.
    void lost(CloseReason reason);

    // Pieces gathered from frames_ per write (plain TCP: per system call; TLS: per plaintext buffer): header and
    // payload of up to 256 frames. A backlog's turn queues tens of frames per connection, and each system call
    // costs more than its bytes (loopback's receiving side included): one call should take them all. Linux takes
    // up to IOV_MAX (1024) pieces; these arrays are on the stack of the write.
    static constexpr std::size_t max_buffers = 512;

    Engine& engine_;
    ws::OutgoingFrames frames_;
    bool write_waiting_ = false;  // a write, or a wait for room, is pending: it goes on by itself

private:
    void enter(State next);
    void schedule();
    void open();
    void protocol_failure();
    void begin_close(ws::CloseCode code, bool final);
    void cut();
    // Whether what the connection holds, its queue and its partly read input, is over max_queue_bytes.
    bool over_limit() const;

    // ---- ws::FrameSink ----
    bool on_message(bool text, std::string_view data) override;
    bool on_ping(std::string_view data) override;
    void on_close(std::uint16_t code) override;

    Listener& listener_;
    std::shared_ptr<Listener::LiveSet> live_;
    // The session observes nothing of the link's life but what the link tells it; the link only observes the
    // session: the engine owns sessions, a session owns its links. Reset once either side has closed the
    // other, so that neither hears back from the other afterwards.
    std::weak_ptr<Session> session_;
    ws::FrameReader reader_;
    std::string pending_;  // the start of a frame whose rest has not arrived
    // Input held partly read after the last read: pending_, the fragments of a message (the reader's), and the
    // attachments the session is assembling. It counts with frames_ against the slow-client bound.
    std::size_t input_held_ = 0;
    std::unique_ptr<boost::asio::steady_timer> linger_;  // only while closing
    Protocol protocol_;
    bool flush_scheduled_ = false;
    bool drain_watched_ = false;  // the session waits to hear that the queue was written
    State state_ = State::open;
};

}  // namespace yunity::socketio
