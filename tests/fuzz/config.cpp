// The config file (--config): the core's reading of it (parse_options, unchanged, on an in-memory file), then
// the sections the stock plugins read through their own parsers: "socketio" and "admin-http".
// Input: the file's contents.
#include "admin_config.hpp"
#include "options.hpp"
#include "redis_url.hpp"
#include "startup_error.hpp"
#include "transport_config.hpp"

#include "fuzz_check.hpp"

#include <spdlog/common.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <limits>
#include <stdexcept>

namespace {

// Findings of this target, fixed, kept as invariants (with their inputs in the corpus): durations up to
// INT64_MAX milliseconds overflowed when a timer converted them to the clock's nanoseconds; a socketio
// max_header_bytes above 2^32-1 was cast to Beast's 32-bit limit (4294967296 became 0, refusing every request);
// a key or value quoted as it was made {"a\nb": 1} a refusal of two lines, not the one line naming the culprit.
bool usable(std::chrono::milliseconds d) {
    const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::duration::max()) / 2;
    return d.count() > 0 && d <= limit;
}

void check_socketio(const rapidjson::Value& section) {
    yunity::socketio::TransportConfig c;
    try {
        c = yunity::socketio::TransportConfig::from_json(section);
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(*e.what() != '\0');
        return;
    }
    FUZZ_CHECK(!c.paths.empty());
    for (const auto& p : c.paths) FUZZ_CHECK(p.size() >= 1 && p.front() == '/' && p.back() == '/');
    for (const auto d : {c.ping_interval, c.ping_timeout, c.connect_timeout, c.request_timeout,
                         c.websocket_handshake_timeout})
        FUZZ_CHECK(usable(d));
    FUZZ_CHECK(c.max_payload > 0 && c.max_queue_bytes > 0 && c.max_session_id > 0 && c.max_header_bytes > 0);
    FUZZ_CHECK(c.max_header_bytes <= std::numeric_limits<std::uint32_t>::max());
}

void check_admin(const rapidjson::Value& section) {
    yunity::admin::AdminConfig c;
    try {
        c = yunity::admin::AdminConfig::from_json(section, nullptr);
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(*e.what() != '\0');
        return;
    }
    FUZZ_CHECK(usable(c.request_timeout));
    FUZZ_CHECK(c.max_header_bytes > 0 && c.max_header_bytes <= std::numeric_limits<std::uint32_t>::max());
    FUZZ_CHECK(c.max_body_bytes > 0 && c.report_slice > 0);
    for (const auto& name : c.redact) {
        FUZZ_CHECK(!name.empty());
        for (const char ch : name) FUZZ_CHECK(!(ch >= 'A' && ch <= 'Z'));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // One in-memory file for the whole run, rewritten per input and opened by name as the core opens it.
    static const int fd = memfd_create("fuzz-config", 0);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    FUZZ_CHECK(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));

    const char* argv[] = {"yunity-sockets", "-w", "0", "-p", "0", "--config", path.c_str()};
    yunity::core::Options o;
    try {
        o = yunity::core::parse_options(7, argv, [](const char*) -> const char* { return nullptr; });
    } catch (const yunity::core::StartupError& e) {
        // One line naming the culprit.
        const std::string_view message = e.what();
        FUZZ_CHECK(!message.empty());
        FUZZ_CHECK(message.find('\n') == std::string_view::npos);
        return 0;
    }
    FUZZ_CHECK(o.action == yunity::core::Options::Action::run);
    FUZZ_CHECK(o.config.IsObject());
    FUZZ_CHECK(spdlog::level::from_str(o.log_level) != spdlog::level::off || o.log_level == "off");
    for (const auto& p : o.plugins) FUZZ_CHECK(!p.empty());
    yunity::redis::parse_redis_url(o.settings.redis_url);

    for (const auto& m : o.config.GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (name == "socketio") check_socketio(m.value);
        else if (name == "admin-http") check_admin(m.value);
    }
    return 0;
}
