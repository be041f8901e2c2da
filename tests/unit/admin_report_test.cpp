// The admin-http plugin's logic without sockets: the report's JSON, redaction, the date format, the token
// check and routing, readiness, and the config.
#include "admin_config.hpp"
#include "admin_router.hpp"
#include "builtin_routes.hpp"
#include "map_registry.hpp"
#include "readiness.hpp"
#include "report.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <stdexcept>

using namespace yunity;
using namespace yunity::admin;

namespace {

// Runs `fn` with the process's time zone set to `tz`, then restores it.
template <class Fn>
void with_tz(const char* tz, Fn fn) {
    const char* old = std::getenv("TZ");
    const std::string saved = old ? old : "";
    setenv("TZ", tz, 1);
    tzset();
    fn();
    if (old) setenv("TZ", saved.c_str(), 1);
    else unsetenv("TZ");
    tzset();
}

ConnectionInfo connection(ConnectionId id, std::string public_id, std::optional<std::string> session,
                          std::optional<std::string> user) {
    auto hs = std::make_shared<Handshake>();
    hs->add_header("Host", "localhost:8080");
    hs->add_header("cookie", "sessionid=secret");
    hs->add_header("accept", "*/*");
    hs->address = "127.0.0.1";
    hs->url = "/socket/?EIO=3&transport=polling&lang=de";
    hs->issued_ms = 1'795'629'600'000;  // Wed Nov 25 2026 18:00:00 UTC
    hs->xdomain = false;
    hs->secure = false;
    ConnectionInfo c;
    c.id = id;
    c.public_id = std::move(public_id);
    c.session_id = std::move(session);
    c.user = std::move(user);
    c.handshake = std::move(hs);
    return c;
}

const std::vector<std::string> default_redact{"authorization", "cookie"};

std::string json_of(const ConnectionInfo& c, const std::vector<std::string>& redact = default_redact) {
    std::string out;
    append_connection_json(out, c, redact);
    return out;
}

std::vector<std::string> keys(const rapidjson::Value& object) {
    std::vector<std::string> out;
    for (auto& m : object.GetObject()) out.emplace_back(m.name.GetString());
    return out;
}

AdminRequest request(std::string method, std::string target, std::string authorization = {}) {
    AdminRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    REQUIRE(parse_target(r.target, r.path, r.query));
    if (!authorization.empty()) r.headers.emplace_back("authorization", std::move(authorization));
    return r;
}

// Dispatches and returns the (synchronous) answer.
AdminResponse answer(const AdminRouter& router, AdminRequest req) {
    std::optional<AdminResponse> got;
    int calls = 0;
    router.dispatch(std::move(req), [&](AdminResponse r) {
        ++calls;
        got = std::move(r);
    });
    REQUIRE(calls == 1);
    return std::move(*got);
}

std::string header_of(const AdminResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

}  // namespace

TEST_CASE("report: the three kinds of connection, compact, keys in the original's order") {
    with_tz("UTC", [] {
        const std::string handshake =
            R"("handshake":{"headers":{"host":"localhost:8080","cookie":"[redacted]","accept":"*/*"},)"
            R"j("time":"Wed Nov 25 2026 18:00:00 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1",)j"
            R"("xdomain":false,"secure":false,"issued":1795629600000,)"
            R"("url":"/socket/?EIO=3&transport=polling&lang=de","query":{"EIO":"3","transport":"polling","lang":"de"}}})";
        CHECK(json_of(connection(1, "a1", std::nullopt, std::nullopt)) ==
              R"({"connectionId":"a1","sessionId":"__nosession__","userId":"__nouser__",)" + handshake);
        CHECK(json_of(connection(2, "b2", "s-2", std::nullopt)) ==
              R"({"connectionId":"b2","sessionId":"s-2","userId":"__nouser__",)" + handshake);
        CHECK(json_of(connection(3, "c3", "s-3", "42")) ==
              R"({"connectionId":"c3","sessionId":"s-3","userId":"42",)" + handshake);
    });

    rapidjson::Document doc;
    doc.Parse(json_of(connection(3, "c3", "s-3", "42")).c_str());
    REQUIRE(doc.IsObject());
    CHECK(keys(doc) == std::vector<std::string>{"connectionId", "sessionId", "userId", "handshake"});
    CHECK(keys(doc["handshake"]) ==
          std::vector<std::string>{"headers", "time", "address", "xdomain", "secure", "issued", "url", "query"});
    CHECK(doc["handshake"]["issued"].IsInt64());
    CHECK(doc["handshake"]["xdomain"].IsBool());
}

TEST_CASE("report: redaction follows the configured list") {
    auto c = connection(1, "a", "s", "u");
    auto hs = std::make_shared<Handshake>(*c.handshake);
    hs->add_header("Authorization", "Basic dXNlcjpwYXNz");
    hs->add_header("x-api-key", "k");
    c.handshake = hs;

    rapidjson::Document doc;
    doc.Parse(json_of(c).c_str());
    const auto& headers = doc["handshake"]["headers"];
    CHECK(std::string(headers["cookie"].GetString()) == "[redacted]");
    CHECK(std::string(headers["authorization"].GetString()) == "[redacted]");
    CHECK(std::string(headers["x-api-key"].GetString()) == "k");

    doc.Parse(json_of(c, {}).c_str());
    CHECK(std::string(doc["handshake"]["headers"]["cookie"].GetString()) == "sessionid=secret");

    doc.Parse(json_of(c, {"x-api-key"}).c_str());
    CHECK(std::string(doc["handshake"]["headers"]["x-api-key"].GetString()) == "[redacted]");
    CHECK(std::string(doc["handshake"]["headers"]["cookie"].GetString()) == "sessionid=secret");
}

TEST_CASE("report: repeated headers are joined, invalid UTF-8 is replaced, a missing handshake is empty") {
    auto c = connection(1, "a", std::nullopt, std::nullopt);
    auto hs = std::make_shared<Handshake>();
    hs->add_header("x-forwarded-for", "10.0.0.1");
    hs->add_header("accept", "*/*");
    hs->add_header("X-Forwarded-For", "10.0.0.2");
    // The query is read from the url: percent-decoded, '+' a space, repeats joined.
    hs->url = "/socket/?name=caf%C3%A9+%FF%C0%AF&q=1&q=2&x=%22quoted%22";
    c.handshake = hs;
    rapidjson::Document doc;
    doc.Parse(json_of(c).c_str());
    REQUIRE(doc.IsObject());
    const auto& h = doc["handshake"];
    CHECK(keys(h["headers"]) == std::vector<std::string>{"x-forwarded-for", "accept"});
    CHECK(std::string(h["headers"]["x-forwarded-for"].GetString()) == "10.0.0.1, 10.0.0.2");
    CHECK(std::string(h["query"]["name"].GetString()) == "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(std::string(h["query"]["q"].GetString()) == "1, 2");
    CHECK(std::string(h["query"]["x"].GetString()) == "\"quoted\"");
    CHECK(std::string(h["url"].GetString()) == "/socket/?name=caf%C3%A9+%FF%C0%AF&q=1&q=2&x=%22quoted%22");

    c.handshake = nullptr;
    CHECK(json_of(c) == R"({"connectionId":"a","sessionId":"__nosession__","userId":"__nouser__","handshake":{}})");

    CHECK(valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
    CHECK(valid_utf8("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");                  // an emoji stays
}

TEST_CASE("report: streamed in slices that resume by id, as a whole one valid document") {
    test::MapRegistry registry;
    for (ConnectionId id = 1; id <= 5; ++id)
        registry.connections.emplace(id, connection(id, "c" + std::to_string(id), std::nullopt, std::nullopt));

    ConnectionReport report(registry, default_redact, 2);
    std::string doc_text, part;
    CHECK(report.next(part));  // 1, 2
    CHECK(part.starts_with(R"({"connections":[{"connectionId":"c1")"));
    doc_text += part;
    // Between slices: 3 closes, 6 opens; the report shows what exists when it gets there.
    registry.connections.erase(3);
    registry.connections.emplace(6, connection(6, "c6", std::nullopt, std::nullopt));
    part.clear();
    CHECK(report.next(part));  // 4, 5
    doc_text += part;
    part.clear();
    CHECK_FALSE(report.next(part));  // 6 and the end
    doc_text += part;
    part.clear();
    CHECK_FALSE(report.next(part));
    CHECK(part.empty());

    rapidjson::Document doc;
    doc.Parse(doc_text.c_str());
    REQUIRE(doc.IsObject());
    std::vector<std::string> ids;
    for (auto& c : doc["connections"].GetArray()) ids.emplace_back(c["connectionId"].GetString());
    CHECK(ids == std::vector<std::string>{"c1", "c2", "c4", "c5", "c6"});

    test::MapRegistry empty;
    ConnectionReport none(empty, default_redact, 500);
    std::string out;
    CHECK_FALSE(none.next(out));
    CHECK(out == R"({"connections":[]})");
}

TEST_CASE("date: JavaScript's Date#toString in local time") {
    with_tz("UTC", [] {
        CHECK(format_js_date(1'795'629'600'000) == "Wed Nov 25 2026 18:00:00 GMT+0000 (Coordinated Universal Time)");
        CHECK(format_js_date(0) == "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)");
        CHECK(format_js_date(999) == "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)");
        CHECK(format_js_date(-1) == "Wed Dec 31 1969 23:59:59 GMT+0000 (Coordinated Universal Time)");
    });
    with_tz("CET-1CEST,M3.5.0,M10.5.0/3", [] {
        CHECK(format_js_date(1'795'629'600'000) ==
              "Wed Nov 25 2026 19:00:00 GMT+0100 (Central European Standard Time)");
        CHECK(format_js_date(1'782'410'400'000) == "Thu Jun 25 2026 20:00:00 GMT+0200 (Central European Summer Time)");
    });
    std::tm t{};
    t.tm_year = 126, t.tm_mon = 10, t.tm_mday = 5, t.tm_wday = 4, t.tm_hour = 7, t.tm_min = 5, t.tm_sec = 9;
    CHECK(format_js_date(t, -5 * 3600, "EST") == "Thu Nov 05 2026 07:05:09 GMT-0500 (Eastern Standard Time)");
    CHECK(format_js_date(t, 5 * 3600 + 1800, "IST") == "Thu Nov 05 2026 07:05:09 GMT+0530 (IST)");
}

TEST_CASE("token: a constant-time compare of the bearer token") {
    CHECK(constant_time_equal("secret", "secret"));
    CHECK_FALSE(constant_time_equal("secret", "secreT"));
    CHECK_FALSE(constant_time_equal("secre", "secret"));
    CHECK_FALSE(constant_time_equal("secretsecret", "secret"));
    CHECK_FALSE(constant_time_equal("", "secret"));
    CHECK(constant_time_equal("", ""));

    const std::string ok = "Bearer s3cr3t", lower = "bearer s3cr3t", wrong = "Bearer s3cr3", basic = "Basic s3cr3t",
                      bare = "s3cr3t", spaced = "Bearer  s3cr3t ";
    CHECK(bearer_matches(&ok, "s3cr3t"));
    CHECK(bearer_matches(&lower, "s3cr3t"));
    CHECK(bearer_matches(&spaced, "s3cr3t"));
    CHECK_FALSE(bearer_matches(&wrong, "s3cr3t"));
    CHECK_FALSE(bearer_matches(&basic, "s3cr3t"));
    CHECK_FALSE(bearer_matches(&bare, "s3cr3t"));
    CHECK_FALSE(bearer_matches(nullptr, "s3cr3t"));
}

TEST_CASE("router: the token guards every route but the dashboard page, and unknown paths too") {
    AdminRouter router("s3cr3t", nullptr);
    router.add("GET", "/healthz", [](const AdminRequest&, AdminResponder r) { r(json_response(200, "{}")); });
    router.add_public("GET", "/ui", [](const AdminRequest&, AdminResponder r) { r(json_response(200, "page")); });

    auto denied = answer(router, request("GET", "/healthz"));
    CHECK(denied.status == 401);
    CHECK(denied.body == R"({"error":"unauthorized"})");
    CHECK(header_of(denied, "WWW-Authenticate").starts_with("Bearer"));
    CHECK(answer(router, request("GET", "/healthz", "Bearer wrong")).status == 401);
    CHECK(answer(router, request("GET", "/healthz", "Bearer s3cr3t")).status == 200);
    CHECK(answer(router, request("GET", "/nowhere")).status == 401);
    CHECK(answer(router, request("GET", "/nowhere", "Bearer s3cr3t")).status == 404);
    CHECK(answer(router, request("GET", "/ui")).body == "page");

    AdminRouter open("", nullptr);
    open.add("GET", "/healthz", [](const AdminRequest&, AdminResponder r) { r(json_response(200, "{}")); });
    CHECK(answer(open, request("GET", "/healthz")).status == 200);
}

TEST_CASE("router: 404, 405 with Allow, HEAD as GET, prefix routes, duplicates, handler errors") {
    AdminRouter router("", nullptr);
    std::string seen_rest, seen_method;
    router.add("GET", "/", [](const AdminRequest&, AdminResponder r) { r(json_response(200, "root")); });
    router.add("PUT", "/sessions/*", [&](const AdminRequest& req, AdminResponder r) {
        seen_rest = req.rest;
        r(json_response(204, ""));
    });
    router.add("GET", "/sessions/special", [&](const AdminRequest& req, AdminResponder r) {
        seen_method = req.method;
        r(json_response(200, "special"));
    });
    router.add("POST", "/boom", [](const AdminRequest&, AdminResponder) { throw std::runtime_error("boom"); });

    auto missing = answer(router, request("GET", "/missing"));
    CHECK(missing.status == 404);
    CHECK(missing.body == R"({"error":"not found"})");
    auto wrong = answer(router, request("POST", "/"));
    CHECK(wrong.status == 405);
    CHECK(header_of(wrong, "Allow") == "GET, HEAD");
    CHECK(answer(router, request("GET", "/sessions/abc")).status == 405);
    CHECK(header_of(answer(router, request("DELETE", "/sessions/special")), "Allow") == "GET, HEAD, PUT");

    CHECK(answer(router, request("PUT", "/sessions/a%20b")).status == 204);
    CHECK(seen_rest == "a b");
    CHECK(answer(router, request("PUT", "/sessions/")).status == 404);  // '*' needs something
    CHECK(answer(router, request("HEAD", "/sessions/special")).body == "special");
    CHECK(seen_method == "HEAD");
    CHECK(answer(router, request("GET", "/?x=1")).body == "root");

    CHECK_THROWS_AS(router.add("get", "/", [](const AdminRequest&, AdminResponder) {}), std::invalid_argument);
    CHECK_THROWS_AS(router.add("GET", "relative", [](const AdminRequest&, AdminResponder) {}), std::invalid_argument);

    auto failed = answer(router, request("POST", "/boom"));
    CHECK(failed.status == 500);
    CHECK(failed.body == R"({"error":"internal error"})");
}

TEST_CASE("builtin routes: health, readiness, stats, metrics, dashboard, report") {
    test::MapRegistry registry;
    registry.connections.emplace(1, connection(1, "a", std::nullopt, std::nullopt));
    struct NoMetrics final : Metrics {
        std::atomic<std::uint64_t> c{0};
        std::atomic<std::uint64_t>& counter(std::string_view, std::string_view, std::string_view) override { return c; }
        void gauge(std::string_view, std::string_view, std::string_view, std::string_view,
                   std::function<double()>) override {}
        std::string render_prometheus() const override { return "# HELP x y\n"; }
        std::uint64_t counter_total(std::string_view) const override { return c; }
    } metrics;
    Readiness readiness;
    AdminConfig config;
    AdminRouter router("", nullptr);
    StatsSections stats;
    TimeSeries series(3);
    add_builtin_routes(router, {registry, metrics, readiness, config, stats, series});

    CHECK(answer(router, request("GET", "/healthz")).body == R"({"status":"ok"})");
    auto ready = answer(router, request("GET", "/readyz"));
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"ready":true,"sources":{}})");

    CHECK(readiness.update("redis-session", false, "connecting to 127.0.0.1:6379"));
    CHECK_FALSE(readiness.update("redis-session", false, "connection refused"));
    readiness.update("redis-pubsub", true, "");
    auto not_ready = answer(router, request("GET", "/readyz"));
    CHECK(not_ready.status == 503);
    CHECK(not_ready.body == R"({"ready":false,"sources":{"redis-pubsub":{"ready":true,"detail":""},)"
                            R"("redis-session":{"ready":false,"detail":"connection refused"}}})");
    readiness.update("redis-session", true, "");
    CHECK(answer(router, request("GET", "/readyz")).status == 200);

    CHECK(answer(router, request("GET", "/stats")).body ==
          R"({"connections":1,"authenticated":0,"sessions":0,"users":0,"ready":true})");
    // Other plugins' members (the "admin-stats" service), read at each request, until removed.
    int users = 3;
    stats.add("presence", [&] { return R"({"users":)" + std::to_string(users) + "}"; });
    users = 4;
    CHECK(answer(router, request("GET", "/stats")).body ==
          R"({"connections":1,"authenticated":0,"sessions":0,"users":0,"ready":true,"presence":{"users":4}})");
    CHECK_THROWS_AS(stats.add("a\"b", [] { return std::string("1"); }), std::invalid_argument);
    CHECK_THROWS_AS(stats.add("", [] { return std::string("1"); }), std::invalid_argument);
    stats.remove("presence");
    CHECK(answer(router, request("GET", "/stats")).body ==
          R"({"connections":1,"authenticated":0,"sessions":0,"users":0,"ready":true})");
    auto m = answer(router, request("GET", "/metrics"));
    CHECK(m.content_type.starts_with("text/plain; version=0.0.4"));
    CHECK(m.body == "# HELP x y\n");
    auto ui = answer(router, request("GET", "/ui"));
    CHECK(ui.content_type.starts_with("text/html"));
    CHECK(ui.body.find("<!doctype html>") == 0);
    CHECK(ui.body.find("Bearer") != std::string::npos);
    CHECK(ui.body.find("/series") != std::string::npos);

    // The charts' samples, guarded like the other data routes (the router's test covers the token).
    CHECK(answer(router, request("GET", "/series")).body ==
          R"({"interval_ms":1000,"capacity":3,"time":[],"connections":[],"deliveries_per_second":[],)"
          R"("notifications_per_second":[],"rejected_per_second":[]})");
    series.add({1000, 5000, 2, 10, 1, 0});
    series.add({2000, 6000, 3, 14, 2, 1});
    CHECK(
        answer(router, request("GET", "/series")).body ==
        R"({"interval_ms":1000,"capacity":3,"time":[1000,2000],"connections":[2,3],)"
        R"("deliveries_per_second":[null,4.0],"notifications_per_second":[null,1.0],"rejected_per_second":[null,1.0]})");

    auto report = answer(router, request("GET", "/"));
    REQUIRE(report.stream);
    std::string all;
    while (report.stream(all)) {
    }
    rapidjson::Document doc;
    doc.Parse(all.c_str());
    REQUIRE(doc.IsObject());
    CHECK(doc["connections"].Size() == 1);

    CHECK(resident_memory_bytes() > 0);
    CHECK(open_fds() >= 3);
}

TEST_CASE("config: defaults, settings, the environment's token, unknown keys refused") {
    rapidjson::Document doc;
    doc.SetObject();
    auto c = AdminConfig::from_json(doc, nullptr);
    CHECK(c.token.empty());
    CHECK(c.redact == std::vector<std::string>{"authorization", "cookie"});
    CHECK(c.request_timeout == std::chrono::seconds(10));
    CHECK(c.max_header_bytes == 8192);
    CHECK(c.max_body_bytes == 65536);

    doc.Parse(R"({"token":"from-config","redact":["Cookie","X-Api-Key"],"report_slice":100,"request_timeout_ms":500})");
    c = AdminConfig::from_json(doc, "");
    CHECK(c.token == "from-config");
    CHECK(c.redact == std::vector<std::string>{"cookie", "x-api-key"});
    CHECK(c.report_slice == 100);
    CHECK(c.request_timeout == std::chrono::milliseconds(500));
    CHECK(AdminConfig::from_json(doc, "from-env").token == "from-env");

    doc.Parse(R"({"redact_headers":false})");
    CHECK(AdminConfig::from_json(doc, nullptr).redact.empty());

    auto refused = [&](const char* json, const char* needle) {
        doc.Parse(json);
        try {
            AdminConfig::from_json(doc, nullptr);
            FAIL("accepted " << json);
        } catch (const std::runtime_error& e) {
            CHECK(std::string(e.what()).find(needle) != std::string::npos);
        }
    };
    refused(R"({"tokn":"x"})", "unknown setting \"tokn\"");
    refused(R"({"token":""})", "\"token\" must be");
    refused(R"({"redact_headers":"no"})", "\"redact_headers\" must be");
    refused(R"({"redact":"cookie"})", "\"redact\" must be");
    refused(R"({"max_body_bytes":0})", "\"max_body_bytes\" must be");
}
