#include "websocket_connection.hpp"

#include "engine.hpp"
#include "listener.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>

namespace yunity::socketio {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::chrono::milliseconds open_packet_delay{2};

// Over TLS (beast::ssl_stream of a tcp_stream); plain TCP goes to plain_websocket.cpp. Templated on the stream
// still, as it was written for both.
template <class Stream>
class WebsocketConnection : public std::enable_shared_from_this<WebsocketConnection<Stream>>,
                            public WebsocketLink,
                            public Closable {
    using std::enable_shared_from_this<WebsocketConnection<Stream>>::shared_from_this;

public:
    WebsocketConnection(Engine& engine, Listener& listener, Stream stream, std::shared_ptr<Session> session,
                        int version, std::string raw_path, std::string group)
        : engine_(engine),
          listener_(listener),
          ws_(std::move(stream)),
          session_(std::move(session)),
          version_(version),
          probing_(session_ != nullptr),
          raw_path_(std::move(raw_path)),
          group_(std::move(group)) {
        live_ = listener_.track(this);
    }
    ~WebsocketConnection() override { live_->erase(this); }

    void run(http::request<http::string_body> request, std::shared_ptr<const Handshake> handshake) {
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = engine_.config().websocket_handshake_timeout;
        timeouts.idle_timeout = websocket::stream_base::none();  // Engine.IO's heartbeat judges liveness
        timeouts.keep_alive_pings = false;
        ws_.set_option(timeouts);
        ws_.read_message_max(engine_.config().max_payload);
        ws_.auto_fragment(false);
        auto req = std::make_shared<http::request<http::string_body>>(std::move(request));
        ws_.async_accept(*req, [self = shared_from_this(), req, handshake = std::move(handshake)](
                                   beast::error_code ec) { self->on_accept(ec, handshake); });
    }

    SendStatus send(Frame frame) override {
        if (closing_) return SendStatus::dropped;
        queued_bytes_ += cost(frame);
        queue_.push_back(std::move(frame));
        if (!writing_) do_write();
        return queued_bytes_ > engine_.config().max_queue_bytes ? SendStatus::over_limit : SendStatus::queued;
    }

    void close(CloseReason reason) override {
        if (closing_) return;
        closing_ = true;
        session_.reset();  // the session is closing this link; it must not hear back from it
        if (reason == CloseReason::too_slow || reason == CloseReason::transport_error) return cut();
        close_code_ =
            reason == CloseReason::server_shutdown ? websocket::close_code::going_away : websocket::close_code::normal;
        // The frame being written stays until its write completes: Beast is still reading its bytes.
        queue_.erase(queue_.begin() + (writing_ ? 1 : 0), queue_.end());
        queued_bytes_ = 0;
        if (!writing_) do_close();
        // else: the close frame follows the write in flight (Beast allows one write at a time).
    }

    void shutdown() override {
        if (auto s = session_) s->close(CloseReason::server_shutdown);
        else close(CloseReason::server_shutdown);
    }

private:
    // A frame's payload and what its entry holds beyond it: many tiny replies weigh as one large frame.
    static std::size_t cost(const Frame& f) { return sizeof(Frame) + 64 + f.bytes->size(); }

    void on_accept(beast::error_code ec, const std::shared_ptr<const Handshake>& handshake) {
        if (ec) {
            if (session_ && probing_) session_->on_websocket_closed(*this, CloseReason::transport_error);
            return;
        }
        if (session_) {
            if (!session_->attach_probe(shared_from_this())) {
                // A second websocket for one session: accepted, then closed (refusing with HTTP 400 makes
                // the `ws` client throw an unhandled error).
                session_.reset();
                closing_ = true;
                do_close();
                return;
            }
        } else {
            session_ = engine_.create(version_, Session::Transport::websocket, handshake, std::move(raw_path_),
                                      std::move(group_));
            session_->attach_websocket(shared_from_this());
            // The open packet follows the 101 response after a short pause. A client of the `ws` library that
            // awaits 'open' before listening for messages (the official test suites do) loses a frame that
            // arrives in the same read as the 101; engine.io's own pace leaves such a gap, and so do we.
            auto timer = std::make_shared<asio::steady_timer>(ws_.get_executor(), open_packet_delay);
            timer->async_wait([self = shared_from_this(), timer](const beast::error_code&) { self->open(); });
            return;
        }
        do_read();
    }

    void open() {
        if (!session_ || closing_) return;
        send({std::make_shared<const std::string>(session_->open_packet()), false});
        session_->start();
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            auto reason = ec == websocket::error::closed ? CloseReason::client_close : CloseReason::transport_error;
            if (ec == websocket::error::message_too_big) {
                engine_.log().info("websocket message over max_payload; closing");
                reason = CloseReason::protocol_error;
            }
            if (auto s = std::exchange(session_, nullptr)) s->on_websocket_closed(*this, reason);
            closing_ = true;
            return;
        }
        const auto data = buffer_.cdata();
        const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
        if (auto session = session_) session->on_websocket_message(*this, probing_, ws_.got_text(), bytes);
        buffer_.consume(buffer_.size());
        if (!closing_) do_read();
    }

    void do_write() {
        writing_ = true;
        const auto& f = queue_.front();
        ws_.text(!f.binary);
        auto write_bytes = [this](const std::string& b) {
            ws_.async_write(asio::buffer(b), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                self->on_write(ec, n);
            });
        };
        if (f.binary) {
            binary_scratch_ = eio::encode_binary_frame(version_, *f.bytes);
            write_bytes(binary_scratch_);
        } else {
            write_bytes(*f.bytes);
        }
    }

    void on_write(beast::error_code ec, std::size_t n) {
        writing_ = false;
        engine_.bytes_sent.fetch_add(n, std::memory_order_relaxed);
        if (ec) {
            if (auto s = std::exchange(session_, nullptr)) s->on_websocket_closed(*this, CloseReason::transport_error);
            closing_ = true;
            return;
        }
        if (closing_) {
            queue_.clear();
            return do_close();
        }
        queued_bytes_ -= cost(queue_.front());
        queue_.pop_front();
        if (!queue_.empty()) do_write();
    }

    void do_close() {
        ws_.async_close(close_code_, [self = shared_from_this()](beast::error_code) {});
    }

    void cut() {
        beast::error_code ec;
        auto& socket = beast::get_lowest_layer(ws_).socket();
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
    }

    Engine& engine_;
    Listener& listener_;
    std::shared_ptr<Listener::LiveSet> live_;
    websocket::stream<Stream> ws_;
    beast::flat_buffer buffer_;
    std::shared_ptr<Session> session_;
    int version_;
    bool probing_;
    std::string raw_path_;
    std::string group_;
    std::deque<Frame> queue_;
    std::size_t queued_bytes_ = 0;
    std::string binary_scratch_;
    bool writing_ = false;
    bool closing_ = false;
    websocket::close_code close_code_ = websocket::close_code::normal;
};

template <class Stream>
void start(Engine& engine, Listener& listener, Stream stream, http::request<http::string_body> request,
           std::shared_ptr<Session> session, int version, std::shared_ptr<const Handshake> handshake,
           std::string raw_path, std::string group) {
    std::make_shared<WebsocketConnection<Stream>>(engine, listener, std::move(stream), std::move(session), version,
                                                  std::move(raw_path), std::move(group))
        ->run(std::move(request), std::move(handshake));
}

}  // namespace

void start_websocket(Engine& engine, Listener& listener, beast::ssl_stream<beast::tcp_stream> stream,
                     http::request<http::string_body> request, std::shared_ptr<Session> session, int version,
                     std::shared_ptr<const Handshake> handshake, std::string raw_path, std::string group) {
    start(engine, listener, std::move(stream), std::move(request), std::move(session), version, std::move(handshake),
          std::move(raw_path), std::move(group));
}

}  // namespace yunity::socketio
