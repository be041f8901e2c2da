#include "plan.hpp"

#include <algorithm>

namespace yunity::bench {

Plan::Plan(const Options& o)
    : connections_(o.connections), users_(o.users()), per_user_(o.per_user), m_(o.users_per_notification),
      sources_(o.source_addresses), targets_(o.targets.empty() ? 1 : o.targets.size()), eio_(o.eio),
      polling_share_(o.polling_share), seed_(o.seed), user_base_(o.user_base),
      session_prefix_("lg" + std::to_string(o.seed % 0xFFFFFFFFULL) + "-") {}

std::uint64_t Plan::mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

std::string Plan::session_id(std::size_t conn) const { return session_prefix_ + std::to_string(conn); }

int Plan::eio_of(std::size_t conn) const {
    if (eio_ != 0) return eio_;
    return (conn / per_user_) % 2 == 0 ? 4 : 3;
}

bool Plan::polling(std::size_t conn) const {
    if (polling_share_ <= 0) return false;
    return static_cast<double>(mix(seed_ ^ (conn * 0x2545F4914F6CDD1DULL)) % 1'000'000) < polling_share_ * 1e6;
}

void Plan::users_of(std::uint64_t seq, std::vector<std::uint32_t>& out) const {
    out.clear();
    std::uint64_t state = seed_ ^ (seq * 0xD1B54A32D192ED03ULL);
    for (std::size_t j = users_ - m_; j < users_; ++j) {
        state = mix(state);
        const auto t = static_cast<std::uint32_t>(state % (j + 1));
        const bool taken = std::find(out.begin(), out.end(), t) != out.end();
        out.push_back(taken ? static_cast<std::uint32_t>(j) : t);
    }
}

}  // namespace yunity::bench
