#include "registry.hpp"

#include <doctest/doctest.h>

using namespace yunity;

namespace {

ConnectionInfo conn(ConnectionId id) {
    ConnectionInfo c;
    c.id = id;
    c.public_id = "c" + std::to_string(id);
    c.transport = "websocket";
    return c;
}

}  // namespace

TEST_CASE("membership: authenticate, login, logout, login again, switch and leave") {
    core::Registry r;
    r.open(conn(1));
    r.open(conn(2));
    CHECK(r.connection_count() == 2);

    auto c = r.authenticate(1, "s1");
    REQUIRE(c);
    CHECK(c->session_id == "s1");
    CHECK_FALSE(c->user);  // not resolved yet
    CHECK(r.connections_of({"u1"}).empty());

    auto changes = r.resolve("s1", "u1");
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].user == "u1");
    CHECK(r.connections_of({"u1"}) == std::vector<ConnectionId>{1});
    CHECK(r.authenticated_count() == 1);

    // A second connection on a known session joins at once.
    c = r.authenticate(2, "s1");
    CHECK(c->user == "u1");
    CHECK(r.connections_of({"u1"}).size() == 2);

    // Logout: both leave, but keep their session.
    CHECK(r.resolve("s1", std::nullopt).size() == 2);
    CHECK(r.connections_of({"u1"}).empty());
    CHECK(r.find(1)->session_id == "s1");
    CHECK(r.user_count() == 0);

    // Login again on the same session: back without a new authenticate; another user this time.
    CHECK(r.resolve("s1", "u2").size() == 2);
    CHECK(r.connections_of({"u2"}).size() == 2);

    // An empty value counts as no user.
    r.resolve("s1", "");
    CHECK(r.connections_of({"u2"}).empty());
    r.resolve("s1", "u2");

    // Re-authenticating with another session moves the connection at once.
    c = r.authenticate(1, "s2");
    CHECK_FALSE(c->user);
    CHECK(r.connections_of({"u2"}) == std::vector<ConnectionId>{2});
    r.resolve("s2", "u3");
    CHECK(r.connections_of({"u3"}) == std::vector<ConnectionId>{1});

    // A session without user leaves any previous room.
    r.resolve("s3", std::nullopt);
    c = r.authenticate(1, "s3");
    r.resolve("s3", std::nullopt);
    CHECK(r.connections_of({"u3"}).empty());
    CHECK_FALSE(r.find(1)->user);

    // Answers about sessions nobody holds are not remembered.
    CHECK(r.resolve("nobody", "u9").empty());
    CHECK_FALSE(r.has_session("nobody"));
    CHECK(r.session_count() == 2);
}

TEST_CASE("delivery targets are each connection once, even where users repeat") {
    core::Registry r;
    for (ConnectionId id = 1; id <= 3; ++id) r.open(conn(id));
    r.authenticate(1, "a");
    r.authenticate(2, "b");
    r.authenticate(3, "b");
    r.resolve("a", "42");
    r.resolve("b", "42");
    auto targets = r.connections_of({"42", "42", "42", "nobody"});
    std::sort(targets.begin(), targets.end());
    CHECK(targets == std::vector<ConnectionId>{1, 2, 3});
}

TEST_CASE("closing forgets the connection everywhere; the walk resumes by id") {
    core::Registry r;
    for (ConnectionId id = 1; id <= 5; ++id) r.open(conn(id));
    r.authenticate(3, "s");
    r.resolve("s", "u");
    r.close(3);
    CHECK(r.connection_count() == 4);
    CHECK(r.session_count() == 0);
    CHECK(r.user_count() == 0);
    CHECK(r.authenticated_count() == 0);
    std::vector<ConnectionId> seen;
    auto last = r.for_each_connection(0, [&](const ConnectionInfo& c) {
        seen.push_back(c.id);
        return seen.size() < 2;
    });
    CHECK(last == 2);
    r.for_each_connection(last, [&](const ConnectionInfo& c) {
        seen.push_back(c.id);
        return true;
    });
    CHECK(seen == std::vector<ConnectionId>{1, 2, 4, 5});
}

TEST_CASE("connections of one user: the core's index and the view's walk agree") {
    core::Registry r;
    for (ConnectionId id = 1; id <= 4; ++id) r.open(conn(id));
    r.authenticate(1, "a");
    r.authenticate(2, "a");
    r.authenticate(3, "b");
    r.resolve("a", "42");
    r.resolve("b", "7");
    const RegistryView& view = r;
    CHECK(view.connections_of_user("42") == 2);
    CHECK(view.connections_of_user("7") == 1);
    CHECK(view.connections_of_user("nobody") == 0);
    CHECK(r.RegistryView::connections_of_user("42") == 2);  // the default walk, for other implementations
    r.resolve("a", std::nullopt);
    CHECK(view.connections_of_user("42") == 0);
    r.close(3);
    CHECK(view.connections_of_user("7") == 0);
}
