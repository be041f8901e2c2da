#pragma once

// ys-loadgen's command line. Everything a run needs is decided here, before any worker is forked, so that the
// coordinator and its workers agree on the plan without exchanging it.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace yunity::bench {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Target {
    std::string host;
    std::string port;
    std::string host_header;  // host:port, as the Host header and the websocket handshake want it
};

struct Phase {
    enum class Kind { fanout, burst, storm, hold, foreign };
    Kind kind = Kind::fanout;
    double rate = 0;     // fanout: deliveries per second; 0 = as fast as the window lets; foreign: notifications/s
    double seconds = 0;  // fanout, burst and hold: how long (a burst: how long it publishes)
    std::uint64_t window = 0;  // fanout:max: deliveries in flight (0: --window)
    std::string name;          // as written on the command line, for the report
};

struct Options {
    std::vector<Target> targets;  // connections are spread over them round-robin (several server instances)
    std::string path = "/socket.io/";
    std::string redis_host = "127.0.0.1";
    std::string redis_port = "6379";
    std::string session_prefix = "session-store-";
    std::string channel = "notifications";
    // Set: notifications are XADDed to this stream (the redis-streams source) instead of published on `channel`.
    std::string stream;
    // XADD's MAXLEN ~ (a whole number as text; "0": no trimming). A burst needs more than it publishes: entries
    // trimmed before the server read them are lost.
    std::string stream_maxlen = "100000";

    std::size_t connections = 1000;
    std::size_t per_user = 1;  // k: connections of one user
    int eio = 4;               // 3, 4, or 0 for half of each
    double polling_share = 0;  // of the connections, long-polling instead of websocket
    std::size_t source_addresses = 8;
    std::size_t processes = 0;        // 0: as many as the open-file limit asks for
    std::size_t per_process = 18000;  // sockets one worker may hold (the hard limit is 20,000 here)
    std::size_t connect_concurrency = 500;
    std::size_t storm_concurrency = 0;  // 0: every client at once
    // What a storm's reconnections present for connection state recovery: nothing (none), their pid and offset as
    // real clients do (claim: the JSON counts the recovered), or that and every claim must recover (expect).
    enum class StormRecovery { none, claim, expect };
    StormRecovery storm_recovery = StormRecovery::none;

    std::size_t users_per_notification = 10;
    std::size_t payload_bytes = 64;  // padding in each notification's data
    std::size_t window = 10000;      // deliveries in flight when publishing as fast as possible
    std::vector<Phase> phases;

    std::vector<int> server_pids;  // for RSS and CPU time from /proc
    std::string label;
    std::string note;  // free text for the JSON: how the run was set up
    std::string json_out;
    double probe_interval_ms = 10;
    double connect_timeout_s = 120;
    double drain_timeout_s = 15;
    std::uint64_t seed = 0;       // 0: from the clock
    std::uint64_t user_base = 0;  // 0: from the seed, so that runs never share users

    std::size_t users() const { return connections / per_user; }
};

// Throws UsageError; prints help and returns nullopt-like empty targets for --help (see main).
Options parse_options(int argc, char** argv, bool& help_shown);

// The redis command that hands `json` to the server: PUBLISH on the channel, or XADD to the stream.
std::vector<std::string_view> publish_command(const Options& o, std::string_view json);

}  // namespace yunity::bench
