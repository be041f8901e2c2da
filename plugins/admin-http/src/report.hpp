// The admin report: JSON of the connections in the registry, built in slices so a large report never holds
// the loop, plus the small JSON documents of the other endpoints.
#pragma once

#include <yunity/registry.hpp>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace yunity::admin {

// JavaScript's Date#toString of an instant, in the process's local time zone:
// "Wed Nov 25 2026 18:00:00 GMT+0000 (Coordinated Universal Time)".
std::string format_js_date(std::int64_t epoch_ms);
// The same from a broken-down local time, its offset east of UTC and its zone abbreviation (e.g. "CET").
std::string format_js_date(const std::tm& local, long utc_offset_seconds, std::string_view zone);

// Appends one connection of the report as a compact JSON object: connectionId, sessionId ("__nosession__"
// before it authenticates), userId ("__nouser__" while its session has no user), handshake. The values of
// the headers named in `redact` (lower-case) are replaced by "[redacted]".
void append_connection_json(std::string& out, const ConnectionInfo& connection, const std::vector<std::string>& redact);

// `{"connections":[...]}` over the registry, a slice at a time. Resumes by connection id, so connections
// that open meanwhile (with a higher id) appear and those that close meanwhile do not. Use it on the loop.
class ConnectionReport {
public:
    ConnectionReport(const RegistryView& registry, std::vector<std::string> redact, std::size_t slice);

    // Appends the next part of the document (the opening with the first, the closing with the last) and says
    // whether there is more to come.
    bool next(std::string& out);

private:
    const RegistryView& registry_;
    std::vector<std::string> redact_;
    std::size_t slice_;
    ConnectionId after_ = 0;
    bool started_ = false;
    bool done_ = false;
    bool first_ = true;
};

// {"connections":N,"authenticated":N,"sessions":N,"users":N,"ready":B}
std::string stats_json(const RegistryView& registry, bool ready);
// {"error":"<message>"}
std::string error_json(std::string_view message);

// `s` with every byte sequence that is not valid UTF-8 replaced by U+FFFD (JSON must be UTF-8; headers and
// decoded query parameters may be anything).
std::string valid_utf8(std::string_view s);

}  // namespace yunity::admin
