#pragma once

#include <yunity/settings_table.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace yunity::admin {

// The admin plugin's settings: its section of the config file, plus YUNITY_ADMIN_TOKEN.
struct AdminConfig {
    // When set, every endpoint but the dashboard's page asks for `Authorization: Bearer <token>`.
    std::string token;
    // Header values the connection report replaces by "[redacted]": credentials an operator should not see.
    std::vector<std::string> redact{"authorization", "cookie"};
    // Read with `redact` and applied by from_json (false empties it), so that one switch turns redaction off.
    bool redact_headers = true;
    // A request must arrive, and each part of a response be taken, within this time: a stalled client is cut.
    std::chrono::milliseconds request_timeout{10'000};
    // Larger request headers get 431: nothing the admin API takes needs more.
    std::size_t max_header_bytes = 8 * 1024;
    // Larger request bodies get 413: the routes other plugins add take small JSON documents.
    std::size_t max_body_bytes = 64 * 1024;
    // Names the Host header may carry besides the bound address (and, bound to loopback or every address,
    // localhost and IP addresses): a foreign name is how DNS rebinding reaches a port bound to 127.0.0.1.
    std::vector<std::string> allowed_hosts;
    // Connections per part of the streamed report: small enough that the loop is never held for long.
    std::size_t report_slice = 500;

    // The environment variable that wins over "token": a secret is better kept out of the config file.
    static constexpr const char* token_variable = "YUNITY_ADMIN_TOKEN";

    // The table the section is read with and the configuration reference is printed from.
    static const SettingsTable<AdminConfig>& settings();
    // Reads a plugin config section; `env_token` (the value of token_variable, may be null or empty) overrides
    // "token". Throws std::runtime_error naming the setting on an unknown key or a bad value.
    static AdminConfig from_json(const rapidjson::Value& section, const char* env_token);
};

}  // namespace yunity::admin
