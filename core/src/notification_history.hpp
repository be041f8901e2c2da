#pragma once

#include <yunity/events.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

namespace yunity::core {

// The latest notifications the core routed, oldest first, bounded by a count: what a recovering client is
// replayed from. The payloads are the deliveries' own shared strings, so an entry costs its offset and users.
//
// A reconnect storm asks it once per recovering client: the offset is found through an index (not by comparing
// it with every newer entry's), and each newer entry's users are sorted, so that whether it is for the client's
// user is a binary search (a notification may name hundreds of users).
class NotificationHistory {
public:
    struct Entry {
        std::string offset;
        std::vector<std::string> users;  // sorted
        std::shared_ptr<const std::string> payload;
    };

    explicit NotificationHistory(std::size_t capacity) : capacity_(capacity) {}

    // Keeps a notification that has an offset (one without cannot be asked for), dropping the oldest when full.
    void add(const events::Notification& n);

    // The newest offset kept, empty when none was ever kept. A client given its pid now has seen nothing after it.
    const std::string& newest_offset() const;
    // True once an entry was dropped for room: "everything since the start" is then no longer here.
    bool dropped_any() const { return dropped_ > 0; }

    // Visits, oldest first, every kept notification for `user` after the one at `offset` (empty: every kept one,
    // when none was dropped). False when the history does not reach back to `offset`: unknown, of another run,
    // or dropped; then nothing is visited.
    bool for_user_after(std::string_view offset, std::string_view user,
                        const std::function<void(const Entry&)>& visit) const;

    std::size_t size() const { return entries_.size(); }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };

    std::size_t capacity_;
    std::uint64_t dropped_ = 0;  // also the number of the oldest entry kept: entry n is entries_[n - dropped_]
    std::deque<Entry> entries_;
    // Offset -> number of the newest entry with that offset.
    boost::unordered_flat_map<std::string, std::uint64_t, StringHash, std::equal_to<>> by_offset_;
};

}  // namespace yunity::core
