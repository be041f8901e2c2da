#pragma once

#include "stream_reply.hpp"

#include <cstdint>
#include <optional>

namespace yunity::redis_streams {

// Entries the stream removed (trimmed, or deleted with XDEL) before this reader read them: their notifications
// are not delivered by it.
struct Gap {
    StreamId after;                      // the removed entries lie after this id...
    StreamId until;                      // ...up to this one (which may be one of them, or an entry read)
    std::optional<std::uint64_t> count;  // how many, when redis says enough to count them
};

// Follows the reader's position and finds the entries removed before it read them.
//
// With redis 7 it counts. XINFO STREAM's entries-added numbers every entry ever added up to its last-generated-id
// L, so once the reader has read up to L (or past it), every entry up to L was either read or removed: entries-added
// less the entries read is the number removed unread. Before reaching L it can already tell when the stream holds
// only entries after the position (its oldest is newer): entries-added less those up to the position less the
// length were trimmed (MAXLEN/MINID). An XDEL after the position shows in max-deleted-entry-id (which trimming
// does not move), without a count, and ends the counting. Before redis 7, or once counting ended (an XDEL, a
// stream deleted and made again), the oldest entry being newer than the last entry read is taken as a gap up to
// it: wrong only when exactly the entries up to the last one read were removed. Each gap is reported once.
class GapDetector {
public:
    // The position the first start took: the stream's last-generated-id with its entries-added (redis 7), or 0-0
    // and 0 for a stream that does not exist yet.
    void start_at(StreamId position, std::optional<std::uint64_t> entries_added);
    // An entry read, after the last one; a gap found on the way to it.
    std::optional<Gap> read(StreamId id);
    // The stream does not exist (deleted, or redis restarted without its data): whatever is made again under its
    // name is new, all of it to be read.
    void absent();
    // A fresh XINFO STREAM; a gap it shows now.
    std::optional<Gap> check(const StreamInfo& info);
    // Entries added after the position (redis 7, while counting): how far behind the reader is, in entries.
    std::optional<std::uint64_t> behind(const StreamInfo& info) const;

private:
    // Every entry up to the position was read or removed, and redis says `entries_added` of them were added.
    std::optional<Gap> settle(std::uint64_t entries_added);

    struct Mark {
        StreamId id;                  // an XINFO's last-generated-id...
        std::uint64_t entries_added;  // ...and its entries-added, settled when the reader reaches it
    };

    StreamId last_{};
    bool last_was_read_ = false;
    // Entries up to and including the position, read or counted as removed; nullopt once counting ended.
    std::optional<std::uint64_t> counted_;
    StreamId settled_at_{};  // where the count last held: a gap found later lies after it
    std::optional<Mark> mark_;
    StreamId reported_through_{};
};

}  // namespace yunity::redis_streams
