#pragma once

#include <yunity/registry.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

namespace yunity::core {

// The core's registry of connections, sessions and users, and the membership state machine:
// - a connection holds at most one session id; authenticating with another moves it (it leaves its user
//   at once and joins the new session's user as soon as that is known);
// - a session resolves to a user or to none; the latest answer wins and applies to every connection holding
//   the session, so a logout removes them from the user and a later login brings them back without a new
//   authenticate (the session id is kept).
class Registry final : public RegistryView {
public:
    // What a change did to one connection, so the caller can announce it.
    struct Change {
        ConnectionId connection;
        std::optional<std::string> session_id;
        std::optional<std::string> user;
    };

    void open(ConnectionInfo info);
    void close(ConnectionId id);
    void set_transport(ConnectionId id, std::string transport);
    // Returns the connection's new state, or nothing when the connection is unknown.
    std::optional<Change> authenticate(ConnectionId id, const std::string& session_id);
    // Applies a resolver's answer; returns the connections whose user changed.
    std::vector<Change> resolve(const std::string& session_id, std::optional<std::string> user);
    // The latest resolver answer for a held session: none while no answer came yet (or nobody holds it), else
    // the user, or none for a session that belongs to nobody.
    const std::optional<std::optional<std::string>>* session_user(std::string_view session_id) const;
    // Every connection of these users, each once, whatever repeats in `users`.
    std::vector<ConnectionId> connections_of(const std::vector<std::string>& users) const;

    std::size_t connection_count() const override { return connections_.size(); }
    std::size_t session_count() const override { return sessions_.size(); }
    std::size_t user_count() const override { return users_.size(); }
    std::size_t authenticated_count() const override { return authenticated_; }
    const ConnectionInfo* find(ConnectionId id) const override;
    ConnectionId for_each_connection(ConnectionId after,
                                     const std::function<bool(const ConnectionInfo&)>& visit) const override;
    void for_each_session(const std::function<void(const std::string&)>& visit) const override;
    bool has_session(std::string_view session_id) const override;
    std::size_t connections_of_user(std::string_view user) const override;

private:
    // Most sessions and users have one connection: held inline, that costs no allocation of its own.
    using Connections = boost::container::small_vector<ConnectionId, 1>;
    struct Session {
        Connections connections;
        // The last answer of a resolver; empty until the first one, so a new connection on a known session
        // joins its user at once.
        std::optional<std::optional<std::string>> user;
    };

    void join_user(ConnectionInfo& c, const std::optional<std::string>& user);
    void leave_session(ConnectionInfo& c);

    std::map<ConnectionId, ConnectionInfo> connections_;  // ordered: the admin report resumes by id
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    // Open addressing: a fan-out looks up every named user, and a node per entry was a cache miss per lookup.
    template <class T>
    using StringMap = boost::unordered_flat_map<std::string, T, StringHash, std::equal_to<>>;

    StringMap<Session> sessions_;
    StringMap<Connections> users_;
    std::size_t authenticated_ = 0;
};

}  // namespace yunity::core
