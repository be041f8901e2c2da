#pragma once

#include "redis_link.hpp"

#include <yunity/recovery_records.hpp>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace yunity::redis_session {

// The core's recovery records in redis (`<prefix><pid>`, with the recovery window as TTL), so that a client can
// come back to any instance sharing the redis, or to this one after a restart. Taken with GETDEL (redis 6.2+):
// two clients presenting one pid cannot both recover.
//
// A pid with no record may belong to a connection another instance still holds: its client's network changed and
// the server has not seen it go. The claim is then written (`<prefix>claim:<pid>`, short-lived); every instance
// hears of it through the keyspace events it subscribes to (claimed()), the one holding the pid closes that
// connection and writes its record, and this instance looks for the record again for up to `claim_wait`.
class RedisRecoveryRecords final : public RecoveryRecords {
public:
    // The commands link of the master serving a key (null while none is known), and of a master named by a
    // cluster redirect (null when it is not one we follow).
    using Route = std::function<redis::RedisLink*(const std::string& key)>;
    using RouteTo = std::function<redis::RedisLink*(const std::string& host, std::uint16_t port)>;

    RedisRecoveryRecords(boost::asio::io_context& io, std::string prefix, std::chrono::milliseconds claim_wait,
                         Route route, RouteTo route_to);
    ~RedisRecoveryRecords() override;

    void save(const std::string& pid, std::string record, std::chrono::milliseconds ttl) override;
    void take(const std::string& pid, Taken done) override;
    void on_claim(Release release) override { release_ = std::move(release); }

    // The keys whose keyspace events mean a claim (`<prefix>claim:<pid>`), and one such event.
    std::string claim_prefix() const { return prefix_ + "claim:"; }
    void claimed(const std::string& pid);
    // Ends the waits for records: their clients start afresh. At stop, so that no timer outlives the plugin.
    void stop();

    // Writes not yet answered: at shutdown the links stay up until they are, so the records of the clients being
    // closed reach redis.
    std::size_t writes_in_flight() const { return writes_in_flight_; }
    void on_writes_done(std::function<void()> callback) { writes_done_ = std::move(callback); }

private:
    void send(redis::RedisLink& link, std::vector<std::string> argv, bool asking, int redirects,
              std::function<void(const redis::Reply*, const std::string&)> done);

    struct Wait;
    void claim(const std::string& pid, Taken done);
    void look_again(std::shared_ptr<Wait> wait);

    boost::asio::io_context& io_;
    std::string prefix_;
    std::chrono::milliseconds claim_wait_;
    Release release_;
    bool stopped_ = false;
    std::vector<std::weak_ptr<Wait>> waits_;
    Route route_;
    RouteTo route_to_;
    std::size_t writes_in_flight_ = 0;
    std::function<void()> writes_done_;
};

}  // namespace yunity::redis_session
