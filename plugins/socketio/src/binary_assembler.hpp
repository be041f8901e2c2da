#pragma once

// Binary attachments of Socket.IO packets. A BINARY_EVENT / BINARY_ACK travels as its text packet, whose JSON
// holds {"_placeholder":true,"num":i} objects, followed by `attachments` binary Engine.IO messages: buffer i
// replaces placeholder i.

#include "socketio_codec.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::sio {

// An object counts as a placeholder when its "_placeholder" member is true (as in socket.io-parser, whatever else
// it holds).
bool is_placeholder(const rapidjson::Value& value) noexcept;
// Its "num" when `value` is a placeholder whose num is a non-negative integer; nullopt otherwise.
std::optional<std::size_t> placeholder_num(const rapidjson::Value& value) noexcept;

// Checks every placeholder in `data` (iteratively: untrusted depth): "num" an integer in [0, attachments), and
// each index in [0, attachments) used at least once. The reference server accepts an unused attachment; we
// refuse it, since it can only be a broken or hostile client holding buffers we would never hand out.
bool validate_placeholders(const rapidjson::Value& data, std::size_t attachments, std::string* error = nullptr);

// {"_placeholder":true,"num":<num>}, for building packets to send.
rapidjson::Value make_placeholder(std::size_t num, rapidjson::Document::AllocatorType& allocator);

// Collects the attachments of one incoming binary packet. Usage per Engine.IO message:
//   text message:   decode(); for a binary type call start(), else the packet is complete by itself (while
//                   assembling() is true a text message is a protocol error: the reference closes the session);
//   binary message: add() (when !assembling() it is a protocol error).
// After `complete`, take() yields the packet (placeholders still in its DOM, all validated) and its buffers,
// buffers[i] belonging to placeholder num i; the assembler is then idle again. After `error` it is idle too.
class BinaryAssembler {
public:
    enum class Status { need_more, complete, error };

    struct Result {
        Packet packet;
        std::vector<std::string> buffers;
    };

    // packet: a decoded BINARY_EVENT or BINARY_ACK. Validates its placeholders against its attachment count
    // first, so that a bad packet fails before any buffer arrives. `complete` at once when it has none.
    Status start(Packet packet, std::string* error = nullptr);
    Status add(std::string buffer, std::string* error = nullptr);

    // Between a start() that returned need_more and the last add().
    bool assembling() const noexcept { return packet_.has_value() && !complete_; }
    std::size_t expected() const noexcept { return packet_ ? packet_->attachments : 0; }
    std::size_t received() const noexcept { return buffers_.size(); }

    // The finished packet; nullopt unless the last start()/add() returned `complete`.
    std::optional<Result> take();
    void reset() noexcept;

private:
    std::optional<Packet> packet_;
    std::vector<std::string> buffers_;
    bool complete_ = false;
};

struct EncodedBinaryPacket {
    std::string text;                      // the Socket.IO packet text ("51-[...]"), to send as a message packet
    std::vector<std::string> attachments;  // then these, each as one binary message, in order
};

// The reverse, for emitting: `packet.data` already holds placeholders numbered 0..buffers.size()-1 (see
// make_placeholder). EVENT / BINARY_EVENT become BINARY_EVENT, ACK / BINARY_ACK become BINARY_ACK, with
// attachments = buffers.size(). With no buffers the packet goes out as a plain EVENT / ACK, as socket.io-parser
// does. nullopt when the type is not one of these four or the placeholders do not match the buffers.
std::optional<EncodedBinaryPacket> encode_with_attachments(Packet packet, std::vector<std::string> buffers,
                                                           std::string* error = nullptr);

}  // namespace yunity::sio
