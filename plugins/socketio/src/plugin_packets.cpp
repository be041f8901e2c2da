#include "plugin_packets.hpp"

#include "binary_assembler.hpp"
#include "json_reader.hpp"
#include "socketio_codec.hpp"

namespace yunity::sio {

namespace {

bool parse_args(std::string_view args, rapidjson::Document& doc, std::string* error) {
    const auto parsed = json::parse(doc, args);
    if (parsed.IsError() || !doc.IsArray()) {
        if (error)
            *error =
                "args are not a JSON array (" + (parsed.IsError() ? json::describe(parsed) : "another value") + ")";
        return false;
    }
    return true;
}

std::optional<OutgoingPacket> finish(Packet packet, const std::vector<std::string>& attachments, std::string* error) {
    auto encoded = encode_with_attachments(std::move(packet), attachments, error);
    if (!encoded) return std::nullopt;
    OutgoingPacket out{std::make_shared<const std::string>("4" + encoded->text), {}};
    out.attachments.reserve(encoded->attachments.size());
    for (auto& a : encoded->attachments) out.attachments.push_back(std::make_shared<const std::string>(std::move(a)));
    return out;
}

}  // namespace

std::optional<OutgoingPacket> encode_emit(std::string_view nsp, std::string_view event,
                                          std::optional<std::uint64_t> ack_id, std::string_view args,
                                          const std::vector<std::string>& attachments, std::string* error) {
    Packet packet;
    packet.type = PacketType::event;
    packet.nsp = nsp;
    packet.id = ack_id;
    if (!parse_args(args, packet.data, error)) return std::nullopt;
    // The event name goes in front of the arguments: each moves along one place (Swap moves a value without
    // copying it), where a copy would be RapidJSON's recursive one.
    auto& data = packet.data;
    auto& alloc = data.GetAllocator();
    data.PushBack(rapidjson::Value(), alloc);
    for (auto i = data.Size() - 1; i > 0; --i) data[i].Swap(data[i - 1]);
    data[0].SetString(event.data(), static_cast<rapidjson::SizeType>(event.size()), alloc);
    return finish(std::move(packet), attachments, error);
}

std::optional<OutgoingPacket> encode_ack(std::string_view nsp, std::uint64_t ack_id, std::string_view args,
                                         const std::vector<std::string>& attachments, std::string* error) {
    Packet packet;
    packet.type = PacketType::ack;
    packet.nsp = nsp;
    packet.id = ack_id;
    if (!parse_args(args, packet.data, error)) return std::nullopt;
    return finish(std::move(packet), attachments, error);
}

}  // namespace yunity::sio
