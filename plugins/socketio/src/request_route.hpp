// What the client port does with one HTTP request, decided without a socket: Engine.IO's HTTP rules (engine.io's
// verify() and handleRequest()) as a pure function, so that every refusal and every path through them is unit
// tested (tests/unit/request_route_test.cpp). HttpConnection only moves the bytes and carries the decision out.
#pragma once

#include "transport_config.hpp"

#include <yunity/events.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace yunity::socketio {

// Engine.IO's error codes, as its HTTP error bodies carry them.
enum class EioError {
    transport_unknown = 0,
    session_unknown = 1,
    bad_handshake_method = 2,
    bad_request = 3,
    forbidden = 4,
    unsupported_version = 5
};
const char* message_of(EioError e);

// What route() reads of a request.
struct RequestFacts {
    enum class Method { get, post, options, other };
    Method method = Method::other;
    std::string_view target;
    std::optional<std::string_view> origin;
    std::optional<std::string_view> referer;
    bool websocket_upgrade = false;  // `Connection: upgrade` and `Upgrade: websocket`
    std::string_view websocket_version;
    std::string_view websocket_key;
};

// What route() needs of the transport: where it serves, and the sessions it holds. Engine implements it.
class SessionTable {
public:
    struct Facts {
        std::string raw_path;  // the plain Engine.IO path the session was opened on; empty for Socket.IO
        Protocol protocol = Protocol::eio4_sio5;
        bool upgraded = false;  // its transport is a websocket now
    };
    virtual ~SessionTable() = default;
    // Whether `path` is served: Socket.IO (true, raw_path left empty), a plugin's plain Engine.IO path (true,
    // raw_path set), or nothing (false).
    virtual bool serves(std::string_view path, std::string& raw_path) const = 0;
    virtual std::optional<Facts> session(std::string_view sid) const = 0;
};

// The decisions. Each names what the connection must do; the refusals carry what the answer says.
namespace routed {
struct NotFound {};
// An Engine.IO error: its status and code in the JSON body; `why` only for the log.
struct Refuse {
    int status;
    EioError code;
    const char* why = nullptr;
};
struct Preflight {};       // OPTIONS: 200 with the CORS headers
struct WrongWsVersion {};  // 426 with Sec-WebSocket-Version: 13
// A new session, over polling or over a websocket (its Sec-WebSocket-Accept given); admission is the caller's,
// as it knows the client's address.
struct Open {
    Protocol protocol;
    bool websocket;
    std::string raw_path;
    std::string accept;
    bool b64 = false;
    std::string jsonp;
};
// A websocket for session `sid`, to probe and then carry it.
struct Probe {
    std::string sid;
    std::string accept;
};
struct Poll {
    std::string sid;
    std::string jsonp;
};
struct Post {
    std::string sid;
    std::string jsonp;
};
}  // namespace routed

using Route = std::variant<routed::NotFound, routed::Refuse, routed::Preflight, routed::WrongWsVersion, routed::Open,
                           routed::Probe, routed::Poll, routed::Post>;

Route route(const RequestFacts& request, const SessionTable& sessions, const TransportConfig& config);

}  // namespace yunity::socketio
