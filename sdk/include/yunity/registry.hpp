// A read-only view of the core's registry of connections, sessions and users. Use it on the core's executor
// only (from bus handlers or work posted there): the core changes it there and nowhere else.
#pragma once

#include <yunity/events.hpp>

#include <boost/config.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace yunity {

struct ConnectionInfo {
    ConnectionId id = 0;
    std::string public_id;
    std::string transport;
    Protocol protocol = Protocol::eio4_sio5;
    std::optional<std::string> session_id;  // none until the client authenticates
    std::optional<std::string> user;        // none while its session has no user (or is not yet resolved)
    std::shared_ptr<const Handshake> handshake;
};

class BOOST_SYMBOL_VISIBLE RegistryView {
public:
    virtual ~RegistryView() = default;

    virtual std::size_t connection_count() const = 0;
    virtual std::size_t session_count() const = 0;  // distinct sessions held by live connections
    virtual std::size_t user_count() const = 0;     // distinct users with at least one live connection
    virtual std::size_t authenticated_count() const = 0;  // connections that belong to a user

    virtual const ConnectionInfo* find(ConnectionId id) const = 0;

    // Visits connections in id order, starting after `after` (0 for the first); stops when `visit` returns
    // false. Returns the id of the last connection visited, so a long walk can resume later without holding
    // the loop (the admin report streams this way).
    virtual ConnectionId for_each_connection(ConnectionId after,
                                             const std::function<bool(const ConnectionInfo&)>& visit) const = 0;

    // Every session held by at least one live connection (resolvers re-resolve these after an outage).
    virtual void for_each_session(const std::function<void(const std::string&)>& visit) const = 0;

    virtual bool has_session(std::string_view session_id) const = 0;

    // Live connections that belong to `user` (a connection belongs to one user at a time, so the sum over
    // distinct users is the number a notification for them reaches). The core answers from its index; this
    // walk is only for other implementations of the view, such as test doubles.
    virtual std::size_t connections_of_user(std::string_view user) const {
        std::size_t n = 0;
        for_each_connection(0, [&](const ConnectionInfo& c) {
            if (c.user && *c.user == user) ++n;
            return true;
        });
        return n;
    }
};

}  // namespace yunity
