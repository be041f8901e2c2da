#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace yunity::socketio {

// The Sec-WebSocket-Accept value answering a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2), or nullopt when
// the key is not the base64 of 16 bytes.
std::optional<std::string> websocket_accept(std::string_view key);

}  // namespace yunity::socketio
