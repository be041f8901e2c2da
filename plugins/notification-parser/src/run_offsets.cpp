#include "run_offsets.hpp"

#include <random>

namespace yunity::notifications {

RunOffsets::RunOffsets() {
    std::random_device random;
    const std::uint64_t bits = (std::uint64_t{random()} << 32) | random();
    static constexpr char hex_digits[] = "0123456789abcdef";
    run_id_.resize(16);
    for (int i = 0; i < 16; ++i) run_id_[i] = hex_digits[(bits >> (4 * i)) & 15];
    run_id_[0] = "abcdef"[bits % 6];
}

std::string RunOffsets::next() { return run_id_ + "-" + std::to_string(++sequence_); }

}  // namespace yunity::notifications
