#pragma once

// The protocol side of the client: Engine.IO open and heartbeats, the Socket.IO connection to the default
// namespace, `authenticate`, printing `message` events, and reconnecting with backoff. The transports below it
// move packets; main() owns the io_context and the signals.

#include "client_options.hpp"
#include "transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace yunity::client {

class Client : private TransportEvents {
public:
    // `on_exit` is called once, with the exit status, when the client is done: stopped, --once reached, or given
    // up. Nothing of the client runs afterwards, except the destructor.
    Client(boost::asio::io_context& io, Options options, std::function<void(int)> on_exit);

    void start();
    // Leaves politely (exit status 0): a close frame or close packet, bounded by a second.
    void stop();

private:
    enum class State {
        waiting,    // for the next attempt
        opening,    // transport started, waiting for the Engine.IO open packet
        open,       // waiting for the Socket.IO CONNECT
        connected,  // authenticated; messages are printed
        finished
    };

    // A timer whose expiry is ignored if it was re-armed or cancelled meanwhile: cancel() does not recall a
    // completion that is already queued.
    struct Timer {
        explicit Timer(boost::asio::io_context& io) : timer(io) {}
        boost::asio::steady_timer timer;
        std::uint64_t armed = 0;
    };

    void on_packet(eio::Packet packet) override;
    void on_transport_error(std::string reason) override;

    void connect();
    void on_open(std::string_view json);
    void on_socketio(std::string_view text);
    void on_connected(std::string_view socket_id);
    void print(const rapidjson::Value& value);
    void send(std::string packet);
    void heard_from_server();
    void send_ping();
    // The connection failed or was lost: drop it and try again after the backoff, or give up.
    void lost(const std::string& reason);
    void finish(int status);
    void done();
    std::chrono::milliseconds backoff();

    void arm(Timer& t, std::chrono::milliseconds after, std::function<void()> f);
    static void cancel(Timer& t);

    boost::asio::io_context& io_;
    Options options_;
    std::function<void(int)> on_exit_;
    std::shared_ptr<Transport> transport_;
    State state_ = State::waiting;
    OpenInfo open_;
    std::uint64_t failures_ = 0;  // attempts since the last successful connection
    std::uint64_t printed_ = 0;
    int status_ = 0;
    bool done_ = false;
    std::mt19937 random_;
    Timer connect_timer_;
    Timer heartbeat_timer_;  // silence from the server for pingInterval + pingTimeout: the connection is gone
    Timer ping_timer_;       // Engine.IO 3: the client pings every pingInterval
    Timer reconnect_timer_;
    Timer exit_timer_;
};

}  // namespace yunity::client
