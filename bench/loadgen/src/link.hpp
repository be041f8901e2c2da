#pragma once

// One Engine.IO connection attempt over one transport: TCP from a chosen source address, the handshake, then
// packets in both directions. A Client (the socket.io side) owns its link and replaces it on every reconnect, so a
// link never needs resetting. Beast is confined to the two link files: they are the slow ones to compile.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace yunity::bench {

class LinkEvents {
public:
    // `type` is the Engine.IO packet type digit ('0' open, '2' ping, '4' message, ...), `data` what follows it;
    // valid only during the call.
    virtual void on_packet(char type, std::string_view data) = 0;
    // The link is dead and reports nothing more.
    virtual void on_link_error(std::string_view what, const boost::system::error_code& ec) = 0;

protected:
    ~LinkEvents() = default;
};

// Shared by every link with the same server, source address and version: tens of thousands of links hold one
// reference each instead of copies of these strings.
struct LinkSettings {
    boost::asio::ip::tcp::endpoint server;
    boost::asio::ip::address source;
    std::string host_header;
    std::string websocket_target;  // path?EIO=v&transport=websocket
    std::string polling_target;    // path?EIO=v&transport=polling (and b64=1 for version 3)
    int eio = 4;
};

class Link {
public:
    virtual ~Link() = default;
    virtual void start() = 0;
    // One encoded Engine.IO text packet (type digit + data); queued until the handshake is done.
    virtual void send(std::string packet) = 0;
    // Drops the connection at once (the storm's "network gone"); nothing is reported afterwards.
    virtual void abort() = 0;
};

// Both keep themselves alive while I/O is pending; `settings` and `events` must outlive them or abort() first.
std::shared_ptr<Link> make_websocket_link(boost::asio::io_context& io, const LinkSettings& settings,
                                          LinkEvents& events);
std::shared_ptr<Link> make_polling_link(boost::asio::io_context& io, const LinkSettings& settings, LinkEvents& events);

// Opens `socket`, lets the kernel pick the port per destination (IP_BIND_ADDRESS_NO_PORT: without it a bound
// source address has only ~28k ports for all destinations together) and binds the source address.
boost::system::error_code open_from(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::address& source);

}  // namespace yunity::bench
