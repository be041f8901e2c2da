// The two ways a session reaches its client, as the session sees them; implemented with Beast elsewhere so
// that this header, and the protocol logic behind it, stay free of Beast.
#pragma once

#include <yunity/events.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace yunity::socketio {

// One outgoing Engine.IO packet: the text of a packet (type digit first) or, when `binary`, raw bytes. The
// bytes are shared: a notification is encoded once and the same buffer goes to every recipient.
struct Frame {
    std::shared_ptr<const std::string> bytes;
    bool binary = false;
};

// What a queued frame holds beyond its payload, rounded up: its queue entry (a Frame in a session's polling
// queue, 48 bytes in a websocket's ws::OutgoingFrames), and the shared buffer's control block and string
// (allocated per frame for the replies a connection makes itself, pongs). Both queues count it per frame against
// the slow-client bound (max_queue_bytes), so a client that asks for many tiny replies and never reads weighs as
// much as one sent a large backlog.
inline constexpr std::size_t frame_overhead = 128;

// A polling GET held open until the session has something to send.
class PollWaiter {
public:
    virtual ~PollWaiter() = default;
    // Completes the request with an encoded payload (or an error status); called at most once.
    virtual void respond(std::string body, bool binary_body) = 0;
};

// What a send did, as uWebSockets' SendStatus says it: the caller reacts to back-pressure from the answer
// instead of asking for queue sizes afterwards.
enum class SendStatus {
    queued,      // within the slow-client bound (max_queue_bytes)
    over_limit,  // queued, and the link now holds more than the bound: the caller closes it as too slow
    dropped,     // the link is closing: nothing was queued
};

// A websocket attached to a session (probing, or its transport after the upgrade).
class WebsocketLink {
public:
    virtual ~WebsocketLink() = default;
    virtual SendStatus send(Frame frame) = 0;
    // Tells the session (Session::on_drained) once every frame sent so far has been written: at once, from the
    // loop, when none is waiting.
    virtual void watch_drain() = 0;
    // Closes the websocket: with a close frame (1001 going away at shutdown), or, for a client that is too
    // slow or broken, by shutting the socket at once.
    virtual void close(CloseReason reason) = 0;
    // Gives back the room of an empty outgoing queue: called at the session's heartbeat, so that a connection
    // keeps it while frames come in bulk and holds none once idle.
    virtual void trim() = 0;
};

}  // namespace yunity::socketio
