#include "stream_id.hpp"

#include <charconv>

namespace yunity::redis_streams {

namespace {

std::optional<std::uint64_t> number(std::string_view digits) {
    if (digits.empty()) return std::nullopt;
    std::uint64_t value = 0;
    const auto* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, value);
    // from_chars takes no sign, but would stop at anything that is not a digit: the whole text must be used.
    if (ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

}  // namespace

std::optional<StreamId> StreamId::parse(std::string_view text) {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto ms = number(text.substr(0, dash));
    auto seq = number(text.substr(dash + 1));
    if (!ms || !seq) return std::nullopt;
    return StreamId{*ms, *seq};
}

std::string StreamId::to_string() const { return std::to_string(ms) + "-" + std::to_string(seq); }

}  // namespace yunity::redis_streams
