#include "admin_router.hpp"

#include "report.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

namespace yunity::admin {

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Walks all of `a` whatever the contents; `b` is indexed modulo its size so an empty one is safe.
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (b.empty() ? 0 : b[i % b.size()]));
    return diff == 0;
}

bool bearer_matches(const std::string* authorization, std::string_view token) {
    if (!authorization) return false;
    std::string_view v = *authorization;
    constexpr std::string_view scheme = "bearer";
    if (v.size() <= scheme.size() || v[scheme.size()] != ' ') return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(v[i])) != scheme[i]) return false;
    v.remove_prefix(scheme.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return constant_time_equal(v, token);
}

bool parse_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return false;
    path = url->path();
    query.clear();
    for (auto param : url->params()) query.emplace_back(param.key, param.value);
    return true;
}

AdminResponse json_response(int status, std::string body) {
    AdminResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

AdminResponse error_response(int status, std::string_view message) {
    return json_response(status, error_json(message));
}

AdminRouter::AdminRouter(std::string token, std::shared_ptr<spdlog::logger> log)
    : token_(std::move(token)), log_(std::move(log)) {}

void AdminRouter::add(std::string method, std::string path, Handler handler) {
    insert(std::move(method), std::move(path), std::move(handler), false);
}

void AdminRouter::add_public(std::string method, std::string path, Handler handler) {
    insert(std::move(method), std::move(path), std::move(handler), true);
}

void AdminRouter::insert(std::string method, std::string path, Handler handler, bool is_public) {
    if (method.empty() || path.empty() || path.front() != '/' || !handler)
        throw std::invalid_argument("admin route: needs a method, a path starting with '/' and a handler");
    for (auto& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const bool prefix = path.back() == '*';
    if (prefix) path.pop_back();
    for (const auto& r : routes_)
        if (r.method == method && r.path == path && r.prefix == prefix)
            throw std::invalid_argument("admin route " + method + " " + path + (prefix ? "*" : "") +
                                        " is already taken");
    routes_.push_back({std::move(method), std::move(path), prefix, is_public, std::move(handler)});
}

bool AdminRouter::authorized(const AdminRequest& request) const {
    return token_.empty() || bearer_matches(request.header("authorization"), token_);
}

void AdminRouter::dispatch(AdminRequest request, const AdminResponder& respond) const {
    if (guard_)
        if (auto refusal = guard_->check(request)) return respond(std::move(*refusal));
    // The most specific route for the path and method: exact beats prefix, then the longer prefix.
    const Route* best = nullptr;
    std::size_t best_score = 0;
    std::set<std::string> allow;
    auto score_of = [&](const Route& r) -> std::size_t {
        if (!r.prefix) return r.path == request.path ? r.path.size() * 2 + 1 : 0;
        return request.path.size() > r.path.size() && request.path.starts_with(r.path) ? r.path.size() * 2 : 0;
    };
    for (const auto& r : routes_) {
        const auto score = score_of(r);
        if (score == 0) continue;
        allow.insert(r.method);
        if (r.method == "GET") allow.insert("HEAD");
        const bool method_ok = r.method == request.method;
        if (method_ok && score > best_score) best = &r, best_score = score;
    }
    if (!best && request.method == "HEAD") {  // a GET route answers HEAD unless one of its own exists
        for (const auto& r : routes_) {
            const auto score = score_of(r);
            if (r.method == "GET" && score > best_score) best = &r, best_score = score;
        }
    }

    if (!(best && best->is_public) && !authorized(request)) {
        auto res = error_response(401, "unauthorized");
        res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"yunity-sockets admin\"");
        return respond(std::move(res));
    }
    if (!best && allow.empty()) return respond(error_response(404, "not found"));
    if (!best) {
        std::string list;
        for (const auto& m : allow) list += (list.empty() ? "" : ", ") + m;
        auto res = error_response(405, "method not allowed");
        res.headers.emplace_back("Allow", std::move(list));
        return respond(std::move(res));
    }

    if (guard_)
        if (auto refusal = RequestGuard::check_content_type(request)) return respond(std::move(*refusal));
    if (best->prefix) request.rest = request.path.substr(best->path.size());
    // Answers once: a 500 goes out only when the handler threw before it answered.
    auto answered = std::make_shared<bool>(false);
    AdminResponder once = [answered, respond](AdminResponse res) {
        if (*answered) return;
        *answered = true;
        respond(std::move(res));
    };
    // A copy: a handler may add routes, which may move the one running.
    const Handler handler = best->handler;
    try {
        handler(request, once);
    } catch (const std::exception& e) {
        if (log_) log_->error("{} {}: handler threw: {}", request.method, request.path, e.what());
        once(error_response(500, "internal error"));
    } catch (...) {
        if (log_) log_->error("{} {}: handler threw a non-standard exception", request.method, request.path);
        once(error_response(500, "internal error"));
    }
}

}  // namespace yunity::admin
