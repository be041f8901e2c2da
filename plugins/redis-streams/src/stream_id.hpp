// A redis stream entry id, "<milliseconds>-<sequence>", as a value that compares the way redis orders entries.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yunity::redis_streams {

struct StreamId {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;

    // Only the full form redis answers with ("1733150000000-0"): digits, '-', digits, each part within 64 bits.
    // The short form "1733150000000" that XADD and XRANGE take as input is refused: redis never answers with it,
    // so meeting it in a reply means the reply is not what this reader thinks.
    static std::optional<StreamId> parse(std::string_view text);
    std::string to_string() const;

    auto operator<=>(const StreamId&) const = default;
};

}  // namespace yunity::redis_streams
