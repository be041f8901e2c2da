#include <doctest/doctest.h>

#include "redis_url.hpp"

using yunity::redis::parse_redis_url;
using yunity::redis::redact;
using yunity::redis::RedisUrl;

namespace {

RedisUrl parse_ok(std::string_view text) {
  std::string error;
  auto url = parse_redis_url(text, &error);
  INFO("url: ", text, " error: ", error);
  REQUIRE(url.has_value());
  CHECK(error.empty());
  return *url;
}

std::string parse_error(std::string_view text) {
  std::string error;
  auto url = parse_redis_url(text, &error);
  INFO("url: ", text);
  CHECK_FALSE(url.has_value());
  CHECK_FALSE(error.empty());
  return error;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("plain host, default port and db") {
  const auto url = parse_ok("redis://cache.internal");
  CHECK(url.host == "cache.internal");
  CHECK(url.port == 6379);
  CHECK(url.db == 0);
  CHECK(url.user.empty());
  CHECK(url.password.empty());
}

TEST_CASE("host, port and db") {
  const auto url = parse_ok("redis://10.1.2.3:6380/7");
  CHECK(url.host == "10.1.2.3");
  CHECK(url.port == 6380);
  CHECK(url.db == 7);
  CHECK(parse_ok("redis://h:1/").db == 0);
  CHECK(parse_ok("REDIS://h").host == "h");
}

TEST_CASE("password only and user with password, percent-decoded") {
  auto url = parse_ok("redis://:s3cret@localhost");
  CHECK(url.user.empty());
  CHECK(url.password == "s3cret");

  url = parse_ok("redis://alice:p%40ss%3Aw%2Frd@localhost:7000/2");
  CHECK(url.user == "alice");
  CHECK(url.password == "p@ss:w/rd");
  CHECK(url.port == 7000);
  CHECK(url.db == 2);

  url = parse_ok("redis://j%C3%BCrgen:pw@h");
  CHECK(url.user == "j\xC3\xBCrgen");
}

TEST_CASE("IPv6 literal") {
  auto url = parse_ok("redis://[::1]:6390/3");
  CHECK(url.host == "::1");
  CHECK(url.port == 6390);
  CHECK(url.db == 3);
  CHECK(parse_ok("redis://:pw@[2001:db8::7]").host == "2001:db8::7");
}

TEST_CASE("no host means the local default") {
  CHECK(parse_ok("redis://").host == "127.0.0.1");
  CHECK(parse_ok("redis://:pw@/4").db == 4);
}

// Found by fuzzing (tests/fuzz/redis_url.cpp): the host reaches getaddrinfo as a C string.
TEST_CASE("a host with a percent-encoded NUL, control character or space is refused") {
  CHECK(contains(parse_error("redis://a%00b"), "host"));
  CHECK(contains(parse_error("redis://cache%00.evil.example:6380/1"), "host"));
  CHECK(contains(parse_error("redis://a%0Ab"), "host"));
  CHECK(contains(parse_error("redis://a%20b"), "host"));
  CHECK(contains(parse_error("redis://a%7Fb"), "host"));
  CHECK(parse_ok("redis://caf%C3%A9").host == "caf\xC3\xA9");
}

// Found by fuzzing: Boost.URL 1.81 splits "1.2.3.4x" into an IPv4 host and a path; the host is what is wrong.
TEST_CASE("a host that starts like an IPv4 address is refused as a host, not as a database") {
  CHECK(contains(parse_error("redis://10.0.0.1x:6380/2"), "host"));
  CHECK(contains(parse_error("redis://1.2.3.4.5"), "host"));
  CHECK(contains(parse_error("redis://:pw@7.0.0.0Z"), "host"));
  CHECK(parse_ok("redis://7.0.0.%30Z").host == "7.0.0.0Z");
  CHECK(parse_ok("redis://1.2.3.4:80/3").host == "1.2.3.4");
}

TEST_CASE("other schemes are refused") {
  CHECK(contains(parse_error("http://localhost:6379"), "scheme"));
  CHECK(contains(parse_error("rediss://localhost"), "TLS"));
  CHECK(contains(parse_error("unix:///tmp/redis.sock"), "scheme"));
  parse_error("localhost:6379");
  parse_error("");
  parse_error("redis:localhost");
}

TEST_CASE("bad ports are refused") {
  CHECK(contains(parse_error("redis://h:0"), "port"));
  CHECK(contains(parse_error("redis://h:65536"), "port"));
  CHECK(contains(parse_error("redis://h:99999999999999999999"), "port"));
  CHECK(contains(parse_error("redis://h:"), "port"));
  parse_error("redis://h:12ab");
}

TEST_CASE("bad databases are refused") {
  CHECK(contains(parse_error("redis://h/abc"), "database"));
  CHECK(contains(parse_error("redis://h/1/2"), "database"));
  CHECK(contains(parse_error("redis://h/-1"), "database"));
  CHECK(contains(parse_error("redis://h/1x"), "database"));
  CHECK(contains(parse_error("redis://h/99999999999999999999"), "database"));
}

TEST_CASE("queries, fragments and ambiguous userinfo are refused") {
  CHECK(contains(parse_error("redis://h/1?db=2"), "query"));
  CHECK(contains(parse_error("redis://h#x"), "fragment"));
  CHECK(contains(parse_error("redis://secret@h"), "password"));
  CHECK(contains(parse_error("redis://alice:@h"), "empty password"));
}

TEST_CASE("errors never repeat the password") {
  for (const char* text : {"redis://:topsecret@h:99999", "redis://u:topsecret@h/x", "rediss://:topsecret@h",
                           "redis://:topsecret@h?x=1"}) {
    CHECK_FALSE(contains(parse_error(text), "topsecret"));
  }
}

TEST_CASE("a null error pointer is fine") {
  CHECK_FALSE(parse_redis_url("http://x", nullptr).has_value());
  CHECK(parse_redis_url("redis://x", nullptr).has_value());
}

TEST_CASE("redact hides the password") {
  CHECK(redact(parse_ok("redis://h")) == "redis://h:6379");
  CHECK(redact(parse_ok("redis://:pw@h:1/2")) == "redis://:***@h:1/2");
  CHECK(redact(parse_ok("redis://alice:pw@[::1]")) == "redis://alice:***@[::1]:6379");
  CHECK_FALSE(contains(redact(parse_ok("redis://alice:hunter2@h")), "hunter2"));
}
