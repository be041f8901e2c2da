// The Engine.IO parameters and the application's query of a request target.
#include "handshake_query.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace eio = yunity::eio;
using Query = std::vector<std::pair<std::string, std::string>>;

namespace {

eio::HandshakeQuery must_parse(std::string_view target) {
    auto q = eio::parse_handshake_query(target);
    INFO("target: " << std::string(target));
    REQUIRE(q.has_value());
    return std::move(*q);
}

}  // namespace

TEST_SUITE("handshake query") {

TEST_CASE("a version 4 polling handshake, as socket.io-client 4.x sends it") {
    const auto q = must_parse("/socket.io/?EIO=4&transport=polling&t=OxkPp1c");
    CHECK(q.path == "/socket.io/");
    CHECK(q.eio == "4");
    CHECK(q.transport == "polling");
    CHECK(q.sid.empty());
    CHECK(q.j.empty());
    CHECK_FALSE(q.b64);
    CHECK(q.query == Query{{"EIO", "4"}, {"transport", "polling"}, {"t", "OxkPp1c"}});
}

TEST_CASE("a version 3 upgrade with b64 and the application's query, repeats and order kept") {
    const auto q = must_parse("/socket/?token=a&EIO=3&transport=websocket&sid=f08M_x-&b64=1&lang=de&token=b");
    CHECK(q.path == "/socket/");
    CHECK(q.eio == "3");
    CHECK(q.transport == "websocket");
    CHECK(q.sid == "f08M_x-");
    CHECK(q.b64);
    CHECK(q.query == Query{{"token", "a"}, {"EIO", "3"}, {"transport", "websocket"}, {"sid", "f08M_x-"}, {"b64", "1"},
                           {"lang", "de"}, {"token", "b"}});
}

TEST_CASE("JSONP index") {
    const auto q = must_parse("/socket.io/?EIO=3&transport=polling&j=12");
    CHECK(q.j == "12");
    CHECK(q.query == Query{{"EIO", "3"}, {"transport", "polling"}, {"j", "12"}});
}

TEST_CASE("path, keys and values are percent-decoded, '+' in the query is a space") {
    const auto q = must_parse("/socket%2Eio/?E%49O=4&transport=polling&name=J%C3%BCrgen+M&x%20y=1%2B1");
    CHECK(q.path == "/socket.io/");
    CHECK(q.eio == "4");
    CHECK(q.query == Query{{"EIO", "4"}, {"transport", "polling"}, {"name", "J\xC3\xBCrgen M"}, {"x y", "1+1"}});
}

TEST_CASE("b64 counts with any value or none, as the transport reads it") {
    CHECK(must_parse("/socket.io/?b64").b64);
    CHECK(must_parse("/socket.io/?b64=").b64);
    CHECK(must_parse("/socket.io/?b64=0").b64);
    CHECK_FALSE(must_parse("/socket.io/?B64=1").b64);
}

TEST_CASE("the last of a repeated Engine.IO parameter wins; the query keeps every one") {
    const auto q = must_parse("/socket.io/?EIO=3&EIO=4&sid=a&sid=&t=1&t=2");
    CHECK(q.eio == "4");
    CHECK(q.sid.empty());
    CHECK(q.query == Query{{"EIO", "3"}, {"EIO", "4"}, {"sid", "a"}, {"sid", ""}, {"t", "1"}, {"t", "2"}});
}

TEST_CASE("names are case-sensitive; a key without '=' has an empty value; empty pairs are kept") {
    const auto q = must_parse("/socket.io/?eio=4&Transport=polling&flag&&=v");
    CHECK(q.eio.empty());
    CHECK(q.transport.empty());
    CHECK(q.query == Query{{"eio", "4"}, {"Transport", "polling"}, {"flag", ""}, {"", ""}, {"", "v"}});
}

TEST_CASE("a target without a query, or with an empty one") {
    CHECK(must_parse("/socket.io/").query.empty());
    CHECK(must_parse("/socket.io/").eio.empty());
    CHECK(must_parse("/").path == "/");
    CHECK(must_parse("/socket.io/?").query == Query{{"", ""}});
}

TEST_CASE("targets that are not in origin form") {
    for (std::string_view bad : {"", "socket.io/?EIO=4", "http://example.org/socket.io/?EIO=4", "*",
                                 "/socket.io/?EIO=4#x", "/a b", "/%zz", "/socket.io/?EIO=%4"}) {
        INFO("target: " << std::string(bad));
        CHECK_FALSE(eio::parse_handshake_query(bad).has_value());
    }
}

}
