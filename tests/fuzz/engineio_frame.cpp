// Engine.IO websocket frames of versions 3 and 4, and the codec's text helpers (base64, UTF-8, JSON strings).
// Input: one selector byte, then the frame. Selector & 3: 0 text frame v3, 1 text frame v4, 2 binary frame v3,
// 3 binary frame v4 (the seeds use '0'..'3').
#include "engineio_codec.hpp"

#include "fuzz_check.hpp"

namespace eio = yunity::eio;

namespace {

void check_text_frame(yunity::Protocol version, std::string_view frame) {
    const auto plain = eio::decode_text_frame(frame);
    if (plain) {
        FUZZ_CHECK(!plain->binary);
        FUZZ_CHECK(eio::encode_text_frame(*plain) == frame);
    }
    const auto p = eio::decode_text_frame(version, frame);
    if (frame.empty() || frame[0] != 'b') {
        FUZZ_CHECK(p.has_value() == plain.has_value());
        if (p) FUZZ_CHECK(p->type == plain->type && p->data == plain->data && !p->binary);
        return;
    }
    // The base64 form: a binary packet whose bytes encode back to what the client sent.
    FUZZ_CHECK(!plain);
    if (!p) return;
    FUZZ_CHECK(p->binary);
    const auto b64 = frame.substr(version == yunity::Protocol::eio3_sio4 ? 2 : 1);
    FUZZ_CHECK(p->data.size() <= b64.size() * 3 / 4);
    if (version == yunity::Protocol::eio3_sio4) FUZZ_CHECK(eio::type_char(p->type) == frame[1]);
    else FUZZ_CHECK(p->type == eio::PacketType::message);
    const auto again = eio::base64_decode(eio::base64_encode(p->data));
    FUZZ_CHECK(again && *again == p->data);
}

void check_binary_frame(yunity::Protocol version, std::string_view frame) {
    const auto p = eio::decode_binary_frame(version, frame);
    if (version != yunity::Protocol::eio3_sio4) {
        FUZZ_CHECK(p && p->binary && p->type == eio::PacketType::message && p->data == frame);
        FUZZ_CHECK(eio::encode_binary_frame(version, p->data) == frame);
        return;
    }
    FUZZ_CHECK(p.has_value() == (!frame.empty() && static_cast<unsigned char>(frame[0]) <= 6));
    if (!p) return;
    FUZZ_CHECK(p->binary && p->data == frame.substr(1));
    if (p->type == eio::PacketType::message)
        FUZZ_CHECK(eio::encode_binary_frame(yunity::Protocol::eio3_sio4, p->data) == frame);
}

// UTF-16 code units of valid UTF-8, counted from the lead bytes' lengths.
std::size_t utf16_units(std::string_view s) {
    std::size_t n = 0;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0xF0) n += 2;
        else if ((c & 0xC0) != 0x80) n += 1;
    }
    return n;
}

// `s` with every surrogate in UTF-8's three-byte form (ED A0..BF xx, what a JSON parser makes of a lone "\udc00")
// replaced by U+FFFD; whether one of them was a high surrogate.
std::string without_surrogates(std::string_view s, bool& high) {
    std::string out;
    high = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto b1 = i + 2 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0u;
        const auto b2 = i + 2 < s.size() ? static_cast<unsigned char>(s[i + 2]) : 0u;
        if (static_cast<unsigned char>(s[i]) == 0xED && (b1 & 0xE0) == 0xA0 && (b2 & 0xC0) == 0x80) {
            high = high || b1 < 0xB0;
            out += "\xEF\xBF\xBD";
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

void check_helpers(std::string_view bytes) {
    const auto b64 = eio::base64_encode(bytes);
    FUZZ_CHECK(b64.size() == (bytes.size() + 2) / 3 * 4);
    const auto back = eio::base64_decode(b64);
    FUZZ_CHECK(back && *back == bytes);
    if (const auto decoded = eio::base64_decode(bytes)) {
        FUZZ_CHECK(decoded->size() <= bytes.size() * 3 / 4);
        const auto again = eio::base64_decode(eio::base64_encode(*decoded));
        FUZZ_CHECK(again && *again == *decoded);
    }

    const bool valid = eio::is_valid_utf8(bytes);
    FUZZ_CHECK(valid == fuzz::valid_utf8(bytes));
    if (valid) FUZZ_CHECK(eio::utf16_length(bytes) == utf16_units(bytes));

    // A JSON string literal that JSON.parse (here RapidJSON) reads back as the same text, and is valid UTF-8,
    // also when the text holds lone surrogates (RapidJSON, unlike JSON.parse, refuses a lone high one).
    bool high = false;
    const bool surrogates_only = !valid && fuzz::valid_utf8(without_surrogates(bytes, high));
    for (const bool separators : {false, true}) {
        std::string literal;
        eio::append_json_string(literal, bytes, separators);
        if (surrogates_only) FUZZ_CHECK(fuzz::valid_utf8(literal));
        if (!valid && (!surrogates_only || high)) continue;
        FUZZ_CHECK(fuzz::valid_utf8(literal));
        rapidjson::Document doc;
        FUZZ_CHECK(fuzz::parse_json(literal, doc) && doc.IsString());
        FUZZ_CHECK(std::string_view(doc.GetString(), doc.GetStringLength()) == bytes);
        if (separators) {
            FUZZ_CHECK(literal.find("\xE2\x80\xA8") == std::string::npos);
            FUZZ_CHECK(literal.find("\xE2\x80\xA9") == std::string::npos);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int selector = data[0] & 3;
    const auto version = selector % 2 == 0 ? yunity::Protocol::eio3_sio4 : yunity::Protocol::eio4_sio5;
    const auto frame = fuzz::as_text(data + 1, size - 1);
    if (selector < 2) check_text_frame(version, frame);
    else check_binary_frame(version, frame);
    check_helpers(frame);
    return 0;
}
