// The redis URL (--redis, REDIS_URL, the config file's "redis"). Input: the URL.
#include "redis_url.hpp"

#include "fuzz_check.hpp"

#include <boost/url/grammar/parse.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace redis = yunity::redis;

namespace {

// The URL written again from its parts, every part percent-encoded as needed.
std::string compose(const redis::RedisUrl& u) {
    boost::urls::url out;
    out.set_scheme("redis");
    if (!u.password.empty()) {
        out.set_user(u.user);
        out.set_password(u.password);
    }
    if (const auto ipv6 = boost::urls::parse_ipv6_address(u.host)) {
        out.set_host_ipv6(*ipv6);
    } else {
        // Every character escaped: a name is read back as a name, never as an IPv4 or IPvFuture literal (or,
        // with Boost.URL 1.81, as an IPv4 prefix followed by a path: "1.2.3.4x").
        static constexpr char hex[] = "0123456789ABCDEF";
        std::string escaped;
        for (const char c : u.host) {
            escaped += '%';
            escaped += hex[static_cast<unsigned char>(c) >> 4];
            escaped += hex[c & 15];
        }
        out.set_encoded_host(escaped);
    }
    out.set_port_number(u.port);
    if (u.db != 0) out.set_path("/" + std::to_string(u.db));
    return std::string(out.buffer());
}

// The same host, IPv6 addresses compared as addresses: a name that decodes to IPv6 text ("%3A%3A0") reaches the
// resolver as that address, and is written back as the literal.
bool same_host(const std::string& a, const std::string& b) {
    if (a == b) return true;
    const auto x = boost::urls::parse_ipv6_address(a), y = boost::urls::parse_ipv6_address(b);
    return x && y && *x == *y;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    std::string error;
    const auto url = redis::parse_redis_url(text, &error);
    // Messages never quote the password: they are the same whatever it is.
    if (auto uri = boost::urls::parse_uri(text); uri && uri->has_password()) {
        std::string errors[2];
        for (int k = 0; k < 2; ++k) {
            boost::urls::url marked(*uri);
            marked.set_password(k == 0 ? "first-secret" : "second-secret");
            redis::parse_redis_url(marked.buffer(), &errors[k]);
        }
        FUZZ_CHECK(errors[0] == errors[1]);
    }
    if (!url) {
        FUZZ_CHECK(!error.empty());
        return 0;
    }
    FUZZ_CHECK(error.empty());
    FUZZ_CHECK(url->port != 0 && url->db >= 0 && !url->host.empty());
    FUZZ_CHECK(url->password.empty() ? url->user.empty() : true);
    // The host reaches the resolver as a C string: a NUL would cut it short, naming another host.
    for (const char c : url->host) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);

    // The parts make a URL that parses to the same parts.
    const auto again = redis::parse_redis_url(compose(*url), &error);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(same_host(again->host, url->host) && again->port == url->port && again->user == url->user &&
               again->password == url->password && again->db == url->db);

    // The redacted form, for logs, does not depend on the password, only on whether there is one.
    const auto shown = redis::redact(*url);
    FUZZ_CHECK(shown.starts_with("redis://"));
    auto other = *url;
    if (!other.password.empty()) other.password = "x";
    FUZZ_CHECK(redis::redact(other) == shown);
    return 0;
}
