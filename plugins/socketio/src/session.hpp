#pragma once

#include "binary_assembler.hpp"
#include "engineio_codec.hpp"
#include "heartbeats.hpp"
#include "links.hpp"

#include <rapidjson/document.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/static_string/static_string.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace yunity::socketio {

class Engine;

// The length of the ids this server makes: Engine.IO sids, Socket.IO socket ids, recovery pids.
inline constexpr std::size_t id_length = 20;

// One Engine.IO session and the Socket.IO connection on top of it: heartbeats, the outgoing queue with its
// limit, polling batches, the websocket upgrade, and the default namespace's CONNECT and events.
class Session : public std::enable_shared_from_this<Session> {
public:
    // A session's life. Its Engine.IO open packet is sent at creation; it is `connecting` until its Socket.IO
    // CONNECT (Socket.IO 4 joins "/" at once, and a plain Engine.IO session has none), `open` from then on, when
    // the bus hears of it (ConnectionOpened), and `closed` for good. enter() is the only way from one to another.
    enum class State { connecting, open, closed };
    // What carries it: polling; polling while a websocket probe has been answered (a poll then gets a noop until
    // the upgrade); the websocket. switch_transport() is the only way from one to another.
    enum class Transport { polling, upgrading, websocket };
    // Socket.IO's default namespace "/": not joined (before the CONNECT, or after the client's DISCONNECT);
    // `resuming` while a recovering CONNECT (socket.io-client 4.6+ with a pid) waits for the core's answer, which
    // joins it; `joined`. set_namespace() is the only way from one to another.
    enum class Namespace { none, resuming, joined };

    Session(Engine& engine, std::string sid, Protocol protocol, ConnectionId id, Transport transport,
            std::shared_ptr<const Handshake> handshake, std::string raw_path = {}, std::string address_group = {});

    // Arms the heartbeat and queues what follows the open packet (Socket.IO 4: the default namespace's CONNECT).
    void start();

    std::string_view sid() const { return {sid_.data(), sid_.size()}; }
    ConnectionId id() const { return id_; }
    Protocol protocol() const { return protocol_; }
    Transport transport() const { return transport_; }
    State state() const { return state_; }
    Namespace default_namespace() const { return namespace_; }
    bool closed() const { return state_ == State::closed; }
    bool announced() const { return announced_; }
    std::string_view socket_id() const { return {socket_id_.data(), socket_id_.size()}; }
    // The recovery id its client holds (Socket.IO 5 with recovery on), empty otherwise.
    std::string_view pid() const { return {pid_.data(), pid_.size()}; }
    // The core's answer to this session's resume: a recovering CONNECT is answered now; an explicit resume gets
    // the `resumed` event. The replayed notifications follow as deliveries.
    void on_resumed(const events::Resumed& answer);
    // The core waits to hear when what was sent so far has left the session (a replay goes out in slices).
    void await_drain();
    // From the websocket link: what it held when asked has been written.
    void on_drained();
    const std::shared_ptr<const Handshake>& handshake() const { return handshake_; }
    // A plain Engine.IO session of a plugin's path: messages go to the bus as they are, no Socket.IO layer.
    bool raw() const { return raw_path_ != nullptr; }
    const std::string& raw_path() const;
    // The client's address group (client_address.hpp), what the per-address limits count it under.
    const std::string& address_group() const { return address_group_; }
    // A Socket.IO 5 session (Engine.IO 4) that has not completed a CONNECT yet: it is held to the pending limits.
    bool pending() const { return protocol_ == Protocol::eio4_sio5 && !raw() && state_ == State::connecting; }

    // The open packet, for the handshake response or the first websocket frame.
    std::string open_packet() const;

    // Packets from the client, over polling or over the websocket transport.
    void on_packet(eio::Packet packet);

    // A polling GET. Returns false, with the reason in *why (and the caller answers 400 "Bad request"), when the
    // session has upgraded or another GET is already waiting, which also closes the session as engine.io does.
    bool on_poll(std::shared_ptr<PollWaiter> waiter, std::string jsonp_index, std::string* why = nullptr);
    // engine.io-client 3 asks for base64 binaries (`b64`) on its handshake only: the choice holds for the
    // whole session.
    void set_base64(bool b64) {
        if (polling_) polling_->base64 = b64;
    }
    // A polling POST carried these packets.
    void on_post(std::vector<eio::Packet> packets);

    // A websocket arrived for this session: the session uses it after the probe and `5`. Returns false when
    // the session already has a websocket or cannot upgrade; the caller then closes the newcomer.
    bool attach_probe(std::shared_ptr<WebsocketLink> link);
    // A whole websocket message from `link`, decoded: a probe's packet while `link` is the session's probe (the
    // upgrade packet ends the probe: the link becomes the transport), else the session's. Whether a link probes
    // is the session's to know (probe_ or websocket_), not the link's. A malformed message closes the session;
    // false then, and when the handling closed it otherwise.
    bool on_websocket_message(WebsocketLink& link, bool text, std::string_view data);
    // Packets from a websocket created as the session's transport (no sid in its URL) go to on_packet.
    void attach_websocket(std::shared_ptr<WebsocketLink> link);
    // A websocket went away (any reason): the session closes if it was the transport.
    void on_websocket_closed(WebsocketLink& link, CloseReason reason);

    void send(Frame frame);
    void close(CloseReason reason);

    // What the session holds of input not yet whole: a binary packet's text and the attachments it has of it, while
    // the rest is due. A connection counts it, with its outgoing queue and its own unfinished input, against
    // max_queue_bytes.
    std::size_t partial_input() const { return assembling() ? assembly_->text_bytes + assembly_->received_bytes : 0; }
    // The engine's Heartbeats calls this when the entry this session added for `entry` comes due.
    void heartbeat_due(Heartbeats::Clock::time_point entry);

    // Whether the client joined `nsp` ("/" included).
    bool joined(std::string_view nsp) const;
    // An encoded Socket.IO packet and its attachments: the text as a message, then each attachment as a binary
    // message.
    void send_packet(const std::shared_ptr<const std::string>& text,
                     const std::vector<std::shared_ptr<const std::string>>& attachments);
    // Whether the client asked for ack `id` on `nsp` and has not been answered; forgets it (one answer each).
    bool take_pending_ack(std::string_view nsp, std::uint64_t id);

private:
    void enter(State next);
    void switch_transport(Transport next);
    void set_namespace(Namespace next);
    void arm_heartbeat(std::chrono::milliseconds after);
    void on_heartbeat();
    void schedule_flush();
    void flush_poll();
    void answer_waiter(std::string_view packet);
    void respond(std::span<const eio::OutPacket> packets);
    // Packets over a websocket that is still probing.
    void on_probe_packet(WebsocketLink& link, eio::Packet packet);
    void on_message(std::string_view text);
    void on_socketio_packet(sio::Packet packet, std::vector<std::string> attachments);
    void on_socketio_connect(const sio::Packet& packet);
    void on_event(const sio::Packet& packet, std::vector<std::string> attachments);
    void authenticate(const rapidjson::Value& args);
    std::string connect_reply() const;  // the CONNECT answer for "/": its socket id, and its pid when it has one
    // The {pid, offset} of a recovering socket.io-client 4.6+ CONNECT, when it carries a usable pid.
    static std::optional<std::pair<std::string, std::string>> recovery_claim(const sio::Packet& packet);
    std::string connect_error(std::string_view nsp, std::string_view message) const;
    // A plugin's hook for `nsp`: nullopt to accept, else the refusal.
    std::optional<std::string> check_namespace(std::string_view nsp, const std::string& auth_json);
    void send_text(std::string text);
    void protocol_error(const std::string& what);

    Engine& engine_;
    // The ids this server makes (Engine::random_id) held inline: three strings of 20 characters were three
    // allocations and ~190 bytes per connection.
    using Id = boost::static_strings::static_string<id_length>;
    Id sid_;
    Id socket_id_;
    Id pid_;
    Protocol protocol_;
    ConnectionId id_;
    Transport transport_;
    std::shared_ptr<const Handshake> handshake_;
    std::unique_ptr<const std::string> raw_path_;  // a plain Engine.IO session's path (rare): null otherwise
    std::string address_group_;

    // Vectors, not deques: libstdc++ gives every deque 576 bytes at construction, and most sessions never queue
    // here (websockets have their own queue) nor await an ack.
    bool drain_awaited_ = false;  // the core waits for the polling queue to be taken (then hears Drained)

    bool flush_posted_ = false;
    // What a polling transport holds: allocated while the session polls, let go once it has upgraded (most
    // connections today are websockets from the start, and never hold it).
    struct Polling {
        std::vector<Frame> queue;
        std::size_t queued_bytes = 0;
        std::shared_ptr<PollWaiter> waiter;
        std::string jsonp_index;
        bool base64 = false;
    };
    std::unique_ptr<Polling> polling_;

    std::shared_ptr<WebsocketLink> websocket_;  // the transport after an upgrade, or from the start
    std::shared_ptr<WebsocketLink> probe_;      // a websocket still probing

    Heartbeats::Clock::time_point deadline_{};                      // of the heartbeat
    std::optional<Heartbeats::Clock::time_point> heartbeat_entry_;  // the one entry in the engine's Heartbeats
    bool awaiting_pong_ = false;
    std::unique_ptr<boost::asio::steady_timer> connect_timer_;  // version 5 only, until the client's CONNECT

    Namespace namespace_ = Namespace::none;  // Socket.IO's default namespace
    // What few clients use, allocated when first used: a map and a vector held empty by every connection cost
    // more than the allocation the rare user makes.
    struct Extras {
        std::map<std::string, std::string, std::less<>> namespaces;  // other namespaces joined, with their socket ids
        // Acks the client awaits, oldest first; bounded, since a client may ask for acks nobody will answer.
        std::vector<std::pair<std::string, std::uint64_t>> pending_acks;
    };
    Extras& extras() {
        if (!extras_) extras_ = std::make_unique<Extras>();
        return *extras_;
    }
    std::unique_ptr<Extras> extras_;
    // A binary packet waiting for its attachments; allocated only then, as nearly no client sends one.
    struct Assembly {
        sio::BinaryAssembler assembler;
        std::size_t text_bytes = 0;      // the text of the packet being assembled
        std::size_t received_bytes = 0;  // its attachments so far
    };
    bool assembling() const { return assembly_ && assembly_->assembler.assembling(); }
    std::unique_ptr<Assembly> assembly_;
    bool announced_ = false;  // ConnectionOpened was published: ConnectionClosed is owed
    State state_ = State::connecting;
};

}  // namespace yunity::socketio
