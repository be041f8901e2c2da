// The websocket frame reader (what every client's websocket bytes go through), fed the input in two reads split at
// a point the first byte picks, as a connection feeds it: whole frames are read, the rest kept and presented
// again with what follows. Checks: it uses no more than it was given; what it hands on respects the limit and
// UTF-8; after a failure or a close nothing more is handed on; the split changes nothing.
#include "engineio_codec.hpp"
#include "websocket_frames.hpp"

#include "fuzz_check.hpp"

namespace ws = yunity::socketio::ws;

namespace {

constexpr std::size_t max_message = 512;

struct Sink : ws::FrameSink {
    std::vector<std::string> seen;
    bool closed = false;
    bool on_message(bool text, std::string_view data) override {
        FUZZ_CHECK(!closed);
        FUZZ_CHECK(data.size() <= max_message);
        if (text) FUZZ_CHECK(yunity::eio::is_valid_utf8(data));
        seen.push_back((text ? "t" : "b") + std::string(data));
        return true;
    }
    bool on_ping(std::string_view data) override {
        FUZZ_CHECK(!closed && data.size() <= 125);
        seen.push_back("p" + std::string(data));
        return true;
    }
    void on_close(std::uint16_t code) override {
        FUZZ_CHECK(!closed);
        closed = true;
        seen.push_back("c" + std::to_string(code));
    }
};

struct Outcome {
    std::vector<std::string> seen;
    bool failed = false;
    ws::CloseCode code{};
};

Outcome run(std::string bytes, std::size_t split) {
    ws::FrameReader reader(max_message);
    Sink sink;
    Outcome out;
    std::string pending;
    for (auto part : {bytes.substr(0, split), bytes.substr(split)}) {
        pending += part;
        const auto used = reader.read(std::span(pending.data(), pending.size()), sink);
        if (!used) {
            FUZZ_CHECK(reader.closed());
            out.failed = true;
            out.code = reader.error_code();
            break;
        }
        FUZZ_CHECK(*used <= pending.size());
        pending.erase(0, *used);
        if (reader.closed()) break;
        FUZZ_CHECK(reader.held() <= max_message);
    }
    out.seen = std::move(sink.seen);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
    const auto whole = run(bytes, bytes.size());
    const auto parts = run(bytes, split);
    FUZZ_CHECK(whole.failed == parts.failed && whole.seen == parts.seen);
    if (whole.failed) FUZZ_CHECK(whole.code == parts.code);
    return 0;
}
