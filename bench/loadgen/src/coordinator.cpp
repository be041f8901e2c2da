#include "coordinator.hpp"

#include "redis_pipe.hpp"
#include "worker.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace yunity::bench {

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double seconds_since(std::int64_t t0) { return static_cast<double>(now_ns() - t0) / 1e9; }

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

double round_to(double v, int digits) {
    const double f = std::pow(10.0, digits);
    return std::round(v * f) / f;
}

}  // namespace

Coordinator::Coordinator(const Options& options, std::string command_line)
    : options_(options), plan_(options_), command_line_(std::move(command_line)) {
    doc_.SetObject();
}

Coordinator::~Coordinator() { stop_workers(); }

void Coordinator::fail(std::string why) {
    std::fprintf(stderr, "ys-loadgen: %s\n", why.c_str());
    errors_.push_back(std::move(why));
}

// ---- workers ----

void Coordinator::spawn_workers() {
    // Sockets per worker: one per websocket client, two per polling client (the held GET and the POSTs).
    std::size_t sockets = 0;
    for (std::size_t c = 0; c < plan_.connections(); ++c) sockets += plan_.polling(c) ? 2 : 1;
    std::size_t count = options_.processes;
    if (count == 0) count = std::max<std::size_t>(1, (sockets + options_.per_process - 1) / options_.per_process);
    count = std::min(count, plan_.users());
    // Whole users per worker, so that a worker alone can probe and verify its users.
    const auto users_each = (plan_.users() + count - 1) / count;
    std::fflush(stdout);
    std::fflush(stderr);
    for (std::size_t w = 0; w < count; ++w) {
        const auto first_user = w * users_each;
        const auto last_user = std::min(plan_.users(), first_user + users_each);
        if (first_user >= last_user) break;
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::runtime_error("socketpair failed");
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid == 0) {
            ::close(fds[0]);
            for (const auto& other : workers_) ::close(other.fd);
            int rc = 1;
            try {
                Worker worker(options_, plan_, w, first_user * plan_.per_user(), last_user * plan_.per_user(), fds[1]);
                rc = worker.run();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "[worker %zu] %s\n", w, e.what());
            }
            std::fflush(stderr);
            ::_exit(rc);
        }
        ::close(fds[1]);
        WorkerProcess wp;
        wp.pid = pid;
        wp.fd = fds[0];
        wp.first = first_user * plan_.per_user();
        wp.last = last_user * plan_.per_user();
        workers_.push_back(std::move(wp));
    }
}

void Coordinator::stop_workers() {
    for (auto& w : workers_) {
        if (w.fd >= 0) {
            const char quit[] = "quit\n";
            [[maybe_unused]] auto n = ::write(w.fd, quit, sizeof quit - 1);
            ::close(w.fd);
            w.fd = -1;
        }
    }
    for (auto& w : workers_) {
        if (w.pid > 0) {
            int status = 0;
            ::waitpid(w.pid, &status, 0);
            w.pid = -1;
        }
    }
}

void Coordinator::send_all(const std::string& line) {
    const auto out = line + "\n";
    for (auto& w : workers_)
        if (::write(w.fd, out.data(), out.size()) != static_cast<ssize_t>(out.size()))
            throw std::runtime_error("a worker is gone");
}

void Coordinator::poll_workers(int timeout_ms, int extra_fd, bool* extra_ready) {
    std::vector<pollfd> fds;
    for (const auto& w : workers_) fds.push_back({w.fd, POLLIN, 0});
    if (extra_fd >= 0) fds.push_back({extra_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    if (extra_ready) *extra_ready = extra_fd >= 0 && (fds.back().revents & (POLLIN | POLLHUP | POLLERR));
    char buf[65536];
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto& w = workers_[i];
        const auto n = ::read(w.fd, buf, sizeof buf);
        if (n <= 0) throw std::runtime_error("worker " + std::to_string(i) + " died (see its message above)");
        w.buffer.append(buf, static_cast<std::size_t>(n));
        std::size_t start = 0, nl;
        while ((nl = w.buffer.find('\n', start)) != std::string::npos) {
            std::string line = w.buffer.substr(start, nl - start);
            start = nl + 1;
            if (line.starts_with("p ")) w.progress = std::stoull(line.substr(2));
            else w.lines.push_back(std::move(line));
        }
        w.buffer.erase(0, start);
    }
}

std::string Coordinator::next_line(WorkerProcess& w, double timeout_s) {
    const auto t0 = now_ns();
    while (w.lines.empty()) {
        if (seconds_since(t0) > timeout_s) throw std::runtime_error("a worker did not answer in time");
        poll_workers(100);
    }
    auto line = std::move(w.lines.front());
    w.lines.pop_front();
    return line;
}

std::uint64_t Coordinator::progress() const {
    std::uint64_t sum = 0;
    for (const auto& w : workers_) sum += w.progress;
    return sum;
}

// ---- /proc ----

Coordinator::ServerSample Coordinator::sample_loadgen() const {
    std::vector<int> pids{static_cast<int>(::getpid())};
    for (const auto& w : workers_) pids.push_back(w.pid);
    return sample(pids);
}

Coordinator::ServerSample Coordinator::sample(const std::vector<int>& pids) {
    ServerSample s;
    static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    for (int pid : pids) {
        std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
        std::string line;
        while (std::getline(status, line))
            if (line.starts_with("VmRSS:")) s.rss_kb += std::stoull(line.substr(6));
            else if (line.starts_with("VmHWM:")) s.hwm_kb += std::stoull(line.substr(6));
        // Fields 14 and 15 of stat (utime, stime) follow the command name, which may hold spaces: count from ')'.
        const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        const auto paren = stat.rfind(')');
        if (paren == std::string::npos) continue;
        std::istringstream fields(stat.substr(paren + 2));
        std::string f;
        double utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i) {
            if (i == 14) utime = std::stod(f);
            if (i == 15) stime = std::stod(f);
        }
        s.cpu_s += (utime + stime) / ticks;
        s.system_cpu_s += stime / ticks;
    }
    return s;
}

std::vector<std::pair<std::string, std::uint64_t>> Coordinator::listen_counters() {
    std::istringstream in(read_file("/proc/net/netstat"));
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (!names.starts_with("TcpExt:")) continue;
        std::istringstream n(names), v(values);
        std::string name, value;
        std::vector<std::pair<std::string, std::uint64_t>> out;
        n >> name;
        v >> value;
        while (n >> name && v >> value)
            if (name == "ListenOverflows" || name == "ListenDrops" || name == "SyncookiesSent" ||
                name == "TCPReqQFullDrop" || name == "TCPTimeouts")
                out.emplace_back(name, std::stoull(value));
        return out;
    }
    return {};
}

// ---- phases ----

Coordinator::ConnectResult Coordinator::connect_all(bool storm) {
    send_all(storm ? "storm" : "connect");
    ConnectResult r;
    std::int64_t start = INT64_MAX, authenticating = 0, confirmed = 0;
    for (auto& w : workers_) {
        const auto line = next_line(w, options_.connect_timeout_s + 30);
        std::istringstream in(line);
        std::string word, error;
        std::int64_t s = 0, a = 0, c = 0;
        std::uint64_t conf = 0, total = 0, failures = 0, claims = 0, recovered = 0, not_recovered = 0;
        in >> word >> s >> a >> c >> conf >> total >> failures >> claims >> recovered >> not_recovered;
        std::getline(in, error);
        if (word != "connected") throw std::runtime_error("unexpected reply from a worker: " + line);
        start = std::min(start, s);
        authenticating = std::max(authenticating, a);
        confirmed = std::max(confirmed, c);
        r.confirmed += conf;
        r.total += total;
        r.failures += failures;
        r.claims += claims;
        r.recovered += recovered;
        r.not_recovered += not_recovered;
        if (!error.empty() && error != " -" && r.first_error.empty()) r.first_error = error.substr(1);
    }
    r.to_authenticating_s = static_cast<double>(authenticating - start) / 1e9;
    r.to_confirmed_s = static_cast<double>(confirmed - start) / 1e9;
    if (r.confirmed != r.total)
        fail(std::string(storm ? "storm" : "connect") + ": only " + std::to_string(r.confirmed) + " of " +
             std::to_string(r.total) + " clients authenticated (" + r.first_error + ")");
    // The server answers a claim before anything else reaches the client, so every confirmed client's is answered.
    if (r.recovered + r.not_recovered != r.claims)
        fail("storm: " + std::to_string(r.claims - r.recovered - r.not_recovered) + " of " + std::to_string(r.claims) +
             " recovery claims were never answered");
    if (options_.storm_recovery == Options::StormRecovery::expect && storm && r.recovered != r.total)
        fail("storm: " + std::to_string(r.recovered) + " of " + std::to_string(r.total) + " clients recovered (" +
             std::to_string(r.claims) + " claimed, " + std::to_string(r.not_recovered) + " refused)");
    return r;
}

rapidjson::Value Coordinator::connect_json(const ConnectResult& r, const char* kind,
                                           const std::vector<std::pair<std::string, std::uint64_t>>& counters_before) {
    auto& a = doc_.GetAllocator();
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("kind", rapidjson::Value(kind, a), a);
    v.AddMember("clients", r.total, a);
    v.AddMember("authenticated", r.confirmed, a);
    v.AddMember("seconds_to_all_authenticate_sent", round_to(r.to_authenticating_s, 4), a);
    v.AddMember("seconds_to_all_authenticated", round_to(r.to_confirmed_s, 4), a);
    v.AddMember("connections_per_second",
                round_to(r.to_authenticating_s > 0 ? static_cast<double>(r.total) / r.to_authenticating_s : 0, 0), a);
    v.AddMember("failed_attempts", r.failures, a);
    if (options_.storm_recovery != Options::StormRecovery::none && std::string_view(kind) == "storm") {
        rapidjson::Value recovery(rapidjson::kObjectType);
        recovery.AddMember("claims", r.claims, a);
        recovery.AddMember("recovered", r.recovered, a);
        recovery.AddMember("not_recovered", r.not_recovered, a);
        v.AddMember("recovery", recovery, a);
    }
    if (!r.first_error.empty()) v.AddMember("first_error", rapidjson::Value(r.first_error.c_str(), a), a);
    rapidjson::Value tcp(rapidjson::kObjectType);
    const auto after = listen_counters();
    for (std::size_t i = 0; i < after.size() && i < counters_before.size(); ++i)
        tcp.AddMember(rapidjson::Value(after[i].first.c_str(), a),
                      rapidjson::Value(static_cast<std::uint64_t>(after[i].second - counters_before[i].second)), a);
    v.AddMember("tcp_counters", tcp, a);
    return v;
}

rapidjson::Value Coordinator::run_hold(const Phase& phase) {
    auto& a = doc_.GetAllocator();
    const auto before = sample_servers();
    const auto t0 = now_ns();
    while (seconds_since(t0) < phase.seconds) poll_workers(100);
    const auto after = sample_servers();
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("kind", "hold", a);
    v.AddMember("name", rapidjson::Value(phase.name.c_str(), a), a);
    v.AddMember("seconds", phase.seconds, a);
    v.AddMember("server_rss_kb", after.rss_kb, a);
    v.AddMember("server_cpu_seconds", round_to(after.cpu_s - before.cpu_s, 3), a);
    return v;
}

// Notifications for users that no client holds (as for the users of other instances, when several share a redis):
// the server parses and routes each, and sends nothing. The server's CPU over the phase, per notification, is what
// an instance pays for a notification that is not for it.
rapidjson::Value Coordinator::run_foreign(const Phase& phase) {
    auto& a = doc_.GetAllocator();
    RedisPipe pub(options_.redis_host, options_.redis_port);
    const std::string padding(options_.payload_bytes, 'x');
    std::size_t redis_errors = 0;
    std::uint64_t published = 0;
    std::string json;
    const auto before = sample_servers();
    const auto t0 = now_ns();
    const auto end = t0 + static_cast<std::int64_t>(phase.seconds * 1e9);
    for (auto now = now_ns(); now < end; now = now_ns()) {
        const auto target = static_cast<std::uint64_t>(static_cast<double>(now - t0) / 1e9 * phase.rate);
        auto due = std::min<std::uint64_t>(target > published ? target - published : 0, 2000);
        if (pub.pending() > 50000) due = 0;
        for (std::uint64_t i = 0; i < due; ++i, ++published) {
            json = "{\"users\":[";
            for (std::size_t j = 0; j < plan_.users_per_notification(); ++j) {
                if (j) json += ',';
                json += "\"nobody-" + std::to_string(published) + "-" + std::to_string(j) + "\"";
            }
            json += "],\"data\":{\"k\":2,\"x\":\"" + padding + "\"}}";
            pub.append(publish_command(options_, json));
        }
        if (due) pub.flush();
        bool redis_ready = false;
        poll_workers(due ? 0 : 1, pub.fd(), &redis_ready);
        if (redis_ready) pub.read_available(redis_errors);
    }
    const auto published_end = now_ns();
    while (pub.pending() > 0 && seconds_since(published_end) < 5) {
        bool redis_ready = false;
        poll_workers(5, pub.fd(), &redis_ready);
        if (redis_ready) pub.read_available(redis_errors);
    }
    // The server may still be working through what redis handed it: let it finish before its CPU is read.
    const auto settle = now_ns();
    while (seconds_since(settle) < 1.0) poll_workers(100);
    const auto after = sample_servers();
    const double seconds = static_cast<double>(published_end - t0) / 1e9;
    const double cpu = after.cpu_s - before.cpu_s;
    const double us_per = published ? cpu * 1e6 / static_cast<double>(published) : 0;
    if (redis_errors) fail(phase.name + ": " + std::to_string(redis_errors) + " commands failed");
    std::fprintf(stderr,
                 "ys-loadgen: %-24s %8.0f notifications/s for users nobody holds, server cpu %.0f%%: %.2f us each\n",
                 phase.name.c_str(), static_cast<double>(published) / seconds, 100.0 * cpu / (seconds + 1.0), us_per);
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("kind", "foreign", a);
    v.AddMember("name", rapidjson::Value(phase.name.c_str(), a), a);
    v.AddMember("seconds", phase.seconds, a);
    v.AddMember("notifications", published, a);
    v.AddMember("notifications_per_second", round_to(static_cast<double>(published) / seconds, 0), a);
    v.AddMember("users_per_notification", static_cast<std::uint64_t>(plan_.users_per_notification()), a);
    v.AddMember("server_cpu_seconds", round_to(cpu, 3), a);
    v.AddMember("server_us_per_notification", round_to(us_per, 2), a);
    return v;
}

rapidjson::Value Coordinator::run_fanout(const Phase& phase) {
    auto& a = doc_.GetAllocator();
    send_all("phase " + std::to_string(next_seq_));
    for (auto& w : workers_) {
        if (next_line(w, 30) != "ok") throw std::runtime_error("a worker refused the phase");
        // Only now: progress lines of the previous phase may come before the "ok".
        w.progress = 0;
    }
    RedisPipe pub(options_.redis_host, options_.redis_port);
    const std::uint64_t per_notification = plan_.users_per_notification() * plan_.per_user();
    const double notification_rate = phase.rate > 0 ? phase.rate / static_cast<double>(per_notification) : 0;
    const std::string padding(options_.payload_bytes, 'x');
    const std::uint64_t window = phase.window ? phase.window : options_.window;
    // A burst publishes as fast as redis answers, with no window: how the server copes with a backlog larger than
    // it delivers in the time, and what memory that costs it.
    const bool burst = phase.kind == Phase::Kind::burst;
    const auto seq0 = next_seq_;
    std::uint64_t published = 0;
    std::size_t redis_errors = 0;
    std::vector<std::uint32_t> users;
    std::string json;
    rapidjson::Value series(rapidjson::kArrayType);
    const auto before = sample_servers();
    const auto loadgen_before = sample_loadgen();
    const auto t0 = now_ns();
    const auto end = t0 + static_cast<std::int64_t>(phase.seconds * 1e9);
    auto next_sample = t0 + 100'000'000;
    std::uint64_t last_sample_progress = 0;
    std::uint64_t received_at_end = 0;
    std::uint64_t peak_rss_kb = before.rss_kb;  // sampled with the series: whether memory stays bounded

    const auto sample_series = [&](std::int64_t now) {
        if (now >= next_sample) peak_rss_kb = std::max(peak_rss_kb, sample_servers().rss_kb);
        while (now >= next_sample) {
            const auto p = progress();
            rapidjson::Value point(rapidjson::kArrayType);
            point.PushBack(round_to(static_cast<double>(next_sample - t0) / 1e9, 2), a);
            point.PushBack(static_cast<double>(p - last_sample_progress) * 10.0, a);
            series.PushBack(point, a);
            last_sample_progress = p;
            next_sample += 100'000'000;
        }
    };
    const auto service = [&](int timeout_ms) {
        bool redis_ready = false;
        poll_workers(timeout_ms, pub.fd(), &redis_ready);
        if (redis_ready) pub.read_available(redis_errors);
    };

    for (auto now = now_ns(); now < end; now = now_ns()) {
        std::uint64_t due = 0;
        if (burst) {
            due = 2000;
        } else if (notification_rate > 0) {
            const auto target = static_cast<std::uint64_t>(static_cast<double>(now - t0) / 1e9 * notification_rate);
            due = target > published ? target - published : 0;
        } else {
            const auto in_flight = published * per_notification - std::min(published * per_notification, progress());
            due = in_flight < window ? (window - in_flight) / per_notification : 0;
        }
        // Bounded batches and replies outstanding: redis and the server see a stream, not one huge burst.
        due = std::min<std::uint64_t>(due, 2000);
        if (pub.pending() > 50000) due = 0;
        for (std::uint64_t i = 0; i < due; ++i) {
            const auto seq = next_seq_++;
            plan_.users_of(seq, users);
            json = "{\"users\":[";
            for (std::size_t j = 0; j < users.size(); ++j) {
                if (j) json += ',';
                json += std::to_string(plan_.user_id(users[j]));
            }
            json += "],\"data\":{\"k\":1,\"s\":" + std::to_string(seq) + ",\"t\":" + std::to_string(now_ns()) +
                    ",\"x\":\"" + padding + "\"}}";
            pub.append(publish_command(options_, json));
            ++published;
        }
        if (due) pub.flush();
        sample_series(now_ns());
        service(due ? 0 : 1);
    }
    received_at_end = progress();
    const auto published_end = now_ns();
    const auto expected = published * per_notification;
    // A burst's drain is long by design, and one that lost (pub/sub's subscriber dropped by redis) would wait
    // for the whole timeout: it stops once nothing has arrived for this long.
    constexpr double burst_stall_s = 5;
    auto last_progress = progress();
    auto last_progress_ns = now_ns();
    while (progress() < expected && seconds_since(published_end) < options_.drain_timeout_s) {
        service(5);
        sample_series(now_ns());
        if (progress() != last_progress) {
            last_progress = progress();
            last_progress_ns = now_ns();
        } else if (burst && seconds_since(last_progress_ns) > burst_stall_s) {
            break;
        }
    }
    const auto drained = now_ns();
    while (pub.pending() > 0 && seconds_since(drained) < 5) service(5);
    const auto after = sample_servers();
    const auto loadgen_after = sample_loadgen();

    send_all("verify " + std::to_string(seq0) + " " + std::to_string(next_seq_));
    std::uint64_t exp = 0, got = 0, lost = 0, dup = 0, unexpected = 0, disconnects = 0, late = 0;
    std::string first_error;
    LatencyHistogram histogram;
    for (auto& w : workers_) {
        std::istringstream in(next_line(w, 60));
        std::string word;
        std::uint64_t e, g, l, d, u, x, late_here;
        in >> word >> e >> g >> l >> d >> u >> x >> late_here;
        late += late_here;
        if (word != "verified") throw std::runtime_error("unexpected reply from a worker");
        std::string error;
        std::getline(in, error);
        if (error.size() > 1 && error != " -" && first_error.empty()) first_error = error.substr(1);
        exp += e, got += g, lost += l, dup += d, unexpected += u, disconnects += x;
        const auto h = next_line(w, 10);
        if (!h.starts_with("histogram ")) throw std::runtime_error("a worker sent no histogram");
        histogram.merge(LatencyHistogram::parse(std::string_view(h).substr(10)));
    }
    if (exp != expected)
        fail(phase.name + ": the workers expected " + std::to_string(exp) + " deliveries, the publisher " +
             std::to_string(expected));
    const bool drained_all = progress() >= expected;
    if (!drained_all)
        fail(phase.name + ": " + std::to_string(expected - std::min(expected, progress())) + " deliveries still " +
             "missing " + std::to_string(static_cast<double>(drained - published_end) / 1e9) +
             " s after the last publish (the server fell behind, or lost them)");
    if (lost || dup || unexpected)
        fail(phase.name + ": " + std::to_string(lost) + " lost, " + std::to_string(dup) + " duplicated, " +
             std::to_string(unexpected) + " misdelivered");
    if (disconnects)
        fail(phase.name + ": " + std::to_string(disconnects) + " clients disconnected (first: " + first_error + ")");
    if (redis_errors) fail(phase.name + ": " + std::to_string(redis_errors) + " PUBLISH commands failed");

    const double duration = static_cast<double>(drained - t0) / 1e9;
    const double publish_seconds = static_cast<double>(published_end - t0) / 1e9;
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("kind", rapidjson::StringRef(burst ? "burst" : "fanout"), a);
    v.AddMember("name", rapidjson::Value(phase.name.c_str(), a), a);
    v.AddMember("target_deliveries_per_second", phase.rate, a);
    v.AddMember("seconds", phase.seconds, a);
    v.AddMember("users_per_notification", static_cast<std::uint64_t>(plan_.users_per_notification()), a);
    v.AddMember("connections_per_user", static_cast<std::uint64_t>(plan_.per_user()), a);
    v.AddMember("notifications", published, a);
    v.AddMember("deliveries_expected", expected, a);
    v.AddMember("deliveries_received", got, a);
    v.AddMember("lost", lost, a);
    v.AddMember("duplicated", dup, a);
    v.AddMember("misdelivered", unexpected, a);
    v.AddMember("disconnects", disconnects, a);
    v.AddMember("late_from_earlier_phases", late, a);
    // While publishing (what the server sustained), and including the drain (what the clients got overall).
    v.AddMember("deliveries_per_second", round_to(static_cast<double>(received_at_end) / phase.seconds, 0), a);
    v.AddMember("deliveries_per_second_with_drain", round_to(duration > 0 ? static_cast<double>(got) / duration : 0, 0),
                a);
    v.AddMember("drain_seconds", round_to(static_cast<double>(drained - published_end) / 1e9, 3), a);
    v.AddMember("drained", drained_all, a);
    v.AddMember("publish_seconds", round_to(publish_seconds, 3), a);
    v.AddMember("notifications_per_second_published",
                round_to(publish_seconds > 0 ? static_cast<double>(published) / publish_seconds : 0, 0), a);
    v.AddMember("deliveries_per_second_published",
                round_to(publish_seconds > 0 ? static_cast<double>(expected) / publish_seconds : 0, 0), a);
    v.AddMember("seconds_to_last_delivery", round_to(duration, 3), a);
    rapidjson::Value lat(rapidjson::kObjectType);
    lat.AddMember("p50", round_to(static_cast<double>(histogram.percentile(0.5)) / 1e3, 1), a);
    lat.AddMember("p90", round_to(static_cast<double>(histogram.percentile(0.9)) / 1e3, 1), a);
    lat.AddMember("p99", round_to(static_cast<double>(histogram.percentile(0.99)) / 1e3, 1), a);
    lat.AddMember("p999", round_to(static_cast<double>(histogram.percentile(0.999)) / 1e3, 1), a);
    lat.AddMember("max", round_to(static_cast<double>(histogram.max()) / 1e3, 1), a);
    v.AddMember("latency_us", lat, a);
    rapidjson::Value hist(rapidjson::kArrayType);
    for (const auto& [ns, count] : histogram.buckets()) {
        rapidjson::Value b(rapidjson::kArrayType);
        b.PushBack(round_to(static_cast<double>(ns) / 1e3, 2), a).PushBack(count, a);
        hist.PushBack(b, a);
    }
    v.AddMember("latency_histogram_us", hist, a);
    v.AddMember("throughput_series", series, a);
    const double cpu = after.cpu_s - before.cpu_s;
    v.AddMember("server_cpu_seconds", round_to(cpu, 3), a);
    v.AddMember("server_cpu_share", round_to(duration > 0 ? cpu / duration : 0, 3), a);
    v.AddMember("server_cpu_us_per_delivery", round_to(got ? cpu * 1e6 / static_cast<double>(got) : 0, 3), a);
    // The kernel's part: what no change to the server's own code removes while each delivery is its own write.
    const double system_cpu = after.system_cpu_s - before.system_cpu_s;
    v.AddMember("server_system_cpu_share", round_to(duration > 0 ? system_cpu / duration : 0, 3), a);
    v.AddMember("server_system_cpu_us_per_delivery", round_to(got ? system_cpu * 1e6 / static_cast<double>(got) : 0, 3),
                a);
    v.AddMember("server_rss_kb", after.rss_kb, a);
    v.AddMember("server_rss_kb_before", before.rss_kb, a);
    v.AddMember("server_rss_kb_peak", peak_rss_kb, a);  // sampled every 100 ms
    // The kernel's peak since the server started; it updates its record lazily (at unmaps), so it can be below a
    // peak sampled above.
    v.AddMember("server_vm_hwm_kb", after.hwm_kb, a);
    v.AddMember("loadgen_cpu_share",
                round_to(duration > 0 ? (loadgen_after.cpu_s - loadgen_before.cpu_s) / duration : 0, 3), a);

    if (burst)
        std::fprintf(stderr,
                     "ys-loadgen: %-22s published %.0f notifications/s (%.0f deliveries/s) for %.2f s; %llu of %llu "
                     "deliveries in %.2f s: %.0f deliveries/s (drain %.2f s)  lost %llu dup %llu  server RSS %llu "
                     "-> peak %llu kB  cpu: server %.0f%% loadgen %.0f%%\n",
                     phase.name.c_str(), publish_seconds > 0 ? static_cast<double>(published) / publish_seconds : 0,
                     publish_seconds > 0 ? static_cast<double>(expected) / publish_seconds : 0, publish_seconds,
                     static_cast<unsigned long long>(got), static_cast<unsigned long long>(expected), duration,
                     duration > 0 ? static_cast<double>(got) / duration : 0,
                     static_cast<double>(drained - published_end) / 1e9, static_cast<unsigned long long>(lost),
                     static_cast<unsigned long long>(dup), static_cast<unsigned long long>(before.rss_kb),
                     static_cast<unsigned long long>(peak_rss_kb), duration > 0 ? 100 * cpu / duration : 0,
                     duration > 0 ? 100 * (loadgen_after.cpu_s - loadgen_before.cpu_s) / duration : 0);
    else
        std::fprintf(
            stderr,
            "ys-loadgen: %-22s %9.0f deliveries/s (%llu notifications, %llu deliveries)  latency us p50 %.0f  "
            "p99 %.0f  p99.9 %.0f  max %.0f  lost %llu dup %llu  cpu: server %.0f%% (kernel %.0f%%) loadgen %.0f%%\n",
            phase.name.c_str(), static_cast<double>(received_at_end) / phase.seconds,
            static_cast<unsigned long long>(published), static_cast<unsigned long long>(got),
            static_cast<double>(histogram.percentile(0.5)) / 1e3, static_cast<double>(histogram.percentile(0.99)) / 1e3,
            static_cast<double>(histogram.percentile(0.999)) / 1e3, static_cast<double>(histogram.max()) / 1e3,
            static_cast<unsigned long long>(lost), static_cast<unsigned long long>(dup),
            duration > 0 ? 100 * cpu / duration : 0, duration > 0 ? 100 * system_cpu / duration : 0,
            duration > 0 ? 100 * (loadgen_after.cpu_s - loadgen_before.cpu_s) / duration : 0);
    return v;
}

// ---- the run ----

int Coordinator::run() {
    auto& a = doc_.GetAllocator();
    doc_.AddMember("label", rapidjson::Value(options_.label.c_str(), a), a);
    doc_.AddMember("command", rapidjson::Value(command_line_.c_str(), a), a);
    doc_.AddMember("note", rapidjson::Value(options_.note.c_str(), a), a);
    {
        rapidjson::Value machine(rapidjson::kObjectType);
        utsname u{};
        ::uname(&u);
        machine.AddMember("kernel", rapidjson::Value(u.release, a), a);
        machine.AddMember("cpus", std::thread::hardware_concurrency(), a);
        machine.AddMember("loadavg_at_start", rapidjson::Value(read_file("/proc/loadavg").substr(0, 14).c_str(), a), a);
        doc_.AddMember("machine", machine, a);
    }
    rapidjson::Value setup(rapidjson::kObjectType);
    setup.AddMember("connections", static_cast<std::uint64_t>(plan_.connections()), a);
    setup.AddMember("users", static_cast<std::uint64_t>(plan_.users()), a);
    setup.AddMember("connections_per_user", static_cast<std::uint64_t>(plan_.per_user()), a);
    setup.AddMember("eio", rapidjson::Value(options_.eio == 0 ? "mix" : std::to_string(options_.eio).c_str(), a), a);
    setup.AddMember("polling_share", options_.polling_share, a);
    std::uint64_t polling = 0;
    for (std::size_t c = 0; c < plan_.connections(); ++c) polling += plan_.polling(c);
    setup.AddMember("polling_clients", polling, a);
    setup.AddMember("servers", static_cast<std::uint64_t>(options_.targets.size()), a);
    setup.AddMember("source_addresses", static_cast<std::uint64_t>(options_.source_addresses), a);
    setup.AddMember("payload_bytes", static_cast<std::uint64_t>(options_.payload_bytes), a);
    const char* storm_recovery[] = {"none", "claim", "expect"};
    setup.AddMember("storm_recovery", rapidjson::StringRef(storm_recovery[static_cast<int>(options_.storm_recovery)]),
                    a);

    rapidjson::Value phases(rapidjson::kArrayType);
    try {
        spawn_workers();
        setup.AddMember("processes", static_cast<std::uint64_t>(workers_.size()), a);
        send_all("setup");
        for (auto& w : workers_)
            if (next_line(w, 120) != "ok") throw std::runtime_error("a worker failed to write its sessions");
        const auto idle_before = sample_servers();
        const auto loadgen_before = sample_loadgen();
        const auto counters_before = listen_counters();
        const auto connected = connect_all(false);
        const auto loadgen_after = sample_loadgen();
        std::fprintf(stderr,
                     "ys-loadgen: %llu clients in %zu processes: all sent authenticate after %.2f s (%.0f/s), all "
                     "authenticated after %.2f s, %llu failed attempts\n",
                     static_cast<unsigned long long>(connected.total), workers_.size(), connected.to_authenticating_s,
                     connected.to_authenticating_s > 0 ? connected.total / connected.to_authenticating_s : 0,
                     connected.to_confirmed_s, static_cast<unsigned long long>(connected.failures));
        auto connect = connect_json(connected, "connect", counters_before);
        // The server's allocator settles after the burst of handshakes; a second gives a steadier figure.
        for (int i = 0; i < 10; ++i) poll_workers(100);
        const auto idle_after = sample_servers();
        connect.AddMember("server_rss_kb_before", idle_before.rss_kb, a);
        connect.AddMember("server_rss_kb_after", idle_after.rss_kb, a);
        // Per authenticated client: a server that did not take them all is not flattered by the ones it refused.
        const double per_conn =
            connected.confirmed
                ? static_cast<double>(idle_after.rss_kb - std::min(idle_after.rss_kb, idle_before.rss_kb)) * 1024.0 /
                      static_cast<double>(connected.confirmed)
                : 0;
        connect.AddMember("server_rss_bytes_per_connection", round_to(per_conn, 0), a);
        connect.AddMember("server_cpu_seconds", round_to(idle_after.cpu_s - idle_before.cpu_s, 3), a);
        connect.AddMember("loadgen_cpu_seconds", round_to(loadgen_after.cpu_s - loadgen_before.cpu_s, 3), a);
        // The kernel's part of each side: on loopback, most of a reconnection's cost is TCP's, on both ends.
        connect.AddMember("server_system_cpu_seconds", round_to(idle_after.system_cpu_s - idle_before.system_cpu_s, 3),
                          a);
        connect.AddMember("loadgen_system_cpu_seconds",
                          round_to(loadgen_after.system_cpu_s - loadgen_before.system_cpu_s, 3), a);
        if (!options_.server_pids.empty())
            std::fprintf(stderr, "ys-loadgen: server RSS %llu kB -> %llu kB: %.0f bytes per connection\n",
                         static_cast<unsigned long long>(idle_before.rss_kb),
                         static_cast<unsigned long long>(idle_after.rss_kb), per_conn);
        phases.PushBack(connect, a);

        // A failed phase does not stop the run (the exit status says it failed): the next phases still tell
        // how the server fares, e.g. a storm after a fan-out it could not keep up with.
        for (const auto& phase : options_.phases) {
            if (phase.kind == Phase::Kind::fanout || phase.kind == Phase::Kind::burst) {
                phases.PushBack(run_fanout(phase), a);
            } else if (phase.kind == Phase::Kind::hold) {
                phases.PushBack(run_hold(phase), a);
            } else if (phase.kind == Phase::Kind::foreign) {
                phases.PushBack(run_foreign(phase), a);
            } else {
                const auto before = sample_servers();
                const auto loadgen_before_storm = sample_loadgen();
                const auto counters = listen_counters();
                const auto r = connect_all(true);
                const auto after = sample_servers();
                const auto loadgen_after_storm = sample_loadgen();
                auto v = connect_json(r, "storm", counters);
                v.AddMember("server_cpu_seconds", round_to(after.cpu_s - before.cpu_s, 3), a);
                v.AddMember("loadgen_cpu_seconds", round_to(loadgen_after_storm.cpu_s - loadgen_before_storm.cpu_s, 3),
                            a);
                v.AddMember("server_system_cpu_seconds", round_to(after.system_cpu_s - before.system_cpu_s, 3), a);
                v.AddMember("loadgen_system_cpu_seconds",
                            round_to(loadgen_after_storm.system_cpu_s - loadgen_before_storm.system_cpu_s, 3), a);
                v.AddMember("server_rss_kb", after.rss_kb, a);
                std::fprintf(stderr,
                             "ys-loadgen: storm: %llu clients dropped and reconnected: all sent authenticate after "
                             "%.2f s, all authenticated after %.2f s, %llu failed attempts; %llu recovery claims, "
                             "%llu recovered\n",
                             static_cast<unsigned long long>(r.total), r.to_authenticating_s, r.to_confirmed_s,
                             static_cast<unsigned long long>(r.failures), static_cast<unsigned long long>(r.claims),
                             static_cast<unsigned long long>(r.recovered));
                phases.PushBack(v, a);
            }
        }
    } catch (const std::exception& e) {
        fail(e.what());
    }
    stop_workers();
    doc_.AddMember("setup", setup, a);
    doc_.AddMember("phases", phases, a);
    doc_["machine"].AddMember("loadavg_at_end", rapidjson::Value(read_file("/proc/loadavg").substr(0, 14).c_str(), a),
                              a);
    rapidjson::Value errors(rapidjson::kArrayType);
    for (const auto& e : errors_) errors.PushBack(rapidjson::Value(e.c_str(), a), a);
    doc_.AddMember("ok", errors_.empty(), a);
    doc_.AddMember("errors", errors, a);

    rapidjson::StringBuffer out;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(out);
    writer.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    doc_.Accept(writer);
    if (options_.json_out.empty()) {
        std::printf("%s\n", out.GetString());
    } else {
        std::ofstream f(options_.json_out);
        f << out.GetString() << "\n";
    }
    return errors_.empty() ? 0 : 1;
}

}  // namespace yunity::bench
