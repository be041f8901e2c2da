// A source's notifications kept where every instance can read them again (redis-streams: the stream itself), for
// connection state recovery beyond the core's in-memory history: a client that comes back to another instance,
// or after a restart, or from further back than the history holds, is replayed from the log. Used on the core's
// executor only.
#pragma once

#include <yunity/events.hpp>

#include <boost/config.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace yunity {

class BOOST_SYMBOL_VISIBLE NotificationLog {
public:
    static constexpr std::string_view service_name = "notification-log";  // context.service<NotificationLog>()

    struct Page {
        std::vector<events::Notification> notifications;  // after the offset asked for, oldest first
        std::string next;       // where the next page starts (the last entry read, a notification or not)
        std::string upto;       // the end of the range: `upto` as asked, or the start it stood for
        bool complete = false;  // nothing more up to `upto`
        std::string gap;        // set: what followed the offset is no longer all there (trimmed, too old), why
        std::string error;      // set: the log could not be read now
    };
    using Read = std::function<void(Page)>;

    virtual ~NotificationLog() = default;
    // Whether `offset` names a place in this log (a stream entry id); other offsets are not looked for here.
    virtual bool knows(std::string_view offset) const = 0;
    // Where this process began reading the log: nothing up to it was put on the bus here. Empty until known.
    virtual std::string start() const = 0;
    // At most `count` entries after `after`, up to and including `upto` (empty: the start, once the source knows
    // it), as notifications (entries that are not one are skipped, as the live reader skips them). The first page of a replay (`first`) also checks that nothing after `after` was removed. `done` runs on the
    // core's executor, exactly once.
    virtual void read(const std::string& after, const std::string& upto, std::size_t count, bool first, Read done) = 0;
};

}  // namespace yunity
