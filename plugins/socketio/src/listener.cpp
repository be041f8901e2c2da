#include "listener.hpp"

#include "engine.hpp"
#include "http_connection.hpp"

#include <stdexcept>

namespace yunity::socketio {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Listener::Listener(Engine& engine, const std::string& address, std::uint16_t port)
    : engine_(engine), acceptor_(engine.io()), retry_(engine.io()) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec) throw std::runtime_error("--bind " + address + ": not an IP address");
    tcp::endpoint endpoint(ip, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
}

void Listener::start() {
    engine_.log().info("listening on {}:{} for socket.io clients", acceptor_.local_endpoint().address().to_string(),
                       port_);
    do_accept();
}

void Listener::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
    auto live = live_;  // shutdown() may untrack
    for (auto* c : live) c->shutdown();
}

void Listener::do_accept() {
    acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (self->stopped_) return;
        if (!ec) {
            start_http_connection(self->engine_, *self, std::move(socket));
        } else if (ec != asio::error::operation_aborted) {
            // Out of file descriptors, most likely: pause instead of spinning, and keep accepting afterwards.
            self->engine_.log().warn("accept failed: {}", ec.message());
            self->retry_.expires_after(std::chrono::milliseconds(100));
            self->retry_.async_wait([self](boost::system::error_code wait_ec) {
                if (!wait_ec && !self->stopped_) self->do_accept();
            });
            return;
        }
        self->do_accept();
    });
}

}  // namespace yunity::socketio
