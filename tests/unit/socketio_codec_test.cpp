// Socket.IO codec: vectors from socket.io-protocol (main = protocol 5, branch v4 = protocol 4), its test-suite, and
// the decoding rules of socket.io-parser's tests.
#include "socketio_codec.hpp"

#include <doctest/doctest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>
#include <string>
#include <string_view>

using namespace std::string_literals;
using yunity::sio::Packet;
using yunity::sio::PacketType;
namespace sio = yunity::sio;

using yunity::Protocol;
// Socket.IO 4 comes over Engine.IO 3, Socket.IO 5 over Engine.IO 4.
constexpr auto sio4 = Protocol::eio3_sio4;
constexpr auto sio5 = Protocol::eio4_sio5;

namespace {

Packet must_decode(std::string_view text, Protocol protocol) {
    std::string error;
    auto p = sio::decode(text, protocol, &error);
    INFO("packet: " << std::string(text) << " error: " << error);
    REQUIRE(p.has_value());
    return std::move(*p);
}

void check_invalid(std::string_view text, Protocol protocol) {
    std::string error;
    auto p = sio::decode(text, protocol, &error);
    INFO("packet: " << std::string(text));
    CHECK_FALSE(p.has_value());
    CHECK_FALSE(error.empty());
}

// Test-side serialization with RapidJSON's own writer, independent of the codec's.
std::string json(const rapidjson::Value& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    return buffer.GetString();
}

// Decodes, checks that encoding gives the same text back.
Packet round_trip(std::string_view text, Protocol protocol) {
    auto p = must_decode(text, protocol);
    CHECK(sio::encode(p) == text);
    return p;
}

}  // namespace

TEST_SUITE("socketio codec") {

TEST_CASE("protocol 5 README examples") {
    auto p = round_trip("0", sio5);
    CHECK(p.type == PacketType::connect);
    CHECK(p.nsp == "/");
    CHECK_FALSE(p.has_data());
    CHECK_FALSE(p.id.has_value());

    p = round_trip(R"(0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"})", sio5);
    CHECK(p.type == PacketType::connect);
    CHECK(p.nsp == "/admin");
    REQUIRE(p.data.IsObject());
    CHECK(std::string(p.data["sid"].GetString()) == "oSO0OpakMV_3jnilAAAA");

    p = round_trip(R"(4{"message":"Not authorized"})", sio5);
    CHECK(p.type == PacketType::connect_error);
    CHECK(json(p.data) == R"({"message":"Not authorized"})");

    p = round_trip(R"(2["foo"])", sio5);
    CHECK(p.type == PacketType::event);
    CHECK(p.nsp == "/");
    CHECK(json(p.data) == R"(["foo"])");

    p = round_trip(R"(2/admin,["bar"])", sio5);
    CHECK(p.nsp == "/admin");

    p = round_trip(R"(51-["baz",{"_placeholder":true,"num":0}])", sio5);
    CHECK(p.type == PacketType::binary_event);
    CHECK(p.attachments == 1);

    p = round_trip(R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", sio5);
    CHECK(p.attachments == 2);
    CHECK(p.nsp == "/admin");

    p = round_trip(R"(212["foo"])", sio5);
    CHECK(p.type == PacketType::event);
    CHECK(p.id == 12u);

    p = round_trip(R"(3/admin,13["bar"])", sio5);
    CHECK(p.type == PacketType::ack);
    CHECK(p.nsp == "/admin");
    CHECK(p.id == 13u);

    p = round_trip(R"(61-15["bar",{"_placeholder":true,"num":0}])", sio5);
    CHECK(p.type == PacketType::binary_ack);
    CHECK(p.attachments == 1);
    CHECK(p.id == 15u);

    p = round_trip("1", sio5);
    CHECK(p.type == PacketType::disconnect);
    p = round_trip("1/admin,", sio5);
    CHECK(p.nsp == "/admin");

    // Sample session.
    p = round_trip(R"(0{"sid":"wZX3oN0bSVIhsaknAAAI"})", sio5);
    p = round_trip(R"(2["hey","Jude"])", sio5);
    p = round_trip(R"(0/admin,{"sid":"-G5j-67EZFp-q59rADQM"})", sio5);
    p = round_trip(R"(2/admin,1["tellme"])", sio5);
    CHECK(p.id == 1u);
    p = round_trip(R"(61-/admin,1[{"_placeholder":true,"num":0}])", sio5);
    CHECK(p.nsp == "/admin");
    CHECK(p.id == 1u);
    CHECK(p.attachments == 1);
}

TEST_CASE("protocol 5 test-suite packets") {
    auto p = round_trip(R"(0{"token":"123"})", sio5);
    CHECK(json(p.data) == R"({"token":"123"})");
    p = round_trip("0/custom,", sio5);
    CHECK(p.nsp == "/custom");
    p = round_trip(R"(0/custom,{"token":"abc"})", sio5);
    CHECK(p.nsp == "/custom");
    CHECK(json(p.data) == R"({"token":"abc"})");
    round_trip(R"(2["auth",{}])", sio5);
    round_trip(R"(2/custom,["auth",{"token":"abc"}])", sio5);
    round_trip(R"(4/random,{"message":"Invalid namespace"})", sio5);

    // No comma after the namespace: it runs to the end.
    p = must_decode("0/random", sio5);
    CHECK(p.type == PacketType::connect);
    CHECK(p.nsp == "/random");
    CHECK(sio::encode(p) == "0/random,");
    p = must_decode("1/custom", sio5);
    CHECK(p.type == PacketType::disconnect);
    CHECK(p.nsp == "/custom");

    p = round_trip(R"(2["message",1,"2",{"3":[true]}])", sio5);
    CHECK(p.data.Size() == 4);
    p = round_trip(R"(52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", sio5);
    CHECK(p.attachments == 2);
    p = round_trip(R"(2456["message-with-ack",1,"2",{"3":[false]}])", sio5);
    CHECK(p.id == 456u);
    p = round_trip(R"(3456[1,"2",{"3":[false]}])", sio5);
    CHECK(p.type == PacketType::ack);
    p = round_trip(R"(52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", sio5);
    CHECK(p.id == 789u);
    CHECK(p.attachments == 2);
    p = round_trip(R"(62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", sio5);
    CHECK(p.type == PacketType::binary_ack);

    // Invalid formats that must close the session: "4abc" (after the Engine.IO '4': "abc"), "42{}", "42abc[...]".
    check_invalid("abc", sio5);
    check_invalid("2{}", sio5);
    check_invalid(R"(2abc["message-with-ack",1,"2",{"3":[false]}])", sio5);
}

TEST_CASE("socket.io-parser invalid payloads") {
    for (Protocol protocol : {sio4, sio5}) {
        CAPTURE(protocol);
        check_invalid(R"(442["some","data")", protocol);
        check_invalid(R"(0/admin,"invalid")", protocol);
        check_invalid("0[]", protocol);
        check_invalid("1/admin,{}", protocol);
        check_invalid(R"(2/admin,"invalid)", protocol);
        check_invalid("2/admin,{}", protocol);
        check_invalid(R"(2[{"toString":"foo"}])", protocol);
        check_invalid(R"(2[true,"foo"])", protocol);
        check_invalid(R"(2[null,"bar"])", protocol);
        check_invalid("999", protocol);  // unknown packet type 9
        check_invalid("5", protocol);    // Illegal attachments
    }
    check_invalid(R"(2["connect"])", sio5);
    check_invalid(R"(2["disconnect","123"])", sio5);
}

TEST_CASE("reserved event names") {
    for (auto name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}) {
        const std::string text = "2[\""s + name + "\"]";
        check_invalid(text, sio5);
        check_invalid("51-[\""s + name + "\",{\"_placeholder\":true,\"num\":0}]", sio5);
        // Protocol 4's parser does not check names.
        must_decode(text, sio4);
    }
    must_decode(R"(2["connected"])", sio5);
    must_decode(R"(2["Connect"])", sio5);
}

TEST_CASE("validation per packet type") {
    for (Protocol protocol : {sio4, sio5}) {
        CAPTURE(protocol);
        // EVENT needs a non-empty array starting with a string.
        check_invalid("2", protocol);
        check_invalid("2/admin,", protocol);
        check_invalid("2[]", protocol);
        check_invalid("2[1]", protocol);
        check_invalid(R"(2{"a":1})", protocol);
        check_invalid(R"(2"a")", protocol);
        check_invalid("2null", protocol);
        check_invalid("51-", protocol);
        check_invalid("51-[]", protocol);
        must_decode(R"(2["a"])", protocol);
        must_decode(R"(2[""])", protocol);

        // ACK: an array (possibly empty) and an id.
        must_decode("3/admin,456[]", protocol);
        check_invalid("3[]", protocol);
        check_invalid(R"(3["a"])", protocol);
        check_invalid("312", protocol);
        check_invalid(R"(312{"a":1})", protocol);
        check_invalid("61-[{\"_placeholder\":true,\"num\":0}]", protocol);
        must_decode("61-1[{\"_placeholder\":true,\"num\":0}]", protocol);

        // DISCONNECT: nothing.
        check_invalid(R"(1["a"])", protocol);
        check_invalid("1{}", protocol);

        // CONNECT_ERROR: nothing, a string or an object.
        must_decode("4", protocol);
        must_decode(R"(4"Not authorized")", protocol);
        must_decode(R"(4/admin,"Not authorized")", protocol);
        must_decode(R"(4{"message":"x","data":{"a":1}})", protocol);
        check_invalid("4[]", protocol);
        check_invalid("4true", protocol);
    }
}

TEST_CASE("CONNECT payload differs between protocols") {
    must_decode("0", sio4);
    must_decode("0/admin,", sio4);
    check_invalid("0{}", sio4);
    check_invalid(R"(0{"token":"123"})", sio4);
    must_decode("0{}", sio5);
    must_decode(R"(0/admin,{"token":"123"})", sio5);
    check_invalid(R"(0"token")", sio5);
    check_invalid("0null", sio5);
    check_invalid("0[]", sio5);
}

TEST_CASE("protocol 4 README examples") {
    auto p = round_trip("0", sio4);
    CHECK(p.type == PacketType::connect);
    p = round_trip("0/admin,", sio4);
    CHECK(p.nsp == "/admin");
    CHECK(p.nsp_query.empty());
    p = round_trip("1/admin,", sio4);
    CHECK(p.type == PacketType::disconnect);
    p = round_trip(R"(2["hello",1])", sio4);
    p = round_trip(R"(2/admin,456["project:delete",123])", sio4);
    CHECK(p.id == 456u);
    CHECK(json(p.data) == R"(["project:delete",123])");
    p = round_trip("3/admin,456[]", sio4);
    CHECK(p.type == PacketType::ack);
    CHECK(p.data.IsArray());
    CHECK(p.data.Empty());
    p = round_trip(R"(4/admin,"Not authorized")", sio4);
    CHECK(p.type == PacketType::connect_error);
    CHECK(std::string(p.data.GetString()) == "Not authorized");
    p = round_trip(R"(51-["hello",{"_placeholder":true,"num":0}])", sio4);
    p = round_trip(R"(51-/admin,456["project:delete",{"_placeholder":true,"num":0}])", sio4);
    CHECK(p.attachments == 1);
    CHECK(p.nsp == "/admin");
    CHECK(p.id == 456u);
    p = round_trip(R"(61-/admin,456[{"_placeholder":true,"num":0}])", sio4);
    CHECK(p.type == PacketType::binary_ack);

    // Sample session / captures: the client's events.
    round_trip(R"(2["authenticate",{"sessionId":"abc123"}])", sio4);
    round_trip(R"(2["message",{"type":"welcome","n":[1,2]}])", sio4);
    round_trip("2/admin,1[\"tellme\"]", sio4);
}

TEST_CASE("protocol 4 namespace query") {
    // README v4: { "type": 0, "nsp": "/admin?token=1234&uid=abcd" }
    auto p = must_decode("0/admin?token=1234&uid=abcd,", sio4);
    CHECK(p.type == PacketType::connect);
    CHECK(p.nsp == "/admin");
    CHECK(p.nsp_query == "token=1234&uid=abcd");
    CHECK(sio::encode(p) == "0/admin?token=1234&uid=abcd,");

    p = must_decode("0/admin?token=x", sio4);  // without the trailing comma
    CHECK(p.nsp == "/admin");
    CHECK(p.nsp_query == "token=x");

    p = must_decode("0/admin?", sio4);
    CHECK(p.nsp == "/admin");
    CHECK(p.nsp_query.empty());

    // Protocol 5 keeps the namespace whole (the server then refuses it as unknown).
    p = must_decode("0/admin?token=x,", sio5);
    CHECK(p.nsp == "/admin?token=x");
    CHECK(p.nsp_query.empty());
}

TEST_CASE("ack ids") {
    auto p = round_trip(R"(20["a"])", sio5);
    CHECK(p.id == 0u);
    p = round_trip(R"(218446744073709551615["a"])", sio5);
    CHECK(p.id == 18446744073709551615u);
    check_invalid(R"(218446744073709551616["a"])", sio5);
    // Leading zeros: the reference reads Number("007").
    p = must_decode(R"(2007["a"])", sio5);
    CHECK(p.id == 7u);
    CHECK(sio::encode(p) == R"(27["a"])");
    // An id without data on a type that needs none.
    p = must_decode("4123", sio5);
    CHECK(p.id == 123u);
    CHECK_FALSE(p.has_data());
}

TEST_CASE("attachment counts") {
    auto p = must_decode("50-[\"a\"]", sio5);
    CHECK(p.attachments == 0);
    p = must_decode("512-[\"a\"]", sio5);
    CHECK(p.attachments == 12);
    check_invalid("5-[\"a\"]", sio5);
    check_invalid("51[\"a\"]", sio5);
    check_invalid("5a-[\"a\"]", sio5);
    check_invalid("51x-[\"a\"]", sio5);
    check_invalid("599999999999999999999-[\"a\"]", sio5);
    // Non-binary types have no count: "21-" is id 21 followed by junk.
    check_invalid("21-[\"a\"]", sio5);
}

TEST_CASE("malformed packets") {
    for (Protocol protocol : {sio4, sio5}) {
        CAPTURE(protocol);
        check_invalid("", protocol);
        check_invalid("7", protocol);
        check_invalid("a", protocol);
        check_invalid("-1", protocol);
        check_invalid(R"(2["a"]x)", protocol);       // junk after the JSON
        check_invalid(R"(2["a"]["b"])", protocol);   // two values
        check_invalid(R"(2["a",])", protocol);
        check_invalid(R"(2['a'])", protocol);
        check_invalid(R"(2 x["a"])", protocol);
        check_invalid("2/admin,abc[\"a\"]", protocol);
        check_invalid("2admin,[\"a\"]", protocol);    // a namespace must start with '/'
        check_invalid("2[\"\xff\"]", protocol);       // invalid UTF-8 in a string
        check_invalid("2[\"\xed\xa0\x80\"]", protocol);
    }
    // JSON.parse tolerates whitespace around the value, so do we (but not before the type digit).
    auto p = must_decode("2 [\"a\"] ", sio5);
    CHECK(p.type == PacketType::event);
    CHECK(sio::encode(p) == R"(2["a"])");
    check_invalid(" 2[\"a\"]", sio5);
}

TEST_CASE("unicode and escapes survive") {
    auto p = must_decode(R"(2["€😀","\u20ac\ud83d\ude00","a\"b\\c\n\u0001/"])", sio5);
    REQUIRE(p.data.IsArray());
    CHECK(std::string(p.data[0].GetString()) == "€😀");
    CHECK(std::string(p.data[1].GetString()) == "€😀");
    // Output escaping is JSON.stringify's: UTF-8 raw, lowercase \u00xx for other control characters.
    CHECK(sio::encode(p) == R"(2["€😀","€😀","a\"b\\c\n\u0001/"])");

    p = must_decode("2[\"a\\u0000b\"]", sio5);
    CHECK(p.data[0].GetStringLength() == 3);
    CHECK(sio::encode(p) == "2[\"a\\u0000b\"]");
}

TEST_CASE("numbers and literals round trip") {
    round_trip(R"(2["n",0,-1,4294967296,-9223372036854775808,18446744073709551615,1.5,-0.25,true,false,null])", sio5);
    auto p = must_decode(R"(2["n",0.1,1e300,3.141592653589793])", sio5);
    CHECK(p.data[1].GetDouble() == 0.1);
    CHECK(p.data[3].GetDouble() == 3.141592653589793);
    auto again = must_decode(sio::encode(p), sio5);
    CHECK(again.data[1].GetDouble() == 0.1);
    CHECK(again.data[2].GetDouble() == 1e300);
    CHECK(again.data[3].GetDouble() == 3.141592653589793);
}

// Found by fuzzing (tests/fuzz/socketio_packet.cpp, binary_assembler.cpp): a lone low surrogate escape is
// valid JSON to JSON.parse and RapidJSON alike, which decodes it to bytes that are not UTF-8.
TEST_CASE("a lone surrogate escape goes out as the escape, not as bytes that are not UTF-8") {
    auto p = must_decode(R"(2["s","\u0000\ud03d\ude00\u2028\"\\\/\b"])", sio5);
    CHECK(sio::encode(p) == "2[\"s\",\"\\u0000\xED\x80\xBD\\ude00\xE2\x80\xA8\\\"\\\\/\\b\"]");
    round_trip(R"(50-["hd\ude0151-o"])", sio5);
    round_trip(R"(2["\udc00",{"\udfff":"x\udc00\udc01"}])", sio5);
    check_invalid(R"(2["\ud800"])", sio5);  // a lone high surrogate: RapidJSON refuses it
}

// Found by fuzzing: the namespace is echoed in answers ("44/nsp,...") and was not checked.
TEST_CASE("a namespace that is not UTF-8 is refused") {
    check_invalid("0/\xff,", sio5);
    check_invalid("2/a\xED\xA0\x80,[\"e\"]", sio5);
    check_invalid("0/adm\xC3,", sio4);
    CHECK(must_decode("0/caf\xC3\xA9,", sio5).nsp == "/caf\xC3\xA9");
}

// Found by fuzzing: RapidJSON 1.1's full-precision number parsing turned zeros with a large exponent or many
// digits into tiny non-zero numbers (a clz(0) in its DiyFp), and 184467375e300 into NaN, which its Writer then
// wrote as nothing at all. Numbers are now read with std::from_chars (json_reader.hpp).
TEST_CASE("numbers are read exactly") {
    auto p = must_decode(R"(2["n",0e308,0e38,0e-23,0.0000000000000000000000000,-0e-400,100000000000000000000000000000000000000000e-300])", sio5);
    for (rapidjson::SizeType i = 1; i <= 5; ++i) CHECK(p.data[i].GetDouble() == 0.0);
    CHECK(p.data[6].GetDouble() == 1e-259);
    CHECK(sio::encode(p) == R"(2["n",0.0,0.0,0.0,0.0,-0.0,1e-259])");
    p = must_decode(R"(2["n",5e-324,1e-400,-1e-400,1.7976931348623157e308,0.1,18446744073709551616,-9223372036854775809])", sio5);
    CHECK(p.data[1].GetDouble() == 5e-324);
    CHECK(p.data[2].GetDouble() == 0.0);
    CHECK(p.data[4].GetDouble() == 1.7976931348623157e308);
    CHECK(p.data[5].GetDouble() == 0.1);
    CHECK(p.data[6].GetDouble() == 18446744073709551616.0);
    CHECK(p.data[7].GetDouble() == -9223372036854775809.0);
    round_trip(sio::encode(p), sio5);

    std::string error;
    for (std::string_view big : {R"(2["n",184467375e300])", R"(2["n",1e309])", R"(2["n",-1e400])",
                                 R"(2["n",0.000001e315])"}) {
        INFO(std::string(big));
        CHECK_FALSE(sio::decode(big, sio5, &error));
        CHECK(error == "invalid payload: Number too big to be stored in double.");
    }
    CHECK(must_decode(R"(2["n",0.000001e-20000000000000000000])", sio5).data[1].GetDouble() == 0.0);
    CHECK(must_decode(R"(2["n",1000000000000000000000000000000000000000e-20000000000000000000000])", sio5)
              .data[1].GetDouble() == 0.0);
    CHECK(must_decode(R"(2["n",1e-324])", sio5).data[1].GetDouble() == 0.0);
}

TEST_CASE("numbers that are not finite go out as null, as JSON.stringify writes them") {
    Packet p;
    p.type = PacketType::event;
    p.data.SetArray();
    p.data.PushBack("n", p.data.GetAllocator());
    p.data.PushBack(std::numeric_limits<double>::infinity(), p.data.GetAllocator());
    p.data.PushBack(std::numeric_limits<double>::quiet_NaN(), p.data.GetAllocator());
    CHECK(sio::encode(p) == R"(2["n",null,null])");
}

TEST_CASE("object member order is kept") {
    round_trip(R"(2["e",{"z":1,"a":2,"m":{"y":[],"b":{}}}])", sio5);
}

TEST_CASE("nesting: up to 64 levels decoded and encoded back; deeper refused without recursing") {
    const auto event = [](std::size_t depth, bool objects) {
        std::string text = "2[\"deep\",";  // the event's array is the first level
        for (std::size_t i = 1; i < depth; ++i) text += objects ? "{\"a\":" : "[";
        text += "1";
        for (std::size_t i = 1; i < depth; ++i) text += objects ? '}' : ']';
        return text + ']';
    };
    for (bool objects : {false, true}) {
        auto p = must_decode(event(64, objects), sio5);
        CHECK(sio::encode(p) == event(64, objects));
        std::string error;
        CHECK_FALSE(sio::decode(event(65, objects), sio5, &error));
        CHECK(error == "invalid payload: nested deeper than 64 levels");
        CHECK_FALSE(sio::decode(event(200000, objects), sio4, &error));
        CHECK(error == "invalid payload: nested deeper than 64 levels");
    }
}

TEST_CASE("encode from a built packet") {
    Packet p;
    p.type = PacketType::connect;
    p.nsp = "/";
    p.data.SetObject();
    p.data.AddMember("sid", "1uCk", p.data.GetAllocator());
    CHECK(sio::encode(p) == R"(0{"sid":"1uCk"})");

    p.nsp = "/admin";
    CHECK(sio::encode(p) == R"(0/admin,{"sid":"1uCk"})");

    Packet refusal;
    refusal.type = PacketType::connect_error;
    refusal.nsp = "/admin";
    refusal.data.SetString("Not authorized");
    CHECK(sio::encode(refusal) == R"(4/admin,"Not authorized")");

    Packet ack;
    ack.type = PacketType::ack;
    ack.id = 456;
    ack.data.SetArray();
    CHECK(sio::encode(ack) == "3456[]");

    Packet empty_nsp;
    empty_nsp.type = PacketType::disconnect;
    empty_nsp.nsp = "";
    CHECK(sio::encode(empty_nsp) == "1");

    Packet bin;
    bin.type = PacketType::binary_event;
    bin.attachments = 0;
    bin.data.SetArray();
    bin.data.PushBack("x", bin.data.GetAllocator());
    CHECK(sio::encode(bin) == R"(50-["x"])");
}

TEST_CASE("encode_event fast path") {
    CHECK(sio::encode_event("/", "hey", R"("Jude")") == R"(42["hey","Jude"])");
    CHECK(sio::encode_event("/", "message", R"({"type":"welcome","n":[1,2]})") ==
          R"(42["message",{"type":"welcome","n":[1,2]}])");
    CHECK(sio::encode_event("/admin", "bar", "1") == R"(42/admin,["bar",1])");
    CHECK(sio::encode_event("", "bar", "1") == R"(42["bar",1])");
    CHECK(sio::encode_event("/", "auth", "{}") == R"(42["auth",{}])");
    CHECK(sio::encode_event("/custom", "auth", R"({"token":"abc"})") == R"(42/custom,["auth",{"token":"abc"}])");
    CHECK(sio::encode_event("/", "ping", "") == R"(42["ping"])");
    CHECK(sio::encode_event("/", "q\"u\\o\nte€", "null") == R"(42["q\"u\\o\nte€",null])");

    // Same bytes as the DOM encoder with the Engine.IO prefix.
    auto p = must_decode(sio::encode_event("/chat", "a\u2028\x01", R"([1,{"b":"c"}])").substr(1), sio5);
    CHECK("4" + sio::encode(p) == sio::encode_event("/chat", "a\u2028\x01", R"([1,{"b":"c"}])"));
    CHECK(p.nsp == "/chat");

    // An offset is the last argument, a JSON string; none leaves the packet as it was.
    CHECK(sio::encode_event("/", "message", R"({"a":1})", "1733150000000-0") ==
          R"(42["message",{"a":1},"1733150000000-0"])");
    CHECK(sio::encode_event("/", "message", R"({"a":1})", "") == R"(42["message",{"a":1}])");
    CHECK(sio::encode_event("/", "message", "", "x\"y") == R"(42["message","x\"y"])");
    auto q = must_decode(sio::encode_event("/", "message", "[1]", "f00d-7").substr(1), sio4);
    CHECK(sio::encode_json(q.data) == R"(["message",[1],"f00d-7"])");
}

}  // TEST_SUITE

TEST_CASE("encode_json: a value alone, compact and escaped as encode writes packet data") {
    rapidjson::Document d;
    d.Parse(R"([1, -2, 1.5, "a\"b\u00e9", {"k": [true, false, null]}, {"_placeholder": true, "num": 0}])");
    REQUIRE(!d.HasParseError());
    CHECK(sio::encode_json(d) == "[1,-2,1.5,\"a\\\"b\xC3\xA9\",{\"k\":[true,false,null]},{\"_placeholder\":true,\"num\":0}]");
    CHECK(sio::encode_json(d[4]) == R"({"k":[true,false,null]})");
    CHECK(sio::encode_json(d[3]) == "\"a\\\"b\xC3\xA9\"");
}
