// A request to the admin port, from its target on: target parsing, the bearer-token check, routing (404, 405,
// prefix routes, HEAD), and the answers of the built-in endpoints, the connection report included, whose
// handshake (headers, query, URL) is taken from the request itself, as a client's would be.
// Input, HTTP-like: "<METHOD> <target>\n", then "<name>: <value>\n" header lines up to an empty line, then the
// body. An "x-issued-ms" header sets the handshake's time.
#include "admin_config.hpp"
#include "admin_router.hpp"
#include "builtin_routes.hpp"
#include "json_out.hpp"
#include "readiness.hpp"
#include "report.hpp"

#include "fuzz_check.hpp"
#include "map_registry.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

using namespace yunity;
using namespace yunity::admin;

namespace {

constexpr std::string_view token = "s3cret";

struct NoMetrics final : Metrics {
    std::atomic<std::uint64_t> c{0};
    std::atomic<std::uint64_t>& counter(std::string_view, std::string_view, std::string_view) override { return c; }
    void gauge(std::string_view, std::string_view, std::string_view, std::string_view,
               std::function<double()>) override {}
    std::string render_prometheus() const override { return "# HELP x y\n"; }
    std::uint64_t counter_total(std::string_view) const override { return c; }
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

struct Answer {
    int calls = 0;
    AdminResponse response;
};

Answer dispatch(const AdminRouter& router, const AdminRequest& request) {
    Answer a;
    router.dispatch(request, [&a](AdminResponse r) {
        ++a.calls;
        a.response = std::move(r);
    });
    return a;
}

const std::string* header_of(const AdminResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return &v;
    return nullptr;
}

// Every route the stock plugins add, with handlers that report what the router handed them.
void add_plugin_like_routes(AdminRouter& router) {
    const auto echo = [](const AdminRequest& r, AdminResponder respond) {
        respond(json_response(200, error_json(r.rest)));
    };
    router.add("PUT", "/sessions/*", echo);
    router.add("DELETE", "/sessions/*", echo);
    router.add("GET", "/sessions", echo);
    router.add("POST", "/publish", echo);
    router.add("GET", "/sessions/special", echo);
}

void check_answer(const AdminRequest& request, const Answer& a, bool token_set) {
    FUZZ_CHECK(a.calls == 1);
    const auto& r = a.response;
    const bool public_route = (request.method == "GET" || request.method == "HEAD") && request.path == "/ui";
    const bool authorized = !token_set || bearer_matches(request.header("authorization"), token);
    if (!authorized && !public_route) {
        FUZZ_CHECK(r.status == 401 && header_of(r, "WWW-Authenticate"));
        return;
    }
    FUZZ_CHECK(r.status != 401 && r.status != 500);
    if (r.status == 405) {
        const auto* allow = header_of(r, "Allow");
        FUZZ_CHECK(allow && !allow->empty());
        // The methods the path has, the request's not among them (or it would have been routed).
        std::string_view methods = *allow;
        for (;;) {
            const auto comma = methods.find(", ");
            FUZZ_CHECK(methods.substr(0, comma) != request.method);
            if (comma == std::string_view::npos) break;
            methods.remove_prefix(comma + 2);
        }
    }
    if (r.status == 200 && request.path.starts_with("/sessions/") && request.path.size() > 10 &&
        request.path != "/sessions/special") {
        rapidjson::Document doc;
        FUZZ_CHECK(fuzz::parse_json(r.body, doc));
        const auto& rest = doc["error"];
        FUZZ_CHECK(std::string_view(rest.GetString(), rest.GetStringLength()) == valid_utf8(request.path.substr(10)));
    }

    std::string body = r.body;
    if (r.stream) {
        // The report, however its strings look, is one JSON document in UTF-8, produced a slice at a time.
        FUZZ_CHECK(body.empty());
        int parts = 0;
        while (r.stream(body)) FUZZ_CHECK(++parts < 100);
    }
    if (r.content_type == "application/json") {
        FUZZ_CHECK(fuzz::valid_utf8(body));
        rapidjson::Document doc;
        FUZZ_CHECK(fuzz::parse_json(body, doc) && doc.IsObject());
        if (r.stream) {
            FUZZ_CHECK(doc["connections"].IsArray());
            for (const auto& c : doc["connections"].GetArray()) {
                const auto& headers = c["handshake"]["headers"];
                for (const char* secret : {"authorization", "cookie"})
                    if (headers.HasMember(secret)) FUZZ_CHECK(headers[secret] == "[redacted]");
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = fuzz::as_text(data, size);
    const auto parts = fuzz::lines(input);
    AdminRequest request;
    const auto request_line = parts[0];
    const auto space = request_line.find(' ');
    request.method = std::string(request_line.substr(0, space));
    request.target = space == std::string_view::npos ? std::string() : std::string(request_line.substr(space + 1));
    std::size_t i = 1;
    std::size_t consumed = request_line.size() + 1;
    for (; i < parts.size() && !parts[i].empty(); ++i) {
        consumed += parts[i].size() + 1;
        const auto colon = parts[i].find(':');
        auto value = colon == std::string_view::npos ? std::string_view() : parts[i].substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        request.headers.emplace_back(lower(parts[i].substr(0, colon)), std::string(value));
    }
    if (consumed + 1 <= input.size()) request.body = std::string(input.substr(consumed + 1));

    // The token check on its own.
    const auto bearer = "Bearer " + std::string(token);
    FUZZ_CHECK(bearer_matches(&bearer, token));
    if (const auto* auth = request.header("authorization"); auth && bearer_matches(auth, token))
        FUZZ_CHECK(lower(*auth).starts_with("bearer "));

    if (!parse_target(request.target, request.path, request.query)) return 0;  // 400 before any route
    FUZZ_CHECK(!request.path.empty() && request.path.front() == '/');

    test::MapRegistry registry;
    auto hs = std::make_shared<Handshake>();
    for (const auto& [name, value] : request.headers) hs->add_header(name, value);
    hs->url = request.target;
    hs->address = "127.0.0.1";
    if (const auto* issued = request.header("x-issued-ms"))
        std::from_chars(issued->data(), issued->data() + issued->size(), hs->issued_ms);
    for (ConnectionId id : {1, 2, 3}) {
        ConnectionInfo c;
        c.id = id;
        c.public_id = request.body;
        if (id >= 2) c.session_id = request.path;
        if (id == 3) c.user = request.body;
        c.handshake = hs;
        registry.connections.emplace(id, std::move(c));
    }
    NoMetrics metrics;
    Readiness readiness;
    readiness.update(request.body, request.query.empty(), request.target);
    AdminConfig config;
    config.report_slice = 2;
    StatsSections stats;
    TimeSeries series(4);
    for (std::int64_t t = 0; t < 6; ++t)
        series.add(
            {t * 1000, t * 1000, request.body.size(), static_cast<std::uint64_t>(t) * 3, 0, request.query.size()});

    for (const bool token_set : {true, false}) {
        AdminRouter router(token_set ? std::string(token) : std::string(), nullptr);
        add_builtin_routes(router, {registry, metrics, readiness, config, stats, series});
        add_plugin_like_routes(router);
        check_answer(request, dispatch(router, request), token_set);
    }

    // The UTF-8 repair the JSON writers rely on.
    const auto fixed = valid_utf8(input);
    FUZZ_CHECK(fuzz::valid_utf8(fixed) && is_valid_utf8(fixed));
    FUZZ_CHECK(is_valid_utf8(input) == fuzz::valid_utf8(input));
    FUZZ_CHECK((fixed == input) == is_valid_utf8(input));
    FUZZ_CHECK(fuzz::is_json(error_json(input)));
    return 0;
}
