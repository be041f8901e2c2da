#include "options.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using yunity::bench::Options;
using yunity::bench::Phase;
using yunity::bench::UsageError;

namespace {

Options parse(std::vector<std::string> args) {
    args.insert(args.begin(), "ys-loadgen");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    bool help = false;
    return yunity::bench::parse_options(static_cast<int>(argv.size()), argv.data(), help);
}

}  // namespace

TEST_CASE("phases, servers and the redis address are read") {
    const auto o = parse({"--url", "http://127.0.0.1:5000", "--url", "ws://localhost:5002/", "--redis", "10.0.0.1:7000",
                          "-n", "100", "-k", "2", "-m", "5", "--eio", "mix", "--path", "/socket", "--phase",
                          "fanout:50000:15", "--phase", "fanout:max:2.5", "--phase", "storm", "--phase", "hold:3",
                          "--phase", "fanout:max:4:100000"});
    REQUIRE(o.targets.size() == 2);
    CHECK(o.targets[1].host == "localhost");
    CHECK(o.targets[1].host_header == "localhost:5002");
    CHECK(o.redis_host == "10.0.0.1");
    CHECK(o.redis_port == "7000");
    CHECK(o.path == "/socket/");
    CHECK(o.eio == 0);
    REQUIRE(o.phases.size() == 5);
    CHECK(o.phases[0].kind == Phase::Kind::fanout);
    CHECK(o.phases[0].rate == 50000);
    CHECK(o.phases[1].rate == 0);
    CHECK(o.phases[1].seconds == 2.5);
    CHECK(o.phases[2].kind == Phase::Kind::storm);
    CHECK(o.phases[3].kind == Phase::Kind::hold);
    CHECK(o.phases[1].window == 0);
    CHECK(o.phases[4].rate == 0);
    CHECK(o.phases[4].window == 100000);
    CHECK(o.seed != 0);
    CHECK(o.user_base >= 1'000'000'000);
    CHECK(o.storm_recovery == Options::StormRecovery::none);
}

TEST_CASE("a storm's recovery claims") {
    CHECK(parse({"--storm-recovery", "claim"}).storm_recovery == Options::StormRecovery::claim);
    CHECK(parse({"--storm-recovery", "expect"}).storm_recovery == Options::StormRecovery::expect);
    CHECK(parse({"--storm-recovery", "none"}).storm_recovery == Options::StormRecovery::none);
    CHECK_THROWS_AS(parse({"--storm-recovery", "yes"}), UsageError);
}

TEST_CASE("impossible plans are refused") {
    CHECK_THROWS_AS(parse({"--phase", "fanout:fast:1"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "burst"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "burst:0"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "burst:3:100"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "storm:3"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "fanout:5000:3:100000"}), UsageError);  // a window only for max
    CHECK_THROWS_AS(parse({"--phase", "fanout:max:3:0"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "fanout:max:3:1.5"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "fanout:max:3:inf"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "fanout:nan:3"}), UsageError);
    CHECK_THROWS_AS(parse({"--phase", "fanout:1e400:3"}), UsageError);
    // Windows that could never hold one notification (10 users of 2 connections: 20 deliveries).
    CHECK_THROWS_AS(parse({"-n", "40", "-k", "2", "-m", "10", "--window", "19"}), UsageError);
    CHECK_THROWS_AS(parse({"-n", "40", "-k", "2", "-m", "10", "--phase", "fanout:max:3:19"}), UsageError);
    CHECK_NOTHROW(parse({"-n", "40", "-k", "2", "-m", "10", "--window", "20", "--phase", "fanout:max:3:20"}));
    CHECK_THROWS_AS(parse({"-n", "10", "-k", "3"}), UsageError);
    CHECK_THROWS_AS(parse({"-n", "10", "-m", "11"}), UsageError);
    CHECK_THROWS_AS(parse({"--url", "127.0.0.1:5000"}), UsageError);
    CHECK_THROWS_AS(parse({"--url", "http://127.0.0.1:5000/socket.io/"}), UsageError);
    CHECK_THROWS_AS(parse({"--eio", "5"}), UsageError);
    CHECK_THROWS_AS(parse({"--polling-share", "2"}), UsageError);
}

TEST_CASE("a burst publishes for its seconds; the stream's MAXLEN is chosen") {
    const auto o = parse({"--stream", "notifications", "--stream-maxlen", "2000000", "--phase", "burst:3"});
    REQUIRE(o.phases.size() == 1);
    CHECK(o.phases[0].kind == Phase::Kind::burst);
    CHECK(o.phases[0].seconds == 3);
    const auto xadd = yunity::bench::publish_command(o, "{}");
    CHECK(std::vector<std::string>(xadd.begin(), xadd.end()) ==
          std::vector<std::string>{"XADD", "notifications", "MAXLEN", "~", "2000000", "*", "notification", "{}"});
    const auto untrimmed = parse({"--stream", "s", "--stream-maxlen", "0"});
    const auto plain = yunity::bench::publish_command(untrimmed, "{}");
    CHECK(std::vector<std::string>(plain.begin(), plain.end()) ==
          std::vector<std::string>{"XADD", "s", "*", "notification", "{}"});
    CHECK_THROWS_AS(parse({"--stream-maxlen", "-1"}), UsageError);
    CHECK_THROWS_AS(parse({"--stream-maxlen", "1e6"}), UsageError);
}
