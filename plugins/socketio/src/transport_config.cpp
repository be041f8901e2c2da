#include "transport_config.hpp"

#include "client_address.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

namespace yunity::socketio {

const SettingsTable<TransportConfig>& TransportConfig::settings() {
    using S = Setting<TransportConfig>;
    static const SettingsTable<TransportConfig> table{
        S{"paths", &TransportConfig::paths, "where Engine.IO is served (a missing trailing '/' is added)"}
            .non_empty()
            .each("paths starting with '/'",
                  [](std::string& p) {
                      if (p.empty() || p.front() != '/') return false;
                      if (p.back() != '/') p += '/';
                      return true;
                  }),
        {"ping_interval_ms", &TransportConfig::ping_interval, "the Engine.IO heartbeat interval, told to clients"},
        {"ping_timeout_ms", &TransportConfig::ping_timeout,
         "how late a heartbeat may be before the connection counts as lost, told to clients"},
        {"max_payload", &TransportConfig::max_payload,
         "largest message or polling body a client may send, in bytes (told to Engine.IO 4 clients)"},
        {"connect_timeout_ms", &TransportConfig::connect_timeout,
         "a Socket.IO 5 client (3.x/4.x) that sends no CONNECT within this time is dropped"},
        {"max_queue_bytes", &TransportConfig::max_queue_bytes,
         "outgoing bytes queued for one connection before it is cut off as too slow"},
        {"request_timeout_ms", &TransportConfig::request_timeout, "time a client has to send a whole request head"},
        {"websocket_handshake_timeout_ms", &TransportConfig::websocket_handshake_timeout,
         "time a client has to finish a websocket handshake: the closing one, and over TLS the opening one"},
        S{"max_header_bytes", &TransportConfig::max_header_bytes, "larger request heads are refused"}.at_most(
            0xffffffffu),  // Beast's parser takes a 32-bit limit
        S{"allowed_origins", &TransportConfig::allowed_origins,
          "browser origins allowed to connect; empty, or containing `\"*\"`: any (echoed with credentials). When "
          "set, a request without Origin is judged by its Referer, and a JSONP request needs one"}
            .default_text("any"),
        {"jsonp", &TransportConfig::jsonp,
         "serve JSONP polling (`j=`, Engine.IO 3 in browsers without CORS); a script tag on any site can load it"},
        {"cookie", &TransportConfig::cookie, "set the `io=<sid>` cookie, for load balancers that stick to it"},
        {"max_session_id", &TransportConfig::max_session_id, "longer session ids in `authenticate` are ignored"},
        {"allow_upgrades", &TransportConfig::allow_upgrades, "offer polling clients the upgrade to websocket"},
        S{"max_connections", &TransportConfig::max_connections,
          "sessions held at once; handshakes beyond get 503 (clients retry with backoff)"}
            .default_text("the open-file limit less 256"),
        {"max_connections_per_address", &TransportConfig::max_connections_per_address,
         "sessions one client address (an IPv6 /64) may hold at once, 503 beyond. Behind a proxy, set "
         "trusted_proxies"},
        {"max_pending_per_address", &TransportConfig::max_pending_per_address,
         "sessions one client address may hold before their Socket.IO CONNECT, 503 beyond"},
        {"max_unbound_per_address", &TransportConfig::max_unbound_per_address,
         "connections one client address may hold open before they carry a request for a session (an Engine.IO "
         "handshake, or a request of a session it has); a new one beyond is closed at once. A trusted proxy's "
         "connections are not counted"},
        S{"trusted_proxies", &TransportConfig::trusted_proxies,
          "proxies (IP addresses or networks) whose X-Forwarded-For names the client, for the limits and the "
          "handshake's address"}
            .each("IP addresses or networks", [](std::string& p) { return !TrustedProxies::invalid(p); })
            .default_text("none"),
    };
    return table;
}

TransportConfig TransportConfig::from_json(const rapidjson::Value& section) {
    TransportConfig c = settings().parse(section);
    if (std::find(c.allowed_origins.begin(), c.allowed_origins.end(), "*") != c.allowed_origins.end())
        c.allowed_origins.clear();
    return c;
}

bool TransportConfig::referer_allowed(std::string_view referer) const {
    if (allowed_origins.empty()) return true;
    const auto url = boost::urls::parse_absolute_uri(referer);
    if (!url || !url->has_authority()) return false;
    // An origin is scheme://host[:port], as browsers write it: no user info, no path.
    std::string origin(url->scheme());
    origin += "://";
    origin += url->encoded_host_and_port();
    return origin_allowed(origin);
}

bool TransportConfig::origin_allowed(std::string_view origin) const {
    return allowed_origins.empty() ||
           std::find(allowed_origins.begin(), allowed_origins.end(), origin) != allowed_origins.end();
}

}  // namespace yunity::socketio
