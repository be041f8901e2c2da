#include "engineio_codec.hpp"

#include <array>

namespace yunity::eio {

namespace {

constexpr char record_separator = '\x1e';
// More digits than any body we could accept; keeps the length arithmetic far from overflow.
constexpr std::size_t max_length_digits = 15;

bool is_v3(Protocol protocol) noexcept { return protocol == Protocol::eio3_sio4; }

// The reason for the caller, and no value: `return fail(error, "why");`.
std::nullopt_t fail(std::string* error, std::string_view message) {
    if (error) error->assign(message);
    return std::nullopt;
}

// Length in bytes of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) return 1;
    const std::size_t left = s.size() - i;
    const auto cont = [&](std::size_t k) { return (byte(k) & 0xC0) == 0x80; };
    if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
        const unsigned char b1 = byte(i + 1);
        if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
        if (b0 == 0xED && b1 > 0x9F) return 0;  // UTF-16 surrogate
        return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
        const unsigned char b1 = byte(i + 1);
        if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
        if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

// Decimal digits to a number, refusing empty input, non-digits and more than max_length_digits digits.
std::optional<std::size_t> parse_length(std::string_view digits) noexcept {
    if (digits.empty() || digits.size() > max_length_digits) return std::nullopt;
    std::size_t n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    return n;
}

// One text packet of a version 4 payload or websocket: "<digit>[data]" or "b<base64>".
std::optional<Packet> decode_text_packet_v4(std::string_view text, bool allow_base64, std::string* error) {
    if (text.empty()) return fail(error, "empty packet");
    if (text[0] == 'b' && allow_base64) {
        auto bytes = base64_decode(text.substr(1));
        if (!bytes) return fail(error, "invalid base64 in binary packet");
        return Packet{PacketType::message, true, std::move(*bytes)};
    }
    auto type = type_from_char(text[0]);
    if (!type) return fail(error, "unknown packet type");
    return Packet{*type, false, std::string(text.substr(1))};
}

// One text packet of a version 3 payload or websocket: "<digit>[data]" or "b<digit><base64>".
std::optional<Packet> decode_text_packet_v3(std::string_view text, std::string* error) {
    if (!text.empty() && text[0] == 'b') {
        auto type = text.size() >= 2 ? type_from_char(text[1]) : std::nullopt;
        if (!type) return fail(error, "unknown packet type in base64 packet");
        auto bytes = base64_decode(text.substr(2));
        if (!bytes) return fail(error, "invalid base64 in binary packet");
        return Packet{*type, true, std::move(*bytes)};
    }
    return decode_text_packet_v4(text, false, error);
}

std::optional<std::vector<Packet>> decode_payload_v4(std::string_view body, std::string* error) {
    std::vector<Packet> packets;
    // engine.io splits on every separator, so an empty body, a leading or trailing separator or two in a row
    // yield an empty packet, which is an error.
    for (;;) {
        const auto sep = body.find(record_separator);
        auto packet = decode_text_packet_v4(body.substr(0, sep), true, error);
        if (!packet) return std::nullopt;
        packets.push_back(std::move(*packet));
        if (sep == std::string_view::npos) break;
        body.remove_prefix(sep + 1);
    }
    return packets;
}

std::optional<std::vector<Packet>> decode_payload_v3_text(std::string_view body, std::string* error) {
    if (body.empty()) return fail(error, "empty payload");
    std::vector<Packet> packets;
    std::size_t pos = 0;
    while (pos < body.size()) {
        const auto colon = body.find(':', pos);
        if (colon == std::string_view::npos) return fail(error, "missing ':' after packet length");
        const auto units = parse_length(body.substr(pos, colon - pos));
        if (!units) return fail(error, "invalid packet length");
        // The length counts UTF-16 code units, so walk the UTF-8 text code point by code point.
        std::size_t end = colon + 1;
        std::size_t counted = 0;
        while (counted < *units) {
            if (end >= body.size()) return fail(error, "truncated packet");
            const auto len = utf8_sequence_length(body, end);
            if (len == 0) return fail(error, "invalid UTF-8");
            counted += len == 4 ? 2 : 1;
            end += len;
        }
        if (counted != *units) return fail(error, "packet length splits a surrogate pair");
        const auto text = body.substr(colon + 1, end - colon - 1);
        // engine.io skips zero-length packets ("0:" is how it encodes an empty batch).
        if (!text.empty()) {
            auto packet = decode_text_packet_v3(text, error);
            if (!packet) return std::nullopt;
            packets.push_back(std::move(*packet));
        }
        pos = end;
    }
    return packets;
}

std::optional<std::vector<Packet>> decode_payload_v3_binary(std::string_view body, std::string* error) {
    if (body.empty()) return fail(error, "empty payload");
    std::vector<Packet> packets;
    std::size_t pos = 0;
    while (pos < body.size()) {
        const auto kind = static_cast<unsigned char>(body[pos]);
        if (kind > 1) return fail(error, "invalid packet kind byte");
        const auto ff = body.find('\xff', pos + 1);
        if (ff == std::string_view::npos) return fail(error, "missing 0xFF after packet length");
        // The length digits are the byte values 0..9, not ASCII.
        std::optional<std::size_t> length;
        if (ff - pos - 1 >= 1 && ff - pos - 1 <= max_length_digits) {
            length = 0;
            for (std::size_t i = pos + 1; i < ff && length; ++i) {
                const auto d = static_cast<unsigned char>(body[i]);
                length = d <= 9 ? std::optional<std::size_t>(*length * 10 + d) : std::nullopt;
            }
        }
        if (!length) return fail(error, "invalid packet length");
        if (*length > body.size() - ff - 1) return fail(error, "truncated packet");
        const auto bytes = body.substr(ff + 1, *length);
        pos = ff + 1 + *length;
        if (kind == 0) {
            if (!is_valid_utf8(bytes)) return fail(error, "invalid UTF-8");
            auto packet = decode_text_packet_v3(bytes, error);
            if (!packet) return std::nullopt;
            packets.push_back(std::move(*packet));
        } else {
            if (bytes.empty() || static_cast<unsigned char>(bytes[0]) > 6)
                return fail(error, "unknown packet type in binary packet");
            packets.push_back(Packet{static_cast<PacketType>(bytes[0]), true, std::string(bytes.substr(1))});
        }
    }
    return packets;
}

void append_length_header(std::string& out, std::size_t length) {
    out += std::to_string(length);
    out += ':';
}

void append_xhr2_header(std::string& out, bool binary, std::size_t length) {
    out += binary ? '\x01' : '\x00';
    for (char digit : std::to_string(length)) out += static_cast<char>(digit - '0');
    out += '\xff';
}

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_base64_table() {
    std::array<std::int8_t, 256> table{};
    for (auto& v : table) v = -1;
    for (std::size_t i = 0; i < base64_alphabet.size(); ++i)
        table[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::int8_t>(i);
    // Node's Buffer.from(s, "base64") also takes the URL-safe alphabet.
    table[static_cast<unsigned char>('-')] = 62;
    table[static_cast<unsigned char>('_')] = 63;
    return table;
}

constexpr auto base64_table = make_base64_table();

// Undoes engine.io-client's JSONP newline escaping exactly like engine.io's two regular expressions:
// /(\\)?\\n/g keeps `\\n` and turns `\n` into a newline, then /\\\\n/g turns `\\n` into `\n`.
std::string unescape_jsonp_newlines(std::string_view s) {
    std::string pass1;
    pass1.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        if (s.compare(i, 3, "\\\\n") == 0) {
            pass1.append(s.substr(i, 3));
            i += 3;
        } else if (s.compare(i, 2, "\\n") == 0) {
            pass1 += '\n';
            i += 2;
        } else {
            pass1 += s[i++];
        }
    }
    std::string out;
    out.reserve(pass1.size());
    for (std::size_t i = 0; i < pass1.size();) {
        if (pass1.compare(i, 3, "\\\\n") == 0) {
            out += "\\n";
            i += 3;
        } else {
            out += pass1[i++];
        }
    }
    return out;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded component decoding as Node's querystring.unescape: '+' is a space, a valid
// %XX is its byte, a malformed % sequence stays literally.
std::string form_unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

char type_char(PacketType type) noexcept { return static_cast<char>('0' + static_cast<int>(type)); }

std::optional<PacketType> type_from_char(char c) noexcept {
    if (c < '0' || c > '6') return std::nullopt;
    return static_cast<PacketType>(c - '0');
}

std::optional<Packet> decode_text_frame(std::string_view frame) { return decode_text_packet_v4(frame, false, nullptr); }

std::optional<Packet> decode_text_frame(Protocol protocol, std::string_view frame) {
    if (is_v3(protocol)) return decode_text_packet_v3(frame, nullptr);
    return decode_text_packet_v4(frame, true, nullptr);
}

std::optional<Packet> decode_binary_frame(Protocol protocol, std::string_view frame) {
    if (!is_v3(protocol)) return Packet{PacketType::message, true, std::string(frame)};
    if (frame.empty()) return std::nullopt;
    const auto t = static_cast<unsigned char>(frame[0]);
    if (t > 6) return std::nullopt;
    return Packet{static_cast<PacketType>(t), true, std::string(frame.substr(1))};
}

std::string encode_text_frame(const Packet& packet) {
    std::string out;
    out.reserve(packet.data.size() + 1);
    out += type_char(packet.type);
    out += packet.data;
    return out;
}

std::string encode_binary_frame(Protocol protocol, std::string_view bytes) {
    std::string out;
    if (is_v3(protocol)) {
        out.reserve(bytes.size() + 1);
        out += '\x04';
    }
    out += bytes;
    return out;
}

std::optional<std::vector<Packet>> decode_payload(Protocol protocol, std::string_view body, bool body_is_binary,
                                                  std::string* error) {
    if (!is_v3(protocol)) {
        if (body_is_binary) return fail(error, "binary payload not allowed in Engine.IO 4");
        return decode_payload_v4(body, error);
    }
    return body_is_binary ? decode_payload_v3_binary(body, error) : decode_payload_v3_text(body, error);
}

std::string encode_payload(PayloadFormat format, std::span<const OutPacket> packets) {
    std::string out;
    switch (format) {
        case PayloadFormat::v4:
            for (std::size_t i = 0; i < packets.size(); ++i) {
                if (i != 0) out += record_separator;
                if (packets[i].binary) {
                    out += 'b';
                    out += base64_encode(packets[i].bytes);
                } else {
                    out += packets[i].bytes;
                }
            }
            break;
        case PayloadFormat::v3_text:
        case PayloadFormat::v3_base64:
            if (packets.empty()) return "0:";
            for (const auto& p : packets) {
                if (p.binary) {
                    const auto b64 = base64_encode(p.bytes);
                    append_length_header(out, b64.size() + 2);
                    out += "b4";
                    out += b64;
                } else {
                    append_length_header(out, utf16_length(p.bytes));
                    out += p.bytes;
                }
            }
            break;
        case PayloadFormat::v3_binary:
            for (const auto& p : packets) {
                if (p.binary) {
                    append_xhr2_header(out, true, p.bytes.size() + 1);
                    out += '\x04';
                } else {
                    append_xhr2_header(out, false, p.bytes.size());
                }
                out += p.bytes;
            }
            break;
    }
    return out;
}

PayloadFormat choose_payload_format(Protocol protocol, bool b64, std::span<const OutPacket> packets) {
    if (!is_v3(protocol)) return PayloadFormat::v4;
    if (b64) return PayloadFormat::v3_base64;
    for (const auto& p : packets)
        if (p.binary) return PayloadFormat::v3_binary;
    return PayloadFormat::v3_text;
}

std::string_view payload_content_type(PayloadFormat format) noexcept {
    return format == PayloadFormat::v3_binary ? "application/octet-stream" : "text/plain; charset=UTF-8";
}

std::size_t utf16_length(std::string_view utf8) noexcept {
    std::size_t n = 0;
    for (char ch : utf8) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c & 0xC0) != 0x80) ++n;  // every sequence start is one unit
        if (c >= 0xF0) ++n;           // a 4-byte sequence is a surrogate pair
    }
    return n;
}

bool is_valid_utf8(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size();) {
        const auto len = utf8_sequence_length(text, i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

std::string encode_jsonp(std::string_view j_index, std::string_view payload) {
    std::string out = "___eio[";
    for (char c : j_index)
        if (c >= '0' && c <= '9') out += c;
    out += "](";
    append_json_string(out, payload, true);
    out += ");";
    return out;
}

std::optional<std::string> decode_jsonp_body(std::string_view form_body) {
    std::optional<std::string> d;
    while (!form_body.empty()) {
        const auto amp = form_body.find('&');
        const auto pair = form_body.substr(0, amp);
        form_body = amp == std::string_view::npos ? std::string_view{} : form_body.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        if (form_unescape(pair.substr(0, eq)) != "d") continue;
        // A repeated key makes querystring.parse return an array, which engine.io ignores.
        if (d) return std::nullopt;
        d = eq == std::string_view::npos ? std::string{} : form_unescape(pair.substr(eq + 1));
    }
    if (!d) return std::nullopt;
    return unescape_jsonp_newlines(*d);
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        out += base64_alphabet[v >> 18 & 63];
        out += base64_alphabet[v >> 12 & 63];
        out += base64_alphabet[v >> 6 & 63];
        out += base64_alphabet[v & 63];
    }
    const auto rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = at(i) << 16;
        out += base64_alphabet[v >> 18 & 63];
        out += base64_alphabet[v >> 12 & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t v = at(i) << 16 | at(i + 1) << 8;
        out += base64_alphabet[v >> 18 & 63];
        out += base64_alphabet[v >> 12 & 63];
        out += base64_alphabet[v >> 6 & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::size_t padding = 0;
    while (padding < 2 && !text.empty() && text.back() == '=') {
        text.remove_suffix(1);
        ++padding;
    }
    if (padding != 0 && (text.size() + padding) % 4 != 0) return std::nullopt;
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const auto v = base64_table[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(acc >> bits & 0xFF);
        }
    }
    return out;
}

void append_json_string(std::string& out, std::string_view text, bool escape_line_separators) {
    static constexpr char hex_digits[] = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        switch (c) {
            case '"':
                out += "\\\"";
                continue;
            case '\\':
                out += "\\\\";
                continue;
            case '\b':
                out += "\\b";
                continue;
            case '\f':
                out += "\\f";
                continue;
            case '\n':
                out += "\\n";
                continue;
            case '\r':
                out += "\\r";
                continue;
            case '\t':
                out += "\\t";
                continue;
            default:
                break;
        }
        if (c < 0x20) {
            out += "\\u00";
            out += hex_digits[c >> 4];
            out += hex_digits[c & 15];
        } else if (escape_line_separators && c == 0xE2 && i + 2 < text.size() && text[i + 1] == '\x80' &&
                   (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
            out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
            i += 2;
        } else if (c == 0xED && i + 2 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xE0) == 0xA0 &&
                   (static_cast<unsigned char>(text[i + 2]) & 0xC0) == 0x80) {
            // A UTF-16 surrogate in UTF-8's three-byte form, which is not UTF-8: RapidJSON decodes a lone "\udc00"
            // to it. JSON.stringify writes a lone surrogate as an escape; written raw it would make the frame
            // invalid UTF-8, and the client would drop the connection.
            const unsigned unit = 0xD000u | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6 |
                                  (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
            out += "\\u";
            out += hex_digits[unit >> 12];
            out += hex_digits[unit >> 8 & 15];
            out += hex_digits[unit >> 4 & 15];
            out += hex_digits[unit & 15];
            i += 2;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

}  // namespace yunity::eio
