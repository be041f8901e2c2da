// RFC 6455 framing for the server side of a plain websocket: the headers of the frames it sends (unmasked, never
// fragmented) and a reader of the frames clients send (masked, possibly fragmented, with control frames between
// the fragments). Free of Asio and Beast: the connection (plain_websocket.cpp) feeds it bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace yunity::socketio::ws {

enum class Opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xa };

// The close codes this server sends (RFC 6455 section 7.4.1).
enum class CloseCode : std::uint16_t {
    normal = 1000,
    going_away = 1001,
    protocol_error = 1002,
    invalid_payload = 1007,
    too_big = 1009,
};

// A whole frame's header, FIN set and no mask, for `size` bytes of payload: 2, 4 or 10 bytes.
struct Header {
    std::array<std::uint8_t, 10> bytes;
    std::uint8_t size;
};
Header header(Opcode opcode, std::size_t size) noexcept;
// The size of that header.
constexpr std::size_t header_size_for(std::size_t size) noexcept { return size < 126 ? 2 : size <= 0xffff ? 4 : 10; }

// A close frame's payload: the code, big-endian (the reason is left out).
std::array<char, 2> close_payload(CloseCode code) noexcept;

// Receives what FrameReader finds, in order. A handler returns false to stop the reading (the connection closes).
class FrameSink {
public:
    virtual ~FrameSink() = default;
    // A whole message, its fragments joined; text is valid UTF-8.
    virtual bool on_message(bool text, std::string_view data) = 0;
    virtual bool on_ping(std::string_view data) = 0;
    // The peer's close frame: its code, 1005 (none given) when it had no payload.
    virtual void on_close(std::uint16_t code) = 0;
};

class FrameReader {
public:
    explicit FrameReader(std::size_t max_message) : max_message_(max_message) {}

    // Reads the whole frames at the start of `data` (unmasking them in place) and hands each message and control
    // frame to `sink`; returns how many bytes it used, the rest being the start of a frame to present again with
    // what follows it. Returns nullopt when the client broke the protocol: error() says how, and with which code
    // the connection closes. Nothing is read after a close frame.
    std::optional<std::size_t> read(std::span<char> data, FrameSink& sink);

    CloseCode error_code() const { return error_code_; }
    const char* error() const { return error_; }
    bool closed() const { return closed_; }
    // Bytes held for a fragmented message in progress.
    std::size_t held() const { return message_.size(); }

private:
    std::optional<std::size_t> fail(CloseCode code, const char* why);

    std::size_t max_message_;
    std::string message_;  // the fragments so far of a fragmented message
    bool fragmented_ = false;
    bool fragmented_text_ = false;
    bool closed_ = false;
    CloseCode error_code_ = CloseCode::normal;
    const char* error_ = "";
};

}  // namespace yunity::socketio::ws
