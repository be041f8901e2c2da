#pragma once

// Engine.IO packet and payload codecs, protocol versions 3 (socket.io-client 1.x/2.x) and 4 (3.x and later).
// Pure functions: no I/O, no allocation beyond the returned strings. The `protocol` argument picks the Engine.IO
// version (yunity::Protocol, sdk/include/yunity/events.hpp).

#include <yunity/events.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::eio {

enum class PacketType : std::uint8_t { open = 0, close = 1, ping = 2, pong = 3, message = 4, upgrade = 5, noop = 6 };

struct Packet {
    PacketType type = PacketType::noop;
    bool binary = false;  // `data` holds raw bytes (a binary message), not text
    std::string data;
};

// '0'..'6'.
char type_char(PacketType type) noexcept;
// nullopt for anything but '0'..'6'.
std::optional<PacketType> type_from_char(char c) noexcept;

// ---- WebSocket: one packet per frame ----

// "4hello" -> message "hello"; "2probe" -> ping "probe". nullopt when empty or the first character is not a type
// digit (a `b` base64 frame is rejected too: see the overload below).
std::optional<Packet> decode_text_frame(std::string_view frame);
// Same, but also accepts the base64 form that clients configured with `forceBase64` send over a websocket:
// version 4 `b<base64>` (a binary message), version 3 `b<type digit><base64>`.
std::optional<Packet> decode_text_frame(Protocol protocol, std::string_view frame);
// Version 4: the frame is a binary message as is (possibly empty). Version 3: the first byte is the packet type
// (0x04 for a message), the rest its bytes; nullopt when empty or the type byte is not 0..6.
std::optional<Packet> decode_binary_frame(Protocol protocol, std::string_view frame);
// Type digit + data; `binary` is ignored (binary packets go out with encode_binary_frame).
std::string encode_text_frame(const Packet& packet);
// Version 4: the bytes as is; version 3: '\x04' + bytes.
std::string encode_binary_frame(Protocol protocol, std::string_view bytes);

// ---- HTTP long-polling ----

// v4:        packets joined by '\x1e'; a binary packet is 'b' + base64 (always text/plain).
// v3_text:   "<utf16len>:<packet>" repeated; what engine.io 3 sends when the client supports binary (no `b64`) and
//            the batch holds no binary packet.
// v3_base64: the same framing, binary packets as "b4" + base64; for clients that sent `b64` (and for JSONP).
// v3_binary: XHR2 framing for a batch with binary packets and a client without `b64`: per packet 0x00 (text) or
//            0x01 (binary), the decimal length as bytes 0..9, 0xFF, then the packet (text: its UTF-8 bytes, length
//            in bytes; binary: 0x04 + bytes). Sent as application/octet-stream.
enum class PayloadFormat { v4, v3_text, v3_base64, v3_binary };

// One packet to send: the text of an encoded packet (type digit + data), or with binary=true the raw bytes of a
// binary message.
struct OutPacket {
    std::string_view bytes;
    bool binary = false;
};

// Decodes a POST body. body_is_binary: the request's Content-Type was application/octet-stream (XHR2 framing,
// version 3 only: version 4 rejects it like engine.io does). nullopt with a reason in *error when malformed:
// empty body, bad or truncated length, unknown packet type, invalid base64, invalid UTF-8 (version 3 text).
// Version 3 "0:" is a valid empty payload.
std::optional<std::vector<Packet>> decode_payload(Protocol protocol, std::string_view body, bool body_is_binary,
                                                  std::string* error = nullptr);

// Encodes a batch for a GET response. An empty batch gives "" (v4, v3_binary) or "0:" (v3_text, v3_base64) as
// engine.io does. A binary packet given to v3_text is base64-encoded like v3_base64 (choose_payload_format picks
// v3_binary for such a batch).
std::string encode_payload(PayloadFormat format, std::span<const OutPacket> packets);

// The format engine.io uses for this batch. b64: the session's handshake request carried a non-empty `b64` query
// value, or the transport is JSONP.
PayloadFormat choose_payload_format(Protocol protocol, bool b64, std::span<const OutPacket> packets);

// "application/octet-stream" for v3_binary, else "text/plain; charset=UTF-8".
std::string_view payload_content_type(PayloadFormat format) noexcept;

// Number of UTF-16 code units (what JavaScript's String.length counts) of UTF-8 text: 4-byte sequences count 2,
// shorter ones 1. Meant for valid UTF-8; a stray continuation byte counts 0, a stray lead byte 1.
std::size_t utf16_length(std::string_view utf8) noexcept;

bool is_valid_utf8(std::string_view text) noexcept;

// ---- JSONP (version 3 clients without XHR: `j` query parameter) ----

// `___eio[<j>]("<payload as a JSON string>");` with U+2028 and U+2029 escaped too, since JavaScript (unlike JSON)
// does not allow them raw in a string literal. Non-digits are dropped from j_index (engine.io does the same; it
// keeps a hostile `j` from injecting script).
std::string encode_jsonp(std::string_view j_index, std::string_view payload);

// A JSONP POST body is form-encoded `d=<payload>`. Decodes it the way engine.io does: form decoding ('+' is a
// space, %XX, a malformed %-escape kept as is), then the client's newline escaping undone: `\n` (backslash, n)
// becomes a newline and `\\n` becomes `\n`. nullopt when there is no `d` field or more than one.
std::optional<std::string> decode_jsonp_body(std::string_view form_body);

// ---- helpers ----

// Standard alphabet, padded.
std::string base64_encode(std::string_view bytes);
// Accepts the standard and the URL-safe alphabets, with or without padding; nullopt on any other character,
// misplaced padding or an impossible length.
std::optional<std::string> base64_decode(std::string_view text);

// Appends `text` as a JSON string literal (quotes included), escaped exactly as JavaScript's JSON.stringify does
// for valid UTF-8 (", \, control characters with \b \f \n \r \t or lowercase \u00xx; everything else raw). With
// escape_line_separators, U+2028 and U+2029 become \u2028 and \u2029. A surrogate code point in UTF-8's form
// (ED A0..BF xx: what a JSON parser makes of a lone "\udc00") becomes its lowercase \u escape, as JSON.stringify
// writes a lone surrogate; any other invalid byte is copied as is.
void append_json_string(std::string& out, std::string_view text, bool escape_line_separators = false);

}  // namespace yunity::eio
