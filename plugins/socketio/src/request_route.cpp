#include "request_route.hpp"

#include "handshake_query.hpp"
#include "websocket_accept.hpp"

namespace yunity::socketio {

const char* message_of(EioError e) {
    switch (e) {
        case EioError::transport_unknown:
            return "Transport unknown";
        case EioError::session_unknown:
            return "Session ID unknown";
        case EioError::bad_handshake_method:
            return "Bad handshake method";
        case EioError::bad_request:
            return "Bad request";
        case EioError::forbidden:
            return "Forbidden";
        case EioError::unsupported_version:
            return "Unsupported protocol version";
    }
    return "Bad request";
}

namespace {

using Method = RequestFacts::Method;

routed::Refuse refuse(EioError code, const char* why = nullptr, int status = 400) { return {status, code, why}; }

// Browsers name the page's origin; where it is not allowed, nothing is served. Without an Origin (GETs of older
// browsers, script tags) the Referer names the page, and a JSONP request, which a script tag on any site can
// make, must carry one. Clients that are not browsers send neither and are let through: a browser cannot be made
// to send a request with neither, so cross-site websocket hijacking is not among them.
const char* origin_refusal(const RequestFacts& r, const TransportConfig& c, bool jsonp) {
    if (r.origin) return c.origin_allowed(*r.origin) ? nullptr : "origin not allowed";
    if (c.allowed_origins.empty()) return nullptr;
    if (!r.referer) return jsonp ? "a JSONP request without a Referer" : nullptr;
    return c.referer_allowed(*r.referer) ? nullptr : "referer not allowed";
}

bool valid_jsonp_index(std::string_view j) {
    return !j.empty() && j.size() <= 8 && j.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Route route(const RequestFacts& r, const SessionTable& sessions, const TransportConfig& config) {
    auto query = eio::parse_handshake_query(r.target);
    if (!query) return refuse(EioError::bad_request, "not an origin-form target");
    std::string raw_path;
    if (!sessions.serves(query->path, raw_path)) return routed::NotFound{};

    const auto& jsonp = query->j;
    if (const char* why = origin_refusal(r, config, !jsonp.empty())) return refuse(EioError::forbidden, why, 403);
    if (r.method == Method::options) return routed::Preflight{};

    if (query->eio != "3" && query->eio != "4") return refuse(EioError::unsupported_version);
    const Protocol protocol = query->eio == "3" ? Protocol::eio3_sio4 : Protocol::eio4_sio5;
    const bool websocket = query->transport == "websocket";
    if (!websocket && query->transport != "polling") return refuse(EioError::transport_unknown);
    if (!jsonp.empty() && (!config.jsonp || protocol != Protocol::eio3_sio4 || !valid_jsonp_index(jsonp)))
        return refuse(EioError::bad_request, "JSONP is off, or its index is not one");

    std::optional<SessionTable::Facts> session;
    if (!query->sid.empty()) {
        session = sessions.session(query->sid);
        // A sid is only known on the path that opened it (Socket.IO, or a plugin's plain Engine.IO path).
        if (!session || session->raw_path != raw_path) return refuse(EioError::session_unknown);
        if (session->protocol != protocol) return refuse(EioError::bad_request, "another Engine.IO version");
    }

    if (websocket) {
        if (!r.websocket_upgrade) return refuse(EioError::bad_request, "transport=websocket without an upgrade");
        if (r.websocket_version != "13") return routed::WrongWsVersion{};
        auto accept = websocket_accept(r.websocket_key);
        if (!accept) return refuse(EioError::bad_request, "a bad Sec-WebSocket-Key");
        if (session) return routed::Probe{std::string(query->sid), std::move(*accept)};
        return routed::Open{protocol, true, std::move(raw_path), std::move(*accept), false, {}};
    }
    if (r.websocket_upgrade) return refuse(EioError::bad_request, "an upgrade with transport=polling");
    if (!session) {
        if (r.method != Method::get) return refuse(EioError::bad_handshake_method);
        return routed::Open{protocol, false, std::move(raw_path), {}, query->b64, jsonp};
    }
    // After the upgrade the polling transport is gone, for POSTs as for GETs (engine.io: "Bad request").
    if (session->upgraded) return refuse(EioError::bad_request, "the session has upgraded to websocket");
    if (r.method == Method::get) return routed::Poll{std::string(query->sid), jsonp};
    if (r.method == Method::post) return routed::Post{std::string(query->sid), jsonp};
    return refuse(EioError::bad_request, "a method polling does not take");
}

}  // namespace yunity::socketio
