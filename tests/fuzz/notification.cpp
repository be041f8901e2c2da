// The notification JSON a web application publishes (redis-pubsub's channel, http-publish's POST /publish).
// Input: the message as published.
#include "notification_parser.hpp"

#include "fuzz_check.hpp"

#include <algorithm>

namespace notifications = yunity::notifications;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto message = fuzz::as_text(data, size);
    // Small limits too, so that the size and depth refusals are reached.
    for (const auto& [max_bytes, max_depth] : {std::pair<std::size_t, std::size_t>{1 << 20, 64}, {64, 3}}) {
        auto parsed = notifications::parse_notification(message, max_bytes, max_depth);
        if (auto* error = std::get_if<notifications::ParseError>(&parsed)) {
            FUZZ_CHECK(!error->detail.empty());
            FUZZ_CHECK((error->reason == notifications::Rejection::too_large) == (message.size() > max_bytes));
            continue;
        }
        const auto& n = std::get<yunity::events::Notification>(parsed);
        FUZZ_CHECK(message.size() <= max_bytes);
        // Users: non-empty, each once, so a connection gets a notification once however often it is named.
        FUZZ_CHECK(std::is_sorted(n.users.begin(), n.users.end()));
        FUZZ_CHECK(std::adjacent_find(n.users.begin(), n.users.end()) == n.users.end());
        for (const auto& user : n.users) FUZZ_CHECK(!user.empty());

        // The payload goes to every client as is: valid UTF-8 (or websocket clients drop the connection), an
        // object, without the user list, no deeper than allowed, and already compact.
        FUZZ_CHECK(n.payload);
        const auto& payload = *n.payload;
        FUZZ_CHECK(fuzz::valid_utf8(payload));
        rapidjson::Document doc;
        FUZZ_CHECK(fuzz::parse_json(payload, doc) && doc.IsObject());
        FUZZ_CHECK(!doc.HasMember("users"));
        auto again = notifications::parse_notification(R"({"users":[],)" + payload.substr(1), 1 << 22, max_depth);
        if (payload == "{}") again = notifications::parse_notification(R"({"users":[]})", 1 << 22, max_depth);
        FUZZ_CHECK(std::holds_alternative<yunity::events::Notification>(again));
        FUZZ_CHECK(*std::get<yunity::events::Notification>(again).payload == payload);
    }
    return 0;
}
