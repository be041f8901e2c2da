#include "websocket_frames.hpp"

#include "engineio_codec.hpp"

namespace yunity::socketio::ws {

namespace {

// Codes a peer may send (RFC 6455 section 7.4 and IANA's registry): 1004-1006 and 1015 are reserved for reports
// that never travel in a frame.
bool valid_close_code(std::uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

}  // namespace

Header header(Opcode opcode, std::size_t size) noexcept {
    Header h{};
    h.bytes[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode));
    if (size < 126) {
        h.bytes[1] = static_cast<std::uint8_t>(size);
        h.size = 2;
    } else if (size <= 0xffff) {
        h.bytes[1] = 126;
        h.bytes[2] = static_cast<std::uint8_t>(size >> 8);
        h.bytes[3] = static_cast<std::uint8_t>(size);
        h.size = 4;
    } else {
        h.bytes[1] = 127;
        for (int i = 0; i < 8; ++i)
            h.bytes[2 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(size) >> (56 - 8 * i));
        h.size = 10;
    }
    return h;
}

std::array<char, 2> close_payload(CloseCode code) noexcept {
    const auto c = static_cast<std::uint16_t>(code);
    return {static_cast<char>(c >> 8), static_cast<char>(c & 0xff)};
}

std::optional<std::size_t> FrameReader::fail(CloseCode code, const char* why) {
    closed_ = true;
    error_code_ = code;
    error_ = why;
    return std::nullopt;
}

std::optional<std::size_t> FrameReader::read(std::span<char> data, FrameSink& sink) {
    std::size_t pos = 0;
    while (!closed_) {
        const std::size_t available = data.size() - pos;
        if (available < 2) break;
        const auto* p = reinterpret_cast<const unsigned char*>(data.data() + pos);
        const bool fin = (p[0] & 0x80) != 0;
        const unsigned op = p[0] & 0x0f;
        if ((p[0] & 0x70) != 0) return fail(CloseCode::protocol_error, "reserved bits set (no extension was agreed)");
        if ((p[1] & 0x80) == 0) return fail(CloseCode::protocol_error, "an unmasked frame from a client");
        const bool control = (op & 0x8) != 0;
        if (control) {
            if (op > static_cast<unsigned>(Opcode::pong)) return fail(CloseCode::protocol_error, "an unknown opcode");
            if (!fin) return fail(CloseCode::protocol_error, "a fragmented control frame");
        } else if (op > static_cast<unsigned>(Opcode::binary)) {
            return fail(CloseCode::protocol_error, "an unknown opcode");
        }

        std::uint64_t length = p[1] & 0x7f;
        std::size_t head = 2;
        if (length == 126) {
            if (available < 4) break;
            length = (std::uint64_t{p[2]} << 8) | p[3];
            head = 4;
        } else if (length == 127) {
            if (available < 10) break;
            length = 0;
            for (int i = 2; i < 10; ++i) length = (length << 8) | p[i];
            head = 10;
            if (length >> 63) return fail(CloseCode::protocol_error, "a frame length over 2^63");
        }
        if (control && length > 125) return fail(CloseCode::protocol_error, "a control frame over 125 bytes");
        // Refused as soon as the header says so, before the bytes are waited for and held.
        if (!control && (op == 0 ? message_.size() : 0) + length > max_message_)
            return fail(CloseCode::too_big, "a message over max_payload");
        if (available < head + 4 || available - head - 4 < length) break;

        const unsigned char* mask = p + head;
        char* payload = data.data() + pos + head + 4;
        const auto size = static_cast<std::size_t>(length);
        for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
        const std::string_view body(payload, size);
        pos += head + 4 + size;

        switch (static_cast<Opcode>(op)) {
            case Opcode::ping:
                if (!sink.on_ping(body)) return pos;
                break;
            case Opcode::pong:
                break;
            case Opcode::close: {
                closed_ = true;
                if (body.empty()) {
                    sink.on_close(1005);
                    break;
                }
                if (body.size() == 1) return fail(CloseCode::protocol_error, "a close frame of one byte");
                const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(body[0]) << 8) |
                                                             static_cast<unsigned char>(body[1]));
                if (!valid_close_code(code)) return fail(CloseCode::protocol_error, "an invalid close code");
                if (!eio::is_valid_utf8(body.substr(2)))
                    return fail(CloseCode::invalid_payload, "a close reason that is not UTF-8");
                sink.on_close(code);
                break;
            }
            case Opcode::continuation: {
                if (!fragmented_) return fail(CloseCode::protocol_error, "a continuation frame outside a message");
                message_.append(body);
                if (!fin) break;
                fragmented_ = false;
                const std::string message = std::move(message_);
                message_.clear();
                if (fragmented_text_ && !eio::is_valid_utf8(message))
                    return fail(CloseCode::invalid_payload, "a text message that is not UTF-8");
                if (!sink.on_message(fragmented_text_, message)) return pos;
                break;
            }
            case Opcode::text:
            case Opcode::binary: {
                const bool text = op == static_cast<unsigned>(Opcode::text);
                if (fragmented_) return fail(CloseCode::protocol_error, "a new message inside a fragmented one");
                if (!fin) {
                    fragmented_ = true;
                    fragmented_text_ = text;
                    message_.assign(body);
                    break;
                }
                if (text && !eio::is_valid_utf8(body))
                    return fail(CloseCode::invalid_payload, "a text message that is not UTF-8");
                if (!sink.on_message(text, body)) return pos;
                break;
            }
        }
    }
    return pos;
}

}  // namespace yunity::socketio::ws
