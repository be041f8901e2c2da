// The redis-streams source's reading of redis' answers: entry ids and their order, XREAD replies, XINFO STREAM,
// and the finding that entries not read yet were trimmed or deleted away. Reply shapes are those redis 7.0 sends (RESP2).
#include <doctest/doctest.h>

#include "gap_detector.hpp"
#include "replies.hpp"
#include "stream_reply.hpp"

using namespace yunity::redis_streams;
using yunity::redis::Reply;
using yunity::test::array;
using yunity::test::integer;
using yunity::test::nil;
using yunity::test::string;

namespace {

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

TEST_CASE("XRANGE: the entries in order, as XREAD's; another shape is refused") {
    auto none = parse_xrange(array({}), "notification");
    REQUIRE(none);
    CHECK(none->empty());
    auto got = parse_xrange(array({entry("1-0", {"notification", "a"}), entry("2-5", {"other", "x"})}), "notification");
    REQUIRE(got);
    REQUIRE(got->size() == 2);
    CHECK((*got)[0].id == id(1, 0));
    CHECK((*got)[0].value == "a");
    CHECK((*got)[1].id == id(2, 5));
    CHECK(!(*got)[1].value);
    std::string why;
    CHECK(!parse_xrange(nil(), "notification", &why));
    CHECK(why == "XRANGE answered something not an array");
    CHECK(!parse_xrange(array({array({string("x-y"), array({})})}), "notification", &why));
    CHECK(why == "XRANGE answered an entry id that is not one: x-y");
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

// XINFO STREAM as redis 7.0 answers it (RESP2). entries-added defaults to one more than the length (one entry
// trimmed).
Reply xinfo7(std::string first, std::string last_generated, std::string max_deleted, long long length,
             long long entries_added = -1) {
    if (entries_added < 0) entries_added = length + 1;
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
                  integer(entries_added),
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

TEST_CASE("gaps counted with redis 7: entries trimmed (MAXLEN/MINID) before they were read, seen before reading on") {
    // Started when 4 entries had been added, the last 4-0; then 6 more (5-0..10-0) while away, and MAXLEN 3
    // kept 8-0..10-0: 5-0, 6-0 and 7-0 were never read. (Trimming leaves max-deleted-entry-id at 0-0.)
    GapDetector gaps;
    gaps.start_at(id(4, 0), 4);
    CHECK(!gaps.check(*parse_xinfo(xinfo7("1-0", "4-0", "0-0", 4, 4))));
    auto gap = gaps.check(*parse_xinfo(xinfo7("8-0", "10-0", "0-0", 3, 10)));
    REQUIRE(gap);
    CHECK(gap->after == id(4, 0));
    CHECK(gap->until == id(8, 0));
    CHECK(gap->count == 3);
    // Reported once: reading the kept ones then matches the count, up to the mark (10-0) and after it.
    CHECK(!gaps.check(*parse_xinfo(xinfo7("8-0", "10-0", "0-0", 3, 10))));
    CHECK(!gaps.read(id(8, 0)));
    CHECK(!gaps.read(id(9, 0)));
    CHECK(!gaps.read(id(10, 0)));
    CHECK(!gaps.check(*parse_xinfo(xinfo7("10-0", "10-0", "0-0", 1, 10))));
    // Two more added and both trimmed away (MAXLEN 0): the stream is empty, the gap runs up to the last id.
    auto emptied = gaps.check(*parse_xinfo(xinfo7("", "12-0", "0-0", 0, 12)));
    REQUIRE(emptied);
    CHECK(emptied->count == 2);
    CHECK(emptied->after == id(10, 0));
    CHECK(emptied->until == id(12, 0));
}

TEST_CASE("gaps counted with redis 7: trimmed entries the reader already went past") {
    // An XINFO came while 1-0..10-0 were all held (the mark: 10-0, 10 added); then MAXLEN took 2-0..4-0 while the
    // reader held only 1-0, and it read 5-0..10-0. At the mark it has counted 7 of 10.
    GapDetector gaps;
    gaps.start_at(id(0, 0), 0);
    CHECK(!gaps.read(id(1, 0)));
    CHECK(!gaps.check(*parse_xinfo(xinfo7("1-0", "10-0", "0-0", 10, 10))));
    for (std::uint64_t ms = 5; ms < 10; ++ms) CHECK(!gaps.read(id(ms, 0)));
    auto gap = gaps.read(id(10, 0));  // the mark: counted 7 of 10
    REQUIRE(gap);
    CHECK(gap->count == 3);
    CHECK(gap->after == id(0, 0));  // where the count last held: the gap lies somewhere after it
    CHECK(gap->until == id(10, 0));
    // The mark itself trimmed, and the reader goes past it: settled there, before the entry after it counts.
    GapDetector past;
    past.start_at(id(0, 0), 0);
    CHECK(!past.check(*parse_xinfo(xinfo7("1-0", "3-0", "0-0", 3, 3))));
    CHECK(!past.read(id(1, 0)));
    auto gone = past.read(id(7, 0));  // 2-0 and 3-0 never came
    REQUIRE(gone);
    CHECK(gone->count == 2);
    CHECK(gone->until == id(3, 0));
    // Caught up at an XINFO: settled at once.
    GapDetector caught;
    caught.start_at(id(0, 0), 0);
    CHECK(!caught.read(id(1, 0)));
    CHECK(!caught.read(id(9, 0)));
    auto late = caught.check(*parse_xinfo(xinfo7("9-0", "9-0", "0-0", 1, 5)));
    REQUIRE(late);
    CHECK(late->count == 3);
    CHECK(!caught.check(*parse_xinfo(xinfo7("9-0", "9-0", "0-0", 1, 5))));
}

TEST_CASE("no gap: everything after the position is held, or trimming only took what was read") {
    GapDetector gaps;
    gaps.start_at(id(4, 0), 4);
    // Three added, none trimmed; then the entries up to the position trimmed (the oldest is 5-0, the next to read).
    CHECK(!gaps.check(*parse_xinfo(xinfo7("1-0", "7-0", "0-0", 7, 7))));
    CHECK(!gaps.check(*parse_xinfo(xinfo7("5-0", "7-0", "0-0", 3, 7))));
    CHECK(!gaps.read(id(5, 0)));
    CHECK(!gaps.read(id(6, 0)));
    CHECK(!gaps.read(id(7, 0)));
    CHECK(!gaps.check(*parse_xinfo(xinfo7("7-0", "7-0", "0-0", 1, 7))));
    CHECK(!gaps.check(*parse_xinfo(xinfo7("", "7-0", "0-0", 0, 7))));

    // A first start on a stream that does not exist: its entries-added starts at 0, every entry is new.
    GapDetector fresh;
    fresh.start_at(id(0, 0), 0);
    CHECK(!fresh.check(*parse_xinfo(xinfo7("100-0", "102-0", "0-0", 3, 3))));
    auto lost = fresh.check(*parse_xinfo(xinfo7("102-0", "102-0", "0-0", 1, 3)));
    REQUIRE(lost);
    CHECK(lost->count == 2);
}

TEST_CASE("an XDEL after the position is a gap without a count; redis 6 falls back to the oldest entry") {
    GapDetector gaps;
    gaps.start_at(id(4, 0), 4);
    CHECK(!gaps.read(id(5, 0)));
    // 6-0 deleted with XDEL while 5-0 and 7-0 are held: the oldest entry says nothing, max-deleted-entry-id does.
    auto deleted = gaps.check(*parse_xinfo(xinfo7("5-0", "7-0", "6-0", 2, 7)));
    REQUIRE(deleted);
    CHECK(deleted->until == id(6, 0));
    CHECK(!deleted->count);
    CHECK(!gaps.check(*parse_xinfo(xinfo7("5-0", "7-0", "6-0", 2, 7))));
    CHECK(!gaps.read(id(7, 0)));
    // Deleted before the position: nothing lost here.
    GapDetector behind;
    behind.start_at(id(4, 0), 4);
    CHECK(!behind.check(*parse_xinfo(xinfo7("1-0", "4-0", "3-0", 3, 4))));

    // Redis 6: no entries-added. The position the first start took is not an entry read: no guess from it.
    GapDetector old;
    old.start_at(id(50, 0), std::nullopt);
    CHECK(!old.check(*parse_xinfo(xinfo6("100-0", "120-0", 10))));
    CHECK(!old.read(id(100, 0)));
    CHECK(!old.read(id(101, 0)));
    auto inferred = old.check(*parse_xinfo(xinfo6("110-0", "120-0", 5)));
    REQUIRE(inferred);
    CHECK(inferred->after == id(101, 0));
    CHECK(inferred->until == id(110, 0));
    CHECK(!inferred->count);
    CHECK(!old.check(*parse_xinfo(xinfo6("110-0", "120-0", 5))));
    CHECK(!old.read(id(110, 0)));
    CHECK(!old.check(*parse_xinfo(xinfo6("110-0", "120-0", 5))));
}

TEST_CASE("a stream deleted and made again: counted afresh, never a false count") {
    GapDetector gaps;
    gaps.start_at(id(4, 0), 4);
    CHECK(!gaps.read(id(5, 0)));
    gaps.absent();
    // Made again with two entries, both after the position: nothing lost since it was made.
    CHECK(!gaps.check(*parse_xinfo(xinfo7("6-0", "7-0", "0-0", 2, 2))));
    CHECK(!gaps.read(id(6, 0)));
    CHECK(!gaps.read(id(7, 0)));
    // Without absent() (the stream went and came back between two checks): fewer entries ever added than passed.
    GapDetector missed;
    missed.start_at(id(4, 0), 40);
    CHECK(!missed.read(id(5, 0)));
    CHECK(!missed.check(*parse_xinfo(xinfo7("5-0", "7-0", "0-0", 2, 2))));
}

TEST_CASE("lag: how far the last id read is behind the newest, by the ids' time") {
    auto info = parse_xinfo(xinfo7("1-0", "5000-3", "0-0", 5));
    REQUIRE(info);
    CHECK(lag_ms(*info, id(1000, 0)) == 4000);
    CHECK(lag_ms(*info, id(5000, 3)) == 0);
    CHECK(lag_ms(*info, id(6000, 0)) == 0);
}

TEST_CASE("how far behind, in entries: what was added after the position (redis 7 only)") {
    GapDetector gaps;
    gaps.start_at(id(4, 0), 4);
    CHECK(gaps.behind(*parse_xinfo(xinfo7("1-0", "9-0", "0-0", 9, 9))) == 5);
    CHECK(!gaps.read(id(5, 0)));
    CHECK(gaps.behind(*parse_xinfo(xinfo7("1-0", "9-0", "0-0", 9, 9))) == 4);
    CHECK(!gaps.behind(*parse_xinfo(xinfo6("1-0", "9-0", 9))));
    GapDetector old;
    old.start_at(id(4, 0), std::nullopt);
    CHECK(!old.behind(*parse_xinfo(xinfo7("1-0", "9-0", "0-0", 9, 9))));
}
