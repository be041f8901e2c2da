#include <doctest/doctest.h>

#include "cluster_slots.hpp"
#include "replies.hpp"

using namespace yunity::redis;

using yunity::test::array;
using yunity::test::integer;
using yunity::test::string;

// The reference values are those of the Redis Cluster specification (CRC16 of "123456789" is 0x31C3) and of
// `CLUSTER KEYSLOT` on redis 7.0.
TEST_CASE("CRC16 and key slots as redis computes them") {
  CHECK(crc16("123456789") == 0x31C3);
  CHECK(crc16("") == 0);
  CHECK(key_slot("foo") == 12182);
  CHECK(key_slot("bar") == 5061);
  CHECK(key_slot("") == 0);
  CHECK(key_slot("session-store-abc") < cluster_slot_count);
}

TEST_CASE("hash tags: the first {...} with something inside decides") {
  CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
  CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
  CHECK(key_slot("foo{}{bar}") == key_slot("foo{}{bar}"));
  CHECK(key_slot("foo{}{bar}") != key_slot("bar"));  // an empty first tag: the whole key
  CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));
  CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));
  CHECK(key_slot("foo{bar") == crc16("foo{bar") % cluster_slot_count);  // no closing brace: the whole key
}

TEST_CASE("MOVED and ASK errors") {
  auto r = parse_redirect("MOVED 3999 127.0.0.1:6381");
  REQUIRE(r);
  CHECK_FALSE(r->ask);
  CHECK(r->slot == 3999);
  CHECK(r->host == "127.0.0.1");
  CHECK(r->port == 6381);
  r = parse_redirect("ASK 16383 [::1]:7000");
  REQUIRE(r);
  CHECK(r->ask);
  CHECK(r->host == "::1");
  CHECK(r->port == 7000);
  CHECK_FALSE(parse_redirect("ERR unknown command"));
  CHECK_FALSE(parse_redirect("MOVED 16384 h:1"));
  CHECK_FALSE(parse_redirect("MOVED x h:1"));
  CHECK_FALSE(parse_redirect("MOVED 1 h"));
  CHECK_FALSE(parse_redirect("MOVED 1 h:0"));
  CHECK_FALSE(parse_redirect("MOVED 1 :7000"));
  CHECK_FALSE(parse_redirect("MOVED"));
}

TEST_CASE("CLUSTER SLOTS: masters by range; an empty host is the node asked") {
  const Reply reply = array({
      array({integer(0), integer(5460), array({string("10.0.0.1"), integer(7000), string("id1")}),
             array({string("10.0.0.4"), integer(7003), string("id4")})}),
      array({integer(5461), integer(16383), array({string(""), integer(7001), string("id2")})}),
  });
  const auto ranges = parse_cluster_slots(reply, "10.0.0.9");
  REQUIRE(ranges);
  REQUIRE(ranges->size() == 2);
  CHECK((*ranges)[0].first == 0);
  CHECK((*ranges)[0].last == 5460);
  CHECK((*ranges)[0].host == "10.0.0.1");
  CHECK((*ranges)[0].port == 7000);
  CHECK((*ranges)[1].host == "10.0.0.9");
  CHECK((*ranges)[1].last == 16383);

  CHECK_FALSE(parse_cluster_slots(string("x"), "h"));
  CHECK_FALSE(parse_cluster_slots(array({array({integer(5), integer(4), array({string("h"), integer(1)})})}), "h"));
  CHECK_FALSE(parse_cluster_slots(array({array({integer(0), integer(16384), array({string("h"), integer(1)})})}), "h"));
  CHECK_FALSE(parse_cluster_slots(array({array({integer(0), integer(1), array({string("h"), integer(0)})})}), "h"));
  CHECK_FALSE(parse_cluster_slots(array({array({integer(0), integer(1)})}), "h"));
  CHECK(parse_cluster_slots(array({}), "h")->empty());
}
