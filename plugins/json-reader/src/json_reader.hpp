// Untrusted JSON (from clients, or published by the web application) into a RapidJSON DOM.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/error.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace yunity::json {

// The nesting any untrusted JSON may have by default: far beyond what applications send (socket.io payloads and
// notifications are a few levels deep), far below what recursion anywhere downstream could not survive.
inline constexpr std::size_t default_max_depth = 64;

// Parses `text` as one complete JSON document into `doc`, as RapidJSON's Parse would with kParseIterativeFlag
// (no recursion, however deep the nesting) and kParseValidateEncodingFlag (UTF-8 only), but with every number
// converted by std::from_chars: correctly rounded, as JSON.parse does. RapidJSON 1.1's own full-precision path
// corrupts numbers (0e38 and 0.0000000000000000000000000 become tiny non-zero values, 184467375e300 NaN), and
// its default path is not correctly rounded, so a decode/encode round trip would change numbers.
// Integers that fit become Int64 / Uint64 values, others doubles; a number too large for a double is
// kParseErrorNumberTooBig, one too small is 0. The result is RapidJSON's; `doc` holds the value only on
// success (doc.HasParseError() is not set by this function: use the result).
// Arrays and objects nested deeper than `max_depth` are refused (kParseErrorTermination, which nothing else here
// returns; describe() names it): every consumer downstream (a plugin's copy, a browser's JSON.parse, a recursive
// writer) would otherwise inherit unbounded depth from whoever sent the text.
rapidjson::ParseResult parse(rapidjson::Document& doc, std::string_view text, std::size_t max_depth = default_max_depth);

// A parse error in words: RapidJSON's text, or "nested deeper than N levels" for the depth limit.
std::string describe(const rapidjson::ParseResult& result, std::size_t max_depth = default_max_depth);

}  // namespace yunity::json
