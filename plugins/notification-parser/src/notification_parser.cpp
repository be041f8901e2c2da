#include "notification_parser.hpp"

#include "json_reader.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <vector>

namespace yunity::notifications {

const char* to_string(Rejection r) {
    switch (r) {
        case Rejection::not_json: return "not JSON";
        case Rejection::not_object: return "not an object";
        case Rejection::no_users: return "no users array";
        case Rejection::bad_user: return "bad user";
        case Rejection::too_large: return "too large";
        case Rejection::too_deep: return "too deep";
    }
    return "unknown";
}

namespace {

// RapidJSON decodes a lone surrogate escape ("\udc00") to the surrogate's three-byte form (ED B0 80), which is
// not UTF-8, and its Writer copies that out as is; the payload reaches clients in websocket text frames, which
// must be UTF-8, or they drop the connection. Written back as the escape, as JSON.stringify writes a lone
// surrogate. In the Writer's output such bytes can only stand inside strings, and ED is never a continuation byte.
void escape_lone_surrogates(std::string& json) {
    const auto first = json.find('\xED');
    if (first == std::string::npos) return;
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::string out(json, 0, first);
    out.reserve(json.size() + 8);
    const auto byte = [&](std::size_t k) { return k < json.size() ? static_cast<unsigned char>(json[k]) : 0u; };
    for (std::size_t i = first; i < json.size(); ++i) {
        if (byte(i) == 0xED && (byte(i + 1) & 0xE0) == 0xA0 && (byte(i + 2) & 0xC0) == 0x80) {
            const unsigned unit = 0xD000u | (byte(i + 1) & 0x3Fu) << 6 | (byte(i + 2) & 0x3Fu);
            out += "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) out += hex_digits[unit >> shift & 15];
            i += 2;
        } else {
            out += json[i];
        }
    }
    json = std::move(out);
}

}  // namespace

std::variant<events::Notification, ParseError> parse_notification(std::string_view message, std::size_t max_bytes,
                                                                  std::size_t max_depth) {
    if (message.size() > max_bytes)
        return ParseError{Rejection::too_large, std::to_string(message.size()) + " bytes, over the limit of " +
                                                    std::to_string(max_bytes)};
    rapidjson::Document doc;
    const auto parsed = json::parse(doc, message, max_depth);
    if (parsed.Code() == rapidjson::kParseErrorTermination)
        return ParseError{Rejection::too_deep, json::describe(parsed, max_depth)};
    if (parsed.IsError())
        return ParseError{Rejection::not_json, json::describe(parsed, max_depth) + " at offset " +
                                                   std::to_string(parsed.Offset())};
    if (!doc.IsObject()) return ParseError{Rejection::not_object, "the message must be a JSON object"};
    // A repeated name: JSON.parse keeps the last, as the original server did (and most JSON readers); every one
    // of them is left out of the payload, or the clients would see a user list.
    auto users = doc.MemberEnd();
    for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m)
        if (m->name == "users") users = m;
    if (users == doc.MemberEnd() || !users->value.IsArray())
        return ParseError{Rejection::no_users, "the message has no \"users\" array"};

    events::Notification n;
    n.users.reserve(users->value.Size());
    for (const auto& u : users->value.GetArray()) {
        if (u.IsString() && u.GetStringLength() > 0) n.users.emplace_back(u.GetString(), u.GetStringLength());
        else if (u.IsUint64()) n.users.push_back(std::to_string(u.GetUint64()));
        else if (u.IsInt64()) n.users.push_back(std::to_string(u.GetInt64()));
        else return ParseError{Rejection::bad_user, "users must be non-empty strings or integers"};
    }
    // Repeats name the same connections: drop them once here rather than per delivery.
    std::sort(n.users.begin(), n.users.end());
    n.users.erase(std::unique(n.users.begin(), n.users.end()), n.users.end());

    for (auto m = doc.MemberBegin(); m != doc.MemberEnd();)
        m = m->name == "users" ? doc.EraseMember(m) : m + 1;  // keeps the order of the other members
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> writer(out);
    doc.Accept(writer);
    std::string payload(out.GetString(), out.GetSize());
    escape_lone_surrogates(payload);
    n.payload = std::make_shared<const std::string>(std::move(payload));
    return n;
}

}  // namespace yunity::notifications
