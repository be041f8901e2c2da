// What the redis-streams source reads from redis' answers, as pure functions (unit-tested without a server):
// the entries of an XREAD or XRANGE reply and the few facts of XINFO STREAM it uses.
#pragma once

#include "redis_link.hpp"
#include "stream_id.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::redis_streams {

struct StreamEntry {
    StreamId id;
    // The value of the entry's field that holds the notification (the first, if the producer wrote it twice);
    // nullopt when the entry has no such field.
    std::optional<std::string> value;
};

// The entries of stream `stream` in a reply to `XREAD ... STREAMS <stream> <id>` (RESP2): nil when BLOCK ran out
// (no entries), else [[stream, [[id, [field, value, ...]], ...]]]. Returns nullopt, with `error` saying what is
// wrong, for a reply of another shape: a reply this reader does not understand must not move its position.
std::optional<std::vector<StreamEntry>> parse_xread(const redis::Reply& reply, std::string_view stream,
                                                    std::string_view field, std::string* error = nullptr);

// The entries of a reply to `XRANGE <stream> <start> <end> [COUNT n]`: [[id, [field, value, ...]], ...].
std::optional<std::vector<StreamEntry>> parse_xrange(const redis::Reply& reply, std::string_view field,
                                                     std::string* error = nullptr);

// From XINFO STREAM (redis 5 and later; the last three are redis 7's).
struct StreamInfo {
    std::uint64_t length = 0;
    StreamId last_generated;              // the id of the last entry ever added, even if deleted since
    std::optional<StreamId> first_entry;  // the oldest entry still held; nullopt when the stream is empty
    std::optional<StreamId> max_deleted;  // the newest id ever deleted (trimmed or XDEL), "0-0" for none
    std::optional<std::uint64_t> entries_added;
};

// Parses XINFO STREAM's flat array of names and values; nullopt (with `error`) for another shape.
std::optional<StreamInfo> parse_xinfo(const redis::Reply& reply, std::string* error = nullptr);

// How far `last` is behind the newest entry, in the milliseconds of the ids (their time part): 0 when caught up.
std::uint64_t lag_ms(const StreamInfo& info, StreamId last);

}  // namespace yunity::redis_streams
