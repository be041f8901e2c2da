#include "redis_target.hpp"

#include <cctype>

namespace yunity::redis {
namespace {

std::optional<RedisTarget> fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return std::nullopt;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Whether a `host[:port]` item names its port: after an IPv6 literal's ']', or any ':' in a name or IPv4.
bool names_port(std::string_view item) {
    if (!item.empty() && item.front() == '[') {
        const auto close = item.find(']');
        return close != std::string_view::npos && close + 1 < item.size() && item[close + 1] == ':';
    }
    return item.find(':') != std::string_view::npos;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const int hi = hex_value(text[i + 1]);
        const int lo = hex_value(text[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

}  // namespace

std::optional<RedisTarget> parse_redis_target(std::string_view text, std::string* error) {
    const auto colon = text.find("://");
    const std::string scheme = lowercase(text.substr(0, colon == std::string_view::npos ? 0 : colon));
    const bool sentinel = scheme == "redis-sentinel";
    const bool cluster = scheme == "redis-cluster";
    if (!sentinel && !cluster) {
        std::string why;
        auto url = parse_redis_url(text, &why);
        if (!url) {
            if (why.find("unsupported URL scheme") != std::string::npos)
                why += ", redis-sentinel:// or redis-cluster://";
            return fail(error, why);
        }
        RedisTarget target;
        target.url = std::move(*url);
        return target;
    }

    RedisTarget target;
    target.kind = sentinel ? RedisTarget::Kind::sentinel : RedisTarget::Kind::cluster;
    const char* form = sentinel ? "redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#master-name"
                                : "redis-cluster://[[user]:password@]host[:port][,host[:port]...]";
    std::string_view rest = text.substr(colon + 3);

    if (sentinel) {
        const auto hash = rest.find('#');
        if (hash == std::string_view::npos || hash + 1 == rest.size())
            return fail(error, std::string("redis-sentinel URL names no master (expected ") + form + ")");
        auto name = percent_decode(rest.substr(hash + 1));
        if (!name) return fail(error, "invalid percent-encoding in the master name of the redis-sentinel URL");
        for (const char c : *name) {
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
                return fail(error, "invalid master name in redis-sentinel URL (a control character or space)");
        }
        target.master_name = std::move(*name);
        rest = rest.substr(0, hash);
    } else if (rest.find('#') != std::string_view::npos) {
        return fail(error, "redis-cluster URL must not have a fragment (#...)");
    }
    if (rest.find('?') != std::string_view::npos)
        return fail(error,
                    std::string(sentinel ? "redis-sentinel" : "redis-cluster") + " URL must not have a query (?...)");

    // The path (the database) starts at the first '/', and the userinfo ends at the last '@' before it.
    std::string_view path;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        path = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    std::string_view userinfo;
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        userinfo = rest.substr(0, at + 1);
        rest = rest.substr(at + 1);
    }
    if (rest.empty()) return fail(error, std::string("URL names no host (expected ") + form + ")");

    // Each item is checked as the redis:// URL it stands for, so that hosts, ports, credentials and the
    // database follow exactly the rules of a plain URL.
    bool first = true;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        if (item.empty()) return fail(error, std::string("empty host in the URL's list (expected ") + form + ")");
        std::string why;
        auto url = parse_redis_url("redis://" + std::string(userinfo) + std::string(item) + std::string(path), &why);
        if (!url) return fail(error, why);
        if (!names_port(item) && sentinel) url->port = 26379;
        if (first) {
            target.url = *url;
            first = false;
        }
        if (sentinel) {
            // Sentinels are asked without the master's credentials and know no databases.
            url->user.clear();
            url->password.clear();
            url->db = 0;
        }
        target.seeds.push_back(std::move(*url));
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    if (cluster && target.url.db != 0)
        return fail(error, "redis-cluster URL names a database: a cluster has only database 0");
    return target;
}

std::string address_of(const RedisUrl& url) {
    const bool ipv6 = url.host.find(':') != std::string::npos;
    return (ipv6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

std::string redact(const RedisTarget& target) {
    if (target.kind == RedisTarget::Kind::single) return redact(target.url);
    std::string out = target.kind == RedisTarget::Kind::sentinel ? "redis-sentinel://" : "redis-cluster://";
    if (!target.url.password.empty()) out += target.url.user + ":***@";
    for (std::size_t i = 0; i < target.seeds.size(); ++i) {
        if (i) out += ',';
        out += address_of(target.seeds[i]);
    }
    if (target.url.db != 0) out += "/" + std::to_string(target.url.db);
    if (!target.master_name.empty()) out += "#" + target.master_name;
    return out;
}

}  // namespace yunity::redis
