// The admin port's Host and Origin rules, and the JSON-only writes, through the router as requests meet them.
#include "admin_router.hpp"
#include "request_guard.hpp"

#include <doctest/doctest.h>

using namespace yunity;
using namespace yunity::admin;

namespace {

AdminRequest request(std::string method, std::vector<std::pair<std::string, std::string>> headers) {
    AdminRequest r;
    r.method = std::move(method);
    r.target = r.path = "/stats";
    r.headers = std::move(headers);
    return r;
}

int status(const RequestGuard& g, const AdminRequest& r) {
    auto refusal = g.check(r);
    if (!refusal) refusal = RequestGuard::check_content_type(r);
    return refusal ? refusal->status : 200;
}

}  // namespace

TEST_SUITE("admin request guard") {

TEST_CASE("Host: the bound address, and on loopback localhost and IP addresses; foreign names are refused") {
    const RequestGuard g("127.0.0.1", {});
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}})) == 200);
    CHECK(status(g, request("GET", {{"host", "localhost:5001"}})) == 200);
    CHECK(status(g, request("GET", {{"host", "LOCALHOST."}})) == 200);
    CHECK(status(g, request("GET", {{"host", "[::1]:5001"}})) == 200);
    CHECK(status(g, request("GET", {})) == 200);  // HTTP/1.0 without Host: no browser
    // DNS rebinding: a name the attacker owns, resolving to 127.0.0.1.
    CHECK(status(g, request("GET", {{"host", "rebind.evil.example:5001"}})) == 403);
    CHECK(status(g, request("GET", {{"host", "localhost.evil.example"}})) == 403);
}

TEST_CASE("Host: bound to a public address, only that address and the configured names") {
    const RequestGuard g("192.0.2.10", {"Admin.Example.org"});
    CHECK(status(g, request("GET", {{"host", "192.0.2.10:5001"}})) == 200);
    CHECK(status(g, request("GET", {{"host", "admin.example.org"}})) == 200);
    CHECK(status(g, request("GET", {{"host", "localhost:5001"}})) == 403);
    CHECK(status(g, request("GET", {{"host", "192.0.2.11"}})) == 403);
}

TEST_CASE("Origin: the page's own passes, any other, null, or a cross-site fetch is refused") {
    const RequestGuard g("127.0.0.1", {});
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"origin", "http://127.0.0.1:5001"}})) == 200);
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"origin", "https://evil.example"}})) == 403);
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"origin", "http://127.0.0.1:8080"}})) == 403);
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"origin", "null"}})) == 403);
    CHECK(status(g, request("GET", {{"origin", "http://127.0.0.1:5001"}})) == 403);  // no Host to be the same as
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"sec-fetch-site", "cross-site"}})) == 403);
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"sec-fetch-site", "same-site"}})) == 403);
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"sec-fetch-site", "same-origin"}})) == 200);
    CHECK(status(g, request("GET", {{"host", "127.0.0.1:5001"}, {"sec-fetch-site", "none"}})) == 200);
}

TEST_CASE("writes take only application/json: what a form on another site cannot send without a preflight") {
    const RequestGuard g("127.0.0.1", {});
    const std::pair<std::string, std::string> host{"host", "127.0.0.1:5001"};
    CHECK(status(g, request("POST", {host, {"content-type", "application/json"}})) == 200);
    CHECK(status(g, request("PUT", {host, {"content-type", "Application/JSON; charset=utf-8"}})) == 200);
    CHECK(status(g, request("POST", {host})) == 415);
    CHECK(status(g, request("POST", {host, {"content-type", "text/plain"}})) == 415);
    CHECK(status(g, request("PUT", {host, {"content-type", "application/x-www-form-urlencoded"}})) == 415);
    CHECK(status(g, request("PATCH", {host, {"content-type", "application/jsonp"}})) == 415);
    CHECK(status(g, request("DELETE", {host})) == 200);
    CHECK(status(g, request("GET", {host})) == 200);
}

TEST_CASE("the router checks the guard on every route, before the token, and the type only on routes that exist") {
    AdminRouter router("secret", nullptr);
    router.add_public("GET", "/ui", [](const AdminRequest&, const AdminResponder& r) { r(json_response(200, "{}")); });
    router.add("PUT", "/sessions/*", [](const AdminRequest&, const AdminResponder& r) { r(json_response(204, "")); });
    router.guard(RequestGuard("127.0.0.1", {}));
    int got = 0;
    const AdminResponder capture = [&](AdminResponse res) { got = res.status; };
    auto r = request("GET", {{"host", "evil.example"}});
    r.path = "/ui";
    router.dispatch(r, capture);
    CHECK(got == 403);  // the public page too
    r = request("PUT", {{"host", "127.0.0.1"}, {"authorization", "Bearer secret"}});
    r.path = "/sessions/abc";
    router.dispatch(r, capture);
    CHECK(got == 415);
    r.headers.emplace_back("content-type", "application/json");
    router.dispatch(r, capture);
    CHECK(got == 204);
    r = request("POST", {{"host", "127.0.0.1"}, {"authorization", "Bearer secret"}});
    r.path = "/sessions/abc";
    router.dispatch(r, capture);
    CHECK(got == 405);  // no such route: the type does not matter
}

}
