// The request target of an Engine.IO request: its path, the Engine.IO parameters and the application's query.
// Input: the target as sent ("/socket.io/?EIO=4&transport=polling&token=x").
#include "admin_router.hpp"
#include "handshake_query.hpp"

#include "fuzz_check.hpp"

namespace eio = yunity::eio;

namespace {

// Percent-encodes all but the unreserved characters (and '/' when `slash`).
std::string encode(std::string_view s, bool slash) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || (slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// A target carrying the same parameters in the same order (the query holds every one, Engine.IO's included).
std::string compose(const eio::HandshakeQuery& q) {
    std::string target = encode(q.path, true);
    char sep = '?';
    for (const auto& [key, value] : q.query) target += sep + encode(key, false) + '=' + encode(value, false), sep = '&';
    return target;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto target = fuzz::as_text(data, size);
    const auto q = eio::parse_handshake_query(target);

    // The admin port reads targets with the same parser: both agree on what a target is and what it holds.
    std::string admin_path;
    std::vector<std::pair<std::string, std::string>> admin_query;
    FUZZ_CHECK(q.has_value() == yunity::admin::parse_target(target, admin_path, admin_query));
    if (!q) return 0;
    FUZZ_CHECK(q->path == admin_path);
    FUZZ_CHECK(!q->path.empty() && q->path.front() == '/');
    FUZZ_CHECK(q->query == admin_query);

    // Written again, the parameters read back the same.
    const auto again = eio::parse_handshake_query(compose(*q));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->path == q->path && again->eio == q->eio && again->transport == q->transport &&
               again->sid == q->sid && again->j == q->j && again->b64 == q->b64 && again->query == q->query);
    return 0;
}
