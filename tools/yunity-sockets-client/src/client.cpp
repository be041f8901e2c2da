#include "client.hpp"

#include "socketio_codec.hpp"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace yunity::client {

namespace {

std::string_view transport_name(TransportKind kind) { return kind == TransportKind::websocket ? "websocket" : "polling"; }

std::string json_text(const rapidjson::Value& value) {
    if (value.IsNull()) return "null";
    // The codec's JSON writer matches JSON.stringify byte for byte (what the Node.js client printed), and encode()
    // reaches it through any packet: a CONNECT to "/" is its type digit followed by the JSON alone.
    sio::Packet packet;
    packet.type = sio::PacketType::connect;
    packet.data.CopyFrom(value, packet.data.GetAllocator());
    return sio::encode(packet).substr(1);
}

std::string connect_error_message(const sio::Packet& packet) {
    if (packet.data.IsString()) return packet.data.GetString();
    if (packet.data.IsObject() && packet.data.HasMember("message") && packet.data["message"].IsString())
        return packet.data["message"].GetString();
    return packet.has_data() ? json_text(packet.data) : "no reason given";
}

}  // namespace

std::optional<OpenInfo> parse_open(std::string_view json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    const auto sid = doc.FindMember("sid");
    const auto interval = doc.FindMember("pingInterval");
    const auto timeout = doc.FindMember("pingTimeout");
    if (sid == doc.MemberEnd() || !sid->value.IsString() || sid->value.GetStringLength() == 0) return std::nullopt;
    for (auto it : {interval, timeout})
        if (it == doc.MemberEnd() || !it->value.IsUint64() || it->value.GetUint64() == 0 ||
            it->value.GetUint64() > 24ull * 3600 * 1000)
            return std::nullopt;
    return OpenInfo{sid->value.GetString(), std::chrono::milliseconds(interval->value.GetUint64()),
                    std::chrono::milliseconds(timeout->value.GetUint64())};
}

Client::Client(boost::asio::io_context& io, Options options, std::function<void(int)> on_exit)
    : io_(io),
      options_(std::move(options)),
      on_exit_(std::move(on_exit)),
      random_(std::random_device{}()),
      connect_timer_(io),
      heartbeat_timer_(io),
      ping_timer_(io),
      reconnect_timer_(io),
      exit_timer_(io) {}

void Client::start() { connect(); }

void Client::stop() { finish(0); }

void Client::connect() {
    state_ = State::opening;
    const TransportSettings settings{options_.server, options_.protocol};
    transport_ = options_.transport == TransportKind::websocket ? make_websocket_transport(io_, settings, *this)
                                                                : make_polling_transport(io_, settings, *this);
    spdlog::info("connecting to {} (Engine.IO {}, {})", options_.server.display, engineio_version(options_.protocol),
                 transport_name(options_.transport));
    arm(connect_timer_, options_.connect_timeout, [this] {
        lost("no socket.io connection within " + std::to_string(options_.connect_timeout.count()) + " ms");
    });
    transport_->start();
}

void Client::on_packet(eio::Packet packet) {
    if (state_ == State::opening) {
        if (packet.type != eio::PacketType::open)
            return lost(std::string("expected the open packet, got a packet of type ") + eio::type_char(packet.type));
        return on_open(packet.data);
    }
    heard_from_server();
    switch (packet.type) {
    case eio::PacketType::ping:
        // In version 3 the client pings and the server answers; a pong the server did not ask for would be a
        // heartbeat in the wrong direction, so a stray ping is left unanswered, as engine.io-client 3 does.
        if (options_.protocol == Protocol::eio3_sio4) {
            spdlog::debug("ignored a ping from a version 3 server");
            break;
        }
        send(std::string(1, eio::type_char(eio::PacketType::pong)) + packet.data);
        break;
    case eio::PacketType::close: return lost("the server closed the Engine.IO session");
    case eio::PacketType::open: return lost("a second open packet");
    case eio::PacketType::message:
        if (packet.binary) {
            spdlog::debug("ignored a binary message");
            break;
        }
        on_socketio(packet.data);
        break;
    case eio::PacketType::pong:
    case eio::PacketType::upgrade:
    case eio::PacketType::noop: break;
    }
}

void Client::on_open(std::string_view json) {
    const auto info = parse_open(json);
    if (!info) return lost("malformed open packet from the server");
    open_ = *info;
    state_ = State::open;
    spdlog::debug("Engine.IO session {} open (pingInterval {} ms, pingTimeout {} ms)", open_.sid,
                  open_.ping_interval.count(), open_.ping_timeout.count());
    heard_from_server();
    if (options_.protocol == Protocol::eio3_sio4) {
        // Protocol 4 joins the default namespace implicitly: the server's CONNECT comes unasked.
        arm(ping_timer_, open_.ping_interval, [this] { send_ping(); });
    } else {
        // Protocol 5: the client asks to join the default namespace, without an auth payload ("40").
        send(eio::type_char(eio::PacketType::message) + sio::encode(sio::Packet{}));
    }
}

void Client::on_socketio(std::string_view text) {
    std::string why;
    auto packet = sio::decode(text, options_.protocol, &why);
    if (!packet) return lost("malformed socket.io packet from the server (" + why + ")");
    if (packet->nsp != "/") {
        spdlog::debug("ignored a packet for namespace {}", packet->nsp);
        return;
    }
    switch (packet->type) {
    case sio::PacketType::connect: {
        if (state_ != State::open) return spdlog::debug("ignored a repeated CONNECT");
        std::string socket_id = open_.sid;  // protocol 4: socket.io-client 2.x calls the Engine.IO sid socket.id
        if (packet->data.IsObject() && packet->data.HasMember("sid") && packet->data["sid"].IsString())
            socket_id = packet->data["sid"].GetString();
        return on_connected(socket_id);
    }
    case sio::PacketType::connect_error:
        spdlog::error("the server refused the socket.io connection: {}", connect_error_message(*packet));
        return finish(1);
    case sio::PacketType::disconnect: return lost("the server disconnected the socket");
    case sio::PacketType::event: {
        const auto& args = packet->data;
        const std::string_view name(args[0].GetString(), args[0].GetStringLength());
        if (state_ != State::connected || name != "message") return spdlog::debug("ignored event '{}'", name);
        static const rapidjson::Value null_value;
        return print(args.Size() > 1 ? args[1] : null_value);
    }
    default: spdlog::debug("ignored a socket.io packet of type {}", static_cast<int>(packet->type));
    }
}

void Client::on_connected(std::string_view socket_id) {
    state_ = State::connected;
    failures_ = 0;
    cancel(connect_timer_);
    spdlog::info("connected (socket id {}), authenticating", socket_id);
    std::string arg = "{\"sessionId\":";
    eio::append_json_string(arg, options_.session_id);
    arg += '}';
    send(sio::encode_event("/", "authenticate", arg));
}

void Client::print(const rapidjson::Value& value) {
    auto line = json_text(value);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    if (options_.once && ++printed_ >= *options_.once) {
        spdlog::info("received {} message{}, exiting", printed_, printed_ == 1 ? "" : "s");
        finish(0);
    }
}

void Client::send(std::string packet) {
    if (transport_) transport_->send(std::move(packet));
}

void Client::heard_from_server() {
    const auto limit = open_.ping_interval + open_.ping_timeout;
    arm(heartbeat_timer_, limit,
        [this, limit] { lost("nothing heard from the server for " + std::to_string(limit.count()) + " ms"); });
}

void Client::send_ping() {
    send(std::string(1, eio::type_char(eio::PacketType::ping)));
    arm(ping_timer_, open_.ping_interval, [this] { send_ping(); });
}

void Client::lost(const std::string& reason) {
    if (state_ == State::waiting || state_ == State::finished) return;
    const bool was_connected = state_ == State::connected;
    state_ = State::waiting;
    if (auto t = std::exchange(transport_, nullptr)) t->abort();
    cancel(connect_timer_);
    cancel(heartbeat_timer_);
    cancel(ping_timer_);
    if (options_.reconnect_attempts && failures_ >= *options_.reconnect_attempts) {
        spdlog::error("giving up after {} reconnection attempt{}: {}", failures_, failures_ == 1 ? "" : "s", reason);
        return finish(1);
    }
    const auto delay = backoff();
    ++failures_;
    spdlog::warn("{}: {}; reconnecting in {} ms", was_connected ? "disconnected" : "connection failed", reason,
                 delay.count());
    arm(reconnect_timer_, delay, [this] { connect(); });
}

// socket.io-client's backoff: the delay doubles with each failure, moves by up to half either way so that
// clients cut off together do not come back together, and stops growing at the maximum.
std::chrono::milliseconds Client::backoff() {
    const double base = static_cast<double>(options_.reconnect_delay.count());
    const double max = static_cast<double>(options_.reconnect_delay_max.count());
    double ms = std::min(max, base * std::exp2(static_cast<double>(std::min<std::uint64_t>(failures_, 40))));
    ms += ms * std::uniform_real_distribution<double>(-0.5, 0.5)(random_);
    return std::chrono::milliseconds(std::max<long long>(1, std::llround(std::min(ms, max))));
}

void Client::finish(int status) {
    if (state_ == State::finished) return;
    state_ = State::finished;
    status_ = status;
    for (auto* t : {&connect_timer_, &heartbeat_timer_, &ping_timer_, &reconnect_timer_}) cancel(*t);
    auto transport = std::exchange(transport_, nullptr);
    if (!transport) return done();
    arm(exit_timer_, std::chrono::seconds(1), [this] { done(); });
    transport->close([this] { done(); });
}

void Client::done() {
    if (std::exchange(done_, true)) return;
    cancel(exit_timer_);
    on_exit_(status_);
}

void Client::on_transport_error(std::string reason) { lost(reason); }

void Client::arm(Timer& t, std::chrono::milliseconds after, std::function<void()> f) {
    const auto id = ++t.armed;
    t.timer.expires_after(after);
    t.timer.async_wait([&t, id, f = std::move(f)](const boost::system::error_code& ec) {
        if (!ec && id == t.armed) f();
    });
}

void Client::cancel(Timer& t) {
    ++t.armed;
    t.timer.cancel();
}

}  // namespace yunity::client
