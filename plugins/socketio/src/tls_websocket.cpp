#include "tls_websocket.hpp"
#include "sockets.hpp"

#include "engine.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <array>
#include <memory>
#include <span>

namespace yunity::socketio {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using TlsStream = beast::ssl_stream<TcpStream>;

// One TLS record's worth: a read completes with at most one record's plaintext anyway.
constexpr std::size_t read_size = 16384;
// Plaintext handed to the TLS stream per write. The queue's pieces are copied here, and consumed from it at once,
// so that what is being encrypted and written never depends on the queue (which grows meanwhile).
constexpr std::size_t write_size = 65536;

class TlsWebsocket final : public WebsocketConnection {
public:
    TlsWebsocket(Engine& engine, Listener& listener, TlsStream stream, Protocol protocol)
        : WebsocketConnection(engine, listener, protocol), stream_(std::move(stream)) {
        // The HTTP side's request timeout no longer applies: Engine.IO's heartbeat judges liveness.
        beast::get_lowest_layer(stream_).expires_never();
        error_code ec;
        beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ec);
    }

private:
    std::shared_ptr<TlsWebsocket> self() { return std::static_pointer_cast<TlsWebsocket>(shared_from_this()); }

    void write() override {
        if (write_waiting_ || state() == State::closed) return;
        if (frames_.empty()) return drained();
        std::array<std::span<const char>, max_buffers> pieces;
        std::array<ws::Header, max_buffers / 2> headers;
        const std::size_t n = frames_.gather(pieces, headers);
        out_.clear();
        for (std::size_t i = 0; i < n && out_.size() < write_size; ++i)
            out_.append(pieces[i].data(), std::min(pieces[i].size(), write_size - out_.size()));
        frames_.consume(out_.size());
        write_waiting_ = true;
        asio::async_write(stream_, asio::buffer(out_), [self = self()](const error_code& ec, std::size_t written) {
            self->write_waiting_ = false;
            self->engine_.bytes_sent.fetch_add(written, std::memory_order_relaxed);
            if (ec) {
                if (ec != asio::error::operation_aborted) self->lost(CloseReason::transport_error);
                return;
            }
            // An idle connection keeps no write buffer.
            if (self->frames_.empty()) std::string().swap(self->out_);
            self->write();
        });
    }

    void wait_read() override {
        if (reading_ || state() == State::closed) return;
        reading_ = true;
        if (!in_) in_ = std::make_unique<std::array<char, read_size>>();
        stream_.async_read_some(asio::buffer(*in_), [self = self()](const error_code& ec, std::size_t n) {
            self->reading_ = false;
            if (ec) {
                if (ec == asio::error::operation_aborted) return;
                // A client that closes its TCP connection without TLS's close_notify (most do, after the
                // websocket's closing handshake) ends the stream as truncated.
                return self->read_failed(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated);
            }
            if (self->received(std::span(self->in_->data(), n))) self->wait_read();
        });
    }

    // TLS has no half-close that leaves the stream readable: the client's close frame is awaited as it is.
    void shutdown_send() override {}

    void close_stream() override {
        error_code ec;
        auto& socket = beast::get_lowest_layer(stream_).socket();
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
    }

    asio::any_io_executor executor() override { return stream_.get_executor(); }

    TlsStream stream_;
    std::unique_ptr<std::array<char, read_size>> in_;
    std::string out_;  // the plaintext being written
    bool reading_ = false;
};

}  // namespace

void start_tls_websocket(Engine& engine, Listener& listener, TlsStream stream, WebsocketStart start) {
    const Protocol protocol = start.protocol;
    std::make_shared<TlsWebsocket>(engine, listener, std::move(stream), protocol)->run(std::move(start));
}

}  // namespace yunity::socketio
