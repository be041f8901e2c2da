#include "redis_url.hpp"

#include "whole_number.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cctype>

namespace yunity::redis {
namespace {

std::optional<RedisUrl> fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return std::nullopt;
}

}  // namespace

std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string* error) {
    // The password may be in `text`, so no message below quotes the input itself.
    auto parsed = boost::urls::parse_uri(boost::urls::string_view(text.data(), text.size()));
    if (!parsed) {
        return fail(error, "invalid redis URL (expected redis://[[user]:password@]host[:port][/db]): " +
                               parsed.error().message());
    }
    const boost::urls::url_view& u = *parsed;

    // Schemes are case-insensitive (RFC 3986, 3.1).
    std::string scheme(u.scheme());
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "rediss") {
        return fail(error, "rediss:// (TLS) is not supported: the hiredis version in use has no TLS");
    }
    if (scheme != "redis") {
        return fail(error, "unsupported URL scheme '" + scheme + "': only redis:// is supported");
    }
    if (!u.has_authority()) return fail(error, "redis URL has no host part (expected redis://host)");

    RedisUrl url;

    if (u.has_userinfo()) {
        if (!u.has_password()) {
            // `redis://secret@host` is ambiguous (some clients read it as a password): make the user say which.
            return fail(error,
                        "redis URL has a user but no password: write redis://:password@host for a password "
                        "alone or redis://user:password@host");
        }
        url.user = u.user();
        url.password = u.password();
        if (!url.user.empty() && url.password.empty()) {
            return fail(error, "redis URL names user '" + url.user + "' with an empty password");
        }
    }

    switch (u.host_type()) {
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::name:
            url.host = u.host_address();
            if (url.host.empty()) url.host = RedisUrl{}.host;
            // The resolver takes the name as a C string: "a%00b" would quietly become "a", another host.
            for (const char c : url.host) {
                if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
                    return fail(error, "invalid host in redis URL (a control character or space, percent-encoded)");
                }
            }
            break;
        case boost::urls::host_type::ipv6:
            url.host = u.host_ipv6_address().to_string();
            break;
        case boost::urls::host_type::none:
            break;  // `redis://:pw@/1` or `redis://` : the local default
        default:
            return fail(error, "unsupported host in redis URL (IPvFuture literal)");
    }

    if (u.has_port()) {
        std::uint16_t port = 0;
        if (!parse_whole_number(std::string_view(u.port().data(), u.port().size()), port) || port == 0) {
            return fail(error, "invalid port '" + std::string(u.port()) + "' in redis URL (expected 1-65535)");
        }
        url.port = port;
    }

    const auto path = u.encoded_path();
    // After an authority the path starts with '/', or is empty; Boost.URL 1.81 reads "redis://1.2.3.4x:6380" as the
    // host 1.2.3.4 followed by the path "x:6380", which is the host's fault, not the database's.
    if (!path.empty() && path.front() != '/') {
        return fail(error, "invalid host in redis URL (a name that starts like an IPv4 address)");
    }
    if (!path.empty() && path != "/") {
        std::string_view db(path.data() + 1, path.size() - 1);
        if (!parse_whole_number(db, url.db) || url.db < 0) {
            return fail(error, "invalid database '" + std::string(path.substr(1)) +
                                   "' in redis URL (expected a non-negative number, as in redis://host/2)");
        }
    }

    if (u.has_query()) return fail(error, "redis URL must not have a query (?...): put the database in the path");
    if (u.has_fragment()) return fail(error, "redis URL must not have a fragment (#...)");

    return url;
}

std::string redact(const RedisUrl& url) {
    std::string out = "redis://";
    if (!url.password.empty()) {
        out += url.user;
        out += ":***@";
    }
    const bool ipv6 = url.host.find(':') != std::string::npos;
    if (ipv6) out += '[';
    out += url.host;
    if (ipv6) out += ']';
    out += ':';
    out += std::to_string(url.port);
    if (url.db != 0) {
        out += '/';
        out += std::to_string(url.db);
    }
    return out;
}

}  // namespace yunity::redis
