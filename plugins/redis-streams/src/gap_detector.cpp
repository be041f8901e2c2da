#include "gap_detector.hpp"

#include <algorithm>

namespace yunity::redis_streams {

void GapDetector::start_at(StreamId position, std::optional<std::uint64_t> entries_added) {
    last_ = position;
    last_was_read_ = false;
    counted_ = entries_added;
    settled_at_ = position;
    mark_.reset();
    reported_through_ = position;
}

void GapDetector::absent() {
    counted_ = 0;
    settled_at_ = last_;
    mark_.reset();
    last_was_read_ = false;
}

std::optional<Gap> GapDetector::settle(std::uint64_t entries_added) {
    std::optional<Gap> gap;
    if (entries_added < *counted_) {
        // Fewer entries ever added than already passed: the stream was deleted and made again meanwhile.
        counted_.reset();
        return gap;
    }
    if (entries_added > *counted_) {
        gap = Gap{settled_at_, last_, entries_added - *counted_};
        counted_ = entries_added;
        reported_through_ = std::max(reported_through_, last_);
    }
    settled_at_ = last_;
    return gap;
}

std::optional<Gap> GapDetector::read(StreamId id) {
    std::optional<Gap> gap;
    if (counted_ && mark_ && id > mark_->id) {
        // The mark itself was never read: it, and whatever else up to it is missing, was removed. Settled at the
        // mark, before this entry counts.
        last_ = mark_->id;
        gap = settle(mark_->entries_added);
        mark_.reset();
    }
    last_ = id;
    last_was_read_ = true;
    if (counted_) ++*counted_;
    if (counted_ && mark_ && id == mark_->id) {
        gap = settle(mark_->entries_added);
        mark_.reset();
    }
    return gap;
}

std::optional<Gap> GapDetector::check(const StreamInfo& info) {
    if (counted_ && info.entries_added) {
        if (last_ >= info.last_generated) {
            // Caught up: everything up to the last id was read or removed.
            mark_.reset();
            if (auto gap = settle(*info.entries_added)) return gap;
        } else {
            mark_ = Mark{info.last_generated, *info.entries_added};
            const bool only_newer = !info.first_entry || *info.first_entry > last_;
            const std::uint64_t unread = *info.entries_added >= *counted_ ? *info.entries_added - *counted_ : 0;
            if (only_newer && unread > info.length) {
                // Everything held lies after the position: the rest of what was added after it was trimmed.
                const std::uint64_t missing = unread - info.length;
                *counted_ += missing;
                const StreamId until = info.first_entry ? *info.first_entry : info.last_generated;
                reported_through_ = std::max({reported_through_, until, info.max_deleted.value_or(StreamId{})});
                return Gap{last_, until, missing};
            }
        }
    }
    const StreamId from = std::max(last_, reported_through_);
    if (info.max_deleted && *info.max_deleted > from) {
        // An entry after the position was deleted with XDEL: it will never be read, so counting ends here.
        counted_.reset();
        mark_.reset();
        reported_through_ = *info.max_deleted;
        return Gap{last_, *info.max_deleted, std::nullopt};
    }
    if (!counted_ && last_was_read_ && info.first_entry && *info.first_entry > from) {
        reported_through_ = *info.first_entry;
        return Gap{last_, *info.first_entry, std::nullopt};
    }
    return std::nullopt;
}

std::optional<std::uint64_t> GapDetector::behind(const StreamInfo& info) const {
    if (!counted_ || !info.entries_added || *info.entries_added < *counted_) return std::nullopt;
    return *info.entries_added - *counted_;
}

}  // namespace yunity::redis_streams
