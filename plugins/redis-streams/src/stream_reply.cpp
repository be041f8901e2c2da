#include "stream_reply.hpp"

namespace yunity::redis_streams {

namespace {

template <typename T>
std::optional<T> fail(std::string* error, std::string text) {
    if (error) *error = std::move(text);
    return std::nullopt;
}

bool is_text(const redis::Reply& r) { return r.is_string() || r.is_status(); }

// The [[id, [field, value, ...]], ...] list of entries of an XREAD's stream or an XRANGE, named in errors by
// `command`.
std::optional<std::vector<StreamEntry>> parse_entry_list(const redis::Reply& list, std::string_view field,
                                                         const std::string& command, std::string* error) {
    using Result = std::vector<StreamEntry>;
    Result entries;
    for (const auto& entry : list.elements) {
        if (!entry.is_array() || entry.elements.size() != 2 || !is_text(entry.elements[0]))
            return fail<Result>(error, command + " answered an entry that is not [id, fields]");
        auto id = StreamId::parse(entry.elements[0].str);
        if (!id)
            return fail<Result>(error, command + " answered an entry id that is not one: " + entry.elements[0].str);
        StreamEntry out{*id, std::nullopt};
        const auto& fields = entry.elements[1];
        // A deleted entry can come back with nil fields (XREADGROUP's history does so): it has no field.
        if (fields.is_array()) {
            if (fields.elements.size() % 2 != 0)
                return fail<Result>(error, command + " answered an entry with an odd number of field names and values");
            for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
                const auto& name = fields.elements[i];
                const auto& value = fields.elements[i + 1];
                if (!is_text(name) || !is_text(value))
                    return fail<Result>(error, command + " answered an entry whose fields are not strings");
                if (name.str == field) {
                    out.value = value.str;
                    break;
                }
            }
        } else if (!fields.is_nil()) {
            return fail<Result>(error, command + " answered an entry whose fields are not an array");
        }
        entries.push_back(std::move(out));
    }
    return entries;
}

}  // namespace

std::optional<std::vector<StreamEntry>> parse_xread(const redis::Reply& reply, std::string_view stream,
                                                    std::string_view field, std::string* error) {
    using Result = std::vector<StreamEntry>;
    if (reply.is_nil()) return Result{};
    if (!reply.is_array()) return fail<Result>(error, "XREAD answered neither nil nor an array");
    Result entries;
    for (const auto& keyed : reply.elements) {
        if (!keyed.is_array() || keyed.elements.size() != 2 || !is_text(keyed.elements[0]) ||
            !keyed.elements[1].is_array())
            return fail<Result>(error, "XREAD answered a stream that is not [name, entries]");
        // One stream is asked for; any other name is not ours to read.
        if (keyed.elements[0].str != stream) return fail<Result>(error, "XREAD answered another stream");
        auto some = parse_entry_list(keyed.elements[1], field, "XREAD", error);
        if (!some) return std::nullopt;
        for (auto& e : *some) entries.push_back(std::move(e));
    }
    return entries;
}

std::optional<std::vector<StreamEntry>> parse_xrange(const redis::Reply& reply, std::string_view field,
                                                     std::string* error) {
    if (!reply.is_array()) return fail<std::vector<StreamEntry>>(error, "XRANGE answered something not an array");
    return parse_entry_list(reply, field, "XRANGE", error);
}

std::optional<StreamInfo> parse_xinfo(const redis::Reply& reply, std::string* error) {
    if (!reply.is_array() || reply.elements.size() % 2 != 0)
        return fail<StreamInfo>(error, "XINFO STREAM answered something other than names and values");
    StreamInfo info;
    bool length = false;
    bool last = false;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        const auto& name = reply.elements[i];
        const auto& value = reply.elements[i + 1];
        if (!is_text(name)) return fail<StreamInfo>(error, "XINFO STREAM answered a name that is not a string");
        const auto& key = name.str;
        if (key == "length") {
            if (!value.is_integer() || value.integer < 0) return fail<StreamInfo>(error, "XINFO STREAM: bad length");
            info.length = static_cast<std::uint64_t>(value.integer);
            length = true;
        } else if (key == "last-generated-id" || key == "max-deleted-entry-id") {
            auto id = is_text(value) ? StreamId::parse(value.str) : std::nullopt;
            if (!id) return fail<StreamInfo>(error, "XINFO STREAM: bad " + key);
            (key == "last-generated-id" ? info.last_generated : info.max_deleted.emplace()) = *id;
            last = last || key == "last-generated-id";
        } else if (key == "entries-added") {
            if (!value.is_integer() || value.integer < 0)
                return fail<StreamInfo>(error, "XINFO STREAM: bad entries-added");
            info.entries_added = static_cast<std::uint64_t>(value.integer);
        } else if (key == "first-entry") {
            if (value.is_nil()) continue;
            if (!value.is_array() || value.elements.empty() || !is_text(value.elements[0]))
                return fail<StreamInfo>(error, "XINFO STREAM: bad first-entry");
            auto id = StreamId::parse(value.elements[0].str);
            if (!id) return fail<StreamInfo>(error, "XINFO STREAM: bad first-entry id");
            info.first_entry = *id;
        }
    }
    if (!length || !last) return fail<StreamInfo>(error, "XINFO STREAM answered no length or last-generated-id");
    return info;
}

std::uint64_t lag_ms(const StreamInfo& info, StreamId last) {
    return info.last_generated.ms > last.ms ? info.last_generated.ms - last.ms : 0;
}

}  // namespace yunity::redis_streams
