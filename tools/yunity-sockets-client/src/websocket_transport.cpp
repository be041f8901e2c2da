#include "transport.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>

namespace yunity::client {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto user_agent = "yunity-sockets-client/" YUNITY_VERSION;

class WebsocketTransport : public Transport, public std::enable_shared_from_this<WebsocketTransport> {
public:
    WebsocketTransport(asio::io_context& io, const TransportSettings& settings, TransportEvents& events)
        : settings_(settings), events_(&events), resolver_(io), ws_(io) {}

    void start() override {
        resolver_.async_resolve(settings_.server.host, settings_.server.port,
                                [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                                    self->on_resolve(ec, std::move(r));
                                });
    }

    void send(std::string packet) override {
        if (closing_ || dead_) return;
        queue_.push_back(std::move(packet));
        if (open_ && !writing_) do_write();
    }

    void close(std::function<void()> done) override {
        if (closing_ || dead_) return;
        events_ = nullptr;
        closing_ = true;
        done_ = std::move(done);
        if (!open_) {
            abort();
            if (auto d = std::exchange(done_, nullptr)) d();
            return;
        }
        // Beast allows one write at a time: the close frame follows the write in flight.
        if (!writing_) do_close();
    }

    void abort() override {
        events_ = nullptr;
        dead_ = true;
        resolver_.cancel();
        beast::get_lowest_layer(ws_).close();
    }

private:
    void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
        if (dead_) return;
        if (ec) return fail("cannot resolve " + settings_.server.host + ": " + ec.message());
        beast::get_lowest_layer(ws_).async_connect(
            results, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) { self->on_connect(ec); });
    }

    void on_connect(beast::error_code ec) {
        if (dead_) return;
        if (ec) return fail("cannot connect to " + settings_.server.host_header + ": " + ec.message());
        beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ec);
        // Engine.IO's heartbeat judges liveness (the Client's timers); Beast's own pings would only add traffic.
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::request_type& req) { req.set(http::field::user_agent, user_agent); }));
        ws_.auto_fragment(false);
        const auto target = request_target(settings_.server, settings_.protocol, "websocket", {});
        ws_.async_handshake(response_, settings_.server.host_header, target,
                            [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
    }

    void on_handshake(beast::error_code ec) {
        if (dead_) return;
        if (ec == websocket::error::upgrade_declined) {
            // The server's JSON error ({"code":3,"message":"Bad request"}) says more than Beast's message.
            auto body = response_.body();
            if (body.size() > 200) body = body.substr(0, 200) + "...";
            return fail("websocket handshake refused: HTTP " + std::to_string(response_.result_int()) +
                        (body.empty() ? "" : " " + body));
        }
        if (ec) return fail("websocket handshake failed: " + ec.message());
        open_ = true;
        if (!queue_.empty() && !writing_) do_write();
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (dead_) return;
        if (ec) {
            if (closing_) return;  // the reply to our close frame, or the connection going away after it
            if (ec == websocket::error::closed) {
                const auto& reason = ws_.reason();
                return fail("the server closed the websocket (code " + std::to_string(reason.code) +
                            (reason.reason.empty() ? "" : ", " + std::string(reason.reason.c_str())) + ")");
            }
            return fail("websocket read failed: " + ec.message());
        }
        const auto data = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        if (events_) {
            auto packet = ws_.got_text() ? eio::decode_text_frame(settings_.protocol, data)
                                         : eio::decode_binary_frame(settings_.protocol, data);
            if (!packet) return fail("malformed Engine.IO frame from the server");
            events_->on_packet(std::move(*packet));
        }
        // on_packet may have closed or aborted this transport; a closing one still reads, to see the close frame.
        if (!dead_) do_read();
    }

    void do_write() {
        writing_ = true;
        ws_.text(true);
        ws_.async_write(asio::buffer(queue_.front()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        if (dead_) return;
        if (ec) {
            if (closing_) return finish_close();
            return fail("websocket write failed: " + ec.message());
        }
        queue_.pop_front();
        if (!queue_.empty()) return do_write();
        if (closing_) do_close();
    }

    void do_close() {
        ws_.async_close(websocket::close_code::normal,
                        [self = shared_from_this()](beast::error_code) { self->finish_close(); });
    }

    void finish_close() {
        abort();
        if (auto d = std::exchange(done_, nullptr)) d();
    }

    void fail(std::string reason) {
        auto* events = events_;
        abort();
        if (events) events->on_transport_error(std::move(reason));
    }

    TransportSettings settings_;
    TransportEvents* events_;
    tcp::resolver resolver_;
    websocket::stream<beast::tcp_stream> ws_;
    websocket::response_type response_;
    beast::flat_buffer buffer_;
    std::deque<std::string> queue_;
    std::function<void()> done_;
    bool open_ = false;
    bool writing_ = false;
    bool closing_ = false;
    bool dead_ = false;
};

}  // namespace

std::shared_ptr<Transport> make_websocket_transport(asio::io_context& io, const TransportSettings& settings,
                                                    TransportEvents& events) {
    return std::make_shared<WebsocketTransport>(io, settings, events);
}

}  // namespace yunity::client
