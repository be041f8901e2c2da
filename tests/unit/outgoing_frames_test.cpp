// A websocket's outgoing queue: gathered writes that end mid-frame, and what each frame counts against the
// slow-client bound.
#include "outgoing_frames.hpp"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <string>

namespace ws = yunity::socketio::ws;

namespace {

std::string gathered(const ws::OutgoingFrames& f) {
    std::array<std::span<const char>, 64> pieces;
    std::array<ws::Header, 32> headers;
    std::string out;
    const auto n = f.gather(pieces, headers);
    for (std::size_t i = 0; i < n; ++i) out.append(pieces[i].data(), pieces[i].size());
    return out;
}

auto text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

}  // namespace

TEST_SUITE("outgoing frames") {
    TEST_CASE("frames go out with their headers, the 101 as raw bytes, and can be written in any pieces") {
        ws::OutgoingFrames f;
        f.push(text("HTTP/1.1 101\r\n\r\n"), std::nullopt);
        f.push(text("hello"), ws::Opcode::text);
        f.push(text(""), ws::Opcode::pong);
        const std::string all = gathered(f);
        CHECK(all == std::string("HTTP/1.1 101\r\n\r\n") + "\x81\x05hello" + std::string("\x8a\x00", 2));
        f.consume(17);  // the 101 and one byte of the text frame's header
        CHECK(gathered(f) == all.substr(17));
        f.consume(3);
        CHECK(gathered(f) == all.substr(20));
        f.consume(all.size() - 20);
        CHECK(f.empty());
        CHECK(f.bytes() == 0);
    }

    TEST_CASE("every frame counts its payload, its header and what its entry holds: tiny replies weigh too") {
        ws::OutgoingFrames f;
        f.push(text(""), ws::Opcode::pong);
        CHECK(f.bytes() == ws::OutgoingFrames::frame_overhead + 2);
        f.push(text(std::string(200, 'x')), ws::Opcode::text);
        CHECK(f.bytes() == 2 * ws::OutgoingFrames::frame_overhead + 2 + 4 + 200);
        // 10,000 empty pongs, 20 KB on the wire, count as 1.3 MB: over a 1 MB bound, as they hold that much.
        ws::OutgoingFrames pongs;
        for (int i = 0; i < 10000; ++i) pongs.push(text(""), ws::Opcode::pong);
        CHECK(pongs.bytes() > (1u << 20));
    }

    TEST_CASE("a queue that grew keeps its room when written until trimmed; a small one gives it back at once") {
        ws::OutgoingFrames f;
        CHECK(f.room() == 0);
        f.push(text("open"), ws::Opcode::text);
        f.push(text("connect"), ws::Opcode::text);
        f.consume(gathered(f).size());
        CHECK(f.empty());
        CHECK(f.room() == 0);  // a handshake's few frames: an idle connection holds no queue
        for (int i = 0; i < 40; ++i) f.push(text("message"), ws::Opcode::text);
        const auto grown = f.room();
        CHECK(grown >= 40);
        f.consume(gathered(f).size());  // 80 pieces: two gathers of 64 at most
        f.consume(gathered(f).size());
        REQUIRE(f.empty());
        CHECK(f.room() == grown);  // busy: the next turn's frames need no allocation
        f.push(text("more"), ws::Opcode::text);
        f.trim();
        CHECK(f.room() == grown);  // not empty: nothing given back
        f.consume(gathered(f).size());
        f.trim();
        CHECK(f.room() == 0);
        CHECK(f.bytes() == 0);
    }

    TEST_CASE("a queue that never empties drops its written entries: its room stays bounded") {
        ws::OutgoingFrames f;
        f.push(text("first"), ws::Opcode::text);
        f.consume(1);  // a write that ended inside the first header
        for (int i = 0; i < 10000; ++i) {
            f.push(text("next" + std::to_string(i % 10)), ws::Opcode::text);
            f.consume(i == 0 ? 6 : 7);  // the oldest frame's rest: never all of it
            REQUIRE_FALSE(f.empty());
        }
        CHECK(f.room() < 256);
        CHECK(gathered(f) == std::string("\x81\x05next9", 7));
        CHECK(f.bytes() == ws::OutgoingFrames::frame_overhead + 7);
    }

    TEST_CASE("before a close frame, a frame partly written is finished and the rest dropped") {
        ws::OutgoingFrames f;
        f.push(text("first"), ws::Opcode::text);
        f.push(text("second"), ws::Opcode::text);
        f.consume(3);  // the header and one byte of "first"
        f.keep_started();
        CHECK(gathered(f) == "irst");
        CHECK(f.bytes() == ws::OutgoingFrames::frame_overhead + 2 + 5);
        f.consume(4);
        CHECK(f.empty());
        ws::OutgoingFrames untouched;
        untouched.push(text("HTTP/1.1 101\r\n\r\n"), std::nullopt);
        untouched.push(text("x"), ws::Opcode::text);
        untouched.keep_started();
        CHECK(gathered(untouched) == "HTTP/1.1 101\r\n\r\n");  // the 101 always goes out
    }

    TEST_CASE("headers are made when gathered, the same bytes again after a write that ended inside one") {
        ws::OutgoingFrames f;
        f.push(text(std::string(200, 'm')), ws::Opcode::text);      // 4-byte header
        f.push(text(std::string(70000, 'l')), ws::Opcode::binary);  // 10-byte header
        const std::string all = gathered(f);
        CHECK(all.size() == 4 + 200 + 10 + 70000);
        CHECK(all.substr(0, 4) == std::string("\x81\x7e\x00\xc8", 4));
        CHECK(all.substr(204, 10) == std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
        f.consume(2);  // inside the first header
        CHECK(gathered(f) == all.substr(2));
        f.consume(202 + 5);  // inside the second
        CHECK(gathered(f) == all.substr(209));
        CHECK(f.bytes() == ws::OutgoingFrames::frame_overhead + 10 + 70000);
    }

    TEST_CASE("a gather fills at most the pieces it is given, whole frames' pieces at a time") {
        ws::OutgoingFrames f;
        for (int i = 0; i < 10; ++i) f.push(text("ab"), ws::Opcode::text);
        std::array<std::span<const char>, 5> pieces;
        std::array<ws::Header, 2> headers;
        CHECK(f.gather(pieces, headers) == 4);  // two frames' header and payload; a third would not fit whole
        std::array<std::span<const char>, 64> more;
        std::array<ws::Header, 3> three;
        CHECK(f.gather(more, three) == 6);  // or room for its header
    }
}
