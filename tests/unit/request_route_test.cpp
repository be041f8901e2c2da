// Engine.IO's HTTP rules as the client port applies them, without a socket: every refusal and every path.
#include "request_route.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace yunity::socketio;
using Method = RequestFacts::Method;

namespace {

struct Table : SessionTable {
    std::map<std::string, Facts, std::less<>> sessions;
    bool serves(std::string_view path, std::string& raw_path) const override {
        if (path == "/socket.io/" || path == "/socket/") return true;
        if (path == "/engine.io/") {
            raw_path = "/engine.io/";
            return true;
        }
        return false;
    }
    std::optional<Facts> session(std::string_view sid) const override {
        auto it = sessions.find(sid);
        return it == sessions.end() ? std::nullopt : std::optional(it->second);
    }
};

RequestFacts get(std::string_view target) {
    RequestFacts r;
    r.method = Method::get;
    r.target = target;
    return r;
}
RequestFacts upgrade(std::string_view target) {
    auto r = get(target);
    r.websocket_upgrade = true;
    r.websocket_version = "13";
    r.websocket_key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455's example
    return r;
}

template <class T>
T must(const Route& r) {
    REQUIRE(std::holds_alternative<T>(r));
    return std::get<T>(r);
}

EioError refused(const Route& r, int status = 400) {
    auto refusal = must<routed::Refuse>(r);
    CHECK(refusal.status == status);
    return refusal.code;
}

}  // namespace

TEST_SUITE("request route") {

TEST_CASE("handshakes: polling with its options, websocket with its accept key, on either path") {
    Table t;
    const TransportConfig c;
    auto open = must<routed::Open>(route(get("/socket.io/?EIO=4&transport=polling&t=x&token=a"), t, c));
    CHECK(open.protocol == yunity::Protocol::eio4_sio5);
    CHECK_FALSE(open.websocket);
    CHECK(open.raw_path.empty());
    open = must<routed::Open>(route(get("/socket/?EIO=3&transport=polling&b64=1"), t, c));
    CHECK(open.protocol == yunity::Protocol::eio3_sio4);
    CHECK(open.b64);
    open = must<routed::Open>(route(upgrade("/engine.io/?EIO=4&transport=websocket"), t, c));
    CHECK(open.websocket);
    CHECK(open.raw_path == "/engine.io/");
    CHECK(open.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("what is not served, or not Engine.IO") {
    Table t;
    const TransportConfig c;
    must<routed::NotFound>(route(get("/other/?EIO=4&transport=polling"), t, c));
    CHECK(refused(route(get("http://x/socket.io/"), t, c)) == EioError::bad_request);
    CHECK(refused(route(get("/socket.io/?EIO=5&transport=polling"), t, c)) == EioError::unsupported_version);
    CHECK(refused(route(get("/socket.io/?transport=polling"), t, c)) == EioError::unsupported_version);
    CHECK(refused(route(get("/socket.io/?EIO=4&transport=flash"), t, c)) == EioError::transport_unknown);
    auto post = get("/socket.io/?EIO=4&transport=polling");
    post.method = Method::post;
    CHECK(refused(route(post, t, c)) == EioError::bad_handshake_method);
}

TEST_CASE("websocket upgrades: the header, the version, the key") {
    Table t;
    const TransportConfig c;
    CHECK(refused(route(get("/socket.io/?EIO=4&transport=websocket"), t, c)) == EioError::bad_request);
    auto r = upgrade("/socket.io/?EIO=4&transport=websocket");
    r.websocket_version = "8";
    must<routed::WrongWsVersion>(route(r, t, c));
    r = upgrade("/socket.io/?EIO=4&transport=websocket");
    r.websocket_key = "short";
    CHECK(refused(route(r, t, c)) == EioError::bad_request);
    CHECK(refused(route(upgrade("/socket.io/?EIO=4&transport=polling"), t, c)) == EioError::bad_request);
}

TEST_CASE("existing sessions: poll, post, probe; a sid of another path, version or an upgraded session refused") {
    Table t;
    t.sessions["abc"] = {"", yunity::Protocol::eio4_sio5, false};
    t.sessions["raw"] = {"/engine.io/", yunity::Protocol::eio4_sio5, false};
    t.sessions["up"] = {"", yunity::Protocol::eio3_sio4, true};
    const TransportConfig c;
    CHECK(must<routed::Poll>(route(get("/socket.io/?EIO=4&transport=polling&sid=abc"), t, c)).sid == "abc");
    auto post = get("/socket.io/?EIO=4&transport=polling&sid=abc");
    post.method = Method::post;
    CHECK(must<routed::Post>(route(post, t, c)).sid == "abc");
    CHECK(must<routed::Probe>(route(upgrade("/socket.io/?EIO=4&transport=websocket&sid=abc"), t, c)).sid == "abc");
    CHECK(refused(route(get("/socket.io/?EIO=4&transport=polling&sid=nope"), t, c)) == EioError::session_unknown);
    CHECK(refused(route(get("/socket.io/?EIO=4&transport=polling&sid=raw"), t, c)) == EioError::session_unknown);
    CHECK(must<routed::Poll>(route(get("/engine.io/?EIO=4&transport=polling&sid=raw"), t, c)).sid == "raw");
    CHECK(refused(route(get("/socket.io/?EIO=3&transport=polling&sid=abc"), t, c)) == EioError::bad_request);
    CHECK(refused(route(get("/socket.io/?EIO=3&transport=polling&sid=up"), t, c)) == EioError::bad_request);
    auto put = get("/socket.io/?EIO=4&transport=polling&sid=abc");
    put.method = Method::other;
    CHECK(refused(route(put, t, c)) == EioError::bad_request);
}

TEST_CASE("origins: any by default; with allowed_origins the Origin, else the Referer, and JSONP needs one") {
    Table t;
    TransportConfig open;
    auto r = get("/socket.io/?EIO=4&transport=polling");
    r.origin = "https://anywhere.example";
    must<routed::Open>(route(r, t, open));
    TransportConfig c;
    c.allowed_origins = {"https://good.example"};
    CHECK(refused(route(r, t, c), 403) == EioError::forbidden);
    r.origin = "https://good.example";
    must<routed::Open>(route(r, t, c));
    r.origin.reset();
    must<routed::Open>(route(r, t, c));  // neither header: not a browser
    r.referer = "https://evil.example/page";
    CHECK(refused(route(r, t, c), 403) == EioError::forbidden);
    r.referer = "https://good.example/page";
    must<routed::Open>(route(r, t, c));
    c.jsonp = true;
    auto j = get("/socket.io/?EIO=3&transport=polling&j=1");
    CHECK(refused(route(j, t, c), 403) == EioError::forbidden);
    j.referer = "https://good.example/";
    CHECK(must<routed::Open>(route(j, t, c)).jsonp == "1");
    // A refused origin is refused before anything else is looked at, preflights included.
    auto pre = get("/socket.io/?EIO=4&transport=polling");
    pre.method = Method::options;
    pre.origin = "https://evil.example";
    CHECK(refused(route(pre, t, c), 403) == EioError::forbidden);
    pre.origin = "https://good.example";
    must<routed::Preflight>(route(pre, t, c));
}

TEST_CASE("JSONP: off unless asked for; only for Engine.IO 3; an index of digits") {
    Table t;
    TransportConfig c;
    CHECK(refused(route(get("/socket.io/?EIO=3&transport=polling&j=0"), t, c)) == EioError::bad_request);
    c.jsonp = true;
    CHECK(must<routed::Open>(route(get("/socket.io/?EIO=3&transport=polling&j=0"), t, c)).jsonp == "0");
    CHECK(refused(route(get("/socket.io/?EIO=4&transport=polling&j=0"), t, c)) == EioError::bad_request);
    CHECK(refused(route(get("/socket.io/?EIO=3&transport=polling&j=x1"), t, c)) == EioError::bad_request);
    CHECK(refused(route(get("/socket.io/?EIO=3&transport=polling&j=123456789"), t, c)) == EioError::bad_request);
}

}
