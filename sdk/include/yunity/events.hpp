// The typed events that flow between plugins over the bus.
//
// Every event is a plain value struct with an explicit, never reused kind number: the bus keys on that number
// rather than on std::type_index, whose identity is not reliable across shared libraries. Connections are
// named by id, never by pointer.
#pragma once

#include "handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace yunity {

using EventKind = std::uint32_t;
// Unique within one process, never reused; assigned by the transport that accepted the connection.
using ConnectionId = std::uint64_t;

// The protocol pair a connection speaks: Engine.IO 3 carrying Socket.IO 4 (socket.io-client 1.x and 2.x), or
// Engine.IO 4 carrying Socket.IO 5 (3.x and later). No other pairing exists in the wild. The value is the
// Engine.IO version, as clients name it in the handshake's `EIO` parameter.
enum class Protocol : int {
    eio3_sio4 = 3,
    eio4_sio5 = 4,
};

constexpr int engineio_version(Protocol p) { return static_cast<int>(p); }
constexpr int socketio_version(Protocol p) { return p == Protocol::eio3_sio4 ? 4 : 5; }

enum class CloseReason : std::uint8_t {
    client_close = 0,
    transport_error = 1,
    ping_timeout = 2,
    server_shutdown = 3,
    too_slow = 4,
    protocol_error = 5,
    transport_replaced = 6,
    taken_over = 7,  // its client came back on another connection, claiming its pid (events::CloseConnection)
};

inline const char* to_string(CloseReason r) {
    switch (r) {
        case CloseReason::client_close:
            return "client close";
        case CloseReason::transport_error:
            return "transport error";
        case CloseReason::ping_timeout:
            return "ping timeout";
        case CloseReason::server_shutdown:
            return "server shutdown";
        case CloseReason::too_slow:
            return "too slow";
        case CloseReason::protocol_error:
            return "protocol error";
        case CloseReason::transport_replaced:
            return "transport replaced";
        case CloseReason::taken_over:
            return "taken over";
    }
    return "unknown";
}

namespace events {

// A client connection was accepted and completed its handshake.
struct ConnectionOpened {
    static constexpr EventKind kind = 1;
    ConnectionId connection = 0;
    std::string public_id;  // the id the client sees as its own (socket.io's socket.id)
    std::string transport;  // "polling" or "websocket"
    Protocol protocol = Protocol::eio4_sio5;
    std::shared_ptr<const Handshake> handshake;
    // The recovery id the client was given (Socket.IO 5's `pid`, in the CONNECT reply), when recovery is on;
    // a Resumed may replace it with the pid the client comes back with.
    std::string pid;
};

// A connection went away; it is no longer addressable.
struct ConnectionClosed {
    static constexpr EventKind kind = 2;
    ConnectionId connection = 0;
    CloseReason reason = CloseReason::client_close;
};

// A client asked to be known by a session id (socket.io's `authenticate` event, or a session cookie).
struct Authenticate {
    static constexpr EventKind kind = 3;
    ConnectionId connection = 0;
    std::string session_id;
};

// A session resolver's answer: the session belongs to `user`, or to nobody. Applies to every connection
// currently holding that session; resolvers publish answers in the order their backend produced them, so the
// latest answer is the session's state.
struct SessionResolved {
    static constexpr EventKind kind = 4;
    std::string session_id;
    std::optional<std::string> user;
};

// A notification from a source, for a list of users. `payload` is the compact JSON object to send as the
// `message` event's argument (the published object minus `users`), serialized once. `offset` names the
// notification's place in its source, so that a client can later ask for what came after it: redis-streams
// sets the stream entry's id (`1733150000000-0`), redis-pubsub and http-publish `<run id>-<sequence>` with a
// run id drawn at each start (so an offset of another run is recognised as one). Opaque to clients; empty when
// the source keeps no order.
struct Notification {
    static constexpr EventKind kind = 5;
    std::vector<std::string> users;
    std::shared_ptr<const std::string> payload;
    std::string offset;
};

// The core's answer to a notification: send `event` with the JSON argument `payload` to these connections.
// Each connection appears once; transports ignore ids that are not theirs. `offset` is the notification's.
struct Deliver {
    static constexpr EventKind kind = 6;
    std::vector<ConnectionId> connections;
    std::string event = "message";
    std::shared_ptr<const std::string> payload;
    std::string offset;
};

// A client asks to continue where it left off: every notification for its user after `offset` (the last one
// it got), before any new one. Either a socket.io-client 4.6+ CONNECT carrying the `pid` of the connection it
// continues (the core finds that connection's session in its recovery records), or an explicit resume from any
// other client: `authenticate` with {sessionId, offset}, whose Authenticate comes just before (`pid` empty).
// The core answers with a Resumed, then sends what was missed as Delivers to this connection alone.
struct Resume {
    static constexpr EventKind kind = 16;
    ConnectionId connection = 0;
    std::string pid;
    std::string offset;  // empty: the client got nothing since it was given the pid
};

// The core's answer to a Resume, published before anything it replays. `recovered` false tells the client it
// missed notifications it will not get (its app refetches its state), with the reason: "recovery off",
// "unknown pid" (never given, expired or already used), "no session", "logged out", "offset unknown" (older than
// the history, or of another run), "offset too old" (older than the recovery window), "entries trimmed" or
// "entries deleted" (gone from the source's log), "stream gone", "too far behind" (more to replay than the
// history's size), "log unavailable", "records unavailable", "already resumed" (one resume per connection).
// `pid` is what the client keeps: the one it came back with when recovered, else the connection's new one.
struct Resumed {
    static constexpr EventKind kind = 17;
    ConnectionId connection = 0;
    bool recovered = false;
    std::string pid;
    std::string reason;
    std::size_t replayed = 0;  // notifications that follow as Delivers
};

// The core asks a transport to say (with Drained) when what it has sent this connection so far has left the
// server: a long replay goes out in slices, each after the last was written, so that a client far behind is
// never sent more at once than its queue's bound (max_queue_bytes) and is not cut off as too slow. A transport
// that writes Delivers must answer each, once (at once when nothing is queued); a connection that closes first
// needs no answer.
struct AwaitDrain {
    static constexpr EventKind kind = 18;
    ConnectionId connection = 0;
};

struct Drained {
    static constexpr EventKind kind = 19;
    ConnectionId connection = 0;
};

// The core asks the transport to close a connection. Published when a client comes back with the pid of a
// connection the server still holds (it dropped without a close the server saw: a network change, a polling client
// between two polls): that connection is the client's past, and the new one takes its session and what it missed.
struct CloseConnection {
    static constexpr EventKind kind = 20;
    ConnectionId connection = 0;
    CloseReason reason = CloseReason::taken_over;
};

// A connection switched transport (the polling → websocket upgrade).
struct TransportChanged {
    static constexpr EventKind kind = 7;
    ConnectionId connection = 0;
    std::string transport;
};

// A source or resolver's link to its backend went up or down; readiness follows these.
struct SourceState {
    static constexpr EventKind kind = 8;
    std::string source;  // the reporting plugin's name
    bool ready = false;
    std::string detail;
};

// A connection's session or user changed in the core's registry (after Authenticate or SessionResolved).
struct MembershipChanged {
    static constexpr EventKind kind = 9;
    ConnectionId connection = 0;
    std::optional<std::string> session_id;
    std::optional<std::string> user;
};

// A client emitted an event on a namespace it joined (socket.io's `socket.emit(event, ...args)`), including the
// stock `authenticate`. `args` is the compact JSON array of the arguments after the name; a binary argument
// stays in it as {"_placeholder":true,"num":i} and its bytes are attachments[i]. With an `ack_id` the client
// waits for an answer: publish an `Ack` with that id.
struct ClientEvent {
    static constexpr EventKind kind = 10;
    ConnectionId connection = 0;
    std::string nsp = "/";
    std::string event;
    std::string args = "[]";
    std::vector<std::string> attachments;
    std::optional<std::uint64_t> ack_id;
};

// A plugin's answer to a ClientEvent that asked for one: the client's ack callback gets these arguments (a
// JSON array, placeholders for attachments as in ClientEvent). An ack for a connection that is gone, or that
// left the namespace, is dropped by the transport; answer each ack id once.
struct Ack {
    static constexpr EventKind kind = 11;
    ConnectionId connection = 0;
    std::string nsp = "/";
    std::uint64_t ack_id = 0;
    std::string args = "[]";
    std::vector<std::string> attachments;
};

// Send `event` with `args` (a JSON array, placeholders for attachments as in ClientEvent) on namespace `nsp`
// to some connections, a user's connections, or every connection that joined `nsp`. The core turns a `user`
// target into a `connections` target; transports write `connections` (the ids that are theirs and joined
// `nsp`) and `everyone`.
struct Emit {
    static constexpr EventKind kind = 12;
    enum class Target : std::uint8_t { connections = 0, user = 1, everyone = 2 };
    Target target = Target::connections;
    std::vector<ConnectionId> connections;  // Target::connections
    std::string user;                       // Target::user
    std::string nsp = "/";
    std::string event;
    std::string args = "[]";
    std::vector<std::string> attachments;
    // With an id (not for Target::everyone) each client is asked to acknowledge; its answer comes back as a
    // ClientAck with this id and its connection. The ids are the plugin's to choose, unique per connection among
    // its pending ones.
    std::optional<std::uint64_t> ack_id;
};

// A client's answer to an Emit that asked for an acknowledgement (its ack callback's arguments, as in
// ClientEvent).
struct ClientAck {
    static constexpr EventKind kind = 13;
    ConnectionId connection = 0;
    std::string nsp = "/";
    std::uint64_t ack_id = 0;
    std::string args = "[]";
    std::vector<std::string> attachments;
};

// A message from a client of a plain Engine.IO path a plugin serves (see yunity/engineio.hpp): the bytes as
// sent, text or binary. No Socket.IO layer is involved.
struct EngineMessage {
    static constexpr EventKind kind = 14;
    ConnectionId connection = 0;
    std::string path;  // the served path the client connected to, e.g. "/engine.io/"
    std::string data;
    bool binary = false;
};

// Send one plain Engine.IO message to connections of plain Engine.IO paths (ids of Socket.IO connections are
// ignored). Encoded once for every recipient.
struct EngineSend {
    static constexpr EventKind kind = 15;
    std::vector<ConnectionId> connections;
    std::string data;
    bool binary = false;
};

}  // namespace events

// A short human-readable summary of an event, for logs; "kind N" for kinds this SDK does not know.
// Session ids are credentials (a session cookie's value), and a connection's public id is, for an Engine.IO 3
// client, its sid, which lets anyone who reads it speak as that client: describe() never shows either, only
// whether there is one and its length. The connection number (#N) is what ties log lines together.
inline std::string describe(EventKind kind, const void* event) {
    using namespace events;
    auto opt = [](const std::optional<std::string>& v) { return v ? "\"" + *v + "\"" : std::string("none"); };
    auto secret = [](const char* what, const std::string& v) {
        if (v.empty()) return std::string("no ") + what;
        return std::string("a ") + what + " of " + std::to_string(v.size()) + " characters";
    };
    switch (kind) {
        case ConnectionOpened::kind: {
            auto& e = *static_cast<const ConnectionOpened*>(event);
            return "ConnectionOpened #" + std::to_string(e.connection) + " (" + secret("public id", e.public_id) +
                   ") " + e.transport + " EIO " + std::to_string(engineio_version(e.protocol)) +
                   (e.handshake ? " from " + e.handshake->address : "");
        }
        case ConnectionClosed::kind: {
            auto& e = *static_cast<const ConnectionClosed*>(event);
            return "ConnectionClosed #" + std::to_string(e.connection) + " (" + to_string(e.reason) + ")";
        }
        case Authenticate::kind: {
            auto& e = *static_cast<const Authenticate*>(event);
            return "Authenticate #" + std::to_string(e.connection) + " (" + secret("session id", e.session_id) + ")";
        }
        case SessionResolved::kind: {
            auto& e = *static_cast<const SessionResolved*>(event);
            return "SessionResolved (" + secret("session id", e.session_id) + ") -> " + opt(e.user);
        }
        case Notification::kind: {
            auto& e = *static_cast<const Notification*>(event);
            return "Notification for " + std::to_string(e.users.size()) + " users, " +
                   std::to_string(e.payload ? e.payload->size() : 0) + " bytes" +
                   (e.offset.empty() ? "" : ", offset " + e.offset);
        }
        case Deliver::kind: {
            auto& e = *static_cast<const Deliver*>(event);
            return "Deliver " + e.event + " to " + std::to_string(e.connections.size()) + " connections" +
                   (e.offset.empty() ? "" : ", offset " + e.offset);
        }
        case TransportChanged::kind: {
            auto& e = *static_cast<const TransportChanged*>(event);
            return "TransportChanged #" + std::to_string(e.connection) + " to " + e.transport;
        }
        case SourceState::kind: {
            auto& e = *static_cast<const SourceState*>(event);
            return "SourceState " + e.source + (e.ready ? " ready" : " not ready") +
                   (e.detail.empty() ? "" : ": " + e.detail);
        }
        case MembershipChanged::kind: {
            auto& e = *static_cast<const MembershipChanged*>(event);
            return "MembershipChanged #" + std::to_string(e.connection) + " (" +
                   (e.session_id ? secret("session id", *e.session_id) : std::string("no session")) + ") user " +
                   opt(e.user);
        }
        case ClientEvent::kind: {
            auto& e = *static_cast<const ClientEvent*>(event);
            return "ClientEvent #" + std::to_string(e.connection) + " " + e.nsp + " \"" + e.event + "\" " +
                   std::to_string(e.args.size()) + " bytes, " + std::to_string(e.attachments.size()) + " attachments" +
                   (e.ack_id ? ", ack " + std::to_string(*e.ack_id) : "");
        }
        case Ack::kind: {
            auto& e = *static_cast<const Ack*>(event);
            return "Ack #" + std::to_string(e.connection) + " " + e.nsp + " " + std::to_string(e.ack_id) + ", " +
                   std::to_string(e.args.size()) + " bytes, " + std::to_string(e.attachments.size()) + " attachments";
        }
        case Emit::kind: {
            auto& e = *static_cast<const Emit*>(event);
            std::string to = e.target == Emit::Target::everyone ? std::string("everyone")
                             : e.target == Emit::Target::user   ? "user \"" + e.user + "\""
                                                                : std::to_string(e.connections.size()) + " connections";
            return "Emit " + e.nsp + " \"" + e.event + "\" to " + to + ", " + std::to_string(e.args.size()) +
                   " bytes, " + std::to_string(e.attachments.size()) + " attachments" +
                   (e.ack_id ? ", ack " + std::to_string(*e.ack_id) : "");
        }
        case ClientAck::kind: {
            auto& e = *static_cast<const ClientAck*>(event);
            return "ClientAck #" + std::to_string(e.connection) + " " + e.nsp + " " + std::to_string(e.ack_id) + ", " +
                   std::to_string(e.args.size()) + " bytes, " + std::to_string(e.attachments.size()) + " attachments";
        }
        case EngineMessage::kind: {
            auto& e = *static_cast<const EngineMessage*>(event);
            return "EngineMessage #" + std::to_string(e.connection) + " " + e.path + ", " +
                   std::to_string(e.data.size()) + (e.binary ? " binary bytes" : " bytes");
        }
        case Resume::kind: {
            auto& e = *static_cast<const Resume*>(event);
            return "Resume #" + std::to_string(e.connection) + (e.pid.empty() ? " (explicit)" : " with a pid") +
                   " after " + (e.offset.empty() ? std::string("(none)") : e.offset);
        }
        case Resumed::kind: {
            auto& e = *static_cast<const Resumed*>(event);
            return "Resumed #" + std::to_string(e.connection) +
                   (e.recovered ? ", " + std::to_string(e.replayed) + " replayed" : " not: " + e.reason);
        }
        case AwaitDrain::kind:
            return "AwaitDrain #" + std::to_string(static_cast<const AwaitDrain*>(event)->connection);
        case Drained::kind:
            return "Drained #" + std::to_string(static_cast<const Drained*>(event)->connection);
        case EngineSend::kind: {
            auto& e = *static_cast<const EngineSend*>(event);
            return "EngineSend to " + std::to_string(e.connections.size()) + " connections, " +
                   std::to_string(e.data.size()) + (e.binary ? " binary bytes" : " bytes");
        }
    }
    return "kind " + std::to_string(kind);
}

}  // namespace yunity
