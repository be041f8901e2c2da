// The admin port's routing, without HTTP I/O: the bearer-token check, route matching (404, 405 with Allow),
// and the handlers' answers. The Beast server turns requests into AdminRequests and hands them here.
#pragma once

#include "request_guard.hpp"

#include <yunity/admin_routes.hpp>

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::admin {

// Compares in time that depends on the lengths only, not on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);
// Whether an Authorization header value (may be null) is `Bearer <token>` (the scheme case-insensitive).
bool bearer_matches(const std::string* authorization, std::string_view token);
// Splits an origin-form request target into its percent-decoded path and query parameters; false when the
// target is not one.
bool parse_target(std::string_view target, std::string& path, std::vector<std::pair<std::string, std::string>>& query);

AdminResponse json_response(int status, std::string body);
AdminResponse error_response(int status, std::string_view message);

class AdminRouter final : public AdminRoutes {
public:
    // An empty token asks for none.
    AdminRouter(std::string token, std::shared_ptr<spdlog::logger> log);

    void add(std::string method, std::string path, Handler handler) override;
    // A route that needs no token: the dashboard's page, which holds no data (a browser navigating to it
    // cannot send the header; the page's own requests do).
    void add_public(std::string method, std::string path, Handler handler);

    // Answers one request (`path` and `query` filled in): 401 without the token (when one is set), 404 for
    // an unknown path, 405 with Allow for a known path and another method, else the route's handler (HEAD
    // falls back to GET), with a 500 when it throws before answering.
    void dispatch(AdminRequest request, const AdminResponder& respond) const;

    bool authorized(const AdminRequest& request) const;
    // Checked before anything else on every request, public routes included: the Host and Origin rules.
    void guard(RequestGuard guard) { guard_ = std::move(guard); }

private:
    struct Route {
        std::string method;
        std::string path;  // without the trailing '*' of a prefix route
        bool prefix = false;
        bool is_public = false;
        Handler handler;
    };
    void insert(std::string method, std::string path, Handler handler, bool is_public);

    std::string token_;
    std::optional<RequestGuard> guard_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<Route> routes_;
};

}  // namespace yunity::admin
