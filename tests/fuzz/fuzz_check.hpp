// What the fuzz targets share: an invariant check that stops the run with the failing input saved, and small
// readers for the inputs' layouts.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// libFuzzer saves the input as a crash artifact on abort(), like any crash, so a broken invariant is kept and
// replayed the same way (`target artifact`).
#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

namespace fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Strict UTF-8 (RFC 3629), written here again so that no parser checks itself.
inline bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t len = b0 < 0x80 ? 1 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3
                                     : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
        if (len == 0 || i + len > s.size()) return false;
        std::uint32_t cp = len == 1 ? b0 : len == 2 ? b0 & 0x1Fu : len == 3 ? b0 & 0x0Fu : b0 & 0x07u;
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) return false;
            cp = cp << 6 | (b & 0x3Fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += len;
    }
    return true;
}

// Parses `text` as one complete JSON document, iteratively (the text may nest deeply).
inline bool parse_json(std::string_view text, rapidjson::Document& doc) {
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag |
              rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    return !doc.HasParseError();
}

inline bool is_json(std::string_view text) {
    rapidjson::Document doc;
    return parse_json(text, doc);
}

// The input as lines split at '\n' (the last one may be empty), for the targets whose input has several parts.
inline std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        if (nl == std::string_view::npos) return out;
        text.remove_prefix(nl + 1);
    }
}

}  // namespace fuzz
