// Untrusted JSON (from clients, or published by the web application) into a RapidJSON DOM.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/error.h>

#include <string_view>

namespace yunity::json {

// Parses `text` as one complete JSON document into `doc`, as RapidJSON's Parse would with kParseIterativeFlag
// (no recursion, however deep the nesting) and kParseValidateEncodingFlag (UTF-8 only), but with every number
// converted by std::from_chars: correctly rounded, as JSON.parse does. RapidJSON 1.1's own full-precision path
// corrupts numbers (0e38 and 0.0000000000000000000000000 become tiny non-zero values, 184467375e300 NaN), and
// its default path is not correctly rounded, so a decode/encode round trip would change numbers.
// Integers that fit become Int64 / Uint64 values, others doubles; a number too large for a double is
// kParseErrorNumberTooBig, one too small is 0. The result is RapidJSON's; `doc` holds the value only on
// success (doc.HasParseError() is not set by this function: use the result).
rapidjson::ParseResult parse(rapidjson::Document& doc, std::string_view text);

}  // namespace yunity::json
