// What plugins send (events::Emit, events::Ack), encoded once: the text, attachments, and what is refused.
#include "plugin_packets.hpp"
#include "socketio_codec.hpp"

#include <doctest/doctest.h>

#include <string>

namespace sio = yunity::sio;

using yunity::Protocol;
// Socket.IO 5 comes over Engine.IO 4.
constexpr auto sio5 = Protocol::eio4_sio5;

TEST_SUITE("plugin packets") {

TEST_CASE("an emit: the event name first, then the arguments, with the namespace and ack id") {
    auto p = sio::encode_emit("/", "question", 7, R"(["6 x 7?",{"a":[1,2.5,null]}])", {});
    REQUIRE(p);
    CHECK(*p->text == R"(427["question","6 x 7?",{"a":[1,2.5,null]}])");
    CHECK(p->attachments.empty());
    p = sio::encode_emit("/chat", "hi", std::nullopt, "[]", {});
    REQUIRE(p);
    CHECK(*p->text == R"(42/chat,["hi"])");
}

TEST_CASE("an ack, with attachments as binary messages") {
    auto p = sio::encode_ack("/", 3, R"([{"_placeholder":true,"num":0}])", {"\x01\x02"});
    REQUIRE(p);
    CHECK(*p->text == R"(461-3[{"_placeholder":true,"num":0}])");
    REQUIRE(p->attachments.size() == 1);
    CHECK(*p->attachments[0] == "\x01\x02");
}

TEST_CASE("arguments that are not an array, or nested past the limit, are refused with the reason") {
    std::string error;
    CHECK_FALSE(sio::encode_emit("/", "x", std::nullopt, R"({"a":1})", {}, &error));
    CHECK(error.find("not a JSON array") != std::string::npos);
    CHECK_FALSE(sio::encode_emit("/", "x", std::nullopt, "[1,", {}, &error));
    // A client's JSON passed on by a plugin: as deep as a client could make it, far past the limit.
    const std::string deep = "[" + std::string(100000, '[') + std::string(100000, ']') + "]";
    CHECK_FALSE(sio::encode_emit("/", "x", std::nullopt, deep, {}, &error));
    CHECK(error.find("nested deeper than 64 levels") != std::string::npos);
    CHECK_FALSE(sio::encode_ack("/", 1, deep, {}, &error));
    // Within the limit, encoded and read back the same.
    const std::string ok = std::string(63, '[') + std::string(63, ']');
    auto p = sio::encode_emit("/", "x", std::nullopt, ok, {});
    REQUIRE(p);
    auto back = sio::decode(std::string_view(*p->text).substr(1), sio5);
    REQUIRE(back);
    CHECK(sio::encode_json(back->data) == "[\"x\"," + ok.substr(1));
}

TEST_CASE("placeholders that do not match the attachments are refused") {
    std::string error;
    CHECK_FALSE(sio::encode_emit("/", "x", std::nullopt, R"([{"_placeholder":true,"num":1}])", {"a"}, &error));
    CHECK_FALSE(sio::encode_emit("/", "x", std::nullopt, "[1]", {"unused"}, &error));
}

}
