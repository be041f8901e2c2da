#pragma once

// A worker process: holds its share of the connections (contiguous, whole users) on one single-threaded
// io_context, obeys the coordinator's line commands on a socket pair, and checks every delivery against the plan.
//
// Commands and replies (one line each):
//   setup                 -> ok                (sessions written to redis)
//   connect | storm       -> connected <start_ns> <all_authenticating_ns> <all_confirmed_ns> <confirmed> <total>
//                            <failures> <claims> <recovered> <not recovered> <first error>
//                            (claims: recovery claims made on the clients' final links, --storm-recovery)
//   phase <first seq>     -> ok                (counters and histogram reset); then "p <received>" every 5 ms
//   verify <s0> <s1>      -> verified <expected> <received> <lost> <duplicated> <unexpected> <disconnects> <late>
//                            <first error>
//                            then "histogram <serialized>"
//   quit                  -> (exits)

#include "client.hpp"
#include "latency_histogram.hpp"
#include "options.hpp"
#include "plan.hpp"
#include "redis_pipe.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace yunity::bench {

class Worker final : private ClientObserver {
public:
    Worker(const Options& options, const Plan& plan, std::size_t index, std::size_t first, std::size_t last,
           int control_fd);
    int run();

private:
    void on_authenticating(Client& client) override;
    void on_confirmed(Client& client) override;
    void on_delivery(Client& client, std::uint64_t seq, std::int64_t sent_ns) override;
    void on_lost(Client& client, int was, std::string why) override;

    void read_control();
    void on_command(const std::string& line);
    void reply(const std::string& line);

    void setup_sessions();
    void start_connecting(bool storm);
    void pump();
    void tick();
    void publish_probes(std::int64_t now);
    void send_heartbeats();
    void finish_connecting(std::int64_t now);
    void verify(std::uint64_t s0, std::uint64_t s1);
    bool targeted(std::uint64_t seq, std::uint32_t user);

    static std::int64_t now_ns();

    const Options& options_;
    const Plan& plan_;
    std::size_t index_, first_, last_;
    boost::asio::io_context io_{1};
    boost::asio::posix::stream_descriptor control_;
    boost::asio::streambuf control_in_;
    boost::asio::steady_timer tick_timer_;
    std::unique_ptr<RedisPipe> redis_;
    std::deque<LinkSettings> settings_;  // deque: clients keep pointers into it
    std::vector<std::unique_ptr<Client>> clients_;

    // Connecting, and reconnecting after failures.
    std::deque<std::uint32_t> pending_;
    std::vector<std::pair<std::int64_t, std::uint32_t>> retry_;  // (due, client) after a failed attempt
    std::size_t in_flight_ = 0;
    std::size_t concurrency_ = 0;
    bool awaiting_ = false;  // a connect or storm waits for every client to be confirmed
    std::int64_t started_ns_ = 0, all_authenticating_ns_ = 0, all_confirmed_ns_ = 0, last_probe_ns_ = 0;
    std::size_t authenticating_ = 0;  // clients that sent authenticate (or are confirmed) on their current link
    std::size_t confirmed_ = 0;
    std::uint64_t failures_ = 0;
    bool claiming_ = false;  // this storm's reconnections present what they kept for recovery
    // Per local user: when it may be probed again, and the current gap (doubling from the probe interval to
    // max_probe_gap): a user whose authenticate the server has not processed yet is asked again, but its quicker
    // siblings, which every probe reaches, are not flooded.
    std::vector<std::int64_t> next_probe_ns_;
    std::vector<std::int64_t> probe_gap_ns_;
    std::string first_error_;

    // The current fan-out phase.
    std::uint64_t received_ = 0, reported_ = 0, duplicated_ = 0, unexpected_ = 0, disconnects_ = 0;
    // Deliveries of an earlier phase that arrive in this one (after a phase that did not drain): counted apart so
    // that they can neither hide this phase's losses nor pass for its deliveries.
    std::uint64_t late_ = 0;
    std::uint64_t phase_first_seq_ = 0;
    LatencyHistogram histogram_;
    std::int64_t last_heartbeat_sweep_ns_ = 0;
    std::int64_t epoch_ns_ = 0;

    // users_of() for recent sequence numbers: a notification reaches many of this worker's clients in a burst.
    struct CachedTargets {
        std::uint64_t seq = UINT64_MAX;
        std::vector<std::uint32_t> users;
    };
    std::vector<CachedTargets> targets_cache_;
    bool quit_ = false;
};

}  // namespace yunity::bench
