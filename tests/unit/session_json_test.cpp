#include "session_json.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

using namespace yunity::memory_session;

namespace {

std::string refused_map(std::string_view json) {
    try {
        parse_session_map(json);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    FAIL("accepted: ", json);
    return {};
}

std::string load_error(const std::string& path) {
    try {
        load_session_file(path);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    FAIL("loaded: ", path);
    return {};
}

std::string refused_body(std::string_view body) {
    std::string error;
    auto user = parse_user_body(body, error);
    CHECK_MESSAGE(!user, "accepted: ", body);
    CHECK_FALSE(error.empty());
    return error;
}

std::optional<std::string> user(std::string_view body) {
    std::string error;
    auto u = parse_user_body(body, error);
    CHECK_MESSAGE(u, body, ": ", error);
    return u;
}

}  // namespace

TEST_CASE("the sessions file: strings and integers are user ids, 79 and \"79\" alike, \"\" is no user") {
    auto m = parse_session_map(R"({"s1": "alice", "s2": 79, "s3": "79", "s4": "", "s5": -3,
                                  // comments and trailing commas, as in the config file
                                  "s6": "€", })");
    CHECK(m == SessionMap{{"s1", "alice"}, {"s2", "79"}, {"s3", "79"}, {"s5", "-3"}, {"s6", "€"}});
    CHECK(parse_session_map("{}").empty());
    CHECK(parse_session_map(R"({"s": 18446744073709551615})").at("s") == "18446744073709551615");
}

TEST_CASE("a broken sessions file is refused saying what and where") {
    CHECK(refused_map("").starts_with("not JSON"));
    CHECK(refused_map(R"({"s1": "a")").starts_with("not JSON"));
    CHECK(refused_map("[]").find("must be a JSON object") != std::string::npos);
    CHECK(refused_map(R"("s1")").find("must be a JSON object") != std::string::npos);
    for (auto bad : {"null", "true", "1.5", "{}", "[\"u\"]"})
        CHECK(refused_map(std::string(R"({"ok": "u", "s9": )") + bad + "}") ==
              "session \"s9\": the user must be a string or an integer");
    CHECK(refused_map(R"({"": "u"})") == "a session id must not be empty");
    CHECK(refused_map(R"({"s": "a", "s": "b"})") == "session \"s\" appears twice");
    CHECK(refused_map("{\"s\": \"\xff\"}").starts_with("not JSON"));
    // Found by fuzzing: escapes that decode to bytes that are not UTF-8 (a lone surrogate).
    CHECK(refused_map(R"({"s\udc00": "a"})") == "a session id holds a lone surrogate escape (\\udc00...): it must be UTF-8");
    CHECK(refused_map(R"({"s": "\udfff"})") == "session \"s\": the user holds a lone surrogate escape (\\udc00...)");
}

TEST_CASE("loading names the file") {
    const std::string missing = "/nonexistent/yunity-sessions.json";
    CHECK(load_error(missing).starts_with("sessions file \"/nonexistent/yunity-sessions.json\": cannot open: "));

    char name[] = "/tmp/yunity-session-json-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    {
        std::ofstream(name) << R"({"s1": 5})";
    }
    CHECK(load_session_file(name) == SessionMap{{"s1", "5"}});
    {
        std::ofstream(name) << "{oops";
    }
    CHECK(load_error(name).starts_with(std::string("sessions file \"") + name + "\": not JSON: "));
    std::remove(name);
}

TEST_CASE("a PUT body: JSON string or integer, or bare text") {
    CHECK(user("alice") == "alice");
    CHECK(user("  alice\n") == "alice");
    CHECK(user(R"("alice")") == "alice");
    CHECK(user(R"( "two words" )") == "two words");
    CHECK(user("79") == "79");
    CHECK(user(R"("79")") == "79");
    CHECK(user("-4") == "-4");
    CHECK(user("007") == "007");  // not a JSON number: the text as it is
    CHECK(user("u-5@example.org") == "u-5@example.org");
    CHECK(user("€uro") == "€uro");
}

TEST_CASE("a PUT body that names no user is refused") {
    CHECK(refused_body("") == "the body must be the user id");
    CHECK(refused_body(" \r\n") == "the body must be the user id");
    CHECK(refused_body(R"("")").find("must not be empty") != std::string::npos);
    for (auto bad : {"null", "true", "1.5", "1e3", R"({"user":"a"})", "[1]"})
        CHECK(refused_body(bad) == "the user id must be a string or an integer");
    CHECK(refused_body(R"("unterminated)").starts_with("not JSON"));
    CHECK(refused_body("{oops").starts_with("not JSON"));
    CHECK(refused_body("a\tb") == "the user id must not hold control characters");
    CHECK(refused_body("a\x01") == "the user id must not hold control characters");
    CHECK(refused_body("bad\xff") == "the user id must be UTF-8");
    // Found by fuzzing (tests/fuzz/session_json.cpp): a lone surrogate escape decodes to bytes that are not
    // UTF-8, which GET /sessions then served.
    CHECK(refused_body(R"("\u00e9\ude00")") == "the user id must be UTF-8 (it holds a lone surrogate escape)");
    CHECK(user(R"("\u00e9\ud83d\ude00")") == "\xC3\xA9\xF0\x9F\x98\x80");
}

TEST_CASE("a PUT body nested deeper than 64 levels is refused as such, however deep, without recursion") {
    auto nested = [](std::size_t levels, std::string_view inner) {
        return std::string(levels, '[') + std::string(inner) + std::string(levels, ']');
    };
    // Within the limit it is JSON, but not a user id.
    CHECK(refused_body(nested(63, "\"alice\"")) == "the user id must be a string or an integer");
    CHECK(refused_body(nested(65, "\"alice\"")) == "not JSON: nested deeper than 64 levels");
    CHECK(refused_body(std::string(65, '[')) == "not JSON: nested deeper than 64 levels");
    // A recursive parser overflows its stack here (max_body_bytes, 64 KB by default, may let megabytes through).
    CHECK(refused_body(nested(1000000, "1")) == "not JSON: nested deeper than 64 levels");
    CHECK(refused_body(std::string(1000000, '[')) == "not JSON: nested deeper than 64 levels");
    std::string objects;
    for (int i = 0; i < 200000; ++i) objects += "{\"a\":";
    CHECK(refused_body(objects) == "not JSON: nested deeper than 64 levels");
}

TEST_CASE("UTF-8 validation") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain"));
    CHECK(is_valid_utf8("€ and 😀"));
    CHECK(is_valid_utf8(std::string("nul\0inside", 10)));
    CHECK_FALSE(is_valid_utf8("\xff"));
    CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
}

TEST_CASE("answers: the session map and errors as JSON") {
    CHECK(session_map_json({}) == "{}");
    CHECK(session_map_json({{"b", "2"}, {"a", "x\"y"}}) == R"({"a":"x\"y","b":"2"})");
    CHECK(error_json("no such session") == R"({"error":"no such session"})");
    CHECK(error_json("line\nbreak") == R"({"error":"line\nbreak"})");
}
