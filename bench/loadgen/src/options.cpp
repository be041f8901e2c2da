#include "options.hpp"

#include <boost/program_options.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace yunity::bench {

namespace {

Target parse_url(const std::string& text) {
    std::string_view rest = text;
    for (std::string_view scheme : {"http://", "ws://"})
        if (rest.starts_with(scheme)) rest.remove_prefix(scheme.size());
    if (rest.size() == text.size()) throw UsageError("--url '" + text + "': expected http://host:port");
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        if (rest.substr(slash) != "/")
            throw UsageError("--url '" + text + "': give the socket.io path with --path, not in the URL");
        rest = rest.substr(0, slash);
    }
    const auto colon = rest.rfind(':');
    Target t;
    t.host = std::string(rest.substr(0, colon));
    t.port = colon == std::string_view::npos ? "80" : std::string(rest.substr(colon + 1));
    if (t.host.empty() || t.port.empty()) throw UsageError("--url '" + text + "': expected http://host:port");
    t.host_header = t.host + ":" + t.port;
    return t;
}

double number(std::string_view text, const std::string& what) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) || value < 0)
        throw UsageError(what + ": '" + std::string(text) + "' is not a non-negative number");
    return value;
}

std::uint64_t count(std::string_view text, const std::string& what) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0)
        throw UsageError(what + ": '" + std::string(text) + "' is not a positive whole number");
    return value;
}

// fanout:RATE:SECONDS (RATE in deliveries per second, or "max"), burst:SECONDS (publishing as fast as redis takes
// it, with no window, then waiting for every delivery), storm, hold:SECONDS, foreign:RATE:SECONDS (RATE in
// notifications per second for users no client holds: what an instance spends on others' notifications).
Phase parse_phase(const std::string& text) {
    Phase p;
    p.name = text;
    std::vector<std::string_view> parts;
    std::string_view rest = text;
    while (true) {
        const auto colon = rest.find(':');
        parts.push_back(rest.substr(0, colon));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    const auto bad = [&] {
        return UsageError("--phase '" + text +
                          "': expected fanout:RATE:SECONDS, fanout:max:SECONDS[:WINDOW], burst:SECONDS, storm, "
                          "hold:SECONDS or foreign:RATE:SECONDS");
    };
    if (parts[0] == "fanout" && (parts.size() == 3 || (parts.size() == 4 && parts[1] == "max"))) {
        p.kind = Phase::Kind::fanout;
        p.rate = parts[1] == "max" ? 0 : number(parts[1], "--phase " + text);
        p.seconds = number(parts[2], "--phase " + text);
        if (p.seconds <= 0) throw bad();
        if (parts.size() == 4) p.window = count(parts[3], "--phase " + text);
    } else if (parts[0] == "burst" && parts.size() == 2) {
        p.kind = Phase::Kind::burst;
        p.seconds = number(parts[1], "--phase " + text);
        if (p.seconds <= 0) throw bad();
    } else if (parts[0] == "foreign" && parts.size() == 3) {
        p.kind = Phase::Kind::foreign;
        p.rate = number(parts[1], "--phase " + text);
        p.seconds = number(parts[2], "--phase " + text);
        if (p.seconds <= 0 || p.rate <= 0) throw bad();
    } else if (parts[0] == "storm" && parts.size() == 1) {
        p.kind = Phase::Kind::storm;
    } else if (parts[0] == "hold" && parts.size() == 2) {
        p.kind = Phase::Kind::hold;
        p.seconds = number(parts[1], "--phase " + text);
    } else {
        throw bad();
    }
    return p;
}

}  // namespace

Options parse_options(int argc, char** argv, bool& help_shown) {
    Options o;
    std::vector<std::string> urls, phases;
    std::string eio = "4", redis = "127.0.0.1:6379", storm_recovery = "none";
    po::options_description desc(
        "ys-loadgen: socket.io load generator (Engine.IO 3/4, websocket and polling) with redis sessions and "
        "pub/sub fan-out.\nOptions");
    // clang-format off
    desc.add_options()
        ("help,h", "this text")
        ("url", po::value(&urls)->composing(), "server, http://host:port; repeat for several instances (connections go round-robin)")
        ("path", po::value(&o.path)->default_value(o.path), "socket.io path")
        ("redis", po::value(&redis)->default_value(redis), "redis host:port (sessions and PUBLISH)")
        ("prefix", po::value(&o.session_prefix)->default_value(o.session_prefix), "session key prefix")
        ("channel", po::value(&o.channel)->default_value(o.channel), "notification channel")
        ("stream", po::value(&o.stream), "XADD notifications to this stream (field `notification`) instead of PUBLISH")
        ("stream-maxlen", po::value(&o.stream_maxlen)->default_value(o.stream_maxlen), "the XADDs' MAXLEN ~ (0: no trimming); a burst needs more than it adds")
        ("connections,n", po::value(&o.connections)->default_value(o.connections), "connections in all")
        ("per-user,k", po::value(&o.per_user)->default_value(o.per_user), "connections of each user")
        ("eio", po::value(&eio)->default_value(eio), "Engine.IO version: 3, 4 or mix")
        ("polling-share", po::value(&o.polling_share)->default_value(o.polling_share), "share of long-polling clients (0..1)")
        ("source-addresses", po::value(&o.source_addresses)->default_value(o.source_addresses), "spread connections over 127.0.0.1..N")
        ("processes", po::value(&o.processes)->default_value(o.processes), "worker processes (0: as the open-file limit needs)")
        ("per-process", po::value(&o.per_process)->default_value(o.per_process), "sockets one worker holds at most")
        ("connect-concurrency", po::value(&o.connect_concurrency)->default_value(o.connect_concurrency), "handshakes in flight per worker (0: all)")
        ("storm-concurrency", po::value(&o.storm_concurrency)->default_value(o.storm_concurrency), "handshakes in flight per worker in a storm (0: all at once)")
        ("storm-recovery", po::value(&storm_recovery)->default_value(storm_recovery), "none, claim (a storm's reconnections present their pid and offset, 4.x in the CONNECT, 2.x in authenticate {sessionId, offset}; the recovered are counted) or expect (claim, and fail unless every claim recovered)")
        ("users-per-notification,m", po::value(&o.users_per_notification)->default_value(o.users_per_notification), "distinct users each notification names")
        ("payload-bytes", po::value(&o.payload_bytes)->default_value(o.payload_bytes), "padding in each notification")
        ("window", po::value(&o.window)->default_value(o.window), "deliveries in flight for fanout:max (a phase's own WINDOW overrides it)")
        ("phase", po::value(&phases)->composing(), "fanout:RATE:SECONDS, fanout:max:SECONDS[:WINDOW], burst:SECONDS, storm, hold:SECONDS, foreign:RATE:SECONDS; in order, after connecting")
        ("server-pid", po::value(&o.server_pids)->composing(), "a server process to read RSS and CPU time from; repeatable")
        ("label", po::value(&o.label), "name of the run in the JSON")
        ("note", po::value(&o.note), "free text kept in the JSON")
        ("json", po::value(&o.json_out), "write the results here (default: stdout)")
        ("probe-interval-ms", po::value(&o.probe_interval_ms)->default_value(o.probe_interval_ms), "how often unconfirmed users are probed")
        ("connect-timeout", po::value(&o.connect_timeout_s)->default_value(o.connect_timeout_s), "seconds for connecting (and for a storm)")
        ("drain-timeout", po::value(&o.drain_timeout_s)->default_value(o.drain_timeout_s), "seconds to wait for the last deliveries")
        ("seed", po::value(&o.seed)->default_value(0), "plan seed (0: from the clock)")
        ("user-base", po::value(&o.user_base)->default_value(0), "first user id (0: from the seed)");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    help_shown = vm.count("help") > 0;
    if (help_shown) {
        std::cout << desc
                  << "\nExample: ys-loadgen --url http://127.0.0.1:5000 -n 10000 -k 2 --phase fanout:50000:10 "
                     "--phase fanout:max:10 --phase storm\n";
        return o;
    }
    if (urls.empty()) urls.push_back("http://127.0.0.1:5000");
    for (const auto& u : urls) o.targets.push_back(parse_url(u));
    for (const auto& p : phases) o.phases.push_back(parse_phase(p));
    if (eio == "3" || eio == "4") o.eio = eio[0] - '0';
    else if (eio == "mix") o.eio = 0;
    else throw UsageError("--eio '" + eio + "': expected 3, 4 or mix");
    if (storm_recovery == "none") o.storm_recovery = Options::StormRecovery::none;
    else if (storm_recovery == "claim") o.storm_recovery = Options::StormRecovery::claim;
    else if (storm_recovery == "expect") o.storm_recovery = Options::StormRecovery::expect;
    else throw UsageError("--storm-recovery '" + storm_recovery + "': expected none, claim or expect");
    const auto colon = redis.rfind(':');
    if (colon == std::string::npos) throw UsageError("--redis '" + redis + "': expected host:port");
    o.redis_host = redis.substr(0, colon);
    o.redis_port = redis.substr(colon + 1);
    if (o.per_user == 0 || o.connections < o.per_user || o.connections % o.per_user != 0)
        throw UsageError("--connections must be a positive multiple of --per-user");
    if (o.users_per_notification == 0 || o.users_per_notification > o.users())
        throw UsageError("--users-per-notification must be from 1 to the number of users (connections / per-user)");
    if (o.polling_share < 0 || o.polling_share > 1) throw UsageError("--polling-share must be from 0 to 1");
    // A window smaller than one notification's deliveries would never let one be published.
    const auto per_notification = o.users_per_notification * o.per_user;
    if (o.window < per_notification)
        throw UsageError("--window must be at least the deliveries of one notification (" +
                         std::to_string(per_notification) + ")");
    for (const auto& p : o.phases)
        if (p.window != 0 && p.window < per_notification)
            throw UsageError("--phase " + p.name +
                             ": the window must be at least the deliveries of one notification (" +
                             std::to_string(per_notification) + ")");
    {
        std::uint64_t maxlen = 0;
        const auto* end = o.stream_maxlen.data() + o.stream_maxlen.size();
        const auto [at, ec] = std::from_chars(o.stream_maxlen.data(), end, maxlen);
        if (o.stream_maxlen.empty() || ec != std::errc{} || at != end)
            throw UsageError("--stream-maxlen '" + o.stream_maxlen + "': expected a whole number (0: no trimming)");
        o.stream_maxlen = std::to_string(maxlen);  // "007" would reach redis as written
    }
    if (o.source_addresses == 0 || o.source_addresses > 250) throw UsageError("--source-addresses: 1 to 250");
    if (o.per_process < 100) throw UsageError("--per-process: at least 100");
    if (o.path.empty() || o.path.front() != '/') throw UsageError("--path must start with /");
    if (o.path.back() != '/') o.path += '/';
    if (o.seed == 0)
        o.seed = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) | 1;
    // User ids are numbers (shortest in the JSON); a base far from small ids keeps concurrent runs, and the web
    // application's own users, apart.
    if (o.user_base == 0) o.user_base = 1'000'000'000ULL + (o.seed % 1'000'000ULL) * 1'000'000ULL;
    return o;
}

// Views of `json` and of the options: appended to a pipe at once, while both are alive.
std::vector<std::string_view> publish_command(const Options& o, std::string_view json) {
    if (o.stream.empty()) return {"PUBLISH", o.channel, json};
    if (o.stream_maxlen == "0") return {"XADD", o.stream, "*", "notification", json};
    return {"XADD", o.stream, "MAXLEN", "~", o.stream_maxlen, "*", "notification", json};
}

}  // namespace yunity::bench
