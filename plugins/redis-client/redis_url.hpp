#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yunity::redis {

// Where and how to reach one redis server. Plain TCP only: hiredis 0.14 has no TLS, so `rediss://` is refused
// at parse time instead of failing at connect time.
struct RedisUrl {
    std::string host = "127.0.0.1";  // a name or an IP address; IPv6 without brackets
    std::uint16_t port = 6379;
    std::string user;      // empty: AUTH with the password alone (the `default` user)
    std::string password;  // empty: no AUTH
    int db = 0;            // SELECTed after connecting when not 0
};

// Accepts `redis://[[user]:password@]host[:port][/db]`, e.g. `redis://127.0.0.1`, `redis://:secret@cache:6380/2`,
// `redis://alice:s%40cret@[::1]/1`. User and password are percent-decoded. On failure returns nullopt and, when
// `error` is given, a message that names the part at fault (it never repeats the password).
std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string* error = nullptr);

// The URL again with the password replaced by `***`, for logs and error messages.
std::string redact(const RedisUrl& url);

}  // namespace yunity::redis
