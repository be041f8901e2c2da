#include "admin_config.hpp"

#include <cctype>
#include <stdexcept>

namespace yunity::admin {

namespace {

[[noreturn]] void bad(const std::string& key, const char* expected) {
    throw std::runtime_error("setting \"" + key + "\" must be " + expected);
}

std::uint64_t positive(const rapidjson::Value& v, const std::string& key) {
    if (!v.IsUint64() || v.GetUint64() == 0) bad(key, "a positive integer");
    return v.GetUint64();
}

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

}  // namespace

AdminConfig AdminConfig::from_json(const rapidjson::Value& section, const char* env_token) {
    AdminConfig c;
    bool redact_headers = true;
    if (section.IsObject()) {
        for (auto& m : section.GetObject()) {
            const std::string key(m.name.GetString(), m.name.GetStringLength());
            const auto& v = m.value;
            if (key == "token") {
                if (!v.IsString() || v.GetStringLength() == 0) bad(key, "a non-empty string");
                c.token.assign(v.GetString(), v.GetStringLength());
            } else if (key == "redact_headers") {
                if (!v.IsBool()) bad(key, "true or false");
                redact_headers = v.GetBool();
            } else if (key == "redact") {
                if (!v.IsArray()) bad(key, "an array of header names");
                c.redact.clear();
                for (auto& name : v.GetArray()) {
                    if (!name.IsString() || name.GetStringLength() == 0) bad(key, "an array of header names");
                    c.redact.push_back(lower(std::string(name.GetString(), name.GetStringLength())));
                }
            } else if (key == "request_timeout_ms") {
                c.request_timeout = std::chrono::milliseconds(positive(v, key));
            } else if (key == "max_header_bytes") {
                c.max_header_bytes = positive(v, key);
                if (c.max_header_bytes > 0xffffffffu) bad(key, "below 4 GiB");
            } else if (key == "max_body_bytes") {
                c.max_body_bytes = positive(v, key);
            } else if (key == "report_slice") {
                c.report_slice = positive(v, key);
            } else {
                throw std::runtime_error("unknown setting \"" + key +
                                         "\" (known: token, redact_headers, redact, request_timeout_ms, "
                                         "max_header_bytes, max_body_bytes, report_slice)");
            }
        }
    }
    if (!redact_headers) c.redact.clear();
    if (env_token && *env_token) c.token = env_token;
    return c;
}

}  // namespace yunity::admin
