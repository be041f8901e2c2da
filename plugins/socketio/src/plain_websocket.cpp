#include "plain_websocket.hpp"

#include "engine.hpp"
#include "engineio_codec.hpp"
#include "flush_queue.hpp"
#include "links.hpp"
#include "listener.hpp"
#include "outgoing_frames.hpp"
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
// Reads of the shared buffer one connection may do per readiness event: a client that sends without pause gets
// 256 KB handled per turn of the loop, then waits its turn behind every other connection and timer.
constexpr int max_reads_per_turn = 4;

// Every connection of the thread reads into this one buffer; a connection keeps only the unfinished end of a
// frame (std::string pending_), which is empty almost always.
std::span<char> read_buffer() {
    thread_local std::array<char, 65536> buffer;
    return buffer;
}

bool would_block(const error_code& ec) { return ec == asio::error::would_block || ec == asio::error::try_again; }

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

    void run(std::string response, std::shared_ptr<const Handshake> handshake, std::string raw_path,
             std::string group) {
        error_code ec;
        socket_.non_blocking(true, ec);
        socket_.set_option(tcp::no_delay(true), ec);
        frames_.push(std::make_shared<const std::string>(std::move(response)), std::nullopt);
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
        session_ = engine_.create(version_, Session::Transport::websocket, std::move(handshake), std::move(raw_path),
                                  std::move(group));
        session_->attach_websocket(shared_from_this());
        write();
        // The open packet follows the 101 response after a short pause. A client of the `ws` library that awaits
        // 'open' before listening for messages (the official test suites do) loses a frame that arrives in the
        // same read as the 101; engine.io's own pace leaves such a gap, and so do we.
        auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), open_packet_delay);
        timer->async_wait([self = shared_from_this(), timer](const error_code&) { self->open(); });
    }

    SendStatus send(Frame frame) override {
        if (closing_) return SendStatus::dropped;
        if (frame.binary) {
            frames_.push(std::make_shared<const std::string>(eio::encode_binary_frame(version_, *frame.bytes)),
                         ws::Opcode::binary);
        } else {
            frames_.push(std::move(frame.bytes), ws::Opcode::text);
        }
        schedule();
        return frames_.bytes() > engine_.config().max_queue_bytes ? SendStatus::over_limit : SendStatus::queued;
    }

    void close(CloseReason reason) override {
        if (closing_) return;
        session_.reset();  // the session is closing this link; it must not hear back from it
        if (reason == CloseReason::too_slow || reason == CloseReason::transport_error) return cut();
        begin_close(reason == CloseReason::server_shutdown ? ws::CloseCode::going_away : ws::CloseCode::normal, false);
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
        while (!write_waiting_ && !frames_.empty() && socket_.is_open()) {
            std::array<std::span<const char>, max_buffers> pieces;
            std::array<asio::const_buffer, max_buffers> buffers;
            const std::size_t n = frames_.gather(pieces);
            std::size_t wanted = 0;
            for (std::size_t i = 0; i < n; ++i) {
                buffers[i] = asio::buffer(pieces[i].data(), pieces[i].size());
                wanted += pieces[i].size();
            }
            error_code ec;
            const std::size_t written = socket_.write_some(std::span(buffers.data(), n), ec);
            if (ec && !would_block(ec)) return lost(CloseReason::transport_error);
            engine_.bytes_sent.fetch_add(written, std::memory_order_relaxed);
            frames_.consume(written);
            if (would_block(ec) || written < wanted) wait_write();
        }
        if (frames_.empty() && close_sent_pending_) close_written();
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
        for (int reads = 0; reads < max_reads_per_turn; ++reads) {
            error_code ec;
            const std::size_t n = socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
            if (would_block(ec)) break;
            if (ec)
                return lost(ec == asio::error::eof && reader_.closed() ? CloseReason::client_close
                                                                       : CloseReason::transport_error);
            std::span<char> data(buffer.data(), n);
            if (!pending_.empty()) {
                pending_.append(buffer.data(), n);
                data = std::span(pending_.data(), pending_.size());
            }
            const auto used = reader_.read(data, *this);
            // Closed while reading (by the session, or cut off as too slow): nothing more to read.
            if (closing_ && !draining_) return;
            // Once our close frame is out, only the client's close frame matters (it ends the connection).
            if (!used) return draining_ ? cut() : protocol_failure();
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
        frames_.push(std::make_shared<const std::string>(data), ws::Opcode::pong);
        // The session bounds what it sends; the pongs this link makes on its own are bounded here, the same way.
        if (frames_.bytes() > engine_.config().max_queue_bytes) {
            lost(CloseReason::too_slow);
            return false;
        }
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
            engine_.log().info("connection #{}: websocket: {}; closing", session_->id(), reader_.error());
        else engine_.log().info("websocket: {}; closing", reader_.error());
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
        frames_.keep_started();
        const auto payload = ws::close_payload(code);
        frames_.push(std::make_shared<const std::string>(payload.data(), payload.size()), ws::Opcode::close);
        close_sent_pending_ = true;
        linger_ =
            std::make_unique<asio::steady_timer>(socket_.get_executor(), engine_.config().websocket_handshake_timeout);
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
        frames_.clear();
    }

    Engine& engine_;
    Listener& listener_;
    std::shared_ptr<Listener::LiveSet> live_;
    tcp::socket socket_;
    std::shared_ptr<Session> session_;
    ws::FrameReader reader_;
    std::string pending_;  // the start of a frame whose rest has not arrived
    ws::OutgoingFrames frames_;
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
                           std::string raw_path, std::string group) {
    std::make_shared<PlainWebsocket>(engine, listener, std::move(socket), std::move(session), version)
        ->run(std::move(response), std::move(handshake), std::move(raw_path), std::move(group));
}

}  // namespace yunity::socketio
