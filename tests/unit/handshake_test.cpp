// The handshake kept per connection: its header block and the query read from its url on demand.
#include <yunity/handshake.hpp>

#include <doctest/doctest.h>

using yunity::Handshake;

TEST_SUITE("handshake") {
    TEST_CASE("header fields: names lower-cased, arrival order and repeats kept, values as sent") {
        Handshake hs;
        hs.add_header("Host", "localhost:8080");
        hs.add_header("Cookie", "sessionid=abc; csrftoken=x:y");
        hs.add_header("X-Forwarded-For", "10.0.0.1");
        hs.add_header("x-forwarded-for", "10.0.0.2");
        hs.add_header("X-Empty", "");
        using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;
        CHECK(hs.headers() == Pairs{{"host", "localhost:8080"},
                                    {"cookie", "sessionid=abc; csrftoken=x:y"},
                                    {"x-forwarded-for", "10.0.0.1"},
                                    {"x-forwarded-for", "10.0.0.2"},
                                    {"x-empty", ""}});
        CHECK(hs.header("cookie") == "sessionid=abc; csrftoken=x:y");  // a colon in a value stays in it
        CHECK(hs.header("x-forwarded-for") == "10.0.0.1");             // the first of a repeated name
        CHECK(hs.header("x-empty") == "");
        CHECK_FALSE(hs.header("Host"));  // names are asked lower-case
        CHECK_FALSE(hs.header("origin"));
        CHECK(Handshake{}.headers().empty());
    }

    TEST_CASE("a CR or LF in a value cannot split the block into another field") {
        Handshake hs;
        hs.add_header("x-a", "one\r\nx-injected: two");
        hs.add_header("x-b", "three");
        using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;
        CHECK(hs.headers() == Pairs{{"x-a", "one  x-injected: two"}, {"x-b", "three"}});
        CHECK_FALSE(hs.header("x-injected"));
    }

    TEST_CASE("the query: every parameter of the url, decoded, in order, repeats kept") {
        Handshake hs;
        hs.url = "/socket.io/?EIO=4&transport=polling&name=J%C3%BCrgen+M&t=1&t=2&flag";
        using Query = std::vector<std::pair<std::string, std::string>>;
        CHECK(hs.query() == Query{{"EIO", "4"},
                                  {"transport", "polling"},
                                  {"name", "J\xC3\xBCrgen M"},
                                  {"t", "1"},
                                  {"t", "2"},
                                  {"flag", ""}});
        CHECK(hs.query_value("t") == "1");
        CHECK(hs.query_value("name") == "J\xC3\xBCrgen M");
        CHECK_FALSE(hs.query_value("sid"));
        hs.url = "/socket.io/";
        CHECK(hs.query().empty());
        hs.url = "not a target";  // never comes from the transport, which refuses it first; read as no query
        CHECK(hs.query().empty());
        CHECK_FALSE(hs.query_value("x"));
    }

}  // TEST_SUITE
