#pragma once

// One simulated socket.io client: a user's session, reconnected as often as the run asks, checking what arrives.
// It speaks just enough Socket.IO for the server under test: the namespace CONNECT of either protocol version,
// `authenticate`, heartbeats, and the `message` events it counts. The Worker decides when it connects.

#include "link.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace yunity::bench {

class Client;

class ClientObserver {
public:
    // authenticate was sent on this link.
    virtual void on_authenticating(Client& client) = 0;
    // The first message on this link: the server has the client in its user's room.
    virtual void on_confirmed(Client& client) = 0;
    // A fan-out message: sequence number and the publisher's steady-clock time.
    virtual void on_delivery(Client& client, std::uint64_t seq, std::int64_t sent_ns) = 0;
    // The link failed or the server closed it; the client is idle again. `was`: its state before.
    virtual void on_lost(Client& client, int was, std::string why) = 0;

protected:
    ~ClientObserver() = default;
};

class Client final : private LinkEvents {
public:
    enum class State : std::uint8_t { idle, connecting, open, authenticating, confirmed };

    Client(std::uint32_t conn, bool polling, const LinkSettings& settings, ClientObserver& observer)
        : settings_(&settings), observer_(&observer), conn_(conn), polling_(polling) {}
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client() { drop(); }

    // `claim`: come back as a real client does after a drop, presenting what it kept for connection state
    // recovery: socket.io-client 4.x its pid and last offset in the CONNECT (`40{"pid":...,"offset":...}`),
    // 2.x its last offset in `authenticate {sessionId, offset}`. Without anything kept, a plain connect.
    void connect(boost::asio::io_context& io, std::string session_id, bool claim = false);
    // Closes the connection abruptly; no on_lost follows.
    void drop();
    // Engine.IO 3: the client pings (every pingInterval); the Worker's sweep calls this.
    void ping();

    State state() const { return state_; }
    std::uint32_t conn() const { return conn_; }
    int eio() const { return settings_->eio; }
    bool polling() const { return polling_; }
    std::uint32_t ping_interval_ms() const { return ping_interval_ms_; }
    // A recovery claim on the current link, and the server's answer: the CONNECT reply (Engine.IO 4: recovered
    // when it gives back the pid presented) or the `resumed` event (Engine.IO 3's authenticate with an offset).
    enum class Claim : std::uint8_t { none, unanswered, recovered, not_recovered };
    Claim claim() const { return claim_; }

    // Verification, kept per client for the whole run (sequence numbers only grow, across phases too).
    std::int64_t last_seq = -1;
    std::uint64_t received = 0;  // in the current phase
    std::uint32_t next_ping_ms = 0;

private:
    void on_packet(char type, std::string_view data) override;
    void on_link_error(std::string_view what, const boost::system::error_code& ec) override;
    void on_socketio(std::string_view packet);
    void lose(std::string why);
    void send_authenticate();

    std::shared_ptr<Link> link_;
    const LinkSettings* settings_;
    ClientObserver* observer_;
    std::string session_id_;
    // Kept for connection state recovery across links: the pid of the last CONNECT reply (Engine.IO 4) and the
    // offset of the last message (its last argument).
    std::string pid_;
    std::string offset_;
    std::uint32_t conn_;
    std::uint32_t ping_interval_ms_ = 25000;
    bool polling_;
    Claim claim_ = Claim::none;
    State state_ = State::idle;
};

}  // namespace yunity::bench
