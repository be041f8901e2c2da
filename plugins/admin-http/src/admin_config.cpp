#include "admin_config.hpp"

#include <cctype>
#include <string_view>

namespace yunity::admin {

const SettingsTable<AdminConfig>& AdminConfig::settings() {
    using S = Setting<AdminConfig>;
    static const SettingsTable<AdminConfig> table{
        S{"token", &AdminConfig::token,
          "when set, every endpoint but the dashboard's page asks for `Authorization: Bearer <token>`"}
            .non_empty()
            .env(token_variable),
        {"redact_headers", &AdminConfig::redact_headers,
         "false: the connection report shows every header value, whatever `redact` says"},
        S{"redact", &AdminConfig::redact, "headers whose values the connection report shows as `[redacted]`"}.each(
            "header names",
            [](std::string& name) {
                for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                return !name.empty();
            }),
        {"request_timeout_ms", &AdminConfig::request_timeout,
         "time a client has to send a request, and to take each part of a response"},
        // Beast's header limit is 32 bits.
        S{"max_header_bytes", &AdminConfig::max_header_bytes, "larger request heads get 431"}.at_most(0xffffffffu),
        {"max_body_bytes", &AdminConfig::max_body_bytes,
         "larger request bodies get 413 (this bounds what `POST /publish` of http-publish takes)"},
        {"report_slice", &AdminConfig::report_slice, "connections per part of the streamed report"},
        S{"allowed_hosts", &AdminConfig::allowed_hosts,
          "host names requests may carry in Host besides the bound address (bound to loopback or every address: "
          "also localhost and IP addresses); others get 403, against DNS rebinding"}
            .each("host names",
                  [](std::string& name) {
                      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                      return !name.empty();
                  })
            .default_text("none"),
    };
    return table;
}

AdminConfig AdminConfig::from_json(const rapidjson::Value& section, const char* env_token) {
    const auto getenv = [env_token](const char* name) {
        return std::string_view(name) == token_variable ? env_token : nullptr;
    };
    AdminConfig c = settings().parse(section, getenv);
    if (!c.redact_headers) c.redact.clear();
    return c;
}

}  // namespace yunity::admin
