#pragma once

#include "redis_link.hpp"

#include <yunity/recovery_records.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace yunity::redis_session {

// The core's recovery records in redis (`<prefix><pid>`, with the recovery window as TTL), so that a client can
// come back to any instance sharing the redis, or to this one after a restart. Taken with GETDEL (redis 6.2+):
// two clients presenting one pid cannot both recover.
class RedisRecoveryRecords final : public RecoveryRecords {
public:
    // The commands link of the master serving a key (null while none is known), and of a master named by a
    // cluster redirect (null when it is not one we follow).
    using Route = std::function<redis::RedisLink*(const std::string& key)>;
    using RouteTo = std::function<redis::RedisLink*(const std::string& host, std::uint16_t port)>;

    RedisRecoveryRecords(std::string prefix, Route route, RouteTo route_to);

    void save(const std::string& pid, std::string record, std::chrono::milliseconds ttl) override;
    void take(const std::string& pid, Taken done) override;

    // Writes not yet answered: at shutdown the links stay up until they are, so the records of the clients being
    // closed reach redis.
    std::size_t writes_in_flight() const { return writes_in_flight_; }
    void on_writes_done(std::function<void()> callback) { writes_done_ = std::move(callback); }

private:
    void send(redis::RedisLink& link, std::vector<std::string> argv, bool asking, int redirects,
              std::function<void(const redis::Reply*, const std::string&)> done);

    std::string prefix_;
    Route route_;
    RouteTo route_to_;
    std::size_t writes_in_flight_ = 0;
    std::function<void()> writes_done_;
};

}  // namespace yunity::redis_session
