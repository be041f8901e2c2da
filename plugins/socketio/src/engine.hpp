#pragma once

#include "address_slots.hpp"
#include "client_address.hpp"
#include "request_route.hpp"
#include "session.hpp"
#include "transport_config.hpp"

#include <yunity/engineio.hpp>
#include <yunity/namespaces.hpp>
#include <yunity/plugin.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <unordered_map>

#include <boost/unordered/unordered_flat_map.hpp>

namespace yunity::socketio {

// The transport's state shared by all sessions: the session table, ids, settings, and the bridge to the bus.
// Lives on the core's loop.
class Engine final : public SessionTable {
public:
    Engine(PluginContext& context, TransportConfig config);

    PluginContext& context() { return context_; }
    const TransportConfig& config() const { return config_; }
    const TrustedProxies& trusted_proxies() const { return trusted_proxies_; }
    boost::asio::io_context& io() { return context_.io(); }
    Heartbeats& heartbeats() { return heartbeats_; }
    spdlog::logger& log() { return *context_.logger(); }

    // `raw_path` is the plain Engine.IO path the client came by (see EnginePaths); empty for Socket.IO.
    // `group` is the client's address group (address_group()), what the per-address limits count.
    std::shared_ptr<Session> create(Protocol protocol, Session::Transport transport,
                                    std::shared_ptr<const Handshake> handshake, std::string raw_path = {},
                                    std::string group = {});
    std::shared_ptr<Session> find(std::string_view sid) const;
    // Whether a new session from address group `group` is within max_connections, max_connections_per_address
    // and, for a session that will owe a CONNECT (`pending`), max_pending_per_address; else the reason (logged at
    // a limited rate, counted by limit).
    std::optional<std::string> admit(const std::string& group, bool pending);
    std::size_t max_connections() const { return max_connections_; }
    // A client-port connection from `peer`, just accepted: its slot among the connections its address group holds
    // before they carry a request for a session (max_unbound_per_address); an empty slot for a trusted proxy,
    // whose clients only its requests tell apart. nullopt when the group holds that many: the caller closes the
    // connection at once (counted by limit, logged at a limited rate).
    std::optional<AddressSlots::Slot> admit_connection(const boost::asio::ip::address& peer);
    // Connections that have not carried a request for a session yet (a trusted proxy's not counted).
    std::size_t unbound_count() const { return unbound_->total(); }
    // Sessions that have not completed a Socket.IO CONNECT yet.
    std::size_t pending_count() const { return pending_total_; }

    // From sessions.
    void announce(Session& session);      // the Socket.IO connection is up: ConnectionOpened
    void left_pending(Session& session);  // connected, or closed before: no longer counted as pending
    void authenticate(Session& session, std::string session_id);
    // Connection state recovery: on when the core keeps a recovery window (then Socket.IO 5 clients get a pid).
    bool recovery_enabled() const { return context_.settings().recovery_window.count() > 0; }
    void resume(Session& session, std::string pid, std::string offset);
    // The core's answer to a resume: to the session, if it is still ours.
    void resumed(const events::Resumed& answer);
    // The core waits for a session's queue to be written (AwaitDrain); the session says so (Drained).
    void await_drain(const events::AwaitDrain& request);
    void close_connection(const events::CloseConnection& request);
    void drained(Session& session);
    void transport_changed(Session& session);
    void closed(Session& session, CloseReason reason);

    void client_event(events::ClientEvent event);
    void client_ack(events::ClientAck ack);
    void engine_message(Session& session, std::string data, bool binary);

    // SessionTable, for request routing (request_route.hpp).
    bool serves(std::string_view path, std::string& raw_path) const override;
    std::optional<Facts> session(std::string_view sid) const override;
    EnginePaths& engine_paths() { return engine_paths_; }

    // Namespaces plugins declared (provided to them as the "socketio-namespaces" service).
    Namespaces& namespaces() { return namespaces_; }
    bool namespace_declared(std::string_view nsp) const {
        return namespaces_.hooks.find(nsp) != namespaces_.hooks.end();
    }
    // The hook of a declared namespace (an empty function when it has none); null when undeclared.
    const Namespaces::AuthHook* namespace_hook(std::string_view nsp) const {
        auto it = namespaces_.hooks.find(nsp);
        return it == namespaces_.hooks.end() ? nullptr : &it->second;
    }

    // A plugin's answer to a client's event, and events plugins send, with their attachments.
    void ack(const events::Ack& ack);
    void emit(const events::Emit& emit);
    void engine_send(const events::EngineSend& send);

    // Writes a delivery to the target connections that are ours, sharing one encoded frame.
    void deliver(const events::Deliver& delivery);
    // Closes every session (shutdown).
    void close_all(CloseReason reason);

    // A fresh unguessable id (20 characters of base64url, 120 bits).
    static std::string random_id();

    std::size_t session_count() const { return by_sid_.size(); }

    // Counters the transport keeps (rendered by the admin plugin).
    std::atomic<std::uint64_t>& bytes_sent;
    std::atomic<std::uint64_t>& deliveries;
    std::atomic<std::uint64_t>& bad_requests;

private:
    static std::atomic<std::uint64_t>& refused_counter(PluginContext& context, const char* limit);
    // Logs a refusal, at most once every 10 s per kind: a flood must not flood the log.
    void log_refusal(std::chrono::steady_clock::time_point& last, const char* what, const std::string& why);

    struct NamespaceTable : Namespaces {
        std::map<std::string, AuthHook, std::less<>> hooks;
        void declare(std::string nsp, AuthHook hook) override;
    };
    struct EnginePathTable : EnginePaths {
        explicit EnginePathTable(const TransportConfig& c) : config(c) {}
        const TransportConfig& config;
        std::vector<std::string> paths;
        void serve(std::string path) override;
    };

    PluginContext& context_;
    NamespaceTable namespaces_;
    TransportConfig config_;
    TrustedProxies trusted_proxies_;
    EnginePathTable engine_paths_{config_};
    ConnectionId next_id_ = 1;
    // Keyed by a view of the session's own sid: the session outlives its entry, and a second copy of each sid
    // with its node was ~0.1 KB per connection.
    boost::unordered_flat_map<std::string_view, std::shared_ptr<Session>> by_sid_;
    // Looked up once per delivery; open addressing keeps that lookup to one cache line, not a node per entry.
    boost::unordered_flat_map<ConnectionId, Session*> by_id_;
    // Sessions, and pending ones, per address group; an entry lives while its count is above zero.
    struct AddressCount {
        std::size_t sessions = 0;
        std::size_t pending = 0;
    };
    std::unordered_map<std::string, AddressCount> per_address_;
    std::size_t pending_total_ = 0;
    std::size_t max_connections_;
    std::atomic<std::uint64_t>& refused_total_;
    std::atomic<std::uint64_t>& refused_per_address_;
    std::atomic<std::uint64_t>& refused_pending_;
    std::atomic<std::uint64_t>& refused_unbound_;
    Heartbeats heartbeats_;  // every session's heartbeat deadline
    std::chrono::steady_clock::time_point last_refusal_log_{};
    std::chrono::steady_clock::time_point last_unbound_log_{};
    // Shared with the slots connections hold, which may outlive the engine.
    std::shared_ptr<AddressSlots> unbound_ = std::make_shared<AddressSlots>();
};

}  // namespace yunity::socketio
