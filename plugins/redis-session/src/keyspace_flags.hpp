#pragma once

#include <string>
#include <string_view>

namespace yunity::redis_session {

// The notify-keyspace-events flags the resolver needs: keyspace channel (K), generic commands (g: del,
// rename, expire), string commands ($: set), expired (x) and evicted (e) keys.
inline constexpr std::string_view needed_keyspace_flags = "Kg$xe";

// `current` with whatever of `needed_keyspace_flags` it lacks added; `A` (all classes) counts as g$xe. Keeps
// the flags others set, since a redis restart or another service may rely on them.
std::string merge_keyspace_flags(std::string_view current);

// Escapes redis glob characters so a prefix matches only itself in PSUBSCRIBE.
std::string escape_glob(std::string_view text);

}  // namespace yunity::redis_session
