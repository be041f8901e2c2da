#include <doctest/doctest.h>

#include "redis_target.hpp"

using yunity::redis::address_of;
using yunity::redis::parse_redis_target;
using yunity::redis::redact;
using yunity::redis::RedisTarget;

namespace {

RedisTarget target_ok(std::string_view text) {
  std::string error;
  auto target = parse_redis_target(text, &error);
  INFO("url: ", text, " error: ", error);
  REQUIRE(target.has_value());
  CHECK(error.empty());
  return *target;
}

std::string target_error(std::string_view text) {
  std::string error;
  auto target = parse_redis_target(text, &error);
  INFO("url: ", text);
  CHECK_FALSE(target.has_value());
  CHECK_FALSE(error.empty());
  return error;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("redis:// is one server, as parse_redis_url reads it") {
  const auto t = target_ok("redis://:pw@cache:6380/2");
  CHECK(t.kind == RedisTarget::Kind::single);
  CHECK(t.url.host == "cache");
  CHECK(t.url.port == 6380);
  CHECK(t.url.password == "pw");
  CHECK(t.url.db == 2);
  CHECK(t.seeds.empty());
  CHECK(contains(target_error("http://x"), "redis-sentinel://"));
}

TEST_CASE("redis-sentinel: sentinels, default port 26379, master name, db and the master's password") {
  const auto t = target_ok("redis-sentinel://:s3cret@10.0.0.1:5000,sentinel-b,[::1]:5002/3#my%2Dmaster");
  CHECK(t.kind == RedisTarget::Kind::sentinel);
  CHECK(t.master_name == "my-master");
  REQUIRE(t.seeds.size() == 3);
  CHECK(address_of(t.seeds[0]) == "10.0.0.1:5000");
  CHECK(address_of(t.seeds[1]) == "sentinel-b:26379");
  CHECK(address_of(t.seeds[2]) == "[::1]:5002");
  // The password and the database are the master's; sentinels are asked without them.
  CHECK(t.url.password == "s3cret");
  CHECK(t.url.db == 3);
  for (const auto& s : t.seeds) {
    CHECK(s.password.empty());
    CHECK(s.db == 0);
  }
  CHECK(target_ok("REDIS-SENTINEL://h#m").seeds.at(0).port == 26379);
  CHECK(target_ok("redis-sentinel://u:pw@h:1#m").url.user == "u");
}

TEST_CASE("redis-sentinel without a master name, hosts or with bad parts is refused") {
  CHECK(contains(target_error("redis-sentinel://h:26379"), "master"));
  CHECK(contains(target_error("redis-sentinel://h:26379#"), "master"));
  CHECK(contains(target_error("redis-sentinel://#m"), "host"));
  CHECK(contains(target_error("redis-sentinel://a,,b#m"), "empty host"));
  CHECK(contains(target_error("redis-sentinel://a,#m"), "empty host"));
  CHECK(contains(target_error("redis-sentinel://a:0#m"), "port"));
  CHECK(contains(target_error("redis-sentinel://a:1/x#m"), "database"));
  CHECK(contains(target_error("redis-sentinel://a:1?x=1#m"), "query"));
  CHECK(contains(target_error("redis-sentinel://a%00b#m"), "host"));
  CHECK(contains(target_error("redis-sentinel://a#m%0Ax"), "master name"));
  // Sentinel announces failovers as space-separated words: a name with a space could not be followed.
  CHECK(contains(target_error("redis-sentinel://a#my%20master"), "master name"));
  CHECK(contains(target_error("redis-sentinel://a#m%zz"), "percent"));
  CHECK(contains(target_error("redis-sentinel://secret@a#m"), "password"));
}

TEST_CASE("redis-cluster: seed nodes with the cluster's password, database 0 only") {
  const auto t = target_ok("redis-cluster://:pw@n1:7000,n2:7001,n3");
  CHECK(t.kind == RedisTarget::Kind::cluster);
  REQUIRE(t.seeds.size() == 3);
  CHECK(address_of(t.seeds[2]) == "n3:6379");
  CHECK(t.seeds[0].password == "pw");
  CHECK(t.url.host == "n1");
  CHECK(contains(target_error("redis-cluster://n1:7000/1"), "database 0"));
  CHECK(contains(target_error("redis-cluster://n1#x"), "fragment"));
}

TEST_CASE("errors and redact never show the password") {
  for (const char* text : {"redis-sentinel://:topsecret@h:99999#m", "redis-sentinel://:topsecret@h/x#m",
                           "redis-cluster://:topsecret@h/1", "redis-sentinel://:topsecret@h"}) {
    CHECK_FALSE(contains(target_error(text), "topsecret"));
  }
  const auto r = redact(target_ok("redis-sentinel://:topsecret@a:1,b:2/4#m"));
  CHECK(r == "redis-sentinel://:***@a:1,b:2/4#m");
  CHECK(redact(target_ok("redis-cluster://a:1,b")) == "redis-cluster://a:1,b:6379");
  CHECK(redact(target_ok("redis://:topsecret@h")) == "redis://:***@h:6379");
}
