#include "request_guard.hpp"

#include "admin_router.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>

namespace yunity::admin {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

bool is_ip(const std::string& host) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    return !ec;
}

AdminResponse forbidden(std::string_view why) { return error_response(403, why); }

}  // namespace

RequestGuard::RequestGuard(std::string bind_address, std::vector<std::string> allowed_hosts)
    : bind_address_(lower(bind_address)) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(bind_address_, ec);
    any_ip_ = !ec && (a.is_loopback() || a.is_unspecified());
    for (auto& h : allowed_hosts) allowed_hosts_.push_back(lower(h));
}

std::string RequestGuard::host_of(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (!value.empty() && value.front() == '[') {
        const auto close = value.find(']');
        return close == std::string_view::npos ? std::string() : lower(value.substr(1, close - 1));
    }
    // One colon: a port follows. More: an IPv6 address written without brackets (not valid, but unambiguous).
    const auto colon = value.find(':');
    if (colon != std::string_view::npos && value.find(':', colon + 1) == std::string_view::npos)
        value = value.substr(0, colon);
    if (!value.empty() && value.back() == '.') value.remove_suffix(1);  // "localhost." is localhost
    return lower(value);
}

bool RequestGuard::host_allowed(const std::string& host) const {
    if (host == bind_address_) return true;
    if (std::find(allowed_hosts_.begin(), allowed_hosts_.end(), host) != allowed_hosts_.end()) return true;
    // A rebinding attack needs a name of its own: an IP address, or localhost, cannot be one.
    return any_ip_ && (host == "localhost" || is_ip(host));
}

std::optional<AdminResponse> RequestGuard::check(const AdminRequest& r) const {
    const auto* host_header = r.header("host");
    std::string host;
    if (host_header) {
        host = host_of(*host_header);
        if (!host_allowed(host)) return forbidden("forbidden: Host not allowed (see admin-http's allowed_hosts)");
    }
    if (const auto* origin = r.header("origin")) {
        // The dashboard's own requests come from http://<Host>; nothing else is the page's own origin.
        const auto o = lower(*origin);
        if (!host_header || (o != "http://" + lower(*host_header) && o != "https://" + lower(*host_header)))
            return forbidden("forbidden: cross-site request");
    }
    if (const auto* site = r.header("sec-fetch-site"); site && *site != "same-origin" && *site != "none")
        return forbidden("forbidden: cross-site request");
    return std::nullopt;
}

std::optional<AdminResponse> RequestGuard::check_content_type(const AdminRequest& r) {
    if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
        const auto* type = r.header("content-type");
        const auto t = type ? lower(*type) : std::string();
        const auto media = std::string_view(t).substr(0, t.find(';'));
        if (media.find_first_not_of(' ') == std::string_view::npos ||
            media.substr(0, media.find_last_not_of(' ') + 1) != "application/json")
            return error_response(415, "write requests take Content-Type: application/json");
    }
    return std::nullopt;
}

}  // namespace yunity::admin
