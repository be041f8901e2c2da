// A decimal number that is the whole text: what redis URLs, MOVED/ASK answers and Sentinel replies hold.
#pragma once

#include <charconv>
#include <string_view>
#include <system_error>

namespace yunity::redis {

// from_chars alone would accept a prefix ("12abc") and leaves `out` alone on failure; this takes only text that
// is entirely the number, within Int's range.
template <typename Int>
bool parse_whole_number(std::string_view text, Int& out) {
    if (text.empty()) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace yunity::redis
