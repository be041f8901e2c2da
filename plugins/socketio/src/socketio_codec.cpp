#include "socketio_codec.hpp"

#include "engineio_codec.hpp"
#include "json_reader.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/writer.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

namespace yunity::sio {

namespace {

// Event names the reference server (socket.io-parser 4) refuses from a client, since emitting them would fire its
// own lifecycle listeners.
constexpr std::array<std::string_view, 6> reserved_events = {"connect",       "connect_error", "disconnect",
                                                             "disconnecting", "newListener",   "removeListener"};

bool fail(std::string* error, std::string_view message) {
    if (error) error->assign(message);
    return false;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Digits to a 64-bit number; nullopt on overflow.
std::optional<std::uint64_t> parse_u64(std::string_view digits) noexcept {
    std::uint64_t n = 0;
    for (char c : digits) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
        n = n * 10 + d;
    }
    return n;
}

bool is_binary(PacketType type) noexcept { return type == PacketType::binary_event || type == PacketType::binary_ack; }

bool validate(const Packet& p, Protocol protocol, std::string* error) {
    const auto& d = p.data;
    switch (p.type) {
        case PacketType::connect:
            if (!p.has_data()) return true;
            if (protocol == Protocol::eio3_sio4) return fail(error, "CONNECT carries no payload in protocol 4");
            return d.IsObject() || fail(error, "invalid payload: CONNECT needs an object");
        case PacketType::disconnect:
            return !p.has_data() || fail(error, "invalid payload: DISCONNECT carries none");
        case PacketType::connect_error:
            return !p.has_data() || d.IsString() || d.IsObject() ||
                   fail(error, "invalid payload: CONNECT_ERROR needs a string or an object");
        case PacketType::event:
        case PacketType::binary_event: {
            if (!d.IsArray() || d.Empty()) return fail(error, "invalid payload: EVENT needs a non-empty array");
            const auto& name = d[0];
            if (!name.IsString()) return fail(error, "invalid payload: the event name is not a string");
            if (protocol != Protocol::eio3_sio4) {
                const std::string_view n(name.GetString(), name.GetStringLength());
                for (auto reserved : reserved_events)
                    if (n == reserved) return fail(error, "invalid payload: reserved event name");
            }
            return true;
        }
        case PacketType::ack:
        case PacketType::binary_ack:
            if (!d.IsArray()) return fail(error, "invalid payload: ACK needs an array");
            return p.id.has_value() || fail(error, "ACK without an id");
    }
    return fail(error, "unknown packet type");
}

// Writes to a std::string for rapidjson::Writer.
struct StringOutput {
    using Ch = char;
    std::string* out;
    void Put(char c) { out->push_back(c); }
    void Flush() {}
};

using JsonWriter = rapidjson::Writer<StringOutput>;

void write_string(JsonWriter& writer, std::string& scratch, const rapidjson::Value& v) {
    scratch.clear();
    eio::append_json_string(scratch, std::string_view(v.GetString(), v.GetStringLength()));
    writer.RawValue(scratch.data(), scratch.size(), rapidjson::kStringType);
}

// Value::Accept recurses once per nesting level, so a deep client payload would overflow the stack; walk with an
// explicit stack instead. Strings go through append_json_string to match JSON.stringify byte for byte.
void write_json(std::string& out, const rapidjson::Value& root) {
    StringOutput os{&out};
    JsonWriter writer(os);
    std::string scratch;
    struct Frame {
        const rapidjson::Value* value;
        rapidjson::SizeType next;
    };
    std::vector<Frame> stack;

    const auto visit = [&](const rapidjson::Value& v) {
        switch (v.GetType()) {
            case rapidjson::kNullType:
                writer.Null();
                break;
            case rapidjson::kFalseType:
                writer.Bool(false);
                break;
            case rapidjson::kTrueType:
                writer.Bool(true);
                break;
            case rapidjson::kStringType:
                write_string(writer, scratch, v);
                break;
            case rapidjson::kNumberType:
                if (v.IsUint64()) writer.Uint64(v.GetUint64());
                else if (v.IsInt64()) writer.Int64(v.GetInt64());
                else if (std::isfinite(v.GetDouble())) writer.Double(v.GetDouble());
                else
                    writer.Null();  // as JSON.stringify writes Infinity and NaN; RapidJSON's Writer would write nothing
                break;
            case rapidjson::kArrayType:
                writer.StartArray();
                stack.push_back({&v, 0});
                break;
            case rapidjson::kObjectType:
                writer.StartObject();
                stack.push_back({&v, 0});
                break;
        }
    };

    visit(root);
    while (!stack.empty()) {
        const auto [value, next] = stack.back();
        if (value->IsArray()) {
            if (next == value->Size()) {
                writer.EndArray();
                stack.pop_back();
                continue;
            }
            ++stack.back().next;
            visit((*value)[next]);
        } else {
            if (next == value->MemberCount()) {
                writer.EndObject();
                stack.pop_back();
                continue;
            }
            ++stack.back().next;
            const auto& member = *(value->MemberBegin() + next);
            write_string(writer, scratch, member.name);
            visit(member.value);
        }
    }
}

}  // namespace

std::optional<Packet> decode(std::string_view text, Protocol protocol, std::string* error) {
    if (text.empty()) {
        fail(error, "empty packet");
        return std::nullopt;
    }
    if (text[0] < '0' || text[0] > '6') {
        fail(error, "unknown packet type");
        return std::nullopt;
    }
    Packet p;
    p.type = static_cast<PacketType>(text[0] - '0');
    std::size_t i = 1;

    if (is_binary(p.type)) {
        const auto dash = text.find('-', i);
        const auto digits = text.substr(i, dash == std::string_view::npos ? 0 : dash - i);
        bool ok = dash != std::string_view::npos && !digits.empty();
        for (char c : digits) ok = ok && is_digit(c);
        const auto n = ok ? parse_u64(digits) : std::nullopt;
        if (!n || *n > std::numeric_limits<std::size_t>::max()) {
            fail(error, "illegal attachments");
            return std::nullopt;
        }
        p.attachments = static_cast<std::size_t>(*n);
        i = dash + 1;
    }

    // The namespace runs from '/' to the first ',' or to the end of the packet ("0/admin" is valid).
    if (i < text.size() && text[i] == '/') {
        const auto comma = text.find(',', i);
        const auto end = comma == std::string_view::npos ? text.size() : comma;
        p.nsp.assign(text.substr(i, end - i));
        // Echoed in answers ("44/nsp,..."), so held to the JSON's standard: polling bodies arrive unchecked.
        if (!eio::is_valid_utf8(p.nsp)) {
            fail(error, "invalid namespace: not UTF-8");
            return std::nullopt;
        }
        i = comma == std::string_view::npos ? text.size() : comma + 1;
        if (protocol == Protocol::eio3_sio4) {
            if (const auto q = p.nsp.find('?'); q != std::string::npos) {
                p.nsp_query = p.nsp.substr(q + 1);
                p.nsp.resize(q);
            }
        }
    }

    if (i < text.size() && is_digit(text[i])) {
        const auto start = i;
        while (i < text.size() && is_digit(text[i])) ++i;
        p.id = parse_u64(text.substr(start, i - start));
        if (!p.id) {
            fail(error, "ack id out of range");
            return std::nullopt;
        }
    }

    if (i < text.size()) {
        // Exact numbers, so that they survive a decode/encode round trip; UTF-8 checked, because polling bodies,
        // unlike websocket text frames, reach us unchecked and whatever we echo must stay valid UTF-8.
        const auto parsed = json::parse(p.data, text.substr(i));
        if (parsed.IsError()) {
            if (error) {
                *error = "invalid payload: ";
                *error += json::describe(parsed);
            }
            return std::nullopt;
        }
        // "null" parses, but would read as "no data" later on; no packet type accepts it anyway.
        if (p.data.IsNull()) {
            fail(error, "invalid payload: null");
            return std::nullopt;
        }
    }

    if (!validate(p, protocol, error)) return std::nullopt;
    return p;
}

std::string encode(const Packet& packet) {
    std::string out;
    out += static_cast<char>('0' + static_cast<int>(packet.type));
    if (is_binary(packet.type)) {
        out += std::to_string(packet.attachments);
        out += '-';
    }
    if (!packet.nsp.empty() && (packet.nsp != "/" || !packet.nsp_query.empty())) {
        out += packet.nsp;
        if (!packet.nsp_query.empty()) {
            out += '?';
            out += packet.nsp_query;
        }
        out += ',';
    }
    if (packet.id) out += std::to_string(*packet.id);
    if (packet.has_data()) write_json(out, packet.data);
    return out;
}

std::string encode_json(const rapidjson::Value& value) {
    std::string out;
    write_json(out, value);
    return out;
}

std::string encode_event(std::string_view nsp, std::string_view event, std::string_view json_arg,
                         std::string_view offset) {
    std::string out;
    out.reserve(nsp.size() + event.size() + json_arg.size() + offset.size() + 20);
    out += "42";
    if (!nsp.empty() && nsp != "/") {
        out += nsp;
        out += ',';
    }
    out += '[';
    eio::append_json_string(out, event);
    if (!json_arg.empty()) {
        out += ',';
        out += json_arg;
    }
    if (!offset.empty()) {
        out += ',';
        eio::append_json_string(out, offset);
    }
    out += ']';
    return out;
}

}  // namespace yunity::sio
