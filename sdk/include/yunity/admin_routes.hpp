// Routes other plugins add to the admin HTTP port (e.g. `PUT /sessions/<id>`, `POST /publish`).
//
// The admin-http plugin provides an AdminRoutes under the service name "admin-routes" from its constructor,
// so any plugin can look it up in its own start(), whatever the load order:
//
//     if (auto* routes = context.service<yunity::AdminRoutes>())
//         routes->add("POST", "/publish", [this](const yunity::AdminRequest& req, yunity::AdminResponder respond) {
//             respond({.status = 202, .body = R"({"queued":true})"});
//         });
//
// The admin plugin applies its bearer-token check, size limits and timeouts to these routes as to its own.
// Plain standard types only: no HTTP library crosses the plugin boundary.
#pragma once

#include <boost/config.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace yunity {

inline constexpr std::string_view admin_routes_service = "admin-routes";

struct AdminRequest {
    std::string method;  // upper case as sent: "GET", "PUT", ... (a HEAD request reaches a GET route as "HEAD")
    std::string target;  // the request target as sent, e.g. "/sessions/abc%20d?x=1"
    std::string path;    // its path, percent-decoded: "/sessions/abc d"
    std::string rest;    // what a route's trailing '*' matched: "abc d" (empty for an exact route)
    std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, in arrival order
    std::string body;                                          // at most the admin plugin's body limit
    std::string remote_address;

    const std::string* header(std::string_view lower_name) const {
        for (const auto& [k, v] : headers)
            if (k == lower_name) return &v;
        return nullptr;
    }
    const std::string* query_value(std::string_view key) const {
        for (const auto& [k, v] : query)
            if (k == key) return &v;
        return nullptr;
    }
};

struct AdminResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    std::string body;
    // Set it to stream a large body with chunked transfer encoding instead of `body`: the admin server calls
    // it on the core's loop, sends what it appended to `chunk` (empty on each call), and calls it again only
    // once that is written, so other work runs in between; it returns false when it appended the last part.
    std::function<bool(std::string& chunk)> stream;
};

// Answers a request. Call it once (later calls are ignored), now or later, on the core's loop (post there
// from other threads). If the admin client has gone meanwhile the answer is dropped. Dropping it without a
// call closes the client's connection.
using AdminResponder = std::function<void(AdminResponse)>;

class BOOST_SYMBOL_VISIBLE AdminRoutes {
public:
    static constexpr std::string_view service_name = admin_routes_service;  // context.service<AdminRoutes>()

    using Handler = std::function<void(const AdminRequest&, AdminResponder)>;

    virtual ~AdminRoutes() = default;

    // Routes `method` requests for `path` to `handler`, on the core's loop. `path` is matched exactly, unless it
    // ends in '*': "/sessions/*" matches "/sessions/<anything non-empty>", which the handler finds in
    // `request.rest`; the longest pattern wins. A GET route answers HEAD too (without the body). The same
    // method and path twice throws std::invalid_argument. Add routes before or during start(); a handler that
    // throws gets a 500 answer and a log line.
    virtual void add(std::string method, std::string path, Handler handler) = 0;
};

// Members other plugins add to the admin port's `GET /stats` object (e.g. "presence": {"users": 3}).
//
// The admin-http plugin provides an AdminStats under the service name "admin-stats" from its constructor, like
// AdminRoutes (`context.service<AdminStats>()`). `read` runs on the core's loop for each request and returns the
// member's value as JSON text.
inline constexpr std::string_view admin_stats_service = "admin-stats";

class BOOST_SYMBOL_VISIBLE AdminStats {
public:
    static constexpr std::string_view service_name = admin_stats_service;  // context.service<AdminStats>()

    virtual ~AdminStats() = default;
    // Adds (or replaces) the member `name` (a plain key: letters, digits, '_' or '-'; anything else throws
    // std::invalid_argument). Remove it in stop(): `read` must not outlive what it reads.
    virtual void add(std::string name, std::function<std::string()> read) = 0;
    virtual void remove(const std::string& name) = 0;
};

}  // namespace yunity
