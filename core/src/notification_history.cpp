#include "notification_history.hpp"

#include <algorithm>

namespace yunity::core {

void NotificationHistory::add(const events::Notification& n) {
    if (capacity_ == 0 || n.offset.empty() || !n.payload) return;
    if (entries_.size() == capacity_) {
        entries_.pop_front();
        ++dropped_;
    }
    entries_.push_back({n.offset, n.users, n.payload});
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
        // From the newest back: a recovering client is usually only a little behind.
        auto found =
            std::find_if(entries_.rbegin(), entries_.rend(), [&](const Entry& e) { return e.offset == offset; });
        if (found == entries_.rend()) return false;
        from = found.base();  // the entry after the one found
    }
    for (auto it = from; it != entries_.end(); ++it)
        if (std::find(it->users.begin(), it->users.end(), user) != it->users.end()) visit(*it);
    return true;
}

}  // namespace yunity::core
