#pragma once

#include "redis_link.hpp"
#include "stream_id.hpp"

#include <yunity/notification_log.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace yunity::redis_streams {

// The stream as a log to replay from (connection state recovery): XRANGE after a client's offset, up to where
// the core has routed (or, before any, where the live reader began). Its reads go through a link of their own, never behind the live
// reader's blocking XREAD.
class StreamLog final : public NotificationLog {
public:
    struct Options {
        std::string stream;
        std::string field;
        std::size_t max_message_bytes = 1 << 20;
        // An offset older than this (by its id's time) is too old to replay: the recovery window.
        std::chrono::milliseconds window{0};
    };
    // Where the live reader began: what "$" was pinned to at its first start.
    using Start = std::function<std::optional<StreamId>()>;

    StreamLog(boost::asio::io_context& io, Options options, Start start);

    // The link to read with: made with the plugin's links (in a cluster, once the stream's master is known).
    void use(redis::RedisLink* link) { link_ = link; }

    bool knows(std::string_view offset) const override;
    std::string start() const override;
    void read(const std::string& after, const std::string& upto, std::size_t count, bool first, Read done) override;

private:
    void when_started(int tries, std::function<void(std::optional<StreamId>)> then);
    void check_then_read(StreamId after, StreamId upto, std::size_t count, Read done);
    void read_range(StreamId after, StreamId upto, std::size_t count, Read done);

    boost::asio::io_context& io_;
    Options options_;
    Start start_;
    redis::RedisLink* link_ = nullptr;
};

}  // namespace yunity::redis_streams
