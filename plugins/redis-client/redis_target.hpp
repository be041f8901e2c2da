#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_url.hpp"

namespace yunity::redis {

// What `--redis` names: one server, a master found through Sentinel, or a Redis Cluster.
struct RedisTarget {
    enum class Kind { single, sentinel, cluster };

    Kind kind = Kind::single;
    // single: the server. sentinel and cluster: the user, password and db for the data nodes (masters); host
    // and port are those of the first seed until the real master is known.
    RedisUrl url;
    // sentinel: the sentinels, asked without credentials (default port 26379). cluster: the nodes to read the
    // topology from (default port 6379), with the credentials of `url`.
    std::vector<RedisUrl> seeds;
    std::string master_name;  // sentinel only: the name the sentinels monitor the master under
};

// Accepts
//   redis://[[user]:password@]host[:port][/db]                                  (parse_redis_url)
//   redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#master-name
//   redis-cluster://[[user]:password@]host[:port][,host[:port]...]
// The password is the data nodes' (the master's, the cluster's); the master name is percent-decoded. A
// cluster has only database 0, so a database is refused there. On failure returns nullopt and, when `error`
// is given, a message naming the part at fault (never the password).
std::optional<RedisTarget> parse_redis_target(std::string_view text, std::string* error = nullptr);

// The target again with the password replaced by `***`, for logs and error messages.
std::string redact(const RedisTarget& target);

// "host:port" ("[::1]:6379" for IPv6), as metrics and the dashboard show an address.
std::string address_of(const RedisUrl& url);

}  // namespace yunity::redis
