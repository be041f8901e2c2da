// Engine.IO codec: vectors from the protocol specs (engine.io-protocol main = v4, branch v3) and their test-suites.
#include "engineio_codec.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using namespace std::string_view_literals;
using yunity::eio::OutPacket;
using yunity::eio::Packet;
using yunity::eio::PacketType;
using yunity::eio::PayloadFormat;
namespace eio = yunity::eio;

using yunity::Protocol;
constexpr auto eio3 = Protocol::eio3_sio4;
constexpr auto eio4 = Protocol::eio4_sio5;

namespace {

// Bytes from a list of values, for the binary vectors.
std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out += static_cast<char>(v);
    return out;
}

const std::string bin_1234 = bytes({1, 2, 3, 4});

std::vector<Packet> must_decode(Protocol version, std::string_view body, bool binary = false) {
    std::string error;
    auto packets = eio::decode_payload(version, body, binary, &error);
    INFO("error: " << error);
    REQUIRE(packets.has_value());
    return std::move(*packets);
}

std::string decode_error(Protocol version, std::string_view body, bool binary = false) {
    std::string error;
    auto packets = eio::decode_payload(version, body, binary, &error);
    CHECK_FALSE(packets.has_value());
    CHECK_FALSE(error.empty());
    return error;
}

void check_packet(const Packet& p, PacketType type, std::string_view data, bool binary = false) {
    CHECK(p.type == type);
    CHECK(p.data == data);
    CHECK(p.binary == binary);
}

}  // namespace

TEST_SUITE("engineio codec") {

TEST_CASE("packet type characters") {
    CHECK(eio::type_char(PacketType::open) == '0');
    CHECK(eio::type_char(PacketType::noop) == '6');
    CHECK(eio::type_from_char('4') == PacketType::message);
    CHECK_FALSE(eio::type_from_char('7').has_value());
    CHECK_FALSE(eio::type_from_char('b').has_value());
    CHECK_FALSE(eio::type_from_char('/').has_value());
}

TEST_CASE("websocket text frames") {
    auto p = eio::decode_text_frame("4hello");
    REQUIRE(p);
    check_packet(*p, PacketType::message, "hello");

    p = eio::decode_text_frame("2probe");
    REQUIRE(p);
    check_packet(*p, PacketType::ping, "probe");

    p = eio::decode_text_frame("3probe");
    REQUIRE(p);
    check_packet(*p, PacketType::pong, "probe");

    for (auto [frame, type] : {std::pair{"0"sv, PacketType::open}, {"1"sv, PacketType::close},
                               {"2"sv, PacketType::ping}, {"3"sv, PacketType::pong}, {"5"sv, PacketType::upgrade},
                               {"6"sv, PacketType::noop}, {"4"sv, PacketType::message}}) {
        p = eio::decode_text_frame(frame);
        REQUIRE(p);
        check_packet(*p, type, "");
    }

    p = eio::decode_text_frame("42[\"message\",{\"type\":\"welcome\",\"n\":[1,2]}]");
    REQUIRE(p);
    check_packet(*p, PacketType::message, "2[\"message\",{\"type\":\"welcome\",\"n\":[1,2]}]");

    // UTF-8 passes through untouched.
    p = eio::decode_text_frame("4€😀");
    REQUIRE(p);
    check_packet(*p, PacketType::message, "€😀");

    // Malformed (the v4 test-suite sends "abc" and expects the session to close).
    CHECK_FALSE(eio::decode_text_frame(""));
    CHECK_FALSE(eio::decode_text_frame("abc"));
    CHECK_FALSE(eio::decode_text_frame("7"));
    CHECK_FALSE(eio::decode_text_frame("9hello"));
    CHECK_FALSE(eio::decode_text_frame(" 4hello"));
    // Base64 only through the versioned overload.
    CHECK_FALSE(eio::decode_text_frame("bAQIDBA=="));

    CHECK(eio::encode_text_frame({PacketType::pong, false, "probe"}) == "3probe");
    CHECK(eio::encode_text_frame({PacketType::message, false, "hello"}) == "4hello");
    CHECK(eio::encode_text_frame({PacketType::noop, false, ""}) == "6");
    CHECK(eio::encode_text_frame({PacketType::ping, false, ""}) == "2");
    CHECK(eio::encode_text_frame({PacketType::open, false,
                                  R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,)"
                                  R"("pingTimeout":20000,"maxPayload":1000000})"}) ==
          R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})");
}

TEST_CASE("websocket text frames with base64 (forceBase64 clients)") {
    auto p = eio::decode_text_frame(eio4, "bAQIDBA==");
    REQUIRE(p);
    check_packet(*p, PacketType::message, bin_1234, true);

    p = eio::decode_text_frame(eio3, "b4AQIDBA==");
    REQUIRE(p);
    check_packet(*p, PacketType::message, bin_1234, true);

    p = eio::decode_text_frame(eio3, "4hello");
    REQUIRE(p);
    check_packet(*p, PacketType::message, "hello");

    CHECK_FALSE(eio::decode_text_frame(eio4, "bAQ!DBA=="));
    CHECK_FALSE(eio::decode_text_frame(eio3, "b9AQIDBA=="));
    CHECK_FALSE(eio::decode_text_frame(eio3, "b"));
    CHECK_FALSE(eio::decode_text_frame(eio3, "abc"));
}

TEST_CASE("websocket binary frames") {
    // v4: raw bytes are a binary message (test-suite: send Uint8Array [1,2,3,4], receive the same bytes).
    auto p = eio::decode_binary_frame(eio4, bin_1234);
    REQUIRE(p);
    check_packet(*p, PacketType::message, bin_1234, true);
    CHECK(eio::encode_binary_frame(eio4, bin_1234) == bin_1234);

    p = eio::decode_binary_frame(eio4, "");
    REQUIRE(p);
    check_packet(*p, PacketType::message, "", true);

    // v3: the first byte is the type; the v3 test-suite echoes [4, 1, 2, 3, 4].
    const auto v3frame = bytes({4, 1, 2, 3, 4});
    p = eio::decode_binary_frame(eio3, v3frame);
    REQUIRE(p);
    check_packet(*p, PacketType::message, bin_1234, true);
    CHECK(eio::encode_binary_frame(eio3, bin_1234) == v3frame);
    // The v3 README example 4|0|1|2|3|4|5.
    p = eio::decode_binary_frame(eio3, bytes({4, 0, 1, 2, 3, 4, 5}));
    REQUIRE(p);
    check_packet(*p, PacketType::message, bytes({0, 1, 2, 3, 4, 5}), true);

    CHECK_FALSE(eio::decode_binary_frame(eio3, ""));
    CHECK_FALSE(eio::decode_binary_frame(eio3, bytes({7, 1})));
    CHECK_FALSE(eio::decode_binary_frame(eio3, "4abc"));  // '4' is 0x34, not a type byte
}

TEST_CASE("v4 payload decoding") {
    auto packets = must_decode(eio4, "4hello");
    REQUIRE(packets.size() == 1);
    check_packet(packets[0], PacketType::message, "hello");

    // README: 4hello\x1e2\x1e4world
    packets = must_decode(eio4, "4hello\x1e"
                             "2\x1e"
                             "4world");
    REQUIRE(packets.size() == 3);
    check_packet(packets[0], PacketType::message, "hello");
    check_packet(packets[1], PacketType::ping, "");
    check_packet(packets[2], PacketType::message, "world");

    // test-suite: several plain text packets, then text + binary.
    packets = must_decode(eio4, "4test1\x1e"
                             "4test2\x1e"
                             "4test3");
    REQUIRE(packets.size() == 3);
    check_packet(packets[2], PacketType::message, "test3");

    packets = must_decode(eio4, "4hello\x1e"
                             "bAQIDBA==");
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "hello");
    check_packet(packets[1], PacketType::message, bin_1234, true);

    // Socket.IO sample session: two events in one POST.
    packets = must_decode(eio4, "42[\"hello\"]\x1e"
                             "42[\"world\"]");
    REQUIRE(packets.size() == 2);
    check_packet(packets[1], PacketType::message, "2[\"world\"]");

    packets = must_decode(eio4, "40{\"token\":\"t0k\"}");
    REQUIRE(packets.size() == 1);
    check_packet(packets[0], PacketType::message, "0{\"token\":\"t0k\"}");

    packets = must_decode(eio4, "3");
    REQUIRE(packets.size() == 1);
    check_packet(packets[0], PacketType::pong, "");

    packets = must_decode(eio4, "1");
    check_packet(packets.at(0), PacketType::close, "");

    // Lengths do not matter in v4: UTF-8 and a colon are data.
    packets = must_decode(eio4, "4€😀\x1e"
                             "46:4hello");
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "€😀");
    check_packet(packets[1], PacketType::message, "6:4hello");

    // Empty binary message.
    packets = must_decode(eio4, "b");
    check_packet(packets.at(0), PacketType::message, "", true);
}

TEST_CASE("v4 payload decoding rejects malformed bodies") {
    decode_error(eio4, "");
    decode_error(eio4, "abc");  // test-suite: "closes the session upon invalid packet format"
    decode_error(eio4, "4hello\x1e");
    decode_error(eio4, "\x1e"
                    "4hello");
    decode_error(eio4, "4a\x1e\x1e"
                    "4b");
    decode_error(eio4, "4hello\x1e"
                    "7");
    decode_error(eio4, "4hello\x1e"
                    "bAQ!DBA==");
    // A v3 body on a v4 session is not an error at this level: "6:4hello" is a noop carrying ":4hello".
    check_packet(must_decode(eio4, "6:4hello").at(0), PacketType::noop, ":4hello");
    // XHR2 binary bodies do not exist in v4 (engine.io answers "invalid content").
    decode_error(eio4, bytes({0, 6, 255, '4', 'h', 'e', 'l', 'l', 'o'}), true);
}

TEST_CASE("v4 payload encoding") {
    const std::array text_bin{OutPacket{"4hello", false}, OutPacket{bin_1234, true}};
    CHECK(eio::encode_payload(PayloadFormat::v4, text_bin) == "4hello\x1e"
                                                              "bAQIDBA==");

    const std::array three{OutPacket{"4test1", false}, OutPacket{"4test2", false}, OutPacket{"4test3", false}};
    CHECK(eio::encode_payload(PayloadFormat::v4, three) == "4test1\x1e"
                                                           "4test2\x1e"
                                                           "4test3");

    const std::array one{OutPacket{"40{\"sid\":\"1uCk\"}", false}};
    CHECK(eio::encode_payload(PayloadFormat::v4, one) == "40{\"sid\":\"1uCk\"}");

    const std::array ping{OutPacket{"2", false}};
    CHECK(eio::encode_payload(PayloadFormat::v4, ping) == "2");

    CHECK(eio::encode_payload(PayloadFormat::v4, std::span<const OutPacket>{}).empty());

    // Round trip.
    auto packets = must_decode(eio4, eio::encode_payload(PayloadFormat::v4, text_bin));
    REQUIRE(packets.size() == 2);
    check_packet(packets[1], PacketType::message, bin_1234, true);
}

TEST_CASE("utf16_length") {
    CHECK(eio::utf16_length("") == 0);
    CHECK(eio::utf16_length("hello") == 5);
    CHECK(eio::utf16_length("é") == 1);   // 2 bytes
    CHECK(eio::utf16_length("€") == 1);   // 3 bytes
    CHECK(eio::utf16_length("😀") == 2);  // 4 bytes: a surrogate pair
    CHECK(eio::utf16_length("4€😀") == 4);
    CHECK(eio::utf16_length("4€") == 2);  // the v4 README: `€` was encoded to `2:4€`
    CHECK(eio::utf16_length("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf") == 4);  // U+10000, U+10FFFF
    CHECK(eio::utf16_length("\xef\xbf\xbf") == 1);                      // U+FFFF
    // The v3 README's handshake is 96 characters.
    CHECK(eio::utf16_length(R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,)"
                            R"("pingTimeout":5000})") == 96);
}

TEST_CASE("utf-8 validation") {
    CHECK(eio::is_valid_utf8(""));
    CHECK(eio::is_valid_utf8("4€😀é"));
    CHECK(eio::is_valid_utf8("\xf4\x8f\xbf\xbf"));
    CHECK_FALSE(eio::is_valid_utf8("\xff"));
    CHECK_FALSE(eio::is_valid_utf8("\x80"));
    CHECK_FALSE(eio::is_valid_utf8("\xe2\x82"));          // truncated €
    CHECK_FALSE(eio::is_valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(eio::is_valid_utf8("\xe0\x80\xaf"));      // overlong
    CHECK_FALSE(eio::is_valid_utf8("\xed\xa0\x80"));      // U+D800
    CHECK_FALSE(eio::is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST_CASE("v3 text payload decoding") {
    // README sample session.
    auto packets = must_decode(eio3, "4:4hey");
    REQUIRE(packets.size() == 1);
    check_packet(packets[0], PacketType::message, "hey");

    packets = must_decode(eio3, "6:4hello6:4world");
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "hello");
    check_packet(packets[1], PacketType::message, "world");

    packets = must_decode(eio3, "6:4test16:4test26:4test3");
    REQUIRE(packets.size() == 3);
    check_packet(packets[2], PacketType::message, "test3");

    // Lengths in UTF-16 units: "4€" is 2 (4 bytes), "4€😀" is 4 (8 bytes).
    packets = must_decode(eio3, "6:4hello2:4€");
    REQUIRE(packets.size() == 2);
    check_packet(packets[1], PacketType::message, "€");

    packets = must_decode(eio3, "4:4€😀");
    REQUIRE(packets.size() == 1);
    check_packet(packets[0], PacketType::message, "€😀");

    packets = must_decode(eio3, "4:4€😀4:4😀€1:2");
    REQUIRE(packets.size() == 3);
    check_packet(packets[1], PacketType::message, "😀€");
    check_packet(packets[2], PacketType::ping, "");

    // Base64 binary packets: "b" + type + base64, the length counting the 'b'.
    packets = must_decode(eio3, "6:4hello10:b4AQIDBA==");
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "hello");
    check_packet(packets[1], PacketType::message, bin_1234, true);

    packets = must_decode(eio3, "2:4€10:b4AQIDBA==");
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "€");
    check_packet(packets[1], PacketType::message, bin_1234, true);

    // Socket.IO protocol v4 sample session.
    packets = must_decode(eio3, "11:42[\"hello\"]11:42[\"world\"]");
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "2[\"hello\"]");

    packets = must_decode(eio3, "1:2");
    check_packet(packets.at(0), PacketType::ping, "");
    packets = must_decode(eio3, "1:1");
    check_packet(packets.at(0), PacketType::close, "");

    // "0:" is the empty batch; zero-length packets are skipped anywhere.
    CHECK(must_decode(eio3, "0:").empty());
    packets = must_decode(eio3, "0:1:20:");
    REQUIRE(packets.size() == 1);
    check_packet(packets[0], PacketType::ping, "");

    // Leading zeros in the length are numbers like any other (engine.io compares with Number()).
    packets = must_decode(eio3, "06:4hello");
    check_packet(packets.at(0), PacketType::message, "hello");

    // The data may itself contain colons and digits.
    packets = must_decode(eio3, "9:412:3:abc");
    check_packet(packets.at(0), PacketType::message, "12:3:abc");
}

TEST_CASE("v3 text payload decoding rejects malformed bodies") {
    decode_error(eio3, "");
    decode_error(eio3, "abc");
    decode_error(eio3, "4hello");          // no length
    decode_error(eio3, ":4hello");         // empty length
    decode_error(eio3, "x:4hello");        // non-digit length
    decode_error(eio3, "-1:4");            // negative
    decode_error(eio3, "6:4hell");         // truncated
    decode_error(eio3, "6:4hello6:4worl");
    decode_error(eio3, "5:4hello");        // the leftover "o" is a length without ':'
    decode_error(eio3, "6:4hello6");       // trailing length
    decode_error(eio3, "3:4€😀");          // ends inside the surrogate pair of 😀
    decode_error(eio3, "4:4€");            // too long
    decode_error(eio3, "1:9");             // unknown type
    decode_error(eio3, "1:a");
    decode_error(eio3, "10:b9AQIDBA==");   // unknown type in a base64 packet
    decode_error(eio3, "10:b4AQ!DBA==");   // invalid base64
    decode_error(eio3, "1:b");
    decode_error(eio3, "2:4\xff");         // invalid UTF-8
    decode_error(eio3, "99999999999999999999:4");
    // v4 syntax on a v3 session.
    decode_error(eio3, "4hello\x1e"
                    "4world");
}

TEST_CASE("v3 XHR2 binary payload decoding") {
    // v3 README: "€" and <01 02 03 04>.
    auto packets =
        must_decode(eio3, bytes({0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 1, 2, 3, 4}), true);
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "€");
    check_packet(packets[1], PacketType::message, bin_1234, true);

    // v3 test-suite: "4hello" + <01 02 03 04>.
    const auto suite = bytes({0, 6, 255, 52, 104, 101, 108, 108, 111, 1, 5, 255, 4, 1, 2, 3, 4});
    packets = must_decode(eio3, suite, true);
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "hello");
    check_packet(packets[1], PacketType::message, bin_1234, true);

    // Multi-digit length: 12 = bytes 1, 2.
    packets = must_decode(eio3, bytes({0, 1, 2, 255}) + "42[\"a\",\"bc\"]", true);
    check_packet(packets.at(0), PacketType::message, "2[\"a\",\"bc\"]");

    // A lone binary packet with a single-byte body.
    packets = must_decode(eio3, bytes({1, 1, 255, 4}), true);
    check_packet(packets.at(0), PacketType::message, "", true);
}

TEST_CASE("v3 XHR2 binary payload decoding rejects malformed bodies") {
    decode_error(eio3, "", true);
    decode_error(eio3, bytes({2, 1, 255, 4}), true);              // kind byte neither 0 nor 1
    decode_error(eio3, bytes({0, 6, 52, 104}), true);             // no 0xFF
    decode_error(eio3, bytes({0, 255, 52}), true);                // no length digits
    decode_error(eio3, bytes({0, 10, 255, 52}), true);            // "digit" 10
    decode_error(eio3, bytes({0, 6, 255, 52, 104, 101}), true);   // truncated
    decode_error(eio3, bytes({0, 1, 255, 55}), true);             // text type '7'
    decode_error(eio3, bytes({0, 0, 255}), true);                 // empty text packet
    decode_error(eio3, bytes({1, 0, 255}), true);                 // empty binary packet: no type byte
    decode_error(eio3, bytes({1, 2, 255, 9, 1}), true);           // binary type 9
    decode_error(eio3, bytes({0, 2, 255, 52, 0xff}), true);       // invalid UTF-8 in a text packet
    decode_error(eio3, bytes({0, 1, 255, 52, 0}), true);          // trailing garbage: kind 0 without length
}

TEST_CASE("v3 payload encoding") {
    // v3 README: "hello" and "€" -> 6:4hello2:4€
    const std::array hello_euro{OutPacket{"4hello", false}, OutPacket{"4€", false}};
    CHECK(eio::encode_payload(PayloadFormat::v3_text, hello_euro) == "6:4hello2:4€");
    CHECK(eio::encode_payload(PayloadFormat::v3_base64, hello_euro) == "6:4hello2:4€");

    const std::array emoji{OutPacket{"4€😀", false}};
    CHECK(eio::encode_payload(PayloadFormat::v3_text, emoji) == "4:4€😀");

    // Binary without XHR2: 2:4€10:b4AQIDBA==
    const std::array euro_bin{OutPacket{"4€", false}, OutPacket{bin_1234, true}};
    CHECK(eio::encode_payload(PayloadFormat::v3_base64, euro_bin) == "2:4€10:b4AQIDBA==");
    CHECK(eio::encode_payload(PayloadFormat::v3_text, euro_bin) == "2:4€10:b4AQIDBA==");

    // Binary with XHR2: <00 04 ff 34 e2 82 ac 01 05 ff 04 01 02 03 04>
    CHECK(eio::encode_payload(PayloadFormat::v3_binary, euro_bin) ==
          bytes({0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 1, 2, 3, 4}));
    const std::array hello_bin{OutPacket{"4hello", false}, OutPacket{bin_1234, true}};
    CHECK(eio::encode_payload(PayloadFormat::v3_binary, hello_bin) ==
          bytes({0, 6, 255, 52, 104, 101, 108, 108, 111, 1, 5, 255, 4, 1, 2, 3, 4}));
    CHECK(eio::encode_payload(PayloadFormat::v3_base64, hello_bin) == "6:4hello10:b4AQIDBA==");

    // Multi-digit lengths, both framings.
    const std::string long_text = "4" + std::string(11, 'x');
    const std::array long_one{OutPacket{long_text, false}};
    CHECK(eio::encode_payload(PayloadFormat::v3_text, long_one) == "12:4xxxxxxxxxxx");
    CHECK(eio::encode_payload(PayloadFormat::v3_binary, long_one) == bytes({0, 1, 2, 255}) + long_text);

    // Socket.IO v4 sample session: handshake then the implicit CONNECT in one response.
    const std::array open_connect{
        OutPacket{R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,)"
                  R"("pingTimeout":5000})",
                  false},
        OutPacket{"40", false}};
    CHECK(eio::encode_payload(PayloadFormat::v3_text, open_connect) ==
          R"(96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,)"
          R"("pingTimeout":5000}2:40)");

    const std::array noop{OutPacket{"6", false}};
    CHECK(eio::encode_payload(PayloadFormat::v3_text, noop) == "1:6");

    // Empty batches as engine.io encodes them.
    CHECK(eio::encode_payload(PayloadFormat::v3_text, std::span<const OutPacket>{}) == "0:");
    CHECK(eio::encode_payload(PayloadFormat::v3_base64, std::span<const OutPacket>{}) == "0:");
    CHECK(eio::encode_payload(PayloadFormat::v3_binary, std::span<const OutPacket>{}).empty());

    // Round trips.
    auto packets = must_decode(eio3, eio::encode_payload(PayloadFormat::v3_binary, euro_bin), true);
    REQUIRE(packets.size() == 2);
    check_packet(packets[0], PacketType::message, "€");
    check_packet(packets[1], PacketType::message, bin_1234, true);
    packets = must_decode(eio3, eio::encode_payload(PayloadFormat::v3_base64, euro_bin));
    REQUIRE(packets.size() == 2);
    check_packet(packets[1], PacketType::message, bin_1234, true);
}

TEST_CASE("payload format choice and content type") {
    const std::array text{OutPacket{"4hello", false}};
    const std::array mixed{OutPacket{"4hello", false}, OutPacket{bin_1234, true}};
    CHECK(eio::choose_payload_format(eio4, false, mixed) == PayloadFormat::v4);
    CHECK(eio::choose_payload_format(eio4, true, mixed) == PayloadFormat::v4);
    CHECK(eio::choose_payload_format(eio3, false, text) == PayloadFormat::v3_text);
    CHECK(eio::choose_payload_format(eio3, false, mixed) == PayloadFormat::v3_binary);
    CHECK(eio::choose_payload_format(eio3, true, mixed) == PayloadFormat::v3_base64);
    CHECK(eio::choose_payload_format(eio3, true, text) == PayloadFormat::v3_base64);

    CHECK(eio::payload_content_type(PayloadFormat::v3_binary) == "application/octet-stream");
    CHECK(eio::payload_content_type(PayloadFormat::v3_text) == "text/plain; charset=UTF-8");
    CHECK(eio::payload_content_type(PayloadFormat::v3_base64) == "text/plain; charset=UTF-8");
    CHECK(eio::payload_content_type(PayloadFormat::v4) == "text/plain; charset=UTF-8");
}

TEST_CASE("base64") {
    // RFC 4648 section 10.
    const std::array<std::pair<std::string_view, std::string_view>, 7> vectors{{{"", ""},
                                                                                 {"f", "Zg=="},
                                                                                 {"fo", "Zm8="},
                                                                                 {"foo", "Zm9v"},
                                                                                 {"foob", "Zm9vYg=="},
                                                                                 {"fooba", "Zm9vYmE="},
                                                                                 {"foobar", "Zm9vYmFy"}}};
    for (auto [plain, encoded] : vectors) {
        CHECK(eio::base64_encode(plain) == encoded);
        CHECK(eio::base64_decode(encoded) == std::string(plain));
    }
    CHECK(eio::base64_encode(bin_1234) == "AQIDBA==");
    CHECK(eio::base64_encode(bytes({0xfb, 0xff, 0xbf})) == "+/+/");
    CHECK(eio::base64_decode("+/+/") == bytes({0xfb, 0xff, 0xbf}));
    CHECK(eio::base64_decode("-_-_") == bytes({0xfb, 0xff, 0xbf}));  // URL-safe, as Node accepts
    CHECK(eio::base64_decode("Zg") == "f"s);                          // unpadded
    CHECK(eio::base64_decode("Zm8") == "fo"s);

    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    CHECK(eio::base64_decode(eio::base64_encode(all)) == all);

    CHECK_FALSE(eio::base64_decode("Z"));       // impossible length
    CHECK_FALSE(eio::base64_decode("Zg="));     // padding to a non-multiple of 4
    CHECK_FALSE(eio::base64_decode("Zg==="));
    CHECK_FALSE(eio::base64_decode("=Zg="));
    CHECK_FALSE(eio::base64_decode("Zg==Zg=="));
    CHECK_FALSE(eio::base64_decode("Zm9v!"));
    CHECK_FALSE(eio::base64_decode("Zm 9v"));
}

TEST_CASE("JSON string escaping") {
    std::string out;
    eio::append_json_string(out, "packet data");
    CHECK(out == "\"packet data\"");

    out.clear();
    eio::append_json_string(out, "a\"b\\c/d\b\f\n\r\t\x01\x1e\x1f\x7f€😀");
    CHECK(out == "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001e\\u001f\x7f€😀\"");

    out.clear();
    eio::append_json_string(out, "x\u2028y\u2029z");
    CHECK(out == "\"x\u2028y\u2029z\"");  // JSON.stringify leaves them raw
    out.clear();
    eio::append_json_string(out, "x\u2028y\u2029z", true);
    CHECK(out == "\"x\\u2028y\\u2029z\"");

    out.clear();
    eio::append_json_string(out, std::string_view("a\0b", 3));
    CHECK(out == "\"a\\u0000b\"");
}

// Found by fuzzing (tests/fuzz/engineio_frame.cpp, socketio_packet.cpp): RapidJSON decodes a lone "\udc00" to
// ED B0 80, which is not UTF-8; written raw, a client's websocket would fail on the frame.
TEST_CASE("JSON string escaping: surrogates in UTF-8's form become escapes, as JSON.stringify writes them") {
    std::string out;
    eio::append_json_string(out, "a\xED\xB0\x80" "b\xED\xA0\xBD\xED\xBF\xBF");
    CHECK(out == R"("a\udc00b\ud83d\udfff")");
    // Valid three-byte sequences starting with ED (U+D000..U+D7FF) stay raw, and so do other invalid bytes.
    out.clear();
    eio::append_json_string(out, "\xED\x9F\xBF\xED\xB0\xff\xED");
    CHECK(out == "\"\xED\x9F\xBF\xED\xB0\xff\xED\"");
    CHECK(eio::encode_jsonp("1", "1:\xED\xB2\x80") == R"(___eio[1]("1:\udc80");)");
}

TEST_CASE("JSONP responses") {
    // v3 README example.
    CHECK(eio::encode_jsonp("4", "packet data") == R"(___eio[4]("packet data");)");
    CHECK(eio::encode_jsonp("0", "1:6") == R"(___eio[0]("1:6");)");
    CHECK(eio::encode_jsonp("12", "16:42[\"hey\",\"Jude\"]") == R"(___eio[12]("16:42[\"hey\",\"Jude\"]");)");
    // A record separator in v3 data, a newline, the JS-only line separators.
    CHECK(eio::encode_jsonp("1", "3:4a\n") == R"(___eio[1]("3:4a\n");)");
    CHECK(eio::encode_jsonp("1", "3:4\u2028\u2029") == R"(___eio[1]("3:4\u2028\u2029");)");
    CHECK(eio::encode_jsonp("1", "2:4\x1e") == R"(___eio[1]("2:4\u001e");)");
    // Non-digits in j are dropped, as engine.io does.
    CHECK(eio::encode_jsonp("3);alert(1", "1:6") == R"(___eio[31]("1:6");)");
    CHECK(eio::encode_jsonp("", "1:6") == R"(___eio[]("1:6");)");
    // Binary goes base64 on JSONP.
    const std::array euro_bin{OutPacket{"4€", false}, OutPacket{bin_1234, true}};
    CHECK(eio::encode_jsonp("2", eio::encode_payload(PayloadFormat::v3_base64, euro_bin)) ==
          R"(___eio[2]("2:4€10:b4AQIDBA==");)");
}

TEST_CASE("JSONP POST bodies") {
    CHECK(eio::decode_jsonp_body("d=6%3A4hello") == "6:4hello"s);
    CHECK(eio::decode_jsonp_body("d=6:4hello") == "6:4hello"s);
    CHECK(eio::decode_jsonp_body("d=11%3A42%5B%22hello%22%5D") == "11:42[\"hello\"]"s);
    CHECK(eio::decode_jsonp_body("d=7%3A4a+b+%E2%82%AC") == "7:4a b €"s);
    CHECK(eio::decode_jsonp_body("x=1&d=1%3A2&y") == "1:2"s);
    CHECK(eio::decode_jsonp_body("d=") == ""s);
    CHECK(eio::decode_jsonp_body("d") == ""s);
    CHECK(eio::decode_jsonp_body("%64=1%3A2") == "1:2"s);  // the key is decoded too
    CHECK(eio::decode_jsonp_body("d=100%") == "100%"s);    // malformed escapes stay literal
    CHECK(eio::decode_jsonp_body("d=%zz%4") == "%zz%4"s);

    // engine.io-client escapes a newline as `\n` and a literal backslash-n as `\\n` (then form-encodes).
    // Original message "4a<LF>b\nc" (backslash, n) -> client text "4a\nb\\\nc" with one backslash before the
    // first n and two before the second.
    CHECK(eio::decode_jsonp_body("d=7%3A4a%5Cnb%5C%5Cnc") == "7:4a\nb\\nc"s);
    CHECK(eio::decode_jsonp_body("d=%5Cn%5Cn") == "\n\n"s);
    CHECK(eio::decode_jsonp_body("d=%5C%5C%5Cn") == "\\\\n"s);  // regex semantics, left to right
    CHECK(eio::decode_jsonp_body("d=a%5Cb") == "a\\b"s);

    CHECK_FALSE(eio::decode_jsonp_body(""));
    CHECK_FALSE(eio::decode_jsonp_body("x=1"));
    CHECK_FALSE(eio::decode_jsonp_body("dd=1"));
    CHECK_FALSE(eio::decode_jsonp_body("d=1&d=2"));  // querystring gives an array; engine.io ignores it

    // Straight into the v3 decoder.
    auto body = eio::decode_jsonp_body("d=6%3A4hello10%3Ab4AQIDBA%3D%3D");
    REQUIRE(body);
    auto packets = must_decode(eio3, *body);
    REQUIRE(packets.size() == 2);
    check_packet(packets[1], PacketType::message, bin_1234, true);
}

}  // TEST_SUITE
