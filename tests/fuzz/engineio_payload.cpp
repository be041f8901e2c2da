// Engine.IO HTTP long-polling bodies: version 4 payloads, version 3 text (and base64) payloads, version 3 XHR2
// binary payloads, and version 3 JSONP POST bodies. Input: one selector byte, then the body. Selector & 3:
// 0 v3 text, 1 v3 binary (application/octet-stream), 2 v4, 3 v3 JSONP form body (the seeds use '0'..'3').
#include "engineio_codec.hpp"

#include "fuzz_check.hpp"

#include <vector>

namespace eio = yunity::eio;

namespace {

bool same(const std::vector<eio::Packet>& a, const std::vector<eio::Packet>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].type != b[i].type || a[i].binary != b[i].binary || a[i].data != b[i].data) return false;
    return true;
}

void check_payload(yunity::Protocol version, std::string_view body, bool binary) {
    std::string error;
    const auto packets = eio::decode_payload(version, body, binary, &error);
    if (!packets) {
        FUZZ_CHECK(!error.empty());
        return;
    }
    // Every packet comes out of the body, which the transport bounds by max_payload: nothing decoded is larger.
    std::size_t total = 0;
    for (const auto& p : *packets) total += p.data.size();
    FUZZ_CHECK(total <= body.size());
    FUZZ_CHECK(packets->size() <= body.size());
    if (version != yunity::Protocol::eio3_sio4) FUZZ_CHECK(!binary && !packets->empty());
    for (const auto& p : *packets) {
        // Version 3 text is checked UTF-8 (the length counts UTF-16 units); version 4 text is not.
        if (version == yunity::Protocol::eio3_sio4 && !p.binary) FUZZ_CHECK(fuzz::valid_utf8(p.data));
        if (version != yunity::Protocol::eio3_sio4 && p.binary) FUZZ_CHECK(p.type == eio::PacketType::message);
    }

    // Encoded again the way the server answers polls, the packets decode to themselves. Only messages can be
    // binary on the way out (the server sends no other binary packet), so a batch with another binary packet
    // has no encoding to compare.
    std::vector<std::string> texts;
    std::vector<eio::OutPacket> out;
    texts.reserve(packets->size());
    for (const auto& p : *packets) {
        if (p.binary && p.type != eio::PacketType::message) return;
        if (p.binary) {
            out.push_back({p.data, true});
        } else {
            texts.push_back(eio::encode_text_frame(p));
            out.push_back({texts.back(), false});
        }
    }
    for (const bool b64 : {false, true}) {
        const auto format = eio::choose_payload_format(version, b64, out);
        const auto encoded = eio::encode_payload(format, out);
        const auto back = eio::decode_payload(version, encoded, format == eio::PayloadFormat::v3_binary, &error);
        FUZZ_CHECK(back && same(*back, *packets));
        // Version 4 text is not checked on the way in (engine.io reads it as UTF-8 with replacement).
        if (format != eio::PayloadFormat::v3_binary &&
            (version == yunity::Protocol::eio3_sio4 || fuzz::valid_utf8(body)))
            FUZZ_CHECK(fuzz::valid_utf8(encoded));
        // A JSONP poll carries the same payload as a JavaScript string literal.
        if (version == yunity::Protocol::eio3_sio4 && format != eio::PayloadFormat::v3_binary) {
            const auto script = eio::encode_jsonp("7", encoded);
            const std::string_view head = "___eio[7](", tail = ");";
            FUZZ_CHECK(script.starts_with(head) && script.ends_with(tail));
            const auto literal =
                std::string_view(script).substr(head.size(), script.size() - head.size() - tail.size());
            rapidjson::Document doc;
            FUZZ_CHECK(fuzz::parse_json(literal, doc) && doc.IsString());
            FUZZ_CHECK(std::string_view(doc.GetString(), doc.GetStringLength()) == encoded);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto body = fuzz::as_text(data + 1, size - 1);
    switch (data[0] & 3) {
        case 0:
            check_payload(yunity::Protocol::eio3_sio4, body, false);
            break;
        case 1:
            check_payload(yunity::Protocol::eio3_sio4, body, true);
            break;
        case 2:
            check_payload(yunity::Protocol::eio4_sio5, body, false);
            FUZZ_CHECK(!eio::decode_payload(yunity::Protocol::eio4_sio5, body, true));
            break;
        case 3:
            if (const auto form = eio::decode_jsonp_body(body)) {
                FUZZ_CHECK(form->size() <= body.size());
                check_payload(yunity::Protocol::eio3_sio4, *form, false);
            }
            break;
    }
    return 0;
}
