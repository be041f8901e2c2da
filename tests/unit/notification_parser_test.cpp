#include "keyspace_flags.hpp"
#include "notification_parser.hpp"

#include <doctest/doctest.h>

using namespace yunity;
using notifications::parse_notification;
using notifications::ParseError;
using notifications::Rejection;

namespace {

events::Notification ok(std::string_view text) {
    auto r = parse_notification(text);
    REQUIRE(std::holds_alternative<events::Notification>(r));
    return std::get<events::Notification>(r);
}

Rejection refused(std::string_view text) {
    auto r = parse_notification(text, 1000, 8);
    REQUIRE(std::holds_alternative<ParseError>(r));
    return std::get<ParseError>(r).reason;
}

}  // namespace

TEST_CASE("the payload is the object minus users, compact, in its order") {
    auto n = ok(R"({ "type" : "t", "users" : [23, "u5"], "payload": {"a": [1, 2.5, "€"]}, "z": null })");
    CHECK(*n.payload == R"({"type":"t","payload":{"a":[1,2.5,"€"]},"z":null})");
    CHECK(n.users == std::vector<std::string>{"23", "u5"});
}

TEST_CASE("79 and \"79\" are one user, and repeats are dropped") {
    auto n = ok(R"({"users":[42,"42",42,"7",-3],"data":1})");
    CHECK(n.users == std::vector<std::string>{"-3", "42", "7"});
    CHECK(ok(R"({"users":[],"data":1})").users.empty());
    CHECK(*ok(R"({"users":[1]})").payload == "{}");
}

TEST_CASE("what is not a notification is refused with its reason") {
    CHECK(refused("not json") == Rejection::not_json);
    CHECK(refused("") == Rejection::not_json);
    CHECK(refused(R"({"users":[1],)") == Rejection::not_json);
    CHECK(refused("[1,2]") == Rejection::not_object);
    CHECK(refused(R"("string")") == Rejection::not_object);
    CHECK(refused(R"({"data":1})") == Rejection::no_users);
    CHECK(refused(R"({"users":"u1"})") == Rejection::no_users);
    CHECK(refused(R"({"users":[{"id":1}]})") == Rejection::bad_user);
    CHECK(refused(R"({"users":[null]})") == Rejection::bad_user);
    CHECK(refused(R"({"users":[1.5]})") == Rejection::bad_user);
    CHECK(refused(R"({"users":[true]})") == Rejection::bad_user);
    CHECK(refused(R"({"users":[""]})") == Rejection::bad_user);
    CHECK(refused(std::string(2000, ' ')) == Rejection::too_large);
    CHECK(refused(R"({"users":[1],"d":[[[[[[[[[1]]]]]]]]]})") == Rejection::too_deep);
}

// Found by fuzzing (tests/fuzz/notification.cpp): with "users" twice, the first routed the notification and
// the second reached every client in the payload.
TEST_CASE("a repeated users member: the last one counts, as with JSON.parse, and none reaches the payload") {
    auto n = ok(R"({"users":[23,"u5"],"data":1,"users":[4],"users":[7,8]})");
    CHECK(n.users == std::vector<std::string>{"7", "8"});
    CHECK(*n.payload == R"({"data":1})");
    CHECK(refused(R"({"users":[1],"users":"x"})") == Rejection::no_users);
    CHECK(*ok(R"({"users\u0000":[1],"users":[2]})").payload == R"({"users\u0000":[1]})");
}

// Found by fuzzing: the payload went to clients with a lone surrogate as bytes that are not UTF-8.
TEST_CASE("a lone surrogate escape stays an escape in the payload") {
    auto n = ok(R"({"users":["a"],"s":"\u0000\false\ude00\u2028 \" \\ \/","k\udc01":true,"e":"\ud7ff\ud83d\ude00"})");
    CHECK(*n.payload == "{\"s\":\"\\u0000\\false\\ude00\xE2\x80\xA8 \\\" \\\\ /\",\"k\\udc01\":true,"
                        "\"e\":\"\xED\x9F\xBF\xF0\x9F\x98\x80\"}");
}

// Found by fuzzing (through the Socket.IO codec, which shares the reader): RapidJSON 1.1's full-precision path
// made 0.0000000000000000000000000 a tiny non-zero number, and 184467375e300 NaN, written as nothing.
TEST_CASE("numbers in the payload are read exactly") {
    CHECK(*ok(R"({"users":[1],"a":0.0000000000000000000000000,"b":0e38,"c":0.1})").payload ==
          R"({"a":0.0,"b":0.0,"c":0.1})");
    CHECK(refused(R"({"users":[1],"a":184467375e300})") == Rejection::not_json);
}

TEST_CASE("deeply nested input is parsed without recursion and refused") {
    std::string deep = R"({"users":[1],"d":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
    auto r = parse_notification(deep, 1 << 22);
    REQUIRE(std::holds_alternative<ParseError>(r));
    CHECK(std::get<ParseError>(r).reason == Rejection::too_deep);
    std::string unbalanced = R"({"users":[1],"d":)" + std::string(200000, '[');
    // Refused at the 65th level, before the missing ends are reached.
    CHECK(std::get<ParseError>(parse_notification(unbalanced, 1 << 22)).reason == Rejection::too_deep);
    std::string shallow_unbalanced = R"({"users":[1],"d":[[[)";
    CHECK(std::get<ParseError>(parse_notification(shallow_unbalanced, 1 << 22)).reason == Rejection::not_json);
}

TEST_CASE("keyspace flags: merged with what is set, never losing the others") {
    using redis_session::merge_keyspace_flags;
    CHECK(merge_keyspace_flags("") == "Kg$xe");
    CHECK(merge_keyspace_flags("KA") == "KA");
    CHECK(merge_keyspace_flags("AK") == "AK");
    CHECK(merge_keyspace_flags("Ex") == "ExKg$e");
    CHECK(merge_keyspace_flags("KEA") == "KEA");
    CHECK(merge_keyspace_flags("Kg$xe") == "Kg$xe");
    CHECK(merge_keyspace_flags("lsh") == "lshKg$xe");
    CHECK(redis_session::escape_glob("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\");
}
