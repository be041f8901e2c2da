#pragma once

// The run's plan, derived from the options alone: which user, session, protocol version, transport, source address
// and server each connection gets, and which users each notification names. The coordinator and every worker
// compute the same answers without talking, so a worker can tell a delivery that was due from one that was not.

#include "options.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace yunity::bench {

class Plan {
public:
    explicit Plan(const Options& options);

    std::size_t connections() const { return connections_; }
    std::size_t users() const { return users_; }
    std::size_t per_user() const { return per_user_; }
    std::size_t users_per_notification() const { return m_; }

    std::size_t user_of(std::size_t conn) const { return conn / per_user_; }
    std::uint64_t user_id(std::size_t user) const { return user_base_ + user; }
    std::string session_id(std::size_t conn) const;
    int eio_of(std::size_t conn) const;
    bool polling(std::size_t conn) const;
    std::size_t source_of(std::size_t conn) const { return conn % sources_; }
    std::size_t target_of(std::size_t conn) const { return conn % targets_; }

    // The distinct users (indexes, not ids) notification `seq` names, in the order they are published. Floyd's
    // sampling: exactly m draws whatever m is, no rejection loop.
    void users_of(std::uint64_t seq, std::vector<std::uint32_t>& out) const;

    static std::uint64_t mix(std::uint64_t x);  // splitmix64's finalizer

private:
    std::size_t connections_, users_, per_user_, m_, sources_, targets_;
    int eio_;
    double polling_share_;
    std::uint64_t seed_, user_base_;
    std::string session_prefix_;  // run tag, so two runs on one redis never share a session
};

}  // namespace yunity::bench
