#include "client_address.hpp"

#include <stdexcept>

namespace yunity::socketio {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<ip::address> parse_address(std::string_view text) {
    boost::system::error_code ec;
    auto a = ip::make_address(std::string(trim(text)), ec);
    if (ec) return std::nullopt;
    return unmapped(a);
}

}  // namespace

ip::address unmapped(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    return address;
}

std::optional<std::string> TrustedProxies::invalid(std::string_view entry) {
    try {
        TrustedProxies({std::string(entry)});
        return std::nullopt;
    } catch (const std::invalid_argument& e) {
        return std::string(e.what());
    }
}

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
    for (const auto& entry : entries) {
        boost::system::error_code ec;
        if (entry.find('/') == std::string::npos) {
            auto a = ip::make_address(entry, ec);
            if (ec) throw std::invalid_argument("\"" + entry + "\" is not an IP address or network");
            a = unmapped(a);
            if (a.is_v4()) v4_.emplace_back(a.to_v4(), 32);
            else v6_.emplace_back(a.to_v6(), 128);
            continue;
        }
        auto v4 = ip::make_network_v4(entry, ec);
        if (!ec) {
            v4_.push_back(v4.canonical());
            continue;
        }
        ec.clear();
        auto v6 = ip::make_network_v6(entry, ec);
        if (ec) throw std::invalid_argument("\"" + entry + "\" is not an IP address or network");
        v6_.push_back(v6.canonical());
    }
}

bool TrustedProxies::contains(const ip::address& address) const {
    const auto a = unmapped(address);
    if (a.is_v4()) {
        const ip::network_v4 host(a.to_v4(), 32);
        for (const auto& n : v4_)
            if (host == n || host.is_subnet_of(n)) return true;
        return false;
    }
    const ip::network_v6 host(a.to_v6(), 128);
    for (const auto& n : v6_)
        if (host == n || host.is_subnet_of(n)) return true;
    return false;
}

ip::address client_address(const ip::address& peer, const std::vector<std::string_view>& forwarded_for,
                           const TrustedProxies& trusted) {
    auto current = unmapped(peer);
    if (!trusted.contains(current)) return current;
    // Right to left over every header's entries: the last one was written by the proxy nearest to us.
    for (auto h = forwarded_for.rbegin(); h != forwarded_for.rend(); ++h) {
        std::string_view list = *h;
        while (!list.empty()) {
            const auto comma = list.rfind(',');
            const auto entry = comma == std::string_view::npos ? list : list.substr(comma + 1);
            list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
            if (trim(entry).empty()) continue;
            const auto a = parse_address(entry);
            if (!a) return current;
            current = *a;
            if (!trusted.contains(current)) return current;
        }
    }
    return current;
}

std::string address_group(const ip::address& address) {
    const auto a = unmapped(address);
    if (a.is_v4()) return a.to_string();
    auto bytes = a.to_v6().to_bytes();
    for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
    return ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace yunity::socketio
