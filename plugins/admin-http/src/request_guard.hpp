// Who may talk to the admin port from a browser. A port bound to 127.0.0.1 is still reachable from any web page
// the operator opens: by DNS rebinding (a foreign name resolving to 127.0.0.1 carries its own Host) and by
// cross-site requests (a form or fetch from another origin). Both are refused on every route, before the token
// is looked at. Pure: unit tested and fuzzed with the router.
#pragma once

#include <yunity/admin_routes.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::admin {

class RequestGuard {
public:
    // `bind_address`: the address the admin port listens on; `allowed_hosts`: further names the Host header may
    // carry (a proxy's or a DNS name of the machine).
    RequestGuard(std::string bind_address, std::vector<std::string> allowed_hosts);

    // Nothing when the request may go on; else the answer:
    // - 403 when its Host names neither the bound address, nor (bound to loopback or to every address)
    //   "localhost" or an IP address, nor one of allowed_hosts;
    // - 403 when it carries an Origin other than the page's own (http://<Host>), or "null", or Sec-Fetch-Site says
    //   another site made it.
    std::optional<AdminResponse> check(const AdminRequest& request) const;
    // For a request a write route takes: 415 when a POST, PUT or PATCH is not `application/json`. A page on
    // another site cannot send that type without a CORS preflight, which this port never grants.
    static std::optional<AdminResponse> check_content_type(const AdminRequest& request);

    // The host part of a Host header value ("[::1]:5001" is "::1", "Example.org:80" is "example.org").
    static std::string host_of(std::string_view host_header);

private:
    bool host_allowed(const std::string& host) const;

    std::string bind_address_;
    bool any_ip_ = false;  // bound to loopback or every address: any IP literal, and localhost, name this machine
    std::vector<std::string> allowed_hosts_;
};

}  // namespace yunity::admin
