// The JSON the memory-session plugin reads and writes: its sessions file, the body of `PUT /sessions/<id>`,
// and the answers of its admin routes. Pure functions, so that they are unit tested without a server.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace yunity::memory_session {

// Session id → user id. A session that is not here has no user, as a missing key in redis.
using SessionMap = std::map<std::string, std::string, std::less<>>;

// The user id a JSON value names, normalized as everywhere else (79 and "79" are one user): the string, or
// the integer in decimal; "" (no user) for an empty string; nothing for any other value.
std::optional<std::string> user_id(const rapidjson::Value& value);

// Parses `{"<sessionId>": "<userId>" | <integer>, ...}` (comments and trailing commas allowed, as in the
// config file). Sessions whose user is "" are left out: they have no user. Throws std::runtime_error saying
// what is wrong and where.
SessionMap parse_session_map(std::string_view json);

// Reads and parses a sessions file; the error names the file.
SessionMap load_session_file(const std::string& path);

// The user id of a `PUT /sessions/<id>` body: a JSON string or integer (`"alice"`, `79`), or else the bare
// text (`alice`, as `curl --data alice` sends it), surrounding white space ignored. Nothing, with the reason
// in `error`, for an empty body, another JSON value, or text that is not valid UTF-8 or holds control
// characters.
std::optional<std::string> parse_user_body(std::string_view body, std::string& error);

bool is_valid_utf8(std::string_view text);

// {"<sessionId>":"<userId>",...}
std::string session_map_json(const SessionMap& sessions);
// {"error":"<message>"}
std::string error_json(std::string_view message);

}  // namespace yunity::memory_session
