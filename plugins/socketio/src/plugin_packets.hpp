// The packets plugins ask the transport to send (events::Emit and events::Ack), encoded once for all their
// recipients. Plugins often pass on what a client sent, so their JSON is read as a client's is: iteratively, with
// exact numbers and the depth limit, and never copied recursively. Pure: unit tested and fuzzed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::sio {

// An Engine.IO message text ("4" and the Socket.IO packet) and its attachments, each sent as a binary message.
struct OutgoingPacket {
    std::shared_ptr<const std::string> text;
    std::vector<std::shared_ptr<const std::string>> attachments;
};

// EVENT `event` on `nsp` with the arguments `args` (a JSON array's text), asking for ack `ack_id` when set.
// nullopt, with the reason in *error, when args is not a JSON array within the depth limit, or its placeholders
// do not match the attachments.
std::optional<OutgoingPacket> encode_emit(std::string_view nsp, std::string_view event,
                                          std::optional<std::uint64_t> ack_id, std::string_view args,
                                          const std::vector<std::string>& attachments, std::string* error = nullptr);

// The ACK of `ack_id` on `nsp` with `args`, likewise.
std::optional<OutgoingPacket> encode_ack(std::string_view nsp, std::uint64_t ack_id, std::string_view args,
                                         const std::vector<std::string>& attachments, std::string* error = nullptr);

}  // namespace yunity::sio
