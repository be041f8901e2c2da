#include "client.hpp"

#include <charconv>
#include <utility>

namespace yunity::bench {

namespace {

// Our own notifications' fields ("k", "s", "t"): unsigned integers that the padding (letters only) cannot imitate,
// so a search is enough and costs far less than a JSON parse per delivery.
bool field(std::string_view text, std::string_view key, std::uint64_t& value) {
    const auto at = text.find(key);
    if (at == std::string_view::npos) return false;
    const char* p = text.data() + at + key.size();
    return std::from_chars(p, text.data() + text.size(), value).ec == std::errc{};
}

}  // namespace

void Client::connect(boost::asio::io_context& io, std::string session_id) {
    drop();
    session_id_ = std::move(session_id);
    state_ = State::connecting;
    link_ = polling_ ? make_polling_link(io, *settings_, *this) : make_websocket_link(io, *settings_, *this);
    link_->start();
}

void Client::drop() {
    if (link_) {
        link_->abort();
        link_.reset();
    }
    state_ = State::idle;
}

void Client::ping() {
    if (link_ && state_ >= State::open) link_->send("2");
}

void Client::on_packet(char type, std::string_view data) {
    switch (type) {
    case '0': {  // open
        std::uint64_t interval = 0;
        if (field(data, "\"pingInterval\":", interval) && interval > 0)
            ping_interval_ms_ = static_cast<std::uint32_t>(interval);
        state_ = State::open;
        // Protocol 5 clients ask for the default namespace; protocol 4 servers send its CONNECT unasked.
        if (settings_->eio == 4) link_->send("40");
        break;
    }
    case '4':
        on_socketio(data);
        break;
    case '2':  // the server's heartbeat (version 4)
        if (settings_->eio == 4) link_->send("3");
        break;
    case '1':
        lose("server closed the session");
        break;
    default:  // pong, noop
        break;
    }
}

void Client::on_socketio(std::string_view packet) {
    if (packet.empty()) return;
    if (packet.front() == '0') {  // CONNECT of the default namespace
        if (state_ != State::open) return;
        link_->send("42[\"authenticate\",{\"sessionId\":\"" + session_id_ + "\"}]");
        state_ = State::authenticating;
        observer_->on_authenticating(*this);
        return;
    }
    if (packet.front() == '4') return lose("namespace refused");
    constexpr std::string_view message = "2[\"message\",";
    if (!packet.starts_with(message)) return;
    std::uint64_t kind = 0;
    if (!field(packet, "\"k\":", kind)) return;
    if (state_ == State::authenticating) {
        state_ = State::confirmed;
        observer_->on_confirmed(*this);
    }
    std::uint64_t seq = 0, sent = 0;
    if (kind == 1 && field(packet, "\"s\":", seq) && field(packet, "\"t\":", sent))
        observer_->on_delivery(*this, seq, static_cast<std::int64_t>(sent));
}

void Client::on_link_error(std::string_view what, const boost::system::error_code& ec) {
    link_.reset();
    const auto was = static_cast<int>(std::exchange(state_, State::idle));
    observer_->on_lost(*this, was, std::string(what) + ": " + ec.message());
}

void Client::lose(std::string why) {
    const auto was = static_cast<int>(state_);
    drop();
    observer_->on_lost(*this, was, std::move(why));
}

}  // namespace yunity::bench
