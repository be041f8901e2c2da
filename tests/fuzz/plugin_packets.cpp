// What a plugin sends (events::Emit, events::Ack) with arguments that may be a client's JSON passed on: any bytes
// as the arguments. Checks: what is accepted is a JSON array within the depth limit, encoded into a packet the
// decoder reads back to the same arguments, the event name first; what is refused says why; no recursion, however
// deep the input (the target runs with a small stack under ASan).
#include "json_reader.hpp"
#include "plugin_packets.hpp"
#include "socketio_codec.hpp"

#include "fuzz_check.hpp"

namespace sio = yunity::sio;

using yunity::Protocol;
// Socket.IO 5 comes over Engine.IO 4.
constexpr auto sio5 = Protocol::eio4_sio5;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto args = fuzz::as_text(data, size);
    std::string error;
    auto emit = sio::encode_emit("/chat", "news", 9, args, {}, &error);
    auto ack = sio::encode_ack("/", 3, args, {}, &error);
    FUZZ_CHECK(emit.has_value() == ack.has_value());
    if (!emit) {
        FUZZ_CHECK(!error.empty());
        return 0;
    }
    rapidjson::Document original;
    FUZZ_CHECK(!yunity::json::parse(original, args).IsError() && original.IsArray());

    auto back = sio::decode(std::string_view(*emit->text).substr(1), sio5);
    FUZZ_CHECK(back && back->type == sio::PacketType::event && back->nsp == "/chat" && back->id == 9u);
    FUZZ_CHECK(back->data.Size() == original.Size() + 1 && back->data[0].IsString() &&
               std::string_view(back->data[0].GetString()) == "news");
    // The arguments after the name are the plugin's, value for value.
    std::string expected = sio::encode_json(original);
    std::string got = sio::encode_json(back->data);
    FUZZ_CHECK(got == (original.Empty() ? "[\"news\"]" : "[\"news\"," + expected.substr(1)));

    auto ack_back = sio::decode(std::string_view(*ack->text).substr(1), sio5);
    FUZZ_CHECK(ack_back && ack_back->type == sio::PacketType::ack && sio::encode_json(ack_back->data) == expected);
    return 0;
}
