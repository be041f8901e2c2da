#include "session.hpp"

#include "engine.hpp"
#include "socketio_codec.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <cassert>
#include <charconv>

namespace yunity::socketio {

namespace {

template <typename Number>
void append_number(std::string& out, Number n) {
    std::array<char, 24> digits;
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
    out.append(digits.data(), end);
}

// Control packets are the same bytes every time: share them instead of allocating per send.
const std::shared_ptr<const std::string> ping_packet = std::make_shared<const std::string>("2");
const std::shared_ptr<const std::string> pong_packet = std::make_shared<const std::string>("3");
const std::shared_ptr<const std::string> probe_reply = std::make_shared<const std::string>("3probe");

// Pending acks kept per connection: far more than any client waits for at once (socket.io-client's own
// default ack timeout bounds them), small enough that a client asking for acks nobody answers costs little.
constexpr std::size_t max_pending_acks = 1024;
// Longer pids or offsets are none of ours (ours are 20 and at most 41 characters).
constexpr std::size_t max_recovery_field = 128;

}  // namespace

Session::Session(Engine& engine, std::string sid, Protocol protocol, ConnectionId id, Transport transport,
                 std::shared_ptr<const Handshake> handshake, std::string raw_path, std::string address_group)
    : engine_(engine),
      sid_(std::move(sid)),
      protocol_(protocol),
      id_(id),
      transport_(transport),
      handshake_(std::move(handshake)),
      raw_path_(raw_path.empty() ? nullptr : std::make_unique<const std::string>(std::move(raw_path))),
      address_group_(std::move(address_group)),
      polling_(transport == Transport::polling ? std::make_unique<Polling>() : nullptr) {}

const std::string& Session::raw_path() const {
    static const std::string none;
    return raw_path_ ? *raw_path_ : none;
}

std::string Session::open_packet() const {
    const auto& c = engine_.config();
    // One allocation: this is written for every connection, thousands of times a second in a reconnect storm.
    std::string out;
    out.reserve(128);
    out += "0{\"sid\":\"";
    out += sid();
    out += "\",\"upgrades\":";
    out += transport_ == Transport::polling && c.allow_upgrades ? "[\"websocket\"]" : "[]";
    out += ",\"pingInterval\":";
    append_number(out, c.ping_interval.count());
    out += ",\"pingTimeout\":";
    append_number(out, c.ping_timeout.count());
    if (protocol_ == Protocol::eio4_sio5) {
        out += ",\"maxPayload\":";
        append_number(out, c.max_payload);
    }
    out += '}';
    return out;
}

void Session::start() {
    const auto& c = engine_.config();
    if (raw()) {
        // Plain Engine.IO: open once the handshake is answered; no namespace, no connect timeout.
        socket_id_ = sid_;
        enter(State::open);
        arm_heartbeat(protocol_ == Protocol::eio3_sio4 ? c.ping_interval + c.ping_timeout : c.ping_interval);
        return;
    }
    if (protocol_ == Protocol::eio3_sio4) {
        // Socket.IO 4: the default namespace is joined implicitly, and the server says so right away (unless a
        // plugin's hook for "/" refuses: protocol 4 clients send no auth payload, so it sees "{}").
        socket_id_ = sid_;  // what client 2.x calls socket.id for "/"
        if (auto refusal = check_namespace("/", "{}")) {
            send_text(connect_error("/", *refusal));
        } else {
            set_namespace(Namespace::joined);
            send_text("40");
        }
        enter(State::open);
        arm_heartbeat(c.ping_interval + c.ping_timeout);
    } else {
        arm_heartbeat(c.ping_interval);
        connect_timer_ = std::make_unique<boost::asio::steady_timer>(engine_.io(), c.connect_timeout);
        connect_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (ec || !self || self->state_ != State::connecting) return;
            self->engine_.log().debug("connection #{}: no CONNECT within the connect timeout", self->id_);
            self->close(CloseReason::ping_timeout);
        });
    }
}

// One deadline per session serves both heartbeat directions, kept in the engine's Heartbeats. A session has one
// entry there at a time, for the deadline it had when it added it: a later deadline (a version 3 client's ping, a
// pong) waits for that entry to come due and is then added in its turn; only a sooner one (a version 4 ping
// sent, now awaiting its pong) adds an entry at once. A client sending many messages thus costs no entry each.
void Session::arm_heartbeat(std::chrono::milliseconds after) {
    deadline_ = Heartbeats::Clock::now() + after;
    if (heartbeat_entry_ && *heartbeat_entry_ <= deadline_) return;
    heartbeat_entry_ = deadline_;
    engine_.heartbeats().add(id_, deadline_);
}

void Session::heartbeat_due(Heartbeats::Clock::time_point entry) {
    if (closed() || heartbeat_entry_ != entry) return;  // stale: a sooner entry replaced it
    heartbeat_entry_.reset();
    // At least once per heartbeat period: a connection that went quiet gives back its queue's room.
    if (websocket_) websocket_->trim();
    if (Heartbeats::Clock::now() < deadline_) {
        heartbeat_entry_ = deadline_;
        engine_.heartbeats().add(id_, deadline_);
        return;
    }
    on_heartbeat();
}

void Session::on_heartbeat() {
    const auto& c = engine_.config();
    if (protocol_ == Protocol::eio3_sio4 || awaiting_pong_) {
        // Version 3: no ping from the client for pingInterval + pingTimeout. Version 4: no pong in time.
        close(CloseReason::ping_timeout);
        return;
    }
    awaiting_pong_ = true;
    send({ping_packet, false});
    arm_heartbeat(c.ping_timeout);
}

void Session::on_packet(eio::Packet packet) {
    if (closed()) return;
    const auto& c = engine_.config();
    switch (packet.type) {
        case eio::PacketType::ping:
            if (protocol_ != Protocol::eio3_sio4) return protocol_error("ping from a version 4 client");
            send({packet.data.empty() ? pong_packet : std::make_shared<const std::string>("3" + packet.data), false});
            arm_heartbeat(c.ping_interval + c.ping_timeout);
            return;
        case eio::PacketType::pong:
            if (protocol_ == Protocol::eio3_sio4) return;  // not expected, harmless
            if (awaiting_pong_) {
                awaiting_pong_ = false;
                arm_heartbeat(c.ping_interval);
            }
            return;
        case eio::PacketType::message:
            if (protocol_ == Protocol::eio3_sio4) arm_heartbeat(c.ping_interval + c.ping_timeout);
            if (raw()) return engine_.engine_message(*this, std::move(packet.data), packet.binary);
            if (packet.binary) {
                // An attachment of the binary packet being assembled; socket.io's parser rejects any other
                // binary message ("got binary data when not reconstructing a packet") and so does this.
                if (!assembling()) return protocol_error("a binary message no packet announced");
                assembly_->received_bytes += packet.data.size();
                if (assembly_->received_bytes > c.max_payload)
                    return protocol_error("binary attachments over maxPayload");
                std::string error;
                const auto status = assembly_->assembler.add(std::move(packet.data), &error);
                if (status == sio::BinaryAssembler::Status::error) return protocol_error(error);
                if (status == sio::BinaryAssembler::Status::complete) {
                    auto done = assembly_->assembler.take();
                    assembly_.reset();
                    return on_socketio_packet(std::move(done->packet), std::move(done->buffers));
                }
                // The attachments held count with the polling queue against the slow-client bound (over a
                // websocket, its link counts them after each read).
                if (polling_ && polling_->queued_bytes + partial_input() > c.max_queue_bytes)
                    return close(CloseReason::too_slow);
                return;
            }
            if (assembling()) return protocol_error("a text message while binary attachments were due");
            return on_message(packet.data);
        case eio::PacketType::close:
            return close(CloseReason::client_close);
        case eio::PacketType::noop:
            return;
        default:
            return protocol_error("unexpected packet type " + std::to_string(static_cast<int>(packet.type)));
    }
}

void Session::on_message(std::string_view text) {
    std::string error;
    auto packet = sio::decode(text, protocol_, &error);
    if (!packet) return protocol_error("malformed Socket.IO packet: " + error);
    if (packet->type == sio::PacketType::binary_event || packet->type == sio::PacketType::binary_ack) {
        auto assembly = std::make_unique<Assembly>();
        assembly->text_bytes = text.size();
        const auto status = assembly->assembler.start(std::move(*packet), &error);
        if (status == sio::BinaryAssembler::Status::error) return protocol_error("malformed binary packet: " + error);
        if (status == sio::BinaryAssembler::Status::complete) {
            auto done = assembly->assembler.take();
            return on_socketio_packet(std::move(done->packet), std::move(done->buffers));
        }
        assembly_ = std::move(assembly);  // held only while attachments are due
        return;
    }
    on_socketio_packet(std::move(*packet), {});
}

void Session::on_socketio_packet(sio::Packet packet, std::vector<std::string> attachments) {
    using T = sio::PacketType;
    switch (packet.type) {
        case T::connect:
            return on_socketio_connect(packet);
        case T::disconnect:
            // Leaving a namespace, "/" included, keeps the Engine.IO session, as socket.io does: the client
            // may join again, and its own close ends the session.
            // A DISCONNECT while "/" is being recovered changes nothing: the core's answer still joins it.
            if (packet.nsp == "/") {
                if (namespace_ == Namespace::joined) set_namespace(Namespace::none);
            } else {
                if (extras_) extras_->namespaces.erase(packet.nsp);
            }
            if (extras_) std::erase_if(extras_->pending_acks, [&](const auto& a) { return a.first == packet.nsp; });
            return;
        case T::event:
        case T::binary_event:
            if (!joined(packet.nsp)) return protocol_error("event outside a connected namespace");
            return on_event(packet, std::move(attachments));
        case T::ack:
        case T::binary_ack: {
            if (!joined(packet.nsp)) return protocol_error("an ack outside a connected namespace");
            if (!packet.id) return protocol_error("an ack without an id");
            std::string args = packet.has_data() ? sio::encode_json(packet.data) : "[]";
            return engine_.client_ack(
                events::ClientAck{id_, packet.nsp, *packet.id, std::move(args), std::move(attachments)});
        }
        default:
            return protocol_error("unexpected Socket.IO packet type from a client");
    }
}

bool Session::joined(std::string_view nsp) const {
    if (nsp == "/") return namespace_ == Namespace::joined;
    return extras_ && extras_->namespaces.find(nsp) != extras_->namespaces.end();
}

std::string Session::connect_error(std::string_view nsp, std::string_view message) const {
    std::string out = "44";
    if (nsp != "/") {
        out += nsp;
        out += ',';
    }
    if (protocol_ == Protocol::eio3_sio4) {
        eio::append_json_string(out, message);
    } else {
        out += "{\"message\":";
        eio::append_json_string(out, message);
        out += '}';
    }
    return out;
}

std::optional<std::string> Session::check_namespace(std::string_view nsp, const std::string& auth_json) {
    const auto* hook = engine_.namespace_hook(nsp);
    if (!hook || !*hook) return std::nullopt;
    try {
        return (*hook)(id_, auth_json);
    } catch (const std::exception& e) {
        engine_.log().error("connection #{}: the CONNECT hook of namespace {} threw: {}", id_, nsp, e.what());
        return std::string("Internal error");
    }
}

void Session::on_socketio_connect(const sio::Packet& packet) {
    const auto& nsp = packet.nsp;
    // A repeated CONNECT while the first is being recovered.
    if (nsp == "/" && namespace_ == Namespace::resuming) return;
    if (nsp != "/" && !engine_.namespace_declared(nsp)) {
        send_text(connect_error(nsp, "Invalid namespace"));
        return;
    }
    if (protocol_ == Protocol::eio3_sio4 && nsp == "/") return;  // already joined implicitly
    if (!joined(nsp)) {
        if (auto refusal = check_namespace(nsp, packet.has_data() ? sio::encode_json(packet.data) : "{}")) {
            send_text(connect_error(nsp, *refusal));
            return;
        }
        if (socket_id_.empty()) socket_id_ = Engine::random_id();
        if (nsp == "/" && protocol_ == Protocol::eio4_sio5 && engine_.recovery_enabled()) {
            pid_ = Engine::random_id();
            // socket.io-client 4.6+ coming back: `{pid, offset}` beside its auth. The CONNECT is answered when
            // the core has looked the pid up (the reply's pid tells the client whether it recovered), and the
            // replay follows it; until then the namespace is not joined, so nothing else goes out before it.
            if (auto claim = recovery_claim(packet)) {
                set_namespace(Namespace::resuming);
                if (state_ == State::connecting) enter(State::open);
                engine_.resume(*this, std::move(claim->first), std::move(claim->second));
                return;
            }
        }
        if (nsp == "/") set_namespace(Namespace::joined);
        else extras().namespaces.emplace(nsp, Engine::random_id());
    }
    if (nsp == "/") {
        send_text(connect_reply());
    } else if (protocol_ == Protocol::eio3_sio4) {
        send_text("40" + nsp + ",");
    } else {
        send_text("40" + nsp + ",{\"sid\":\"" + extras().namespaces.find(nsp)->second + "\"}");
    }
    if (state_ == State::connecting) enter(State::open);
}

std::string Session::connect_reply() const {
    std::string out;
    out.reserve(64);
    out += "40{\"sid\":\"";
    out += socket_id();
    out += '"';
    if (!pid_.empty()) {
        out += ",\"pid\":\"";
        out += pid();
        out += '"';
    }
    out += '}';
    return out;
}

std::optional<std::pair<std::string, std::string>> Session::recovery_claim(const sio::Packet& packet) {
    if (!packet.has_data() || !packet.data.IsObject()) return std::nullopt;
    auto pid = packet.data.FindMember("pid");
    if (pid == packet.data.MemberEnd() || !pid->value.IsString() || pid->value.GetStringLength() == 0 ||
        pid->value.GetStringLength() > max_recovery_field)
        return std::nullopt;
    std::string offset;
    if (auto it = packet.data.FindMember("offset"); it != packet.data.MemberEnd()) {
        // Absent when the client got nothing since it was given the pid; anything but a short string is no offset.
        if (!it->value.IsString() || it->value.GetStringLength() > max_recovery_field) return std::nullopt;
        offset.assign(it->value.GetString(), it->value.GetStringLength());
    }
    return std::pair{std::string(pid->value.GetString(), pid->value.GetStringLength()), std::move(offset)};
}

void Session::on_resumed(const events::Resumed& answer) {
    if (closed()) return;
    if (namespace_ == Namespace::resuming) {
        // The pid the client recovered with, which this server (or another instance) made; one that could not be
        // ours keeps the fresh one (the client then knows it did not recover its old id).
        if (!answer.pid.empty() && answer.pid.size() <= pid_.max_size()) pid_ = answer.pid;
        set_namespace(Namespace::joined);
        send_text(connect_reply());
        return;
    }
    // An explicit resume (`authenticate` with an offset): the client learns whether it missed anything for good.
    std::string args = answer.recovered ? "{\"recovered\":true,\"replayed\":" + std::to_string(answer.replayed) + "}"
                                        : "{\"recovered\":false,\"reason\":";
    if (!answer.recovered) {
        eio::append_json_string(args, answer.reason);
        args += '}';
    }
    send_text(sio::encode_event("/", "resumed", args, {}));
}

void Session::on_event(const sio::Packet& packet, std::vector<std::string> attachments) {
    // data[0] is the event name (the codec checked); the rest go to the bus as one JSON array.
    const auto& data = packet.data;
    const auto& name = data[0];
    std::string event(name.GetString(), name.GetStringLength());
    std::string args = "[";
    for (rapidjson::SizeType i = 1; i < data.Size(); ++i) {
        if (i > 1) args += ',';
        args += sio::encode_json(data[i]);
    }
    args += ']';
    const bool stock_authenticate = packet.nsp == "/" && event == "authenticate";
    if (packet.id) {
        auto& acks = extras().pending_acks;
        if (acks.size() == max_pending_acks) acks.erase(acks.begin());
        acks.emplace_back(packet.nsp, *packet.id);
    }
    engine_.client_event(
        events::ClientEvent{id_, packet.nsp, std::move(event), std::move(args), std::move(attachments), packet.id});
    if (stock_authenticate) authenticate(data);
}

void Session::authenticate(const rapidjson::Value& args) {
    // `authenticate` with {sessionId} is the one event the stock set understands.
    if (args.Size() < 2 || !args[1].IsObject()) {
        engine_.log().debug("connection #{}: authenticate without a {{sessionId}} object, ignored", id_);
        return;
    }
    auto it = args[1].FindMember("sessionId");
    if (it == args[1].MemberEnd()) {
        engine_.log().debug("connection #{}: authenticate without sessionId, ignored", id_);
        return;
    }
    const auto& v = it->value;
    std::string session_id;
    if (v.IsString()) session_id.assign(v.GetString(), v.GetStringLength());
    else if (v.IsUint64()) session_id = std::to_string(v.GetUint64());  // a number is kept as its decimal string
    else if (v.IsInt64()) session_id = std::to_string(v.GetInt64());
    if (session_id.empty() || session_id.size() > engine_.config().max_session_id) {
        engine_.log().debug("connection #{}: authenticate with an unusable sessionId, ignored", id_);
        return;
    }
    engine_.authenticate(*this, std::move(session_id));
    // An explicit resume: {sessionId, offset} asks for everything after `offset` (any client, any protocol).
    if (auto offset = args[1].FindMember("offset"); offset != args[1].MemberEnd()) {
        if (offset->value.IsString() && offset->value.GetStringLength() > 0 &&
            offset->value.GetStringLength() <= max_recovery_field)
            engine_.resume(*this, {}, std::string(offset->value.GetString(), offset->value.GetStringLength()));
        else engine_.log().debug("connection #{}: authenticate with an unusable offset, not resumed", id_);
    }
}

bool Session::on_poll(std::shared_ptr<PollWaiter> waiter, std::string jsonp_index, std::string* why) {
    const auto refuse = [why](const char* reason) {
        if (why) *why = reason;
        return false;
    };
    if (closed()) return refuse("session closed");
    if (transport_ == Transport::websocket || !polling_) return refuse("the session has upgraded to websocket");
    if (polling_->waiter) {
        // Two GETs at once: engine.io treats it as a broken client and drops the session.
        close(CloseReason::transport_error);
        return refuse("overlapping polling requests");
    }
    polling_->waiter = std::move(waiter);
    polling_->jsonp_index = std::move(jsonp_index);
    if (transport_ == Transport::upgrading) answer_waiter("6");
    else if (!polling_->queue.empty()) schedule_flush();
    return true;
}

void Session::on_post(std::vector<eio::Packet> packets) {
    for (auto& p : packets) {
        if (closed()) return;
        on_packet(std::move(p));
    }
}

bool Session::attach_probe(std::shared_ptr<WebsocketLink> link) {
    if (closed() || websocket_ || probe_ || transport_ != Transport::polling || !engine_.config().allow_upgrades)
        return false;
    probe_ = std::move(link);
    return true;
}

bool Session::on_websocket_message(WebsocketLink& link, bool text, std::string_view data) {
    auto packet = text ? eio::decode_text_frame(protocol_, data) : eio::decode_binary_frame(protocol_, data);
    if (!packet) {
        engine_.log().info("connection #{}: malformed websocket frame; closing", id_);
        close(CloseReason::protocol_error);
        return false;
    }
    auto self = shared_from_this();  // the handlers below may close the session and so release it
    // A link is the probe until its upgrade packet makes it websocket_ (on_probe_packet); a link the session let
    // go of (a dropped probe) has been closed, and has forgotten the session.
    if (probe_.get() == &link) on_probe_packet(link, std::move(*packet));
    else if (websocket_.get() == &link) on_packet(std::move(*packet));
    return !closed();
}

void Session::on_probe_packet(WebsocketLink& link, eio::Packet packet) {
    if (closed() || probe_.get() != &link) return;
    if (packet.type == eio::PacketType::ping && packet.data == "probe") {
        // A client that repeats its probe and never reads is bounded like any other.
        if (link.send({probe_reply, false}) == SendStatus::over_limit) {
            probe_.reset();
            if (transport_ == Transport::upgrading) switch_transport(Transport::polling);
            link.close(CloseReason::too_slow);
            return;
        }
        // The client pauses polling once its probe is answered, waiting for its GET to come back: release
        // the one waiting now, and answer any that arrives until the upgrade, with a noop. A repeated probe finds
        // the session upgrading already.
        if (transport_ == Transport::polling) switch_transport(Transport::upgrading);
        answer_waiter("6");
        return;
    }
    if (packet.type == eio::PacketType::upgrade) {
        websocket_ = std::move(probe_);
        switch_transport(Transport::websocket);
        answer_waiter("6");  // a GET that slipped in after the probe: the client ignores the noop
        auto pending = std::move(polling_->queue);
        polling_.reset();
        engine_.transport_changed(*this);
        for (auto& f : pending) {
            if (websocket_->send(std::move(f)) == SendStatus::over_limit) return close(CloseReason::too_slow);
        }
        // What the core waits to hear about moved to the websocket's queue.
        if (std::exchange(drain_awaited_, false)) websocket_->watch_drain();
        return;
    }
    // Anything else over a probing websocket is a client error: drop the probe, keep polling.
    probe_.reset();
    if (transport_ == Transport::upgrading) switch_transport(Transport::polling);
    link.close(CloseReason::protocol_error);
}

void Session::attach_websocket(std::shared_ptr<WebsocketLink> link) { websocket_ = std::move(link); }

void Session::on_websocket_closed(WebsocketLink& link, CloseReason reason) {
    if (probe_.get() == &link) {
        probe_.reset();
        if (transport_ == Transport::upgrading) switch_transport(Transport::polling);
        return;
    }
    if (websocket_.get() == &link) close(reason);
}

void Session::send_packet(const std::shared_ptr<const std::string>& text,
                          const std::vector<std::shared_ptr<const std::string>>& attachments) {
    // A send may overflow the queue and close the session, whose last owner the engine then lets go of: hold
    // it, and stop at the first send that closed it (attachments without their packet mean nothing).
    auto self = shared_from_this();
    send({text, false});
    for (const auto& a : attachments) {
        if (closed()) return;
        send({a, true});
    }
}

bool Session::take_pending_ack(std::string_view nsp, std::uint64_t id) {
    if (!extras_) return false;
    auto& acks = extras_->pending_acks;
    auto it = std::find_if(acks.begin(), acks.end(), [&](const auto& a) { return a.second == id && a.first == nsp; });
    if (it == acks.end()) return false;
    acks.erase(it);
    return true;
}

void Session::send_text(std::string text) { send({std::make_shared<const std::string>(std::move(text)), false}); }

void Session::send(Frame frame) {
    if (closed()) return;
    const std::size_t limit = engine_.config().max_queue_bytes;
    if (websocket_ && transport_ == Transport::websocket) {
        if (websocket_->send(std::move(frame)) == SendStatus::over_limit) close(CloseReason::too_slow);
        return;
    }
    // The entry counts with its payload (frame_overhead, as a websocket's queue counts it): many tiny replies
    // weigh as one large frame. Attachments still being assembled count too: every byte a connection holds.
    if (!polling_) return;  // a websocket session whose link is gone: it is closing
    polling_->queued_bytes += frame_overhead + frame.bytes->size();
    polling_->queue.push_back(std::move(frame));
    if (polling_->queued_bytes + partial_input() > limit) return close(CloseReason::too_slow);
    if (polling_->waiter) schedule_flush();
}

// Frames queued within one turn of the loop go out in one polling response.
void Session::schedule_flush() {
    if (flush_posted_) return;
    flush_posted_ = true;
    boost::asio::post(engine_.io(), [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->flush_poll();
    });
}

void Session::flush_poll() {
    if (!polling_ || !polling_->waiter || polling_->queue.empty()) return;
    auto& queue = polling_->queue;
    std::vector<eio::OutPacket> out;
    out.reserve(queue.size());
    for (const auto& f : queue) out.push_back({*f.bytes, f.binary});
    respond(out);
    queue.clear();
    polling_->queued_bytes = 0;
    if (std::exchange(drain_awaited_, false)) on_drained();
}

// Over the websocket its link says when its queue is written; over polling, the queue is gone once a GET has
// taken it (its response is bounded by the queue's bound).
void Session::await_drain() {
    if (closed()) return;
    if (websocket_ && transport_ == Transport::websocket) return websocket_->watch_drain();
    if (!polling_ || polling_->queue.empty()) {
        boost::asio::post(engine_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock()) self->on_drained();
        });
        return;
    }
    drain_awaited_ = true;
}

void Session::on_drained() {
    if (!closed()) engine_.drained(*this);
}

void Session::answer_waiter(std::string_view packet) {
    const eio::OutPacket out{packet, false};
    respond(std::span(&out, 1));
}

void Session::respond(std::span<const eio::OutPacket> packets) {
    if (!polling_ || !polling_->waiter) return;
    const bool jsonp = !polling_->jsonp_index.empty();
    const auto format = eio::choose_payload_format(protocol_, polling_->base64 || jsonp, packets);
    auto body = eio::encode_payload(format, packets);
    if (jsonp) body = eio::encode_jsonp(polling_->jsonp_index, body);
    engine_.bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);
    auto w = std::move(polling_->waiter);
    w->respond(std::move(body), format == eio::PayloadFormat::v3_binary);
}

void Session::protocol_error(const std::string& what) {
    engine_.log().info("connection #{}: {}; closing", id_, what);
    close(CloseReason::protocol_error);
}

void Session::enter(State next) {
    // The only moves: connecting -> open (the CONNECT), connecting or open -> closed.
    assert(state_ != State::closed && next != State::connecting && next != state_);
    const bool was_pending = pending();
    state_ = next;
    connect_timer_.reset();
    if (was_pending) engine_.left_pending(*this);
    if (next == State::open) {
        announced_ = true;
        engine_.announce(*this);
    }
}

void Session::switch_transport(Transport next) {
    // The only moves: polling -> upgrading (the probe answered) -> websocket (the upgrade packet); upgrading ->
    // polling (the probe failed or went away); polling -> websocket (a client may send the upgrade without
    // waiting for the probe's answer, as engine.io allows). A websocket never goes back.
    [[maybe_unused]] const bool allowed =
        (transport_ == Transport::polling && (next == Transport::upgrading || next == Transport::websocket)) ||
        (transport_ == Transport::upgrading && (next == Transport::polling || next == Transport::websocket));
    assert(allowed);
    transport_ = next;
}

void Session::set_namespace(Namespace next) {
    // The only moves: none -> joined (the CONNECT, or Socket.IO 4's implicit join), none -> resuming (a recovering
    // CONNECT) -> joined (the core's answer), joined -> none (the client's DISCONNECT).
    [[maybe_unused]] const bool allowed = (namespace_ == Namespace::none && next != Namespace::none) ||
                                          (namespace_ == Namespace::resuming && next == Namespace::joined) ||
                                          (namespace_ == Namespace::joined && next == Namespace::none);
    assert(allowed);
    namespace_ = next;
}

void Session::close(CloseReason reason) {
    if (closed()) return;
    enter(State::closed);
    heartbeat_entry_.reset();
    connect_timer_.reset();
    // A waiting poll learns of a close the server decided as engine.io tells it, with a close packet; when the
    // client closed, engine.io just ends the poll with a noop.
    answer_waiter(reason == CloseReason::client_close ? "6" : "1");
    if (polling_) {
        polling_->queue.clear();
        polling_->queued_bytes = 0;
    }
    if (auto ws = std::move(websocket_)) ws->close(reason);
    if (auto probe = std::move(probe_)) probe->close(reason);
    engine_.closed(*this, reason);
}

}  // namespace yunity::socketio
