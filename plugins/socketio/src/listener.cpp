#include "listener.hpp"
#include "sockets.hpp"

#include "delay_queue.hpp"
#include "engine.hpp"
#include "flush_queue.hpp"
#include "http_connection.hpp"
#include "websocket_connection.hpp"

#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string>

namespace yunity::socketio {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The listen queue asked for. The kernel caps it at net.core.somaxconn (4096 by default): asking for more lets an
// operator who raises that for reconnect storms (docs/operations.md) get it without a new build.
constexpr int requested_backlog = 65535;

// The listen queue the kernel grants; 0 when its cap cannot be read (not Linux).
int granted_backlog() {
    std::ifstream in("/proc/sys/net/core/somaxconn");
    int cap = 0;
    if (!(in >> cap) || cap <= 0) return 0;
    return std::min(cap, requested_backlog);
}

}  // namespace

Listener::Listener(Engine& engine, const std::string& address, std::uint16_t port, const std::string& tls_cert,
                   const std::string& tls_key)
    : engine_(engine),
      acceptor_(engine.io()),
      retry_(engine.io()),
      flush_queue_(std::make_shared<FlushQueue>(engine.io().get_executor())),
      open_delays_(std::make_shared<DelayQueue>(engine.io().get_executor(), WebsocketConnection::open_packet_delay)) {
    if (tls_cert.empty() != tls_key.empty()) throw std::runtime_error("--tls-cert and --tls-key go together");
    if (!tls_cert.empty()) {
        // TLS 1.2 and later only, with the library's default ciphers (OpenSSL's are sound; browsers and Node agree).
        tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
        tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                          asio::ssl::context::single_dh_use);
        boost::system::error_code tls_ec;
        tls_->use_certificate_chain_file(tls_cert, tls_ec);
        if (tls_ec) throw std::runtime_error("--tls-cert " + tls_cert + ": " + tls_ec.message());
        tls_->use_private_key_file(tls_key, asio::ssl::context::pem, tls_ec);
        if (tls_ec) throw std::runtime_error("--tls-key " + tls_key + ": " + tls_ec.message());
    }
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec) throw std::runtime_error("--bind " + address + ": not an IP address");
    tcp::endpoint endpoint(ip, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    // Accepted sockets inherit TCP_NODELAY from the listening one (Linux): no setsockopt per connection.
    if (!ec) acceptor_.set_option(tcp::no_delay(true), ec);
    if (!ec) acceptor_.listen(requested_backlog, ec);
    if (!ec) acceptor_.non_blocking(true, ec);
    if (ec) throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
}

Listener::~Listener() = default;

void Listener::start() {
    // A storm of more reconnections than the queue holds loses SYNs, and each costs its client a second: say what
    // the kernel granted, where an operator starting the server looks.
    const int backlog = granted_backlog();
    std::string queue;
    if (backlog > 0) queue = "; the kernel's listen queue holds " + std::to_string(backlog) + " connections";
    if (backlog > 0 && backlog < requested_backlog)
        queue += " (net.core.somaxconn; reconnect storms want more: docs/operations.md)";
    engine_.log().info("listening on {}:{} for socket.io clients{}{}", acceptor_.local_endpoint().address().to_string(),
                       port_, tls_ ? " (TLS)" : "", queue);
    do_accept();
}

void Listener::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
    auto live = *live_;  // shutdown() may untrack
    for (auto* c : live) c->shutdown();
}

void Listener::accept_queued() {
    // What else waits in the kernel's queue is taken now, a bounded number at a time so that established
    // connections get their turn: in a reconnect storm, each accept would otherwise wait a turn of the loop
    // while the queue overflows and clients' SYNs are dropped (each a retry after 1 s, 2 s, ...).
    for (int i = 0; i < 64 && !stopped_; ++i) {
        boost::system::error_code ec;
        Socket socket = acceptor_.accept(peer_, ec);
        if (ec) return;  // would_block: the queue is empty; anything else: the asynchronous accept reports it
        serve(std::move(socket), peer_);
    }
}

// `peer` comes from accept itself (no getpeername), and the socket is made non-blocking here, once: every
// operation on it after this (Beast's reads, the websocket's own) finds it so, and none asks the kernel again.
void Listener::serve(Socket socket, const tcp::endpoint& peer) {
    boost::system::error_code ec;
    auto unbound = engine_.admit_connection(peer.address());
    if (!unbound) {
        socket.close(ec);  // cheaply: nothing read, no TLS handshake, no timer
        return;
    }
    socket.non_blocking(true, ec);
    if (ec) return;  // gone already
    start_http_connection(engine_, *this, std::move(socket), peer, tls_.get(), std::move(*unbound));
}

void Listener::do_accept() {
    acceptor_.async_accept(peer_, [self = shared_from_this()](boost::system::error_code ec, Socket socket) {
        if (self->stopped_) return;
        if (!ec) {
            self->serve(std::move(socket), self->peer_);
            self->accept_queued();
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
