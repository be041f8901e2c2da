#include "websocket_connection.hpp"

#include "delay_queue.hpp"
#include "engine.hpp"
#include "engineio_codec.hpp"
#include "flush_queue.hpp"
#include "session.hpp"

#include <cassert>
#include <chrono>
#include <utility>

namespace yunity::socketio {

namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

}  // namespace

bool WebsocketConnection::allowed(State from, State to) {
    using S = State;
    switch (from) {
        case S::open:
            return to == S::sending_close || to == S::sending_final_close || to == S::closed;
        case S::sending_close:
            return to == S::draining || to == S::closed;
        case S::sending_final_close:
        case S::draining:
            return to == S::closed;
        case S::closed:
            return false;
    }
    return false;
}

WebsocketConnection::WebsocketConnection(Engine& engine, Listener& listener, Protocol protocol)
    : engine_(engine), listener_(listener), reader_(engine.config().max_payload), protocol_(protocol) {
    live_ = listener_.track(this);
}

WebsocketConnection::~WebsocketConnection() { live_->erase(this); }

void WebsocketConnection::enter(State next) {
    assert(allowed(state_, next));
    state_ = next;
}

void WebsocketConnection::run(WebsocketStart start) {
    frames_.push(std::make_shared<const std::string>(std::move(start.response)), std::nullopt);
    if (start.session) {
        if (!start.session->attach_probe(shared_from_this())) {
            // A second websocket for one session: accepted, then closed (refusing with HTTP 400 makes the `ws`
            // client throw an unhandled error).
            close(CloseReason::client_close);
            return;
        }
        session_ = start.session;
        write();
        wait_read();
        return;
    }
    auto session = engine_.create(protocol_, Session::Transport::websocket, std::move(start.handshake),
                                  std::move(start.raw_path), std::move(start.group));
    session_ = session;
    session->attach_websocket(shared_from_this());
    write();
    listener_.open_delays().add(std::static_pointer_cast<Delayed>(shared_from_this()));
}

void WebsocketConnection::open() {
    auto session = session_.lock();
    if (!session || state_ != State::open) return;
    send({std::make_shared<const std::string>(session->open_packet()), false});
    session->start();
    wait_read();
}

SendStatus WebsocketConnection::send(Frame frame) {
    if (state_ != State::open) return SendStatus::dropped;
    if (frame.binary) {
        frames_.push(std::make_shared<const std::string>(eio::encode_binary_frame(protocol_, *frame.bytes)),
                     ws::Opcode::binary);
    } else {
        frames_.push(std::move(frame.bytes), ws::Opcode::text);
    }
    schedule();
    return over_limit() ? SendStatus::over_limit : SendStatus::queued;
}

bool WebsocketConnection::over_limit() const {
    return frames_.bytes() + input_held_ > engine_.config().max_queue_bytes;
}

void WebsocketConnection::close(CloseReason reason) {
    if (state_ != State::open) return;
    session_.reset();  // the session is closing this link; it must not hear back from it
    if (reason == CloseReason::too_slow || reason == CloseReason::transport_error) return cut();
    begin_close(reason == CloseReason::server_shutdown ? ws::CloseCode::going_away : ws::CloseCode::normal, false);
}

void WebsocketConnection::shutdown() {
    if (auto session = session_.lock()) session->close(CloseReason::server_shutdown);
    else close(CloseReason::server_shutdown);
}

// The frames queued in one turn of the loop leave together, after the turn's handlers (FlushQueue).
void WebsocketConnection::schedule() {
    if (flush_scheduled_ || write_waiting_) return;
    flush_scheduled_ = true;
    listener_.flush_queue().add(shared_from_this());
}

void WebsocketConnection::flush() {
    flush_scheduled_ = false;
    if (state_ != State::closed) write();
}

bool WebsocketConnection::received(std::span<char> data) {
    if (!pending_.empty()) {
        pending_.append(data.data(), data.size());
        data = std::span(pending_.data(), pending_.size());
    }
    const auto used = reader_.read(data, *this);
    // Closed while reading (by the session, or cut off as too slow): nothing more to read. Once our close frame
    // is out, only the client's close frame matters (it ends the connection).
    if (state_ != State::open && state_ != State::draining) return false;
    if (!used) {
        if (state_ == State::draining) cut();
        else protocol_failure();
        return false;
    }
    if (pending_.empty()) {
        pending_.assign(data.data() + *used, data.size() - *used);
    } else {
        pending_.erase(0, *used);
        if (pending_.empty() && pending_.capacity() > 1024) std::string().swap(pending_);
        // What held a large frame does not stay that large behind the next one's first bytes.
        else if (pending_.capacity() > 65536 && pending_.capacity() > 4 * pending_.size()) pending_.shrink_to_fit();
    }
    // Every byte the connection holds counts: a client that sends a large message slowly (or its fragments, or its
    // attachments) while it does not read is held to the same bound as one that only does not read.
    input_held_ = pending_.size() + reader_.held();
    if (auto session = session_.lock()) input_held_ += session->partial_input();
    if (over_limit()) {
        lost(CloseReason::too_slow);
        return false;
    }
    return true;
}

void WebsocketConnection::read_failed(bool eof) {
    if (state_ == State::closed) return;
    lost(eof && reader_.closed() ? CloseReason::client_close : CloseReason::transport_error);
}

bool WebsocketConnection::on_message(bool text, std::string_view data) {
    if (state_ == State::draining) return true;
    auto session = session_.lock();
    return session && session->on_websocket_message(*this, text, data) && state_ == State::open;
}

bool WebsocketConnection::on_ping(std::string_view data) {
    if (state_ != State::open) return true;
    frames_.push(std::make_shared<const std::string>(data), ws::Opcode::pong);
    // The session bounds what it sends; the pongs this link makes on its own are bounded here, the same way.
    if (over_limit()) {
        lost(CloseReason::too_slow);
        return false;
    }
    schedule();
    return true;
}

void WebsocketConnection::on_close(std::uint16_t code) {
    if (state_ != State::open) {
        // Ours went out first: the closing handshake is complete, and the server closes the connection.
        return cut();
    }
    // The answer is queued before the session hears of it: closing the link then changes nothing.
    begin_close(code != 1005 ? static_cast<ws::CloseCode>(code) : ws::CloseCode::normal, true);
    if (auto s = std::exchange(session_, {}).lock()) s->on_websocket_closed(*this, CloseReason::client_close);
}

void WebsocketConnection::protocol_failure() {
    auto session = std::exchange(session_, {}).lock();
    if (reader_.error_code() == ws::CloseCode::too_big)
        engine_.log().info("websocket message over max_payload; closing");
    else if (session) engine_.log().info("connection #{}: websocket: {}; closing", session->id(), reader_.error());
    else engine_.log().info("websocket: {}; closing", reader_.error());
    begin_close(reader_.error_code(), true);
    if (session) session->on_websocket_closed(*this, CloseReason::protocol_error);
}

// Sends a close frame after the frame being written (if any), dropping the rest; then, when `final` (the client
// closed or broke the protocol), closes the connection, else half-closes it and waits for the client's close
// frame or end of stream. Either way within websocket_handshake_timeout.
void WebsocketConnection::begin_close(ws::CloseCode code, bool final) {
    if (state_ != State::open) return;
    enter(final ? State::sending_final_close : State::sending_close);
    frames_.keep_started();
    const auto payload = ws::close_payload(code);
    frames_.push(std::make_shared<const std::string>(payload.data(), payload.size()), ws::Opcode::close);
    linger_ = std::make_unique<asio::steady_timer>(executor(), engine_.config().websocket_handshake_timeout);
    linger_->async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec) self->cut();
    });
    write();
}

void WebsocketConnection::watch_drain() {
    if (!frames_.empty() || write_waiting_) {
        drain_watched_ = true;
        return;
    }
    boost::asio::post(executor(), [weak = std::weak_ptr<WebsocketConnection>(shared_from_this())] {
        if (auto self = weak.lock())
            if (auto s = self->session_.lock()) s->on_drained();
    });
}

void WebsocketConnection::drained() {
    if (std::exchange(drain_watched_, false))
        if (auto s = session_.lock()) s->on_drained();
    if (state_ == State::sending_final_close) return cut();
    if (state_ != State::sending_close) return;
    enter(State::draining);
    shutdown_send();
    wait_read();
}

void WebsocketConnection::lost(CloseReason reason) {
    if (auto s = std::exchange(session_, {}).lock()) s->on_websocket_closed(*this, reason);
    cut();
}

void WebsocketConnection::cut() {
    if (state_ == State::closed) return;
    enter(State::closed);
    close_stream();
    if (linger_) linger_->cancel();
    frames_.clear();
}

}  // namespace yunity::socketio
