#pragma once

// The Engine.IO transports of the client. They move Engine.IO packets and know nothing of Socket.IO: the Client
// (client.hpp) runs the protocol, heartbeats and reconnections above them.

#include "client_options.hpp"
#include "engineio_codec.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace yunity::client {

class TransportEvents {
public:
    // Packets in the order the server sent them.
    virtual void on_packet(eio::Packet packet) = 0;
    // The transport is dead (connection refused or lost, HTTP error, malformed data); it reports nothing more.
    virtual void on_transport_error(std::string reason) = 0;

protected:
    ~TransportEvents() = default;
};

class Transport {
public:
    virtual ~Transport() = default;
    // Connects and performs the handshake; the server's open packet is the first packet reported.
    virtual void start() = 0;
    // One encoded text packet (type digit + data), sent after those before it.
    virtual void send(std::string packet) = 0;
    // From here on nothing is reported. Sends what is queued, says goodbye (a close frame, or a close packet over
    // polling) and then calls `done`, which may never come if the server does not answer: callers bound the wait.
    virtual void close(std::function<void()> done) = 0;
    // From here on nothing is reported, and the connections are dropped at once.
    virtual void abort() = 0;
};

struct TransportSettings {
    ServerAddress server;
    Protocol protocol = Protocol::eio4_sio5;
};

// Both keep themselves alive while they have I/O pending; `events` must outlive that or be detached with close()
// or abort() first.
std::shared_ptr<Transport> make_websocket_transport(boost::asio::io_context& io, const TransportSettings& settings,
                                                    TransportEvents& events);
std::shared_ptr<Transport> make_polling_transport(boost::asio::io_context& io, const TransportSettings& settings,
                                                  TransportEvents& events);

// What the client needs of the open packet's JSON; nullopt when it is not an object with a string `sid` and
// positive pingInterval and pingTimeout.
struct OpenInfo {
    std::string sid;
    std::chrono::milliseconds ping_interval{0};
    std::chrono::milliseconds ping_timeout{0};
};
std::optional<OpenInfo> parse_open(std::string_view json);

}  // namespace yunity::client
