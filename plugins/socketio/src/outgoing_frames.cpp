#include "outgoing_frames.hpp"

namespace yunity::socketio::ws {

void OutgoingFrames::push(std::shared_ptr<const std::string> bytes, std::optional<Opcode> opcode) {
    Out out;
    out.bytes = std::move(bytes);
    out.raw = !opcode;
    if (opcode) out.opcode = *opcode;
    bytes_ += out.counted();
    // The queue starts with room for several frames: under load a connection gets many per turn, and growing
    // from one (1, 2, 4, 8...) cost an allocation and a move of every entry at each step.
    if (queue_.capacity() == 0) queue_.reserve(initial_capacity);
    queue_.push_back(std::move(out));
}

std::size_t OutgoingFrames::gather(std::span<std::span<const char>> out, std::span<Header> headers) const {
    std::size_t n = 0, h = 0;
    for (std::size_t i = head_; i < queue_.size() && n + 2 <= out.size() && h < headers.size(); ++i) {
        const auto& o = queue_[i];
        const std::size_t header_size = o.header_size();
        if (o.sent < header_size) {
            headers[h] = header(o.opcode, o.bytes->size());
            const auto* head = reinterpret_cast<const char*>(headers[h].bytes.data());
            out[n++] = std::span(head + o.sent, header_size - o.sent);
            ++h;
        }
        const std::size_t body_sent = o.sent > header_size ? o.sent - header_size : 0;
        if (body_sent < o.bytes->size()) out[n++] = std::span(o.bytes->data() + body_sent, o.bytes->size() - body_sent);
    }
    return n;
}

void OutgoingFrames::consume(std::size_t n) {
    while (n > 0 && head_ < queue_.size()) {
        auto& o = queue_[head_];
        const std::size_t rest = o.size() - o.sent;
        if (n < rest) {
            o.sent += n;
            return;
        }
        n -= rest;
        bytes_ -= o.counted();
        o.bytes.reset();
        ++head_;
    }
    if (empty()) return clear();
    // A queue that never empties (a client always a little behind a steady stream) would keep every entry ever
    // written, uncounted: the written ones go once they are half of it, a move of at most as many as went.
    if (head_ >= compact_after && head_ * 2 >= queue_.size()) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

void OutgoingFrames::keep_started() {
    std::size_t keep = head_;
    while (keep < queue_.size() && (queue_[keep].sent > 0 || queue_[keep].raw)) ++keep;
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(keep), queue_.end());
    bytes_ = 0;
    for (std::size_t i = head_; i < queue_.size(); ++i) bytes_ += queue_[i].counted();
}

void OutgoingFrames::clear() {
    queue_.clear();
    head_ = 0;
    bytes_ = 0;
    // A queue that never grew past its first room (a handshake's few frames, a reply now and then) gives it back
    // at once: most connections are idle most of the time, and 19,000 of them holding it cost about 20 bytes
    // each. One that grew is busy and keeps its room until trim().
    if (queue_.capacity() <= initial_capacity) std::vector<Out>().swap(queue_);
}

void OutgoingFrames::trim() {
    if (empty()) std::vector<Out>().swap(queue_);
}

}  // namespace yunity::socketio::ws
