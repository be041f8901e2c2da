// Binary attachments: a BINARY_EVENT / BINARY_ACK text packet and the binary messages that follow it, in any
// order and number, as a client may send them. Input: lines; the first is the protocol ('4' or '5'), each
// other is one Engine.IO message: "B<bytes>" a binary message (an attachment), anything else "<x><packet>"
// a text message carrying the Socket.IO packet after its first character.
#include "binary_assembler.hpp"

#include "fuzz_check.hpp"

namespace sio = yunity::sio;
using Status = sio::BinaryAssembler::Status;

namespace {

// The finished packet, sent again the way the server emits one, reassembles to the same packet and buffers.
void check_result(sio::BinaryAssembler::Result result, yunity::Protocol protocol) {
    auto& packet = result.packet;
    FUZZ_CHECK(result.buffers.size() == packet.attachments);
    FUZZ_CHECK(sio::validate_placeholders(packet.data, packet.attachments));
    const auto text = sio::encode(packet);
    const auto type = packet.type;
    const auto attachments = packet.attachments;

    std::string error;
    auto encoded = sio::encode_with_attachments(std::move(packet), result.buffers, &error);
    FUZZ_CHECK(encoded.has_value());
    FUZZ_CHECK(encoded->attachments == result.buffers);
    auto again = sio::decode(encoded->text, protocol, &error);
    FUZZ_CHECK(again.has_value());
    if (attachments == 0) {
        // Sent as a plain EVENT / ACK, as socket.io-parser does.
        FUZZ_CHECK(again->type ==
                   (type == sio::PacketType::binary_event ? sio::PacketType::event : sio::PacketType::ack));
        return;
    }
    FUZZ_CHECK(encoded->text == text);
    sio::BinaryAssembler assembler;
    auto status = assembler.start(std::move(*again), &error);
    for (const auto& buffer : encoded->attachments) {
        FUZZ_CHECK(status == Status::need_more);
        status = assembler.add(buffer, &error);
    }
    FUZZ_CHECK(status == Status::complete);
    auto round = assembler.take();
    FUZZ_CHECK(round && round->buffers == result.buffers && sio::encode(round->packet) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto messages = fuzz::lines(fuzz::as_text(data, size));
    const auto protocol =
        !messages[0].empty() && (messages[0][0] & 1) == 0 ? yunity::Protocol::eio3_sio4 : yunity::Protocol::eio4_sio5;

    sio::BinaryAssembler assembler;
    std::string error;
    for (std::size_t i = 1; i < messages.size(); ++i) {
        const auto message = messages[i];
        error.clear();
        Status status;
        if (!message.empty() && message[0] == 'B') {
            const bool was_assembling = assembler.assembling();
            status = assembler.add(std::string(message.substr(1)), &error);
            FUZZ_CHECK(was_assembling == (status != Status::error));
        } else {
            auto packet = sio::decode(message.empty() ? message : message.substr(1), protocol, &error);
            if (!packet) continue;
            if (packet->type != sio::PacketType::binary_event && packet->type != sio::PacketType::binary_ack) {
                // A text packet in the middle of an assembly is a protocol error: the session closes.
                if (assembler.assembling()) assembler.reset();
                continue;
            }
            const auto text_size = message.size();
            status = assembler.start(std::move(*packet), &error);
            // Each attachment needs a placeholder in the packet's own text: the count the client claims
            // reserves nothing beyond what it paid for in bytes.
            FUZZ_CHECK(assembler.expected() <= text_size);
        }
        FUZZ_CHECK(assembler.received() <= assembler.expected());
        FUZZ_CHECK(assembler.assembling() == (status == Status::need_more));
        if (status == Status::error) {
            FUZZ_CHECK(!error.empty() && !assembler.assembling() && !assembler.take());
            continue;
        }
        if (status == Status::complete) {
            auto result = assembler.take();
            FUZZ_CHECK(result.has_value() && !assembler.take());
            check_result(std::move(*result), protocol);
        }
    }
    return 0;
}
