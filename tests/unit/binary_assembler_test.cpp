// Binary attachments: reassembly of incoming BINARY_EVENT / BINARY_ACK packets and encoding of outgoing ones, with
// the packets of socket.io-protocol's README and test-suite.
#include "binary_assembler.hpp"
#include "json_reader.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using yunity::sio::BinaryAssembler;
using yunity::sio::Packet;
using yunity::sio::PacketType;
namespace sio = yunity::sio;

using yunity::Protocol;
// Socket.IO 5 comes over Engine.IO 4.
constexpr auto sio5 = Protocol::eio4_sio5;
using Status = BinaryAssembler::Status;

namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out += static_cast<char>(v);
    return out;
}

Packet must_decode(std::string_view text, Protocol protocol = sio5) {
    std::string error;
    auto p = sio::decode(text, protocol, &error);
    INFO("packet: " << std::string(text) << " error: " << error);
    REQUIRE(p.has_value());
    return std::move(*p);
}

// Starts an assembler on `text` and expects an error before any buffer.
void check_start_fails(std::string_view text) {
    BinaryAssembler assembler;
    std::string error;
    INFO("packet: " << std::string(text));
    CHECK(assembler.start(must_decode(text), &error) == Status::error);
    CHECK_FALSE(error.empty());
    CHECK_FALSE(assembler.assembling());
    CHECK_FALSE(assembler.take().has_value());
}

}  // namespace

TEST_SUITE("binary assembler") {

TEST_CASE("two attachments (test-suite)") {
    BinaryAssembler assembler;
    CHECK_FALSE(assembler.assembling());
    auto status =
        assembler.start(must_decode(R"(52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])"));
    CHECK(status == Status::need_more);
    CHECK(assembler.assembling());
    CHECK(assembler.expected() == 2);
    CHECK(assembler.received() == 0);
    CHECK_FALSE(assembler.take().has_value());

    CHECK(assembler.add(bytes({1, 2, 3})) == Status::need_more);
    CHECK(assembler.received() == 1);
    CHECK(assembler.add(bytes({4, 5, 6})) == Status::complete);
    CHECK_FALSE(assembler.assembling());

    auto result = assembler.take();
    REQUIRE(result.has_value());
    CHECK(result->packet.type == PacketType::binary_event);
    CHECK(result->packet.attachments == 2);
    REQUIRE(result->buffers.size() == 2);
    CHECK(result->buffers[0] == bytes({1, 2, 3}));
    CHECK(result->buffers[1] == bytes({4, 5, 6}));
    // Placeholders stay in the DOM; their num indexes the buffers.
    const auto& data = result->packet.data;
    REQUIRE(data.IsArray());
    CHECK(sio::is_placeholder(data[1]));
    CHECK(sio::placeholder_num(data[1]) == 0u);
    CHECK(sio::placeholder_num(data[2]) == 1u);
    CHECK_FALSE(sio::is_placeholder(data[0]));

    // Idle again: a new packet can follow, and take() is empty.
    CHECK_FALSE(assembler.take().has_value());
    CHECK(assembler.start(must_decode(R"(51-["again",{"_placeholder":true,"num":0}])")) == Status::need_more);
    CHECK(assembler.add("x") == Status::complete);
    CHECK(assembler.take()->buffers.at(0) == "x");
}

TEST_CASE("binary ack with id, nested and out-of-order placeholders") {
    BinaryAssembler assembler;
    auto status = assembler.start(must_decode(
        R"(62-/admin,789[{"list":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}])"));
    CHECK(status == Status::need_more);
    CHECK(assembler.add("zero") == Status::need_more);
    CHECK(assembler.add("one") == Status::complete);
    auto result = assembler.take();
    REQUIRE(result);
    CHECK(result->packet.type == PacketType::binary_ack);
    CHECK(result->packet.id == 789u);
    CHECK(result->packet.nsp == "/admin");
    CHECK(sio::placeholder_num(result->packet.data[0]["list"][0]) == 1u);
    CHECK(result->buffers[1] == "one");
}

TEST_CASE("a placeholder used twice is accepted") {
    BinaryAssembler assembler;
    CHECK(assembler.start(must_decode(
              R"(51-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])")) == Status::need_more);
    CHECK(assembler.add("b") == Status::complete);
}

TEST_CASE("zero attachments complete at once") {
    BinaryAssembler assembler;
    CHECK(assembler.start(must_decode(R"(50-["hello"])")) == Status::complete);
    CHECK_FALSE(assembler.assembling());
    auto result = assembler.take();
    REQUIRE(result);
    CHECK(result->buffers.empty());
}

TEST_CASE("placeholder validation") {
    check_start_fails(R"(51-["e",{"_placeholder":true,"num":1}])");                // out of range
    check_start_fails(R"(51-["e",{"_placeholder":true,"num":-1}])");
    check_start_fails(R"(51-["e",{"_placeholder":true,"num":0.5}])");
    check_start_fails(R"(51-["e",{"_placeholder":true,"num":"0"}])");
    check_start_fails(R"(51-["e",{"_placeholder":true}])");
    check_start_fails(R"(51-["hello"])");                                           // attachment never used
    check_start_fails(R"(52-["e",{"_placeholder":true,"num":0}])");
    check_start_fails(R"(52-["e",{"_placeholder":true,"num":1},{"_placeholder":true,"num":1}])");
    check_start_fails(R"(50-["e",{"_placeholder":true,"num":0}])");
    // "_placeholder" must be true to count, so this one leaves attachment 0 unused.
    check_start_fails(R"(51-["e",{"_placeholder":false,"num":0}])");
    check_start_fails(R"(51-["e",{"_placeholder":"true","num":0}])");
    // A huge count from the client allocates nothing before failing.
    check_start_fails(R"(518446744073709551615-["e",{"_placeholder":true,"num":0}])");
}

TEST_CASE("protocol errors") {
    BinaryAssembler assembler;
    std::string error;
    // Binary data without a binary packet.
    CHECK(assembler.add("x", &error) == Status::error);
    CHECK_FALSE(error.empty());

    // A non-binary packet.
    error.clear();
    CHECK(assembler.start(must_decode(R"(2["e"])"), &error) == Status::error);
    CHECK_FALSE(error.empty());

    // One buffer too many.
    CHECK(assembler.start(must_decode(R"(51-["e",{"_placeholder":true,"num":0}])")) == Status::need_more);
    CHECK(assembler.add("a") == Status::complete);
    CHECK(assembler.add("b") == Status::error);
    CHECK_FALSE(assembler.take().has_value());

    // reset() abandons a packet in progress.
    CHECK(assembler.start(must_decode(R"(51-["e",{"_placeholder":true,"num":0}])")) == Status::need_more);
    assembler.reset();
    CHECK_FALSE(assembler.assembling());
    CHECK(assembler.add("a") == Status::error);
}

TEST_CASE("encode_with_attachments") {
    // README (protocol 5): 51-["baz",{"_placeholder":true,"num":0}] + <01 02 03 04>
    Packet p;
    p.type = PacketType::event;
    auto& a = p.data.GetAllocator();
    p.data.SetArray();
    p.data.PushBack("baz", a);
    p.data.PushBack(sio::make_placeholder(0, a), a);
    auto encoded = sio::encode_with_attachments(std::move(p), {bytes({1, 2, 3, 4})});
    REQUIRE(encoded);
    CHECK(encoded->text == R"(51-["baz",{"_placeholder":true,"num":0}])");
    REQUIRE(encoded->attachments.size() == 1);
    CHECK(encoded->attachments[0] == bytes({1, 2, 3, 4}));

    // README: 52-/admin,["baz",{...0},{...1}] + <01 02> + <03 04>
    Packet two;
    two.type = PacketType::binary_event;
    two.nsp = "/admin";
    auto& a2 = two.data.GetAllocator();
    two.data.SetArray();
    two.data.PushBack("baz", a2);
    two.data.PushBack(sio::make_placeholder(0, a2), a2);
    two.data.PushBack(sio::make_placeholder(1, a2), a2);
    encoded = sio::encode_with_attachments(std::move(two), {bytes({1, 2}), bytes({3, 4})});
    REQUIRE(encoded);
    CHECK(encoded->text == R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    CHECK(encoded->attachments.size() == 2);

    // README: 61-15["bar",{...0}]; the sample session's 61-/admin,1[{...0}].
    Packet ack;
    ack.type = PacketType::ack;
    ack.id = 15;
    auto& a3 = ack.data.GetAllocator();
    ack.data.SetArray();
    ack.data.PushBack("bar", a3);
    ack.data.PushBack(sio::make_placeholder(0, a3), a3);
    encoded = sio::encode_with_attachments(std::move(ack), {bytes({1, 2, 3, 4})});
    REQUIRE(encoded);
    CHECK(encoded->text == R"(61-15["bar",{"_placeholder":true,"num":0}])");

    // Test-suite echo of a binary ack: 62-789[{...0},{...1}]
    auto echoed = must_decode(R"(52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
    Packet reply;
    reply.type = PacketType::ack;
    reply.id = echoed.id;
    auto& a4 = reply.data.GetAllocator();
    reply.data.SetArray();
    reply.data.PushBack(sio::make_placeholder(0, a4), a4);
    reply.data.PushBack(sio::make_placeholder(1, a4), a4);
    encoded = sio::encode_with_attachments(std::move(reply), {bytes({1, 2, 3}), bytes({4, 5, 6})});
    REQUIRE(encoded);
    CHECK(encoded->text == R"(62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");

    // No buffers: a plain event, as socket.io-parser sends it.
    Packet plain;
    plain.type = PacketType::binary_event;
    plain.data.SetArray();
    plain.data.PushBack("x", plain.data.GetAllocator());
    encoded = sio::encode_with_attachments(std::move(plain), {});
    REQUIRE(encoded);
    CHECK(encoded->text == R"(2["x"])");
    CHECK(encoded->attachments.empty());
}

TEST_CASE("encode_with_attachments refuses mismatches") {
    std::string error;
    Packet missing;
    missing.type = PacketType::event;
    missing.data.SetArray();
    missing.data.PushBack("x", missing.data.GetAllocator());
    CHECK_FALSE(sio::encode_with_attachments(std::move(missing), {"buf"}, &error));
    CHECK_FALSE(error.empty());

    Packet wrong_type;
    wrong_type.type = PacketType::connect;
    CHECK_FALSE(sio::encode_with_attachments(std::move(wrong_type), {}));

    Packet out_of_range;
    out_of_range.type = PacketType::event;
    auto& a = out_of_range.data.GetAllocator();
    out_of_range.data.SetArray();
    out_of_range.data.PushBack("x", a);
    out_of_range.data.PushBack(sio::make_placeholder(1, a), a);
    CHECK_FALSE(sio::encode_with_attachments(std::move(out_of_range), {"buf"}));
}

TEST_CASE("encode then reassemble") {
    Packet p;
    p.type = PacketType::event;
    p.nsp = "/files";
    p.id = 3;
    auto& a = p.data.GetAllocator();
    p.data.SetArray();
    p.data.PushBack("upload", a);
    rapidjson::Value meta(rapidjson::kObjectType);
    meta.AddMember("name", "a.bin", a);
    meta.AddMember("chunks", rapidjson::Value(rapidjson::kArrayType), a);
    meta["chunks"].PushBack(sio::make_placeholder(0, a), a);
    meta["chunks"].PushBack(sio::make_placeholder(1, a), a);
    p.data.PushBack(meta, a);
    const std::vector<std::string> buffers{bytes({0, 255, 0}), std::string()};
    auto encoded = sio::encode_with_attachments(std::move(p), buffers);
    REQUIRE(encoded);
    CHECK(encoded->text ==
          R"(52-/files,3["upload",{"name":"a.bin","chunks":[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]}])");

    BinaryAssembler assembler;
    CHECK(assembler.start(must_decode(encoded->text)) == Status::need_more);
    CHECK(assembler.add(encoded->attachments[0]) == Status::need_more);
    CHECK(assembler.add(encoded->attachments[1]) == Status::complete);
    auto result = assembler.take();
    REQUIRE(result);
    CHECK(result->buffers == buffers);
    CHECK(sio::encode(result->packet) == encoded->text);
}

TEST_CASE("deeply nested placeholders are found without recursion") {
    const std::size_t depth = 100000;
    std::string text = R"(51-["deep",)";
    text.append(depth, '[');
    text += R"({"_placeholder":true,"num":0})";
    text.append(depth, ']');
    text += ']';
    // The decoder refuses such a packet (the depth limit); the assembler's own walk does not rely on that.
    CHECK_FALSE(sio::decode(text, sio5));
    sio::Packet packet;
    packet.type = sio::PacketType::binary_event;
    packet.attachments = 1;
    REQUIRE_FALSE(yunity::json::parse(packet.data, std::string_view(text).substr(3), depth + 2).IsError());
    BinaryAssembler assembler;
    CHECK(assembler.start(std::move(packet)) == Status::need_more);
    CHECK(assembler.add("x") == Status::complete);
}

}  // TEST_SUITE
