#pragma once

#include "sockets.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace boost::asio::ssl {
class context;
}

#include <memory>
#include <unordered_set>

namespace yunity::socketio {

class DelayQueue;
class Engine;
class FlushQueue;

// Something the listener can cut at shutdown: an idle keep-alive connection or a websocket.
class Closable {
public:
    virtual ~Closable() = default;
    virtual void shutdown() = 0;
};

// Accepts client connections on the -w port and hands each to an HttpConnection, over TLS when given a
// certificate chain and key (PEM files).
class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(Engine& engine, const std::string& address, std::uint16_t port, const std::string& tls_cert = {},
             const std::string& tls_key = {});
    ~Listener();
    bool tls() const { return tls_ != nullptr; }
    void start();
    void stop();
    std::uint16_t port() const { return port_; }

    // The connections to cut at shutdown. A connection keeps the set it was put in and leaves it when destroyed:
    // the set outlives the listener for connections whose handlers the io_context destroys after the plugin.
    using LiveSet = std::unordered_set<Closable*>;
    std::shared_ptr<LiveSet> track(Closable* c) {
        live_->insert(c);
        return live_;
    }
    FlushQueue& flush_queue() { return *flush_queue_; }
    DelayQueue& open_delays() { return *open_delays_; }  // websocket open packets, each due after its 101

private:
    void do_accept();
    void accept_queued();
    // Hands an accepted connection to an HttpConnection, or closes it at once when its address holds
    // max_unbound_per_address connections without a session.
    void serve(Socket socket, const boost::asio::ip::tcp::endpoint& peer);

    Engine& engine_;
    Acceptor acceptor_;
    boost::asio::ip::tcp::endpoint peer_;  // the accepted connection's peer, filled in by each accept
    boost::asio::steady_timer retry_;
    std::uint16_t port_ = 0;
    std::unique_ptr<boost::asio::ssl::context> tls_;
    std::shared_ptr<FlushQueue> flush_queue_;
    std::shared_ptr<DelayQueue> open_delays_;
    bool stopped_ = false;
    std::shared_ptr<LiveSet> live_ = std::make_shared<LiveSet>();
};

}  // namespace yunity::socketio
