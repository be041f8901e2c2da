// A string from outside (a config key, a value) as an error message shows it: in double quotes, escaped as JSON
// escapes it, so that a quote, a backslash or a control character in it cannot break the one line that names
// the culprit.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace yunity {

inline std::string quoted(std::string_view text) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> writer(out);
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return {out.GetString(), out.GetSize()};
}

}  // namespace yunity
