// Who a client is, for the per-address limits and the handshake's `address`: the TCP peer, or behind a proxy
// the operator trusts, the address that proxy saw (X-Forwarded-For). Pure: unit tested and fuzzed alone.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::socketio {

// The proxies whose X-Forwarded-For is believed: addresses or networks ("10.0.0.0/8", "::1", "fd00::/8").
class TrustedProxies {
public:
    TrustedProxies() = default;
    // Throws std::invalid_argument naming an entry that is neither an address nor a network.
    explicit TrustedProxies(const std::vector<std::string>& entries);

    bool empty() const { return v4_.empty() && v6_.empty(); }
    bool contains(const boost::asio::ip::address& address) const;

    // Checks one entry; the reason when it is not an address or a network.
    static std::optional<std::string> invalid(std::string_view entry);

private:
    std::vector<boost::asio::ip::network_v4> v4_;
    std::vector<boost::asio::ip::network_v6> v6_;
};

// IPv4 in IPv6 ("::ffff:10.1.2.3") as the IPv4 address it is; anything else unchanged.
boost::asio::ip::address unmapped(const boost::asio::ip::address& address);

// The client's address: `peer` itself, unless `peer` is a trusted proxy; then the X-Forwarded-For entries (every
// header's, joined in order) are read from the right, each trusted one skipped, and the first that is not trusted
// is the client. An entry that is not an address stops the walk at the last address read (a proxy's: the
// client's own claims are never believed past one that is garbled). Ports and brackets are not expected, as
// nginx's $proxy_add_x_forwarded_for writes none.
boost::asio::ip::address client_address(const boost::asio::ip::address& peer,
                                        const std::vector<std::string_view>& forwarded_for,
                                        const TrustedProxies& trusted);

// What the per-address limits count by: an IPv4 address, or an IPv6 address's /64, which one subscriber
// usually holds whole (counting single IPv6 addresses would let one client take every slot).
std::string address_group(const boost::asio::ip::address& address);

}  // namespace yunity::socketio
