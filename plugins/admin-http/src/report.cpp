#include "report.hpp"

#include "json_out.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace yunity::admin {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when the bytes there are not valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t sequence_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return 1;
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return len;
}

// JavaScript prints the zone's long name (from ICU); the C library only knows the abbreviation. These are the
// common ones; any other abbreviation is printed as it is.
std::string_view zone_long_name(std::string_view abbreviation, long offset) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 18> names{{
        {"UTC", "Coordinated Universal Time"},
        {"UCT", "Coordinated Universal Time"},
        {"GMT", "Greenwich Mean Time"},
        {"BST", "British Summer Time"},
        {"WET", "Western European Standard Time"},
        {"WEST", "Western European Summer Time"},
        {"CET", "Central European Standard Time"},
        {"CEST", "Central European Summer Time"},
        {"EET", "Eastern European Standard Time"},
        {"EEST", "Eastern European Summer Time"},
        {"EST", "Eastern Standard Time"},
        {"EDT", "Eastern Daylight Time"},
        {"CST", "Central Standard Time"},
        {"CDT", "Central Daylight Time"},
        {"MST", "Mountain Standard Time"},
        {"MDT", "Mountain Daylight Time"},
        {"PST", "Pacific Standard Time"},
        {"PDT", "Pacific Daylight Time"},
    }};
    if (abbreviation.empty() && offset == 0) return "Coordinated Universal Time";
    for (const auto& [abbr, name] : names)
        if (abbr == abbreviation) return name;
    return abbreviation;
}

// Header values by name, in order of first appearance; a repeated name's values joined with ", ".
template <class Pairs>
std::vector<std::pair<std::string_view, std::string>> merged_headers(const Pairs& headers) {
    std::vector<std::pair<std::string_view, std::string>> out;
    out.reserve(headers.size());
    for (const auto& [name, value] : headers) {
        auto it = out.begin();
        while (it != out.end() && it->first != name) ++it;
        if (it == out.end()) {
            out.emplace_back(name, std::string(value));
        } else {
            it->second += ", ";
            it->second += value;
        }
    }
    return out;
}

bool redacted(std::string_view name, const std::vector<std::string>& redact) {
    for (const auto& r : redact)
        if (r == name) return true;
    return false;
}

template <class Pairs>
void put_pairs(JsonWriter& w, const Pairs& pairs, const std::vector<std::string>* redact) {
    w.StartObject();
    for (const auto& [name, value] : merged_headers(pairs)) {
        put_string(w, name);
        if (redact && redacted(name, *redact)) w.String("[redacted]");
        else put_string(w, value);
    }
    w.EndObject();
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto len = sequence_length(s, i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (std::size_t i = 0; i < s.size();) {
        if (const auto len = sequence_length(s, i)) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

std::string format_js_date(const std::tm& t, long offset, std::string_view zone) {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const long minutes = (offset < 0 ? -offset : offset) / 60;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %s %02d %04d %02d:%02d:%02d GMT%c%02ld%02ld (", days[(t.tm_wday % 7 + 7) % 7],
                  months[(t.tm_mon % 12 + 12) % 12], t.tm_mday, t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec,
                  offset < 0 ? '-' : '+', minutes / 60, minutes % 60);
    std::string out = buf;
    out += zone_long_name(zone, offset);
    out += ')';
    return out;
}

std::string format_js_date(std::int64_t epoch_ms) {
    // Floor division, so an instant before 1970 falls in the right second.
    std::int64_t seconds = epoch_ms / 1000;
    if (epoch_ms % 1000 < 0) --seconds;
    const auto when = static_cast<std::time_t>(seconds);
    std::tm local{};
    if (!localtime_r(&when, &local)) return "Invalid Date";
    return format_js_date(local, local.tm_gmtoff, local.tm_zone ? std::string_view(local.tm_zone) : std::string_view());
}

void append_connection_json(std::string& out, const ConnectionInfo& c, const std::vector<std::string>& redact) {
    StringOut os{out};
    JsonWriter w(os);
    w.StartObject();
    w.Key("connectionId");
    put_string(w, c.public_id);
    w.Key("sessionId");
    put_string(w, c.session_id ? std::string_view(*c.session_id) : "__nosession__");
    w.Key("userId");
    put_string(w, c.user ? std::string_view(*c.user) : "__nouser__");
    w.Key("handshake");
    w.StartObject();
    if (const auto* hs = c.handshake.get()) {
        w.Key("headers");
        put_pairs(w, hs->headers(), &redact);
        w.Key("time");
        put_string(w, format_js_date(hs->issued_ms));
        w.Key("address");
        put_string(w, hs->address);
        w.Key("xdomain");
        w.Bool(hs->xdomain);
        w.Key("secure");
        w.Bool(hs->secure);
        w.Key("issued");
        w.Int64(hs->issued_ms);
        w.Key("url");
        put_string(w, hs->url);
        w.Key("query");
        put_pairs(w, hs->query(), nullptr);
    }
    w.EndObject();
    w.EndObject();
}

ConnectionReport::ConnectionReport(const RegistryView& registry, std::vector<std::string> redact, std::size_t slice)
    : registry_(registry), redact_(std::move(redact)), slice_(slice == 0 ? 1 : slice) {}

bool ConnectionReport::next(std::string& out) {
    if (done_) return false;
    if (!started_) {
        out += R"({"connections":[)";
        started_ = true;
    }
    std::size_t visited = 0;
    after_ = registry_.for_each_connection(after_, [&](const ConnectionInfo& c) {
        if (!first_) out.push_back(',');
        first_ = false;
        append_connection_json(out, c, redact_);
        return ++visited < slice_;
    });
    if (visited < slice_) {
        out += "]}";
        done_ = true;
    }
    return !done_;
}

std::string stats_json(const RegistryView& registry, bool ready) {
    std::string out;
    StringOut os{out};
    JsonWriter w(os);
    w.StartObject();
    w.Key("connections");
    w.Uint64(registry.connection_count());
    w.Key("authenticated");
    w.Uint64(registry.authenticated_count());
    w.Key("sessions");
    w.Uint64(registry.session_count());
    w.Key("users");
    w.Uint64(registry.user_count());
    w.Key("ready");
    w.Bool(ready);
    w.EndObject();
    return out;
}

std::string error_json(std::string_view message) {
    std::string out;
    StringOut os{out};
    JsonWriter w(os);
    w.StartObject();
    w.Key("error");
    put_string(w, message);
    w.EndObject();
    return out;
}

}  // namespace yunity::admin
