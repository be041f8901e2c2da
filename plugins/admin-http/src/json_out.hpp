// RapidJSON's Writer appending to a std::string, with strings made valid UTF-8 on the way.
#pragma once

#include "report.hpp"

#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace yunity::admin {

// The output stream RapidJSON's Writer needs, over a std::string the caller owns.
struct StringOut {
    using Ch = char;
    std::string& s;
    void Put(char c) { s.push_back(c); }
    void Flush() {}
};

using JsonWriter = rapidjson::Writer<StringOut>;

bool is_valid_utf8(std::string_view s);

inline void put_string(JsonWriter& w, std::string_view s) {
    if (is_valid_utf8(s)) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    } else {
        const std::string fixed = valid_utf8(s);
        w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
    }
}

}  // namespace yunity::admin
