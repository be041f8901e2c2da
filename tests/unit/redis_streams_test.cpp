// The redis-streams source's reading of redis' answers: entry ids and their order, XREAD replies, XINFO STREAM,
// and the decision that entries not read yet were trimmed away. Reply shapes are those redis 7.0 sends (RESP2).
#include <doctest/doctest.h>

#include "stream_reply.hpp"

using namespace yunity::redis_streams;
using yunity::redis::Reply;

namespace {

Reply nil() { return Reply{}; }

Reply integer(long long v) {
    Reply r;
    r.type = Reply::Type::integer;
    r.integer = v;
    return r;
}

Reply string(std::string s) {
    Reply r;
    r.type = Reply::Type::string;
    r.str = std::move(s);
    return r;
}

Reply array(std::vector<Reply> elements) {
    Reply r;
    r.type = Reply::Type::array;
    r.elements = std::move(elements);
    return r;
}

Reply entry(std::string id, std::vector<std::string> fields) {
    std::vector<Reply> f;
    for (auto& s : fields) f.push_back(string(std::move(s)));
    return array({string(std::move(id)), array(std::move(f))});
}

Reply xread(std::string stream, std::vector<Reply> entries) {
    return array({array({string(std::move(stream)), array(std::move(entries))})});
}

StreamId id(std::uint64_t ms, std::uint64_t seq) { return StreamId{ms, seq}; }

}  // namespace

TEST_CASE("stream ids: the full form only, compared as redis orders them") {
    CHECK(StreamId::parse("1733150000000-0") == id(1733150000000, 0));
    CHECK(StreamId::parse("0-0") == id(0, 0));
    CHECK(StreamId::parse("18446744073709551615-18446744073709551615") ==
          id(18446744073709551615ull, 18446744073709551615ull));
    for (const char* bad : {"", "-", "1-", "-1", "1", "1-2-3", "a-1", "1-b", "+1-0", "1-+0", " 1-0", "1-0 ",
                            "18446744073709551616-0", "$", "*", ">"})
        CHECK_MESSAGE(!StreamId::parse(bad), bad);
    CHECK(id(5, 3).to_string() == "5-3");
    CHECK(StreamId::parse(id(1733150000000, 12).to_string()) == id(1733150000000, 12));
    // The sequence orders entries within one millisecond; the time part first.
    CHECK(id(1, 10) < id(2, 0));
    CHECK(id(2, 0) < id(2, 1));
    CHECK(id(10, 0) > id(9, 99));
    CHECK(id(3, 3) == id(3, 3));
    // Not text order: "10-0" sorts before "9-0" as text.
    CHECK(*StreamId::parse("9-0") < *StreamId::parse("10-0"));
}

TEST_CASE("XREAD: nil is no entries; entries in order with their notification field") {
    auto none = parse_xread(nil(), "notifications", "notification");
    REQUIRE(none);
    CHECK(none->empty());

    auto got = parse_xread(
        xread("notifications", {entry("1-0", {"notification", "{\"users\":[1]}"}),
                                entry("1-1", {"other", "x", "notification", "second"}), entry("2-0", {"other", "x"}),
                                entry("3-0", {"notification", "first", "notification", "again"})}),
        "notifications", "notification");
    REQUIRE(got);
    REQUIRE(got->size() == 4);
    CHECK((*got)[0].id == id(1, 0));
    CHECK((*got)[0].value == "{\"users\":[1]}");
    CHECK((*got)[1].id == id(1, 1));
    CHECK((*got)[1].value == "second");
    CHECK((*got)[2].id == id(2, 0));
    CHECK(!(*got)[2].value);  // no such field: rejected by the reader, never skipped silently
    CHECK((*got)[3].value == "first");

    // A deleted entry may come with nil fields: it has no notification.
    Reply deleted = array({string("4-0"), nil()});
    auto d = parse_xread(xread("notifications", {deleted}), "notifications", "notification");
    REQUIRE(d);
    REQUIRE(d->size() == 1);
    CHECK(!(*d)[0].value);

    // Values are binary-safe.
    auto bin = parse_xread(xread("s", {entry("5-0", {"notification", std::string("a\0b", 3)})}), "s", "notification");
    REQUIRE(bin);
    CHECK((*bin)[0].value->size() == 3);
}

TEST_CASE("XREAD: a reply of another shape is refused with a reason, never half taken") {
    std::string error;
    CHECK(!parse_xread(integer(1), "s", "notification", &error));
    CHECK(error.find("neither nil nor an array") != std::string::npos);
    CHECK(!parse_xread(xread("other", {entry("1-0", {"notification", "x"})}), "s", "notification", &error));
    CHECK(error.find("another stream") != std::string::npos);
    CHECK(!parse_xread(array({array({string("s")})}), "s", "notification", &error));
    CHECK(!parse_xread(xread("s", {entry("1-0", {"notification", "x"}), entry("x-0", {"notification", "y"})}), "s",
                       "notification", &error));
    CHECK(error.find("x-0") != std::string::npos);
    CHECK(!parse_xread(xread("s", {entry("1-0", {"notification"})}), "s", "notification", &error));
    CHECK(error.find("odd") != std::string::npos);
    CHECK(!parse_xread(xread("s", {array({string("1-0"), integer(3)})}), "s", "notification", &error));
    CHECK(!parse_xread(xread("s", {array({string("1-0"), array({integer(1), string("v")})})}), "s", "notification",
                       &error));
    CHECK(!parse_xread(xread("s", {string("1-0")}), "s", "notification", &error));
}

namespace {

// XINFO STREAM as redis 7.0 answers it (RESP2), for a stream of 3 entries 1-0..3-0 after 1 trimmed one.
Reply xinfo7(std::string first, std::string last_generated, std::string max_deleted, long long length) {
    return array({string("length"),
                  integer(length),
                  string("radix-tree-keys"),
                  integer(1),
                  string("radix-tree-nodes"),
                  integer(2),
                  string("last-generated-id"),
                  string(std::move(last_generated)),
                  string("max-deleted-entry-id"),
                  string(std::move(max_deleted)),
                  string("entries-added"),
                  integer(length + 1),
                  string("recorded-first-entry-id"),
                  string(first),
                  string("groups"),
                  integer(0),
                  string("first-entry"),
                  first.empty() ? nil() : entry(first, {"notification", "x"}),
                  string("last-entry"),
                  nil()});
}

// Redis 6 has neither max-deleted-entry-id nor entries-added.
Reply xinfo6(std::string first, std::string last_generated, long long length) {
    return array({string("length"), integer(length), string("radix-tree-keys"), integer(1), string("radix-tree-nodes"),
                  integer(2), string("last-generated-id"), string(std::move(last_generated)), string("groups"),
                  integer(0), string("first-entry"), first.empty() ? nil() : entry(first, {"notification", "x"}),
                  string("last-entry"), nil()});
}

}  // namespace

TEST_CASE("XINFO STREAM: length, last generated id, first entry, newest deleted id") {
    auto info = parse_xinfo(xinfo7("2-0", "4-0", "1-0", 3));
    REQUIRE(info);
    CHECK(info->length == 3);
    CHECK(info->last_generated == id(4, 0));
    CHECK(info->first_entry == id(2, 0));
    CHECK(info->max_deleted == id(1, 0));
    CHECK(info->entries_added == 4);

    auto empty = parse_xinfo(xinfo7("", "4-0", "4-0", 0));
    REQUIRE(empty);
    CHECK(!empty->first_entry);

    auto old = parse_xinfo(xinfo6("2-0", "4-0", 3));
    REQUIRE(old);
    CHECK(!old->max_deleted);
    CHECK(!old->entries_added);

    std::string error;
    CHECK(!parse_xinfo(integer(1), &error));
    CHECK(!parse_xinfo(array({string("length")}), &error));
    CHECK(!parse_xinfo(array({string("length"), integer(1)}), &error));
    CHECK(error.find("last-generated-id") != std::string::npos);
    CHECK(!parse_xinfo(array({string("length"), integer(1), string("last-generated-id"), string("nope")}), &error));
    CHECK(!parse_xinfo(array({string("length"), integer(-1), string("last-generated-id"), string("1-0")}), &error));
}

TEST_CASE("a gap: entries after the last one read were deleted before they were read") {
    // Redis 7: exact, by the newest deleted id.
    auto trimmed = parse_xinfo(xinfo7("100-0", "120-0", "99-5", 10));
    REQUIRE(trimmed);
    auto gap = find_gap(*trimmed, id(50, 0), true);
    REQUIRE(gap);
    CHECK(gap->after == id(50, 0));
    CHECK(gap->through == id(99, 5));
    CHECK(gap->exact);
    // Read up to the newest deleted one or past it: nothing lost.
    CHECK(!find_gap(*trimmed, id(99, 5), true));
    CHECK(!find_gap(*trimmed, id(110, 0), true));
    // A stream that never lost an entry.
    CHECK(!find_gap(*parse_xinfo(xinfo7("1-0", "5-0", "0-0", 5)), id(0, 0), false));

    // Redis 6: inferred from the oldest entry, and only from an entry that was read (the position a first start
    // pinned may be older than every entry without anything being lost).
    auto old = parse_xinfo(xinfo6("100-0", "120-0", 10));
    REQUIRE(old);
    auto inferred = find_gap(*old, id(50, 0), true);
    REQUIRE(inferred);
    CHECK(inferred->through == id(100, 0));
    CHECK(!inferred->exact);
    CHECK(!find_gap(*old, id(50, 0), false));
    CHECK(!find_gap(*old, id(100, 0), true));
}

TEST_CASE("lag: how far the last id read is behind the newest, by the ids' time") {
    auto info = parse_xinfo(xinfo7("1-0", "5000-3", "0-0", 5));
    REQUIRE(info);
    CHECK(lag_ms(*info, id(1000, 0)) == 4000);
    CHECK(lag_ms(*info, id(5000, 3)) == 0);
    CHECK(lag_ms(*info, id(6000, 0)) == 0);
}
