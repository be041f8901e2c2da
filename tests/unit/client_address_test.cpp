// Who a client is: the peer, or behind a trusted proxy the address in X-Forwarded-For; the groups the
// per-address limits count by.
#include "client_address.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace yunity::socketio;
namespace ip = boost::asio::ip;

namespace {

std::string client(const char* peer, std::vector<std::string_view> xff, const TrustedProxies& trusted) {
    return client_address(ip::make_address(peer), xff, trusted).to_string();
}

}  // namespace

TEST_SUITE("client address") {

TEST_CASE("a peer that is not a trusted proxy is the client, whatever X-Forwarded-For claims") {
    const TrustedProxies none;
    CHECK(client("203.0.113.7", {"198.51.100.1"}, none) == "203.0.113.7");
    const TrustedProxies nginx({"127.0.0.1"});
    CHECK(client("203.0.113.7", {"198.51.100.1"}, nginx) == "203.0.113.7");
}

TEST_CASE("behind a trusted proxy the rightmost untrusted entry is the client; what it claimed before is not") {
    const TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8"});
    // nginx's $proxy_add_x_forwarded_for: the client's own header, then the address nginx saw.
    CHECK(client("127.0.0.1", {"1.1.1.1, 198.51.100.9"}, proxies) == "198.51.100.9");
    CHECK(client("127.0.0.1", {"198.51.100.9, 10.1.2.3"}, proxies) == "198.51.100.9");  // two proxies
    CHECK(client("127.0.0.1", {"1.1.1.1", "198.51.100.9"}, proxies) == "198.51.100.9");  // two headers
    CHECK(client("127.0.0.1", {" 2001:db8::5 "}, proxies) == "2001:db8::5");
    CHECK(client("::ffff:127.0.0.1", {"::ffff:198.51.100.9"}, proxies) == "198.51.100.9");  // mapped
}

TEST_CASE("no header, an empty one, or only proxies: the last address known") {
    const TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8"});
    CHECK(client("127.0.0.1", {}, proxies) == "127.0.0.1");
    CHECK(client("127.0.0.1", {""}, proxies) == "127.0.0.1");
    CHECK(client("127.0.0.1", {"10.0.0.1, 10.0.0.2"}, proxies) == "10.0.0.1");
}

TEST_CASE("a garbled entry stops the walk at the proxy that passed it on") {
    const TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8"});
    CHECK(client("127.0.0.1", {"198.51.100.9, unknown"}, proxies) == "127.0.0.1");
    CHECK(client("127.0.0.1", {"198.51.100.9, garbage, 10.0.0.7"}, proxies) == "10.0.0.7");
    CHECK(client("127.0.0.1", {"198.51.100.9, 1.2.3.4:80"}, proxies) == "127.0.0.1");  // a port: not expected
}

TEST_CASE("trusted proxies: addresses and networks of both families; anything else is refused") {
    const TrustedProxies t({"192.168.1.0/24", "::1", "fd00::/8"});
    CHECK(t.contains(ip::make_address("192.168.1.200")));
    CHECK_FALSE(t.contains(ip::make_address("192.168.2.1")));
    CHECK(t.contains(ip::make_address("::1")));
    CHECK(t.contains(ip::make_address("fd12:3456::1")));
    CHECK_FALSE(t.contains(ip::make_address("fe80::1")));
    CHECK_THROWS_AS(TrustedProxies({"proxy.local"}), std::invalid_argument);
    CHECK(TrustedProxies::invalid("10.0.0.0/33").has_value());
    CHECK_FALSE(TrustedProxies::invalid("10.0.0.0/8").has_value());
}

TEST_CASE("address groups: an IPv4 address alone, an IPv6 address by its /64") {
    CHECK(address_group(ip::make_address("203.0.113.7")) == "203.0.113.7");
    CHECK(address_group(ip::make_address("::ffff:203.0.113.7")) == "203.0.113.7");
    CHECK(address_group(ip::make_address("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64");
    CHECK(address_group(ip::make_address("2001:db8:1:2:bbbb::9")) == "2001:db8:1:2::/64");
    CHECK(address_group(ip::make_address("2001:db8:1:3::1")) != "2001:db8:1:2::/64");
}

}
