#include "plain_websocket.hpp"

#include "engine.hpp"
#include "engineio_codec.hpp"
#include "flush_queue.hpp"
#include "links.hpp"
#include "listener.hpp"
#include "session.hpp"
#include "websocket_frames.hpp"

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <span>
#include <vector>

namespace yunity::socketio {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::chrono::milliseconds open_packet_delay{2};
// Buffers per write: header and payload of up to 32 frames.
constexpr std::size_t max_buffers = 64;
// A send queue that grew past this many entries is given back when it empties, so that an idle connection
// keeps at most this much.
constexpr std::size_t kept_queue_capacity = 8;

// Every connection of the thread reads into this one buffer; a connection keeps only the unfinished end of a
// frame (std::string pending_), which is empty almost always.
std::span<char> read_buffer() {
    thread_local std::array<char, 65536> buffer;
    return buffer;
}

bool would_block(const error_code& ec) {
    return ec == asio::error::would_block || ec == asio::error::try_again;
}

class PlainWebsocket final : public std::enable_shared_from_this<PlainWebsocket>,
                             public WebsocketLink,
                             public Closable,
                             public Flushable,
                             private ws::FrameSink {
public:
    PlainWebsocket(Engine& engine, Listener& listener, tcp::socket socket, std::shared_ptr<Session> session,
                   int version)
        : engine_(engine),
          listener_(listener),
          socket_(std::move(socket)),
          session_(std::move(session)),
          reader_(engine.config().max_payload),
          version_(version),
          probing_(session_ != nullptr) {
        live_ = listener_.track(this);
    }
    ~PlainWebsocket() override { live_->erase(this); }

    void run(std::string response, std::shared_ptr<const Handshake> handshake, std::string raw_path) {
        error_code ec;
        socket_.non_blocking(true, ec);
        socket_.set_option(tcp::no_delay(true), ec);
        push(std::make_shared<const std::string>(std::move(response)), std::nullopt);
        if (session_) {
            if (!session_->attach_probe(shared_from_this())) {
                // A second websocket for one session: accepted, then closed (refusing with HTTP 400 makes the
                // `ws` client throw an unhandled error).
                session_.reset();
                close(CloseReason::client_close);
                return;
            }
            write();
            wait_read();
            return;
        }
        session_ = engine_.create(version_, Session::Transport::websocket, std::move(handshake), std::move(raw_path));
        session_->attach_websocket(shared_from_this());
        write();
        // The open packet follows the 101 response after a short pause. A client of the `ws` library that awaits
        // 'open' before listening for messages (the official test suites do) loses a frame that arrives in the
        // same read as the 101; engine.io's own pace leaves such a gap, and so do we.
        auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), open_packet_delay);
        timer->async_wait([self = shared_from_this(), timer](const error_code&) { self->open(); });
    }

    void send(Frame frame) override {
        if (closing_) return;
        queued_bytes_ += frame.bytes->size();
        if (frame.binary) {
            push(std::make_shared<const std::string>(eio::encode_binary_frame(version_, *frame.bytes)),
                 ws::Opcode::binary, frame.bytes->size());
        } else {
            const auto size = frame.bytes->size();
            push(std::move(frame.bytes), ws::Opcode::text, size);
        }
        schedule();
    }

    std::size_t queued_bytes() const override { return queued_bytes_; }

    void close(CloseReason reason) override {
        if (closing_) return;
        session_.reset();  // the session is closing this link; it must not hear back from it
        if (reason == CloseReason::too_slow || reason == CloseReason::transport_error) return cut();
        begin_close(reason == CloseReason::server_shutdown ? ws::CloseCode::going_away : ws::CloseCode::normal,
                    false);
    }

    void shutdown() override {
        if (auto s = session_) s->close(CloseReason::server_shutdown);
        else close(CloseReason::server_shutdown);
    }

    void flush() override {
        flush_scheduled_ = false;
        write();
    }

private:
    // One outgoing frame: a header of its own and shared payload bytes (or, for the 101, raw bytes alone).
    struct Out {
        std::shared_ptr<const std::string> bytes;
        ws::Header header{};
        std::size_t sent = 0;      // of header and payload together
        std::size_t counted = 0;   // what it adds to queued_bytes_
        std::size_t size() const { return header.size + bytes->size(); }
    };

    void push(std::shared_ptr<const std::string> bytes, std::optional<ws::Opcode> opcode, std::size_t counted = 0) {
        Out out;
        if (opcode) out.header = ws::header(*opcode, bytes->size());
        out.bytes = std::move(bytes);
        out.counted = counted;
        queue_.push_back(std::move(out));
    }

    void schedule() {
        if (flush_scheduled_ || write_waiting_) return;
        flush_scheduled_ = true;
        listener_.flush_queue().add(shared_from_this());
    }

    void open() {
        if (!session_ || closing_) return;
        send({std::make_shared<const std::string>(session_->open_packet()), false});
        session_->start();
        wait_read();
    }

    // Writes what is queued, as much as the socket takes now; waits for room for the rest.
    void write() {
        while (!write_waiting_ && head_ < queue_.size() && socket_.is_open()) {
            std::array<asio::const_buffer, max_buffers> buffers;
            std::size_t n = 0, wanted = 0;
            for (std::size_t i = head_; i < queue_.size() && n + 2 <= max_buffers; ++i) {
                const auto& o = queue_[i];
                if (o.sent < o.header.size) buffers[n++] = asio::buffer(o.header.bytes.data() + o.sent, o.header.size - o.sent);
                const std::size_t body_sent = o.sent > o.header.size ? o.sent - o.header.size : 0;
                if (body_sent < o.bytes->size()) buffers[n++] = asio::buffer(o.bytes->data() + body_sent, o.bytes->size() - body_sent);
                wanted += o.size() - o.sent;
            }
            error_code ec;
            const std::size_t written = socket_.write_some(std::span(buffers.data(), n), ec);
            if (ec && !would_block(ec)) return lost(CloseReason::transport_error);
            engine_.bytes_sent.fetch_add(written, std::memory_order_relaxed);
            consume(written);
            if (would_block(ec) || written < wanted) wait_write();
        }
        if (head_ == queue_.size()) {
            queue_.clear();
            head_ = 0;
            if (queue_.capacity() > kept_queue_capacity) std::vector<Out>().swap(queue_);
            if (close_sent_pending_) close_written();
        }
    }

    void consume(std::size_t written) {
        while (written > 0) {
            auto& o = queue_[head_];
            const std::size_t rest = o.size() - o.sent;
            if (written < rest) {
                o.sent += written;
                return;
            }
            written -= rest;
            queued_bytes_ -= o.counted;
            o.bytes.reset();
            ++head_;
        }
    }

    void wait_write() {
        write_waiting_ = true;
        socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](const error_code& ec) {
            self->write_waiting_ = false;
            if (ec) {
                if (ec != asio::error::operation_aborted) self->lost(CloseReason::transport_error);
                return;
            }
            self->write();
        });
    }

    void wait_read() {
        if (reading_ || !socket_.is_open()) return;
        reading_ = true;
        socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
            self->reading_ = false;
            if (ec) {
                if (ec != asio::error::operation_aborted) self->lost(CloseReason::transport_error);
                return;
            }
            self->on_readable();
        });
    }

    void on_readable() {
        const auto buffer = read_buffer();
        for (;;) {
            error_code ec;
            const std::size_t n = socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
            if (would_block(ec)) break;
            if (ec) return lost(ec == asio::error::eof && reader_.closed() ? CloseReason::client_close
                                                                           : CloseReason::transport_error);
            std::span<char> data(buffer.data(), n);
            if (!pending_.empty()) {
                pending_.append(buffer.data(), n);
                data = std::span(pending_.data(), pending_.size());
            }
            const auto used = reader_.read(data, *this);
            // Once our close frame is out, only the client's close frame matters (it ends the connection).
            if (!used) return draining_ ? cut() : protocol_failure();
            if (closing_ && !draining_) return;
            if (pending_.empty()) {
                pending_.assign(data.data() + *used, data.size() - *used);
            } else {
                pending_.erase(0, *used);
                if (pending_.empty() && pending_.capacity() > 1024) std::string().swap(pending_);
            }
            // A read that did not fill the buffer emptied the socket. What came with it in the same readiness
            // event (the peer's FIN behind its last frame) is not lost: Asio re-arms the wait with
            // EPOLL_CTL_MOD, which reports a socket still readable at once (tests/integration/websocket.test.mjs).
            if (n < buffer.size()) break;
        }
        wait_read();
    }

    // ---- ws::FrameSink ----
    bool on_message(bool text, std::string_view data) override {
        if (draining_) return true;
        auto session = session_;  // the session may close this link meanwhile, and so release it
        return session && session->on_websocket_message(*this, probing_, text, data) && !closing_;
    }

    bool on_ping(std::string_view data) override {
        if (closing_) return true;
        push(std::make_shared<const std::string>(data), ws::Opcode::pong);
        schedule();
        return true;
    }

    void on_close(std::uint16_t code) override {
        if (closing_) {
            // Ours went out first: the closing handshake is complete, and the server closes the connection.
            return cut();
        }
        // The answer is queued before the session hears of it: closing the link then changes nothing.
        begin_close(code != 1005 ? static_cast<ws::CloseCode>(code) : ws::CloseCode::normal, true);
        if (auto s = std::exchange(session_, nullptr)) s->on_websocket_closed(*this, CloseReason::client_close);
    }
    // ----

    void protocol_failure() {
        if (reader_.error_code() == ws::CloseCode::too_big)
            engine_.log().info("websocket message over max_payload; closing");
        else if (session_)
            engine_.log().info("session {}: websocket: {}; closing", session_->sid(), reader_.error());
        else
            engine_.log().info("websocket: {}; closing", reader_.error());
        begin_close(reader_.error_code(), true);
        if (auto s = std::exchange(session_, nullptr)) s->on_websocket_closed(*this, CloseReason::protocol_error);
    }

    // Sends a close frame after the frame being written (if any), dropping the rest; then, when `final` (the
    // client closed or broke the protocol), closes the connection, else half-closes it and waits for the client's
    // close frame or end of stream. Either way within websocket_handshake_timeout, as Beast bounds its closing
    // handshake.
    void begin_close(ws::CloseCode code, bool final) {
        if (closing_) return;
        closing_ = true;
        final_close_ = final;
        // A frame partly written must be finished, or the stream's framing breaks; the 101 (no header) goes out.
        std::size_t keep = head_;
        while (keep < queue_.size() && (queue_[keep].sent > 0 || queue_[keep].header.size == 0)) ++keep;
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(keep), queue_.end());
        queued_bytes_ = 0;
        const auto payload = ws::close_payload(code);
        push(std::make_shared<const std::string>(payload.data(), payload.size()), ws::Opcode::close);
        close_sent_pending_ = true;
        linger_ = std::make_unique<asio::steady_timer>(socket_.get_executor(),
                                                       engine_.config().websocket_handshake_timeout);
        linger_->async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) self->cut();
        });
        write();
    }

    void close_written() {
        close_sent_pending_ = false;
        if (final_close_) return cut();
        error_code ec;
        socket_.shutdown(tcp::socket::shutdown_send, ec);
        draining_ = true;
        wait_read();
    }

    // The connection failed (reset, end of stream, a write error): the session hears it once.
    void lost(CloseReason reason) {
        if (auto s = std::exchange(session_, nullptr)) s->on_websocket_closed(*this, reason);
        cut();
    }

    void cut() {
        closing_ = true;
        close_sent_pending_ = false;
        error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        if (linger_) linger_->cancel();
        queue_.clear();
        head_ = 0;
        queued_bytes_ = 0;
    }

    Engine& engine_;
    Listener& listener_;
    std::shared_ptr<Listener::LiveSet> live_;
    tcp::socket socket_;
    std::shared_ptr<Session> session_;
    ws::FrameReader reader_;
    std::string pending_;  // the start of a frame whose rest has not arrived
    std::vector<Out> queue_;
    std::size_t head_ = 0;  // queue_[head_] is the next to write
    std::size_t queued_bytes_ = 0;
    std::unique_ptr<asio::steady_timer> linger_;  // only while closing
    int version_;
    bool probing_;
    bool reading_ = false;
    bool write_waiting_ = false;
    bool flush_scheduled_ = false;
    bool closing_ = false;
    bool close_sent_pending_ = false;
    bool final_close_ = false;
    bool draining_ = false;
};

}  // namespace

void start_plain_websocket(Engine& engine, Listener& listener, tcp::socket socket, std::string response,
                           std::shared_ptr<Session> session, int version, std::shared_ptr<const Handshake> handshake,
                           std::string raw_path) {
    std::make_shared<PlainWebsocket>(engine, listener, std::move(socket), std::move(session), version)
        ->run(std::move(response), std::move(handshake), std::move(raw_path));
}

}  // namespace yunity::socketio
