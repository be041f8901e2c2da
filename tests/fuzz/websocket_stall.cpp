// A client that sends whatever it likes and never reads: every frame it sends goes through the real frame reader,
// and every reply the server would owe it (a pong per PING frame; a `3` per Engine.IO 3 ping message, and an
// echo of anything else) is queued in the real outgoing queue, which nothing drains. The connection stops
// reading once the queue is over the slow-client bound, as PlainWebsocket and Session do. Checks: the bound
// holds within one reply, however small the replies; each reply counts at least its overhead; a close drops
// all but what had started.
#include "outgoing_frames.hpp"
#include "websocket_frames.hpp"

#include "fuzz_check.hpp"

#include <memory>

namespace ws = yunity::socketio::ws;

namespace {

constexpr std::size_t max_message = 1024;
constexpr std::size_t limit = 4096;
// The largest single reply: an echo of the largest message, with its header and overhead.
constexpr std::size_t largest_reply = ws::OutgoingFrames::frame_overhead + 10 + max_message;

struct StalledClient : ws::FrameSink {
    ws::OutgoingFrames frames;
    std::size_t replies = 0;
    bool cut = false;

    bool reply(std::string bytes, ws::Opcode opcode) {
        FUZZ_CHECK(!cut);
        frames.push(std::make_shared<const std::string>(std::move(bytes)), opcode);
        ++replies;
        FUZZ_CHECK(frames.bytes() >= replies * ws::OutgoingFrames::frame_overhead);
        FUZZ_CHECK(frames.bytes() <= limit + largest_reply);
        if (frames.bytes() > limit) cut = true;  // too slow: the connection is cut, nothing more is read
        return !cut;
    }
    bool on_message(bool text, std::string_view data) override {
        if (text && data == "2") return reply("3", ws::Opcode::text);
        return reply(std::string(data), text ? ws::Opcode::text : ws::Opcode::binary);
    }
    bool on_ping(std::string_view data) override { return reply(std::string(data), ws::Opcode::pong); }
    void on_close(std::uint16_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    StalledClient client;
    ws::FrameReader reader(max_message);
    // Fed in reads of at most 64 bytes, as a socket delivers them, the unfinished end kept for the next.
    std::string pending;
    for (std::size_t at = 0; at < input.size() && !client.cut;) {
        const std::size_t n = std::min<std::size_t>(64, input.size() - at);
        pending.append(input, at, n);
        at += n;
        const auto used = reader.read(std::span(pending.data(), pending.size()), client);
        if (!used) break;
        pending.erase(0, *used);
        FUZZ_CHECK(pending.size() <= max_message + 14 + 64);  // at most one unfinished frame and one read
    }
    // Closing keeps only what had started (nothing here: the client never read a byte), then the close frame.
    client.frames.keep_started();
    FUZZ_CHECK(client.frames.bytes() == 0 && client.frames.empty());
    return 0;
}
