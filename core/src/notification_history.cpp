#include "notification_history.hpp"

#include <algorithm>

namespace yunity::core {

void NotificationHistory::add(const events::Notification& n) {
    if (capacity_ == 0 || n.offset.empty() || !n.payload) return;
    if (entries_.size() == capacity_) {
        // Unless a newer entry has the same offset (a source that repeats one), the index forgets it.
        if (auto it = by_offset_.find(entries_.front().offset); it != by_offset_.end() && it->second == dropped_)
            by_offset_.erase(it);
        entries_.pop_front();
        ++dropped_;
    }
    Entry& e = entries_.emplace_back(Entry{n.offset, n.users, n.payload});
    std::sort(e.users.begin(), e.users.end());
    by_offset_.insert_or_assign(n.offset, dropped_ + entries_.size() - 1);
}

const std::string& NotificationHistory::newest_offset() const {
    static const std::string none;
    return entries_.empty() ? none : entries_.back().offset;
}

bool NotificationHistory::for_user_after(std::string_view offset, std::string_view user,
                                         const std::function<void(const Entry&)>& visit) const {
    auto from = entries_.begin();
    if (offset.empty()) {
        if (dropped_ > 0) return false;
    } else {
        const auto found = by_offset_.find(offset);
        if (found == by_offset_.end()) return false;
        from = entries_.begin() + static_cast<std::ptrdiff_t>(found->second - dropped_ + 1);  // the entry after it
    }
    for (auto it = from; it != entries_.end(); ++it)
        if (std::binary_search(it->users.begin(), it->users.end(), user, std::less<>{})) visit(*it);
    return true;
}

}  // namespace yunity::core
