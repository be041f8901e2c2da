// A websocket connection's outgoing frames: each a header of its own and payload bytes shared with every other
// recipient, written in gathered batches that may end mid-frame. Every frame counts against the slow-client
// bound with what it holds (see frame_overhead), so a client that asks for many tiny replies and never reads
// weighs as much as one sent a large backlog. Free of Asio: unit tested and fuzzed alone.
#pragma once

#include "links.hpp"
#include "websocket_frames.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace yunity::socketio::ws {

class OutgoingFrames {
public:
    // What a queued frame holds beyond its payload: the same count as a session's polling queue (links.hpp).
    static constexpr std::size_t frame_overhead = socketio::frame_overhead;

    // Queues `bytes` as one frame of `opcode`, or, without one, as raw bytes (the 101 response).
    void push(std::shared_ptr<const std::string> bytes, std::optional<Opcode> opcode);

    // The unwritten bytes, in order, as at most `out.size()` pieces (header and payload of each frame apart);
    // returns how many pieces were filled. The frames' headers are made here, into `headers` (room for one per
    // two pieces), which must outlive the pieces' use.
    std::size_t gather(std::span<std::span<const char>> out, std::span<Header> headers) const;
    // `n` bytes of what gather() returned were written.
    void consume(std::size_t n);

    // Before a close frame: a frame partly written must be finished, or the stream's framing breaks, and the 101
    // (raw bytes) must go out; everything else is dropped.
    void keep_started();
    void clear();
    // Gives back the queue's room if it is empty. A queue that emptied keeps the room it grew to (under load a
    // connection gets tens of frames per turn, and allocating them again each turn is what glibc then serves
    // with fresh pages: page faults per write); its owner trims it when the connection has been quiet.
    void trim();

    bool empty() const { return head_ == queue_.size(); }
    // Bytes counted against the slow-client bound: payloads, headers and overheads of the frames not yet written.
    std::size_t bytes() const { return bytes_; }
    // Entries the queue has room for without allocating.
    std::size_t room() const { return queue_.capacity(); }

private:
    // 32 bytes: a connection under load queues tens of these per turn, and each push writes one into memory that
    // is seldom in cache (every connection has its own queue). The header is made again when gathered.
    struct Out {
        std::shared_ptr<const std::string> bytes;
        std::size_t sent = 0;  // of header and payload together
        Opcode opcode{};
        bool raw = false;  // bytes without a frame (the 101 response)
        std::size_t header_size() const { return raw ? 0 : header_size_for(bytes->size()); }
        std::size_t size() const { return header_size() + bytes->size(); }
        std::size_t counted() const { return frame_overhead + size(); }  // what it adds to bytes_
    };
    static_assert(sizeof(Out) == 32);

    static constexpr std::size_t initial_capacity = 8;
    static constexpr std::size_t compact_after = 64;  // written entries

    std::vector<Out> queue_;
    std::size_t head_ = 0;  // queue_[head_] is the next to write
    std::size_t bytes_ = 0;
};

}  // namespace yunity::socketio::ws
