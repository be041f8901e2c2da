#include "binary_assembler.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace yunity::sio {

namespace {

bool fail(std::string* error, std::string_view message) {
    if (error) error->assign(message);
    return false;
}

}  // namespace

bool is_placeholder(const rapidjson::Value& value) noexcept {
    if (!value.IsObject()) return false;
    const auto it = value.FindMember("_placeholder");
    return it != value.MemberEnd() && it->value.IsTrue();
}

std::optional<std::size_t> placeholder_num(const rapidjson::Value& value) noexcept {
    if (!is_placeholder(value)) return std::nullopt;
    const auto it = value.FindMember("num");
    if (it == value.MemberEnd() || !it->value.IsUint64()) return std::nullopt;
    const auto num = it->value.GetUint64();
    if (num > std::numeric_limits<std::size_t>::max()) return std::nullopt;
    return static_cast<std::size_t>(num);
}

bool validate_placeholders(const rapidjson::Value& data, std::size_t attachments, std::string* error) {
    // Collect the indices first: `attachments` comes from the client, so nothing may be sized by it before we
    // know that many placeholders exist.
    std::vector<std::size_t> nums;
    std::vector<const rapidjson::Value*> pending{&data};
    while (!pending.empty()) {
        const auto* v = pending.back();
        pending.pop_back();
        if (is_placeholder(*v)) {
            const auto num = placeholder_num(*v);
            if (!num || *num >= attachments) return fail(error, "illegal attachments: placeholder index");
            nums.push_back(*num);
            // Like socket.io-parser, the whole object is replaced: its other members are not looked into.
            continue;
        }
        if (v->IsArray()) {
            for (const auto& child : v->GetArray()) pending.push_back(&child);
        } else if (v->IsObject()) {
            for (const auto& member : v->GetObject()) pending.push_back(&member.value);
        }
    }
    // Every index is below `attachments`, so `attachments` distinct ones means each is used.
    std::sort(nums.begin(), nums.end());
    const auto distinct = static_cast<std::size_t>(std::unique(nums.begin(), nums.end()) - nums.begin());
    if (distinct != attachments) return fail(error, "illegal attachments: unused attachment");
    return true;
}

rapidjson::Value make_placeholder(std::size_t num, rapidjson::Document::AllocatorType& allocator) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("_placeholder", true, allocator);
    v.AddMember("num", rapidjson::Value(static_cast<std::uint64_t>(num)), allocator);
    return v;
}

BinaryAssembler::Status BinaryAssembler::start(Packet packet, std::string* error) {
    reset();
    if (packet.type != PacketType::binary_event && packet.type != PacketType::binary_ack) {
        fail(error, "not a binary packet");
        return Status::error;
    }
    if (!validate_placeholders(packet.data, packet.attachments, error)) return Status::error;
    packet_ = std::move(packet);
    buffers_.reserve(packet_->attachments);
    complete_ = packet_->attachments == 0;
    return complete_ ? Status::complete : Status::need_more;
}

BinaryAssembler::Status BinaryAssembler::add(std::string buffer, std::string* error) {
    if (!assembling()) {
        reset();
        fail(error, "binary data when not reconstructing a packet");
        return Status::error;
    }
    buffers_.push_back(std::move(buffer));
    complete_ = buffers_.size() == packet_->attachments;
    return complete_ ? Status::complete : Status::need_more;
}

std::optional<BinaryAssembler::Result> BinaryAssembler::take() {
    if (!packet_ || !complete_) return std::nullopt;
    Result result{std::move(*packet_), std::move(buffers_)};
    reset();
    return result;
}

void BinaryAssembler::reset() noexcept {
    packet_.reset();
    buffers_.clear();
    complete_ = false;
}

std::optional<EncodedBinaryPacket> encode_with_attachments(Packet packet, std::vector<std::string> buffers,
                                                           std::string* error) {
    const bool event = packet.type == PacketType::event || packet.type == PacketType::binary_event;
    const bool ack = packet.type == PacketType::ack || packet.type == PacketType::binary_ack;
    if (!event && !ack) {
        fail(error, "only EVENT and ACK packets carry attachments");
        return std::nullopt;
    }
    if (!validate_placeholders(packet.data, buffers.size(), error)) return std::nullopt;
    if (buffers.empty()) {
        packet.type = event ? PacketType::event : PacketType::ack;
        packet.attachments = 0;
    } else {
        packet.type = event ? PacketType::binary_event : PacketType::binary_ack;
        packet.attachments = buffers.size();
    }
    return EncodedBinaryPacket{encode(packet), std::move(buffers)};
}

}  // namespace yunity::sio
