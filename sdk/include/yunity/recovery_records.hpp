// Where the core keeps what a reconnecting client needs to get its connection back (Socket.IO 5's connection
// state recovery): for each `pid` a client was given, the record the core wrote when the connection went away,
// for the recovery window. A session resolver that keeps its sessions in a shared store provides this service
// (redis-session: keys `yunity-recovery:<pid>` with a TTL), so that a client can come back on any instance, or
// after a restart; without one the core keeps the records in its own memory. Used on the core's executor only.
#pragma once

#include <boost/config.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace yunity {

inline constexpr std::string_view recovery_records_service = "recovery-records";

class BOOST_SYMBOL_VISIBLE RecoveryRecords {
public:
    static constexpr std::string_view service_name = recovery_records_service;  // context.service<RecoveryRecords>()

    using Taken = std::function<void(std::optional<std::string> record, std::string error)>;

    virtual ~RecoveryRecords() = default;
    // Keeps `record` under `pid` for `ttl`, replacing any earlier one. Fire and forget: a record that could not
    // be written only means that client starts afresh.
    virtual void save(const std::string& pid, std::string record, std::chrono::milliseconds ttl) = 0;
    // Removes and returns the record of `pid` (once: two clients presenting one pid cannot both recover), or
    // none when there is none (never written, expired, or taken). `error` is set when the store could not be
    // asked (then `record` is none too). `done` runs on the core's executor, exactly once.
    virtual void take(const std::string& pid, Taken done) = 0;

    // Who lets a pid go: `release(pid)` closes this instance's connection that holds the pid, if any, saves its
    // record (through save(), before returning) and returns true; false when no connection here holds it. The core
    // sets it once the plugins have started. A store shared by instances calls it when a client claims, on another
    // instance, a pid that has no record (its connection here dropped without the server seeing it: a network
    // change), and that instance looks for the record again for a while. A store of one process ignores it.
    using Release = std::function<bool(const std::string& pid)>;
    virtual void on_claim(Release release) { (void)release; }
};

}  // namespace yunity
