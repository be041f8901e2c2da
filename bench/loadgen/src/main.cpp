// ys-loadgen: opens many socket.io connections to one or more servers, authenticates them with sessions it writes
// into redis, and measures idle capacity, fan-out throughput and latency, and a reconnect storm (see bench/README.md).

#include "coordinator.hpp"
#include "options.hpp"

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    using namespace yunity::bench;
    bool help = false;
    Options options;
    try {
        options = parse_options(argc, argv, help);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "ys-loadgen: %s (see --help)\n", e.what());
        return 2;
    }
    if (help) return 0;
    // Every socket is a file: the soft limit (often 1024) goes up to the hard one; past that, more workers.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur != RLIM_INFINITY && options.per_process + 100 > limit.rlim_cur)
        options.per_process = limit.rlim_cur > 1100 ? limit.rlim_cur - 1000 : limit.rlim_cur / 2;
    // A worker whose coordinator vanished gets EPIPE, not a silent death.
    std::signal(SIGPIPE, SIG_IGN);
    std::string command_line;
    for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
    try {
        Coordinator coordinator(options, command_line);
        return coordinator.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ys-loadgen: %s\n", e.what());
        return 1;
    }
}
