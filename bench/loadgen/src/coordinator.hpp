#pragma once

// The parent process: forks the workers, sets up sessions, runs the phases in order, publishes the fan-out
// notifications (pipelined, paced by a rate or by a window of deliveries in flight), samples the servers' RSS and
// CPU time from /proc, and writes the results as JSON. Synchronous on purpose: the phases read top to bottom.

#include "latency_histogram.hpp"
#include "options.hpp"
#include "plan.hpp"

#include <rapidjson/document.h>

#include <sys/types.h>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace yunity::bench {

class Coordinator {
public:
    Coordinator(const Options& options, std::string command_line);
    ~Coordinator();
    // 0 when every phase completed with nothing lost, duplicated or misdelivered; 1 otherwise.
    int run();

private:
    struct WorkerProcess {
        pid_t pid = -1;
        int fd = -1;
        std::size_t first = 0, last = 0;
        std::string buffer;
        std::deque<std::string> lines;  // replies other than progress
        std::uint64_t progress = 0;     // deliveries received in the current phase
    };
    struct ServerSample {
        std::uint64_t rss_kb = 0;
        std::uint64_t hwm_kb = 0;  // VmHWM: the peak RSS since the process started
        double cpu_s = 0;
        double system_cpu_s = 0;  // of cpu_s, the time spent in the kernel (system calls, the TCP stack)
    };
    struct ConnectResult {
        double to_authenticating_s = 0, to_confirmed_s = 0;
        std::uint64_t confirmed = 0, total = 0, failures = 0;
        std::uint64_t claims = 0, recovered = 0, not_recovered = 0;  // --storm-recovery
        std::string first_error;
    };

    void spawn_workers();
    void stop_workers();
    void send_all(const std::string& line);
    // Reads what the workers sent, waiting at most timeout_ms; progress lines update `progress`.
    void poll_workers(int timeout_ms, int extra_fd = -1, bool* extra_ready = nullptr);
    std::string next_line(WorkerProcess& w, double timeout_s);
    std::uint64_t progress() const;

    ConnectResult connect_all(bool storm);
    rapidjson::Value connect_json(const ConnectResult& r, const char* kind,
                                  const std::vector<std::pair<std::string, std::uint64_t>>& counters_before);
    // fanout and burst phases: publishing, the drain, and every delivery verified.
    rapidjson::Value run_fanout(const Phase& phase);
    rapidjson::Value run_hold(const Phase& phase);
    rapidjson::Value run_foreign(const Phase& phase);
    ServerSample sample_servers() const { return sample(options_.server_pids); }
    // The loadgen's own processes: whether the load generator, not the server, was the limit.
    ServerSample sample_loadgen() const;
    static ServerSample sample(const std::vector<int>& pids);
    // TcpExt counters of /proc/net/netstat that explain a slow storm: a full accept queue drops handshakes, which
    // clients retry only after a second or more. System-wide: other traffic on the machine counts too.
    static std::vector<std::pair<std::string, std::uint64_t>> listen_counters();
    void fail(std::string why);

    Options options_;
    Plan plan_;
    std::string command_line_;
    std::vector<WorkerProcess> workers_;
    std::uint64_t next_seq_ = 1;
    rapidjson::Document doc_;
    std::vector<std::string> errors_;
};

}  // namespace yunity::bench
