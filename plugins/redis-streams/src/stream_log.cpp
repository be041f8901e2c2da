#include "stream_log.hpp"

#include "notification_parser.hpp"
#include "stream_reply.hpp"

#include <boost/asio/steady_timer.hpp>

namespace yunity::redis_streams {

namespace {

NotificationLog::Page failed(std::string error) {
    NotificationLog::Page page;
    page.error = std::move(error);
    return page;
}

NotificationLog::Page gap(std::string why) {
    NotificationLog::Page page;
    page.gap = std::move(why);
    return page;
}

}  // namespace

StreamLog::StreamLog(boost::asio::io_context& io, Options options, Start start)
    : io_(io), options_(std::move(options)), start_(std::move(start)) {}

bool StreamLog::knows(std::string_view offset) const { return StreamId::parse(offset).has_value(); }

std::string StreamLog::start() const {
    const auto at = start_();
    return at ? at->to_string() : std::string();
}

void StreamLog::read(const std::string& after, const std::string& upto, std::size_t count, bool first, Read done) {
    const auto from = StreamId::parse(after);
    if (!from) return done(gap("offset unknown"));
    if (!link_) return done(failed("the stream's redis master is not known yet"));
    if (upto.empty()) {
        // A client that comes back the moment this server starts: the reader is still finding where it starts.
        return when_started(100, [this, from, count, first, done = std::move(done)](std::optional<StreamId> at) {
            if (!at) return done(failed("the stream reader has not started"));
            read(from->to_string(), at->to_string(), count, first, done);
        });
    }
    const auto to = StreamId::parse(upto);
    if (!to) return done(gap("offset unknown"));
    if (!first) return read_range(*from, *to, count, std::move(done));
    // Stream ids carry the time they were added: one older than the recovery window is refused like an
    // expired pid, however long the producer's retention.
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    if (from->ms + static_cast<std::uint64_t>(options_.window.count()) < static_cast<std::uint64_t>(now_ms))
        return done(gap("offset too old"));
    check_then_read(*from, *to, count, std::move(done));
}

void StreamLog::when_started(int tries, std::function<void(std::optional<StreamId>)> then) {
    if (auto at = start_(); at || tries == 0) return then(at);
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(50));
    timer->async_wait([this, timer, tries, then = std::move(then)](const boost::system::error_code& ec) mutable {
        if (ec) return then(std::nullopt);
        when_started(tries - 1, std::move(then));
    });
}

// Whether entries after `after` were removed. Trimming (MAXLEN/MINID) removes the oldest entries, so nothing
// after `after` was trimmed while `after` is not older than the oldest entry held (an oldest entry past it is
// taken as a gap, though the trim may have stopped at `after` itself); XDEL shows in redis 7's
// max-deleted-entry-id, which trimming leaves alone.
void StreamLog::check_then_read(StreamId after, StreamId upto, std::size_t count, Read done) {
    link_->command({"XINFO", "STREAM", options_.stream}, [this, after, upto, count, done = std::move(done)](
                                                             const redis::Reply* reply, const std::string& error) {
        if (!reply) {
            if (error.find("no such key") != std::string::npos) return done(gap("stream gone"));
            return done(failed("XINFO STREAM: " + error));
        }
        std::string why;
        const auto info = parse_xinfo(*reply, &why);
        if (!info) return done(failed("XINFO STREAM: " + why));
        const bool trimmed = info->first_entry ? *info->first_entry > after : info->last_generated > after;
        if (trimmed) return done(gap("entries trimmed"));
        if (info->max_deleted && *info->max_deleted > after) return done(gap("entries deleted"));
        read_range(after, upto, count, std::move(done));
    });
}

void StreamLog::read_range(StreamId after, StreamId upto, std::size_t count, Read done) {
    if (!(after < upto)) {
        Page page;
        page.next = after.to_string();
        page.upto = upto.to_string();
        page.complete = true;
        return done(std::move(page));
    }
    link_->command(
        {"XRANGE", options_.stream, "(" + after.to_string(), upto.to_string(), "COUNT", std::to_string(count)},
        [this, after, upto, count, done = std::move(done)](const redis::Reply* reply, const std::string& error) {
            if (!reply) return done(failed("XRANGE: " + error));
            std::string why;
            auto entries = parse_xrange(*reply, options_.field, &why);
            if (!entries) return done(failed(why));
            Page page;
            page.next = after.to_string();
            for (auto& entry : *entries) {
                page.next = entry.id.to_string();
                if (!entry.value) continue;
                auto parsed = notifications::parse_notification(*entry.value, options_.max_message_bytes);
                if (auto* n = std::get_if<events::Notification>(&parsed)) {
                    n->offset = page.next;
                    page.notifications.push_back(std::move(*n));
                }
            }
            page.complete = entries->size() < count || (!entries->empty() && entries->back().id >= upto);
            done(std::move(page));
        });
}

}  // namespace yunity::redis_streams
