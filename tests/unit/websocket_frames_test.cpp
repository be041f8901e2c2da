#include "websocket_frames.hpp"

#include "client_frame.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ws = yunity::socketio::ws;

namespace {

// What the reader handed on, one line each.
struct Recorder : ws::FrameSink {
    std::vector<std::string> seen;
    bool stop_after_message = false;
    bool on_message(bool text, std::string_view data) override {
        seen.push_back((text ? "text " : "binary ") + std::string(data));
        return !stop_after_message;
    }
    bool on_ping(std::string_view data) override {
        seen.push_back("ping " + std::string(data));
        return true;
    }
    void on_close(std::uint16_t code) override { seen.push_back("close " + std::to_string(code)); }
};

using yunity::test::client_frame;

}  // namespace

TEST_CASE("websocket frames: server headers are RFC 6455's") {
    auto h = ws::header(ws::Opcode::text, 5);
    CHECK(h.size == 2);
    CHECK(h.bytes[0] == 0x81);
    CHECK(h.bytes[1] == 0x05);
    h = ws::header(ws::Opcode::binary, 256);  // section 5.7: 256 bytes binary
    CHECK(h.size == 4);
    CHECK(h.bytes[0] == 0x82);
    CHECK(h.bytes[1] == 0x7e);
    CHECK(h.bytes[2] == 0x01);
    CHECK(h.bytes[3] == 0x00);
    h = ws::header(ws::Opcode::binary, 65536);  // section 5.7: 64 KiB
    CHECK(h.size == 10);
    CHECK(h.bytes[1] == 0x7f);
    CHECK(h.bytes[7] == 0x01);
    CHECK(h.bytes[9] == 0x00);
    const auto close = ws::close_payload(ws::CloseCode::going_away);
    CHECK(static_cast<unsigned char>(close[0]) == 0x03);
    CHECK(static_cast<unsigned char>(close[1]) == 0xe9);
}

TEST_CASE("websocket frames: section 5.7's masked Hello, fragments, control frames between them") {
    // "Hello" masked with 37 fa 21 3d, byte for byte as the RFC prints it.
    std::string data = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    CHECK(data == client_frame(0x81, "Hello"));
    data += client_frame(0x01, "Hel") + client_frame(0x89, "p") + client_frame(0x80, "lo") + client_frame(0x8a, "x");
    ws::FrameReader reader(1000);
    Recorder sink;
    CHECK(reader.read(std::span(data.data(), data.size()), sink) == data.size());
    CHECK(sink.seen == std::vector<std::string>{"text Hello", "ping p", "text Hello"});
}

TEST_CASE("websocket frames: a partial frame is left for later, whole frames before it are read") {
    const std::string whole = client_frame(0x82, "abc");
    const std::string next = client_frame(0x81, std::string(300, 'z'));
    for (std::size_t cut = 0; cut < next.size(); ++cut) {
        std::string data = whole + next.substr(0, cut);
        ws::FrameReader reader(1000);
        Recorder sink;
        CHECK(reader.read(std::span(data.data(), data.size()), sink) == whole.size());
        CHECK(sink.seen == std::vector<std::string>{"binary abc"});
    }
}

TEST_CASE("websocket frames: violations name their close code") {
    struct Case {
        std::string bytes;
        ws::CloseCode code;
    };
    const std::vector<Case> cases = {
        {std::string("\x81\x01x", 3), ws::CloseCode::protocol_error},                // not masked
        {client_frame(0xc1, "x"), ws::CloseCode::protocol_error},                    // RSV1
        {client_frame(0x83, "x"), ws::CloseCode::protocol_error},                    // opcode 3
        {client_frame(0x8b, "x"), ws::CloseCode::protocol_error},                    // opcode 11
        {client_frame(0x09, "x"), ws::CloseCode::protocol_error},                    // fragmented ping
        {client_frame(0x89, std::string(126, 'p')), ws::CloseCode::protocol_error},  // long ping
        {client_frame(0x80, "x"), ws::CloseCode::protocol_error},                    // stray continuation
        {client_frame(0x01, "a") + client_frame(0x81, "b"), ws::CloseCode::protocol_error},
        {client_frame(0x88, "\x03"), ws::CloseCode::protocol_error},                      // one-byte close
        {client_frame(0x88, std::string("\x03\xed", 2)), ws::CloseCode::protocol_error},  // 1005
        {client_frame(0x88, std::string("\x03\xe8\xff", 3)), ws::CloseCode::invalid_payload},
        {client_frame(0x81, "\xc3\x28"), ws::CloseCode::invalid_payload},
        {client_frame(0x01, "\xe2\x82") + client_frame(0x80, "A"), ws::CloseCode::invalid_payload},
        {client_frame(0x81, std::string(101, 'x')), ws::CloseCode::too_big},
        {client_frame(0x01, std::string(60, 'x')) + client_frame(0x80, std::string(41, 'x')), ws::CloseCode::too_big},
        // Refused on the header alone: 2^63 and more, and a length far beyond the limit with no payload yet.
        {std::string("\x81\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10), ws::CloseCode::protocol_error},
        {std::string("\x81\xff\x00\x00\x00\x01\x00\x00\x00\x00", 10), ws::CloseCode::too_big},
    };
    for (const auto& c : cases) {
        CAPTURE(c.bytes);
        std::string data = c.bytes;
        ws::FrameReader reader(100);
        Recorder sink;
        CHECK_FALSE(reader.read(std::span(data.data(), data.size()), sink).has_value());
        CHECK(reader.error_code() == c.code);
        CHECK(reader.closed());
        CHECK(std::string(reader.error()).size() > 0);
    }
}

TEST_CASE("websocket frames: a close frame ends the reading; a sink may stop it") {
    std::string data = client_frame(0x88, std::string("\x0f\xa0", 2) + "bye") + client_frame(0x81, "late");
    ws::FrameReader reader(100);
    Recorder sink;
    CHECK(reader.read(std::span(data.data(), data.size()), sink) == data.size() - client_frame(0x81, "late").size());
    CHECK(sink.seen == std::vector<std::string>{"close 4000"});
    CHECK(reader.closed());

    std::string empty_close = client_frame(0x88, "");
    ws::FrameReader second(100);
    Recorder sink2;
    second.read(std::span(empty_close.data(), empty_close.size()), sink2);
    CHECK(sink2.seen == std::vector<std::string>{"close 1005"});

    std::string two = client_frame(0x81, "a") + client_frame(0x81, "b");
    ws::FrameReader third(100);
    Recorder stopping;
    stopping.stop_after_message = true;
    CHECK(third.read(std::span(two.data(), two.size()), stopping) == client_frame(0x81, "a").size());
    CHECK(stopping.seen == std::vector<std::string>{"text a"});
}
