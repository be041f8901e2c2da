// The memory-session plugin's JSON: the sessions file and the body of `PUT /sessions/<id>` on the admin port.
// Input: the text, read as both.
#include "session_json.hpp"

#include "fuzz_check.hpp"

#include <stdexcept>

namespace ms = yunity::memory_session;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);

    std::string error;
    if (const auto user = ms::parse_user_body(text, error)) {
        // A user id is compared with the ones notifications name and shown in JSON answers: never empty,
        // always UTF-8.
        FUZZ_CHECK(!user->empty() && fuzz::valid_utf8(*user));
        // Sent again as a JSON string, the same user.
        const auto map = ms::session_map_json({{"s", *user}});  // {"s":"<user>"}
        const auto again = ms::parse_user_body(std::string_view(map).substr(5, map.size() - 6), error);
        FUZZ_CHECK(again && *again == *user);
    } else {
        FUZZ_CHECK(!error.empty());
        FUZZ_CHECK(fuzz::is_json(ms::error_json(error)));
    }

    ms::SessionMap sessions;
    try {
        sessions = ms::parse_session_map(text);
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(*e.what() != '\0');
        return 0;
    }
    for (const auto& [session, user] : sessions) {
        FUZZ_CHECK(!session.empty() && !user.empty());
        FUZZ_CHECK(fuzz::valid_utf8(session) && fuzz::valid_utf8(user));
    }
    // GET /sessions answers the map as JSON, which reads back as the same map.
    const auto json = ms::session_map_json(sessions);
    FUZZ_CHECK(fuzz::valid_utf8(json));
    FUZZ_CHECK(ms::parse_session_map(json) == sessions);
    return 0;
}
