#pragma once

#include <yunity/settings_table.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace yunity::socketio {

// Every limit and timeout of the transport, with its default and the reason for it. Read from the plugin's
// config section through settings(), whose names are these members' with the unit added (ping_interval_ms).
struct TransportConfig {
    // Where Engine.IO is served: socket.io's default path and the original yunity-sockets' one.
    std::vector<std::string> paths{"/socket.io/", "/socket/"};
    // socket.io's defaults, which clients expect unless told otherwise.
    std::chrono::milliseconds ping_interval{25000};
    std::chrono::milliseconds ping_timeout{20000};
    // Largest message or polling body a client may send; also advertised to version 4 clients (socket.io: 1e6).
    std::size_t max_payload = 1000000;
    // A version 5 client that opened Engine.IO but sent no CONNECT is dropped after this. socket.io waits 45 s;
    // real clients send CONNECT with the open packet's reply, and a session nobody connects only holds a slot.
    std::chrono::milliseconds connect_timeout{10000};
    // Outgoing bytes queued for one connection before it is cut off as too slow (Centrifugo's limit too):
    // one stalled reader must never hold the server's memory or slow the others.
    std::size_t max_queue_bytes = 1 << 20;
    // Time to send a complete request head, and to finish a websocket handshake: slow-loris guards.
    std::chrono::milliseconds request_timeout{10000};
    std::chrono::milliseconds websocket_handshake_timeout{10000};
    std::size_t max_header_bytes = 8192;
    // Allowed browser origins; empty: any (echoed with credentials, as version 2 browser clients need).
    std::vector<std::string> allowed_origins;
    // JSONP polling (Engine.IO 3 clients in browsers without CORS, `j=` in the query): a script tag can load it
    // from any site, so it is off unless asked for.
    bool jsonp = false;
    // The `io` cookie, only useful to sticky load balancers that key on it; off as in engine.io 6.
    bool cookie = false;
    // Longest session id accepted from `authenticate`; longer ones are ignored (nobody's session is that long).
    std::size_t max_session_id = 1024;
    // Upgrades offered over polling.
    bool allow_upgrades = true;
    // Sessions held at once; a handshake beyond is answered 503, and clients retry with their backoff. 0: the
    // open-file limit (raised to its hard limit at startup) less a reserve for redis, logs and admin requests.
    std::size_t max_connections = 0;
    // Sessions one client address (an IPv6 /64) may hold at once, 503 beyond. One address must not take every
    // slot; behind a proxy, list it in trusted_proxies so that clients are told apart.
    std::size_t max_connections_per_address = 1000;
    // Of those, sessions that have not completed a Socket.IO CONNECT yet (version 5 clients before theirs): what
    // a flood of bare handshakes holds. Real clients connect within milliseconds of the handshake.
    std::size_t max_pending_per_address = 64;
    // Client-port connections one address may hold before they carry a request for a session (an Engine.IO
    // handshake, or a request of a session it has): each is held up to request_timeout_ms doing nothing, and
    // without a bound one address could take every file descriptor. Beyond it a new connection is closed at once.
    // A trusted proxy's connections are not counted: it is the proxy's to bound its clients' idle connections.
    std::size_t max_unbound_per_address = 64;
    // Proxies (addresses or networks) whose X-Forwarded-For names the client; nobody's by default, since a
    // client could otherwise claim any address.
    std::vector<std::string> trusted_proxies;

    // The table the section is read with and the configuration reference is printed from.
    static const SettingsTable<TransportConfig>& settings();
    // Reads the settings present in `section` over the defaults; throws std::runtime_error naming a bad one.
    static TransportConfig from_json(const rapidjson::Value& section);
    bool origin_allowed(std::string_view origin) const;
    // Whether the page a Referer names (an absolute URL) is of an allowed origin; false for anything else.
    bool referer_allowed(std::string_view referer) const;
};

}  // namespace yunity::socketio
