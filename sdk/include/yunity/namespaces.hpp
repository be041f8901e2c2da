// Socket.IO namespaces that plugins serve, beside the default "/" that the transport always serves.
//
// The socketio plugin provides a Namespaces under the service name "socketio-namespaces" from its constructor,
// so any plugin can declare its namespaces in its own start(), whatever the load order:
//
//     if (auto* ns = context.service<yunity::Namespaces>())
//         ns->declare("/chat", [](yunity::ConnectionId, const std::string& auth) -> std::optional<std::string> {
//             return auth.find("\"token\"") != std::string::npos ? std::nullopt
//                                                                : std::optional<std::string>("Not authorized");
//         });
//
// A client's CONNECT to a namespace nobody declared is refused with the protocol's "Invalid namespace" error.
// Events of a joined namespace reach the bus as events::ClientEvent with that `nsp`.
#pragma once

#include <yunity/events.hpp>

#include <boost/config.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace yunity {

inline constexpr std::string_view namespaces_service = "socketio-namespaces";

class BOOST_SYMBOL_VISIBLE Namespaces {
public:
    static constexpr std::string_view service_name = namespaces_service;  // context.service<Namespaces>()

    // Sees a client's CONNECT to the namespace, on the core's loop, before the transport answers it: the
    // connection, and the CONNECT's auth payload as compact JSON ("{}" when there is none, and always for
    // protocol 4 clients, which send none). Returns nullopt to accept, or the message to refuse with. It must
    // not block. Events it publishes (an Emit of a welcome, say) are dispatched after the transport's answer.
    using AuthHook = std::function<std::optional<std::string>(ConnectionId connection, const std::string& auth_json)>;

    virtual ~Namespaces() = default;

    // Serves `nsp` ("/name"; "/" adds a hook to the default namespace, which is served anyway). Without a hook
    // every CONNECT is accepted. Declaring a namespace twice throws std::invalid_argument; so does a name that
    // does not start with '/' or contains ',' or '?'. Declare before or during start(), on the core's loop.
    virtual void declare(std::string nsp, AuthHook hook = {}) = 0;
};

}  // namespace yunity
