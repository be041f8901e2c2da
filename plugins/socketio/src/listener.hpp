#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <unordered_set>

namespace yunity::socketio {

class Engine;

// Something the listener can cut at shutdown: an idle keep-alive connection or a websocket.
class Closable {
public:
    virtual ~Closable() = default;
    virtual void shutdown() = 0;
};

// Accepts client connections on the -w port and hands each to an HttpConnection.
class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(Engine& engine, const std::string& address, std::uint16_t port);
    void start();
    void stop();
    std::uint16_t port() const { return port_; }

    void track(Closable* c) { live_.insert(c); }
    void untrack(Closable* c) { live_.erase(c); }

private:
    void do_accept();

    Engine& engine_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;
    std::uint16_t port_ = 0;
    bool stopped_ = false;
    std::unordered_set<Closable*> live_;
};

}  // namespace yunity::socketio
