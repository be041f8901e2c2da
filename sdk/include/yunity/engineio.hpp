// Plain Engine.IO for plugins: a path of their own, served beside Socket.IO by the socketio plugin.
//
// The socketio plugin provides an EnginePaths under the service name "engineio-paths" from its constructor, so
// any plugin can ask for a path in its own start(), whatever the load order:
//
//     if (auto* paths = context.service<yunity::EnginePaths>())
//         paths->serve("/engine.io/");
//
// Clients of that path speak Engine.IO 3 or 4 (polling, websocket and the upgrade) with no Socket.IO layer:
// each message they send reaches the bus as events::EngineMessage; events::EngineSend writes messages to them.
// Their connections open and close like any other (ConnectionOpened, with the path in the handshake's url, and
// ConnectionClosed); one that some plugin authenticates receives notifications as plain text messages holding
// the payload's JSON.
#pragma once

#include <boost/config.hpp>

#include <string>
#include <string_view>

namespace yunity {

inline constexpr std::string_view engine_paths_service = "engineio-paths";

class BOOST_SYMBOL_VISIBLE EnginePaths {
public:
    static constexpr std::string_view service_name = engine_paths_service;  // context.service<EnginePaths>()

    virtual ~EnginePaths() = default;

    // Serves plain Engine.IO under `path` (it must start and end with '/', e.g. "/engine.io/", and must not
    // overlap a Socket.IO path or another served path). Throws std::invalid_argument otherwise. Call before or
    // during start(), on the core's loop.
    virtual void serve(std::string path) = 0;
};

}  // namespace yunity
