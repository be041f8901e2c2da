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

// A string field of a flat JSON object the server wrote ("pid"): ours never hold quotes or escapes.
std::string_view string_field(std::string_view text, std::string_view key) {
    const auto at = text.find(key);
    if (at == std::string_view::npos) return {};
    const auto start = at + key.size();
    const auto end = text.find('"', start);
    return end == std::string_view::npos ? std::string_view{} : text.substr(start, end - start);
}

// The last argument of an event when it is a string: a `message`'s offset (`2["message",{...},"<offset>"]`).
std::string_view last_string_argument(std::string_view packet) {
    if (packet.size() < 4 || !packet.ends_with("\"]")) return {};
    const auto open = packet.rfind('"', packet.size() - 3);
    if (open == std::string_view::npos || open == 0 || packet[open - 1] != ',') return {};
    return packet.substr(open + 1, packet.size() - 3 - open);
}

}  // namespace

void Client::connect(boost::asio::io_context& io, std::string session_id, bool claim) {
    drop();
    session_id_ = std::move(session_id);
    state_ = State::connecting;
    claim_ = claim && (settings_->eio == 4 ? !pid_.empty() : !offset_.empty()) ? Claim::unanswered : Claim::none;
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
        if (settings_->eio == 4) {
            if (claim_ == Claim::none) {
                link_->send("40");
            } else {
                std::string connect = "40{\"pid\":\"" + pid_ + "\"";
                if (!offset_.empty()) connect += ",\"offset\":\"" + offset_ + "\"";
                link_->send(connect + "}");
            }
        }
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
        if (settings_->eio == 4) {
            const auto presented = std::exchange(pid_, std::string(string_field(packet, "\"pid\":\"")));
            if (claim_ == Claim::unanswered) {
                // Recovered: the pid presented is given back, the session with it; a new one means a fresh start.
                const bool recovered = !pid_.empty() && pid_ == presented;
                claim_ = recovered ? Claim::recovered : Claim::not_recovered;
                if (recovered) {
                    state_ = State::authenticating;
                    observer_->on_authenticating(*this);
                    return;
                }
            }
        }
        send_authenticate();
        return;
    }
    if (packet.front() == '4') return lose("namespace refused");
    constexpr std::string_view resumed = "2[\"resumed\",";
    if (packet.starts_with(resumed)) {
        if (claim_ != Claim::unanswered || settings_->eio == 4) return lose("a resumed event nobody asked for");
        claim_ = packet.find("\"recovered\":true") != std::string_view::npos ? Claim::recovered : Claim::not_recovered;
        return;
    }
    constexpr std::string_view message = "2[\"message\",";
    if (!packet.starts_with(message)) return;
    if (const auto offset = last_string_argument(packet); !offset.empty()) offset_.assign(offset);
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

void Client::send_authenticate() {
    std::string event = "42[\"authenticate\",{\"sessionId\":\"" + session_id_ + "\"";
    // socket.io-client 2.x coming back asks for what it missed explicitly; the server answers with `resumed`.
    if (claim_ != Claim::none && settings_->eio == 3) event += ",\"offset\":\"" + offset_ + "\"";
    link_->send(event + "}]");
    state_ = State::authenticating;
    observer_->on_authenticating(*this);
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
