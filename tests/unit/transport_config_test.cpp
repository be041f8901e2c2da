// The socketio plugin's settings, read through its SettingsTable: defaults, the paths' trailing '/', "*" among
// the origins meaning any, and the refusals.
#include "transport_config.hpp"

#include <doctest/doctest.h>

using yunity::socketio::TransportConfig;

namespace {

TransportConfig read(const char* json) {
    rapidjson::Document doc;
    doc.Parse(json);
    REQUIRE_FALSE(doc.HasParseError());
    return TransportConfig::from_json(doc);
}

std::string refusal(const char* json) {
    try {
        read(json);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("transport config: the defaults socket.io clients expect") {
    const auto c = read("{}");
    CHECK(c.paths == std::vector<std::string>{"/socket.io/", "/socket/"});
    CHECK(c.ping_interval == std::chrono::milliseconds(25000));
    CHECK(c.ping_timeout == std::chrono::milliseconds(20000));
    CHECK(c.max_payload == 1000000);
    CHECK(c.connect_timeout == std::chrono::milliseconds(10000));  // socket.io's is 45 s: see transport_config.hpp
    CHECK(c.max_queue_bytes == 1048576);
    CHECK(c.request_timeout == std::chrono::milliseconds(10000));
    CHECK(c.websocket_handshake_timeout == std::chrono::milliseconds(10000));
    CHECK(c.max_header_bytes == 8192);
    CHECK(c.allowed_origins.empty());
    CHECK_FALSE(c.cookie);
    CHECK(c.max_session_id == 1024);
    CHECK(c.allow_upgrades);
    CHECK(c.origin_allowed("https://anywhere.example"));
}

TEST_CASE("transport config: settings, paths made to end in '/', and \"*\" as any origin") {
    auto c = read(R"({"paths": ["/io", "/x/"], "ping_interval_ms": 1000, "allowed_origins": ["https://a.example"],
                      "cookie": true, "allow_upgrades": false, "max_payload": 10})");
    CHECK(c.paths == std::vector<std::string>{"/io/", "/x/"});
    CHECK(c.ping_interval == std::chrono::seconds(1));
    CHECK(c.cookie);
    CHECK_FALSE(c.allow_upgrades);
    CHECK(c.max_payload == 10);
    CHECK(c.origin_allowed("https://a.example"));
    CHECK_FALSE(c.origin_allowed("https://b.example"));
    c = read(R"({"allowed_origins": ["https://a.example", "*"]})");
    CHECK(c.allowed_origins.empty());
    CHECK(c.origin_allowed("https://b.example"));
}

TEST_CASE("transport config: refusals name the setting") {
    CHECK(refusal(R"({"nonsense": 1})").find("unknown setting \"nonsense\" (known: paths, ping_interval_ms,") == 0);
    CHECK(refusal(R"({"paths": []})") == "setting \"paths\" must be a non-empty array of paths starting with '/'");
    CHECK(refusal(R"({"paths": ["socket.io"]})") ==
          "setting \"paths\" must be a non-empty array of paths starting with '/'");
    CHECK(refusal(R"({"ping_timeout_ms": 0})") ==
          "setting \"ping_timeout_ms\" must be a positive integer, at most 2147483647");
    CHECK(refusal(R"({"max_header_bytes": 4294967296})") ==
          "setting \"max_header_bytes\" must be a positive integer, at most 4294967295");
    CHECK(refusal(R"({"cookie": "yes"})") == "setting \"cookie\" must be true or false");
    CHECK(refusal(R"({"allowed_origins": "*"})") == "setting \"allowed_origins\" must be an array of strings");
}

TEST_CASE("transport config: its description, as the configuration reference prints it") {
    const auto& d = TransportConfig::settings().description();
    REQUIRE(d.count == 19);
    CHECK(std::string(d.settings[0].name) == "paths");
    CHECK(std::string(d.settings[0].default_value) == R"(["/socket.io/", "/socket/"])");
    CHECK(std::string(d.settings[9].name) == "allowed_origins");
    CHECK(std::string(d.settings[9].default_value) == "any");
    CHECK(std::string(d.settings[10].name) == "jsonp");
    CHECK(std::string(d.settings[10].default_value) == "false");
    CHECK(std::string(d.settings[14].name) == "max_connections");
    CHECK(std::string(d.settings[14].default_value) == "the open-file limit less 256");
    CHECK(std::string(d.settings[15].name) == "max_connections_per_address");
    CHECK(std::string(d.settings[15].default_value) == "1000");
    CHECK(std::string(d.settings[16].name) == "max_pending_per_address");
    CHECK(std::string(d.settings[16].default_value) == "64");
    CHECK(std::string(d.settings[17].name) == "max_unbound_per_address");
    CHECK(std::string(d.settings[17].default_value) == "64");
    CHECK(std::string(d.settings[18].name) == "trusted_proxies");
    CHECK(std::string(d.settings[18].default_value) == "none");
}

TEST_CASE("transport config: trusted proxies are addresses or networks") {
    rapidjson::Document doc;
    doc.Parse(R"({"trusted_proxies": ["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"]})");
    CHECK(TransportConfig::from_json(doc).trusted_proxies.size() == 4);
    CHECK(refusal(R"({"trusted_proxies": ["nginx"]})").find("setting \"trusted_proxies\"") == 0);
    CHECK(refusal(R"({"trusted_proxies": ["10.0.0.0/33"]})").find("setting \"trusted_proxies\"") == 0);
}

TEST_CASE("transport config: a Referer is judged by its page's origin") {
    rapidjson::Document doc;
    doc.Parse(R"({"allowed_origins": ["https://good.example", "http://localhost:8000"]})");
    const auto c = TransportConfig::from_json(doc);
    CHECK(c.referer_allowed("https://good.example/chat/room?x=1"));
    CHECK(c.referer_allowed("http://localhost:8000/"));
    CHECK_FALSE(c.referer_allowed("https://good.example.evil.example/"));
    CHECK_FALSE(c.referer_allowed("https://evil.example/?https://good.example"));
    CHECK_FALSE(c.referer_allowed("http://localhost:8001/"));
    CHECK_FALSE(c.referer_allowed("/relative"));
    CHECK_FALSE(c.referer_allowed("not a url"));
    CHECK(TransportConfig{}.referer_allowed("https://anything.example/"));  // any origin allowed
}

TEST_CASE("transport config: connection limits") {
    rapidjson::Document doc;
    doc.Parse(R"({"max_connections": 5000, "max_connections_per_address": 20})");
    const auto c = TransportConfig::from_json(doc);
    CHECK(c.max_connections == 5000);
    CHECK(c.max_connections_per_address == 20);
    CHECK(TransportConfig{}.max_connections == 0);  // 0: from the open-file limit
    CHECK(refusal(R"({"max_connections": -1})").find("setting \"max_connections\" must be") == 0);
}
