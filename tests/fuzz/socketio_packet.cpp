// Socket.IO packets of protocols 4 and 5, as a client sends them inside an Engine.IO message.
// Input: one selector byte, then the packet text. Selector & 1: 0 protocol 4, 1 protocol 5 (the seeds use '4'
// and '5').
#include "socketio_codec.hpp"

#include "fuzz_check.hpp"

namespace sio = yunity::sio;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto protocol = (data[0] & 1) != 0 ? yunity::Protocol::eio4_sio5 : yunity::Protocol::eio3_sio4;
    const auto text = fuzz::as_text(data + 1, size - 1);

    std::string error;
    const auto p = sio::decode(text, protocol, &error);
    if (!p) {
        FUZZ_CHECK(!error.empty());
        return 0;
    }
    // What the server writes back (acks, errors naming the namespace, broadcasts of the data) must be valid
    // UTF-8 whatever the client sent: a websocket text frame that is not makes the client drop the connection.
    const auto encoded = sio::encode(*p);
    FUZZ_CHECK(fuzz::valid_utf8(encoded));
    const auto data_json = p->has_data() ? sio::encode_json(p->data) : std::string();
    FUZZ_CHECK(fuzz::is_json(data_json) == p->has_data());

    // decode(encode(p)) is p, and encoding is then a fixed point.
    const auto q = sio::decode(encoded, protocol, &error);
    FUZZ_CHECK(q.has_value());
    FUZZ_CHECK(q->type == p->type && q->nsp == p->nsp && q->nsp_query == p->nsp_query && q->id == p->id &&
               q->attachments == p->attachments && q->has_data() == p->has_data());
    if (p->has_data()) FUZZ_CHECK(sio::encode_json(q->data) == data_json);
    FUZZ_CHECK(sio::encode(*q) == encoded);
    if (protocol == yunity::Protocol::eio4_sio5) FUZZ_CHECK(p->nsp_query.empty());
    FUZZ_CHECK(!p->nsp.empty() && p->nsp.front() == '/');

    // The fan-out fast path writes an event without a DOM: the same bytes as the full encoder.
    if (p->type == sio::PacketType::event && !p->id && p->nsp_query.empty() && p->data.Size() <= 2) {
        const auto& name = p->data[0];
        const auto event = std::string_view(name.GetString(), name.GetStringLength());
        const auto arg = p->data.Size() == 2 ? sio::encode_json(p->data[1]) : std::string();
        FUZZ_CHECK(sio::encode_event(p->nsp, event, arg) == "4" + encoded);
    }
    return 0;
}
