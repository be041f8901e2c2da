#include "transport_config.hpp"

#include <algorithm>
#include <stdexcept>

namespace yunity::socketio {

namespace {

[[noreturn]] void bad(const std::string& key, const char* expected) {
    throw std::runtime_error("setting \"" + key + "\" must be " + expected);
}

std::uint64_t positive(const rapidjson::Value& v, const std::string& key) {
    if (!v.IsUint64() || v.GetUint64() == 0) bad(key, "a positive integer");
    return v.GetUint64();
}

std::vector<std::string> strings(const rapidjson::Value& v, const std::string& key) {
    if (!v.IsArray()) bad(key, "an array of strings");
    std::vector<std::string> out;
    for (auto& s : v.GetArray()) {
        if (!s.IsString()) bad(key, "an array of strings");
        out.emplace_back(s.GetString(), s.GetStringLength());
    }
    return out;
}

}  // namespace

TransportConfig TransportConfig::from_json(const rapidjson::Value& section) {
    TransportConfig c;
    if (!section.IsObject()) return c;
    for (auto& m : section.GetObject()) {
        const std::string key(m.name.GetString(), m.name.GetStringLength());
        const auto& v = m.value;
        using ms = std::chrono::milliseconds;
        if (key == "paths") {
            c.paths = strings(v, key);
            if (c.paths.empty()) bad(key, "a non-empty array of paths");
            for (auto& p : c.paths) {
                if (p.empty() || p.front() != '/') bad(key, "an array of paths starting with '/'");
                if (p.back() != '/') p += '/';
            }
        } else if (key == "ping_interval_ms") c.ping_interval = ms(positive(v, key));
        else if (key == "ping_timeout_ms") c.ping_timeout = ms(positive(v, key));
        else if (key == "max_payload") c.max_payload = positive(v, key);
        else if (key == "connect_timeout_ms") c.connect_timeout = ms(positive(v, key));
        else if (key == "max_queue_bytes") c.max_queue_bytes = positive(v, key);
        else if (key == "request_timeout_ms") c.request_timeout = ms(positive(v, key));
        else if (key == "websocket_handshake_timeout_ms") c.websocket_handshake_timeout = ms(positive(v, key));
        else if (key == "max_header_bytes") c.max_header_bytes = positive(v, key);
        else if (key == "max_session_id") c.max_session_id = positive(v, key);
        else if (key == "allowed_origins") {
            c.allowed_origins = strings(v, key);
            if (std::find(c.allowed_origins.begin(), c.allowed_origins.end(), "*") != c.allowed_origins.end())
                c.allowed_origins.clear();
        } else if (key == "cookie") {
            if (!v.IsBool()) bad(key, "true or false");
            c.cookie = v.GetBool();
        } else if (key == "allow_upgrades") {
            if (!v.IsBool()) bad(key, "true or false");
            c.allow_upgrades = v.GetBool();
        } else {
            throw std::runtime_error("unknown setting \"" + key + "\"");
        }
    }
    return c;
}

bool TransportConfig::origin_allowed(std::string_view origin) const {
    return allowed_origins.empty() ||
           std::find(allowed_origins.begin(), allowed_origins.end(), origin) != allowed_origins.end();
}

}  // namespace yunity::socketio
