#pragma once

// Socket.IO packet codec, protocol 4 (socket.io-client 1.x/2.x, over Engine.IO 3) and 5 (3.x and later, over
// Engine.IO 4). A packet is the text of one Engine.IO message packet without its leading '4':
//   <type>[<attachments>-][<namespace>,][<ack id>][<JSON>]
// Pure functions: no I/O.

#include <rapidjson/document.h>

#include <yunity/events.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yunity::sio {

// connect_error is called ERROR in protocol 4; same number, same use.
enum class PacketType : std::uint8_t {
    connect = 0,
    disconnect = 1,
    event = 2,
    ack = 3,
    connect_error = 4,
    binary_event = 5,
    binary_ack = 6
};

struct Packet {
    PacketType type = PacketType::connect;
    std::string nsp = "/";
    // Protocol 4 clients put the namespace's query in the namespace itself ("/admin?token=x,"); decode splits it
    // off into here, encode puts it back. Always empty for protocol 5.
    std::string nsp_query;
    std::optional<std::uint64_t> id;
    std::size_t attachments = 0;
    // Null when the packet carries no JSON. Decoded with RapidJSON's iterative parser (untrusted input: no
    // recursion anywhere in this codec, however deep the nesting); encode walks it iteratively too.
    rapidjson::Document data;

    bool has_data() const { return !data.IsNull(); }
};

// Parses and validates like the reference server's socket.io-parser, nullopt with a reason in *error otherwise:
// - type digit 0..6; binary types need "<n>-"; an ack id is digits (fits in 64 bits);
// - the JSON must parse completely and be valid UTF-8 (`2abc["a"]`, `2{}`, `2["a"` fail), the namespace too;
// - CONNECT: no data, or (protocol 5 only) an object; DISCONNECT: no data; CONNECT_ERROR: none, a string or an
//   object; EVENT / BINARY_EVENT: a non-empty array whose first element is a string, in protocol 5 not one of the
//   names the reference reserves ("connect", "connect_error", "disconnect", "disconnecting", "newListener",
//   "removeListener"); ACK / BINARY_ACK: an array, and an id.
// Placeholders of binary packets are checked by BinaryAssembler, not here.
std::optional<Packet> decode(std::string_view text, Protocol protocol, std::string* error = nullptr);

// Compact JSON, members in their DOM order, strings escaped as JSON.stringify does. The namespace (with its
// query, if any) followed by ',' only when it is not "/"; then the id; then the data. Binary types get
// "<attachments>-".
std::string encode(const Packet& packet);

// A JSON value as compact text, exactly as encode() writes packet data (iteratively, strings as JSON.stringify).
std::string encode_json(const rapidjson::Value& value);

// Fan-out fast path without a DOM: the complete Engine.IO message `42["<event>",<json_arg>]`, with "/nsp," after
// "42" when nsp is not "/". event is escaped as a JSON string; json_arg (already compact JSON) is inserted
// verbatim, and left out with its comma when empty (`42["<event>"]`). A non-empty `offset` follows as a JSON string,
// the event's last argument: `42["<event>",<json_arg>,"<offset>"]`, which socket.io-client 4.6+ records as the
// offset to recover from (connection state recovery) and a one-argument handler never sees.
std::string encode_event(std::string_view nsp, std::string_view event, std::string_view json_arg,
                         std::string_view offset = {});

}  // namespace yunity::sio
