// The notification format both stock sources take (redis-pubsub's channel and http-publish's POST /publish):
// one parser, so they agree on what is valid and on the payload the clients receive.
#pragma once

#include <yunity/events.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace yunity::notifications {

// Why a published message was refused; each is counted under its own label.
enum class Rejection { not_json, not_object, no_users, bad_user, too_large, too_deep };
const char* to_string(Rejection r);

struct ParseError {
    Rejection reason;
    std::string detail;
};

// Parses a published message: a JSON object with `users`, an array of strings or integers (79 and "79"
// name one user), and any other members. The notification's payload is the object minus `users`, compact,
// members in their order, serialized once here. Input is untrusted: parsed iteratively, never recursively.
// Nesting deeper than `max_depth` is refused: serializing it again (and parsing it in a browser) recurses.
std::variant<events::Notification, ParseError> parse_notification(std::string_view message,
                                                                  std::size_t max_bytes = 1 << 20,
                                                                  std::size_t max_depth = 64);

}  // namespace yunity::notifications
