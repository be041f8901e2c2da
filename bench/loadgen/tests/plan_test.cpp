#include "plan.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using yunity::bench::Options;
using yunity::bench::Plan;

namespace {

Options options(std::size_t n, std::size_t k, std::size_t m) {
    Options o;
    o.targets.push_back({"127.0.0.1", "5000", "127.0.0.1:5000"});
    o.connections = n;
    o.per_user = k;
    o.users_per_notification = m;
    o.seed = 12345;
    o.user_base = 1'000'000'000;
    return o;
}

}  // namespace

TEST_CASE("a notification names m distinct users, the same ones in every process") {
    const Plan plan(options(2000, 2, 10));
    const Plan again(options(2000, 2, 10));
    std::vector<std::uint32_t> users, users_again;
    for (std::uint64_t seq = 1; seq < 2000; ++seq) {
        plan.users_of(seq, users);
        again.users_of(seq, users_again);
        CHECK(users == users_again);
        REQUIRE(users.size() == 10);
        CHECK(std::set<std::uint32_t>(users.begin(), users.end()).size() == 10);
        CHECK(std::all_of(users.begin(), users.end(), [](auto u) { return u < 1000; }));
    }
}

TEST_CASE("every user is drawn, and naming all users gives each one once") {
    const Plan plan(options(100, 1, 100));
    std::vector<std::uint32_t> users;
    plan.users_of(7, users);
    std::sort(users.begin(), users.end());
    for (std::uint32_t u = 0; u < 100; ++u) CHECK(users[u] == u);

    const Plan small(options(40, 2, 3));
    std::set<std::uint32_t> seen;
    for (std::uint64_t seq = 1; seq < 500; ++seq) {
        small.users_of(seq, users);
        seen.insert(users.begin(), users.end());
    }
    CHECK(seen.size() == 20);
}

TEST_CASE("connections map to users, sessions, versions and transports") {
    auto o = options(1000, 4, 1);
    o.eio = 0;
    o.polling_share = 0.2;
    const Plan plan(o);
    CHECK(plan.users() == 250);
    CHECK(plan.user_of(0) == 0);
    CHECK(plan.user_of(3) == 0);
    CHECK(plan.user_of(4) == 1);
    CHECK(plan.user_id(5) == 1'000'000'005);
    std::set<std::string> sessions;
    std::size_t polling = 0, v3 = 0;
    for (std::size_t c = 0; c < 1000; ++c) {
        sessions.insert(plan.session_id(c));
        polling += plan.polling(c);
        v3 += plan.eio_of(c) == 3;
        // A user's connections share a version: "mix" is half the users on each.
        CHECK(plan.eio_of(c) == plan.eio_of(plan.user_of(c) * 4));
    }
    CHECK(sessions.size() == 1000);
    CHECK(v3 == 500);
    CHECK(polling > 150);
    CHECK(polling < 250);
}
