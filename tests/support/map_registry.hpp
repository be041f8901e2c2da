// A RegistryView over a plain map of connections, for tests and fuzz targets of what reads the registry (the
// admin report): no sessions, no users.
#pragma once

#include <yunity/registry.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace yunity::test {

class MapRegistry final : public RegistryView {
public:
    std::map<ConnectionId, ConnectionInfo> connections;

    std::size_t connection_count() const override { return connections.size(); }
    std::size_t session_count() const override { return 0; }
    std::size_t user_count() const override { return 0; }
    std::size_t authenticated_count() const override { return 0; }
    const ConnectionInfo* find(ConnectionId id) const override {
        auto it = connections.find(id);
        return it == connections.end() ? nullptr : &it->second;
    }
    ConnectionId for_each_connection(ConnectionId after,
                                     const std::function<bool(const ConnectionInfo&)>& visit) const override {
        ConnectionId last = after;
        for (auto it = connections.upper_bound(after); it != connections.end(); ++it) {
            last = it->first;
            if (!visit(it->second)) break;
        }
        return last;
    }
    void for_each_session(const std::function<void(const std::string&)>&) const override {}
    bool has_session(std::string_view) const override { return false; }
};

}  // namespace yunity::test
