#include "registry.hpp"

#include <algorithm>

namespace yunity::core {

namespace {

template <class Vector>
void erase_one(Vector& v, ConnectionId id) {
    auto it = std::find(v.begin(), v.end(), id);
    if (it != v.end()) {
        *it = v.back();
        v.pop_back();
    }
}

}  // namespace

void Registry::open(ConnectionInfo info) {
    auto id = info.id;
    info.session_id.reset();
    info.user.reset();
    connections_.insert_or_assign(id, std::move(info));
}

void Registry::close(ConnectionId id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    leave_session(it->second);
    connections_.erase(it);
}

void Registry::set_transport(ConnectionId id, std::string transport) {
    auto it = connections_.find(id);
    if (it != connections_.end()) it->second.transport = std::move(transport);
}

std::optional<Registry::Change> Registry::authenticate(ConnectionId id, const std::string& session_id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return std::nullopt;
    auto& c = it->second;
    if (c.session_id != session_id) {
        leave_session(c);
        c.session_id = session_id;
        auto& s = sessions_[session_id];
        s.connections.push_back(id);
        if (s.user) join_user(c, *s.user);
    }
    return Change{id, c.session_id, c.user};
}

std::vector<Registry::Change> Registry::resolve(const std::string& session_id, std::optional<std::string> user) {
    std::vector<Change> changes;
    if (user && user->empty()) user.reset();  // an empty value is no user, as the web app's logout may write it
    auto found = sessions_.find(session_id);
    if (found == sessions_.end()) return changes;  // nobody holds it (any more): nothing to remember
    found->second.user = user;
    for (auto id : found->second.connections) {
        auto& c = connections_.at(id);
        if (c.user == user) continue;
        join_user(c, user);
        changes.push_back({id, c.session_id, c.user});
    }
    return changes;
}

std::vector<ConnectionId> Registry::connections_of(const std::vector<std::string>& users) const {
    std::vector<ConnectionId> out;
    std::size_t hit = 0;
    for (const auto& u : users) {
        auto it = users_.find(u);
        if (it == users_.end()) continue;
        ++hit;
        out.insert(out.end(), it->second.begin(), it->second.end());
    }
    // A connection belongs to one user at a time, so only a user named twice can repeat a connection.
    if (hit > 1) {
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
    }
    return out;
}

const ConnectionInfo* Registry::find(ConnectionId id) const {
    auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : &it->second;
}

ConnectionId Registry::for_each_connection(ConnectionId after,
                                           const std::function<bool(const ConnectionInfo&)>& visit) const {
    ConnectionId last = after;
    for (auto it = connections_.upper_bound(after); it != connections_.end(); ++it) {
        last = it->first;
        if (!visit(it->second)) break;
    }
    return last;
}

void Registry::for_each_session(const std::function<void(const std::string&)>& visit) const {
    for (const auto& [id, s] : sessions_) visit(id);
}

const std::optional<std::optional<std::string>>* Registry::session_user(std::string_view session_id) const {
    auto it = sessions_.find(session_id);
    return it == sessions_.end() || !it->second.user ? nullptr : &it->second.user;
}

bool Registry::has_session(std::string_view session_id) const { return sessions_.find(session_id) != sessions_.end(); }

std::size_t Registry::connections_of_user(std::string_view user) const {
    auto it = users_.find(user);
    return it == users_.end() ? 0 : it->second.size();
}

void Registry::join_user(ConnectionInfo& c, const std::optional<std::string>& user) {
    if (c.user == user) return;
    if (c.user) {
        auto it = users_.find(*c.user);
        if (it != users_.end()) {
            erase_one(it->second, c.id);
            if (it->second.empty()) users_.erase(it);
        }
        --authenticated_;
    }
    c.user = user;
    if (c.user) {
        users_[*c.user].push_back(c.id);
        ++authenticated_;
    }
}

void Registry::leave_session(ConnectionInfo& c) {
    join_user(c, std::nullopt);
    if (!c.session_id) return;
    auto it = sessions_.find(*c.session_id);
    if (it != sessions_.end()) {
        erase_one(it->second.connections, c.id);
        if (it->second.connections.empty()) sessions_.erase(it);
    }
    c.session_id.reset();
}

}  // namespace yunity::core
