// The presence plugin: which users hold a connection, on this instance and across every instance sharing a redis.
//
// The design (plugins/presence/README.md says more):
//   <prefix>user:<user>       sorted set: instance id -> time (ms, redis's clock) until which it vouches for the user
//   <prefix>instances         sorted set: instance id -> the same, for the instance itself
//   <prefix>instance:<id>     set: the users the instance holds, so that another can announce them gone
// An instance stamps its entries with redis TIME + ttl when a user gets their first connection there, and again
// every refresh_interval; it removes its entry when the user's last connection there closes. A user is online
// while one entry lies ahead, so the users of an instance that dies without a word go offline at most ttl after
// its last refresh. Every change goes through one Lua script, atomically, which publishes
// {"user":"...","online":true|false} on the channel when the user's state across all instances changes; each
// instance also sweeps the instances whose time ran out, announcing their users offline (once: the script that
// removes a dead instance's entry is the one that announces it).
// Why sorted sets and not a key per instance and user with a TTL: "is user u online anywhere" is one ZCOUNT on
// one key, for any number of instances, where per-instance keys would need a SCAN; and redis's own clock, read in
// the scripts, makes the instances' (and the web servers') clocks irrelevant.
//
// A graceful stop removes this instance's entries and announces the users no other instance holds, before the
// link closes (the core drains its loop after the plugins' stop()).
//
// With store "memory" there is no redis: presence is this instance's connections, answered on the admin port. It
// is the default when no other plugin of the server talks to redis (the embedded mode).
#include "redis_link.hpp"

#include <yunity/admin_routes.hpp>
#include <yunity/loaded_plugins.hpp>
#include <yunity/plugin.hpp>
#include <yunity/quoted.hpp>
#include <yunity/settings_table.hpp>

#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace yunity::presence {

namespace {

struct Settings {
    std::string store;  // none: see default_store()
    std::string prefix = "presence:";
    std::string channel = "presence";
    std::chrono::milliseconds ttl{20000};
    std::chrono::milliseconds refresh_interval{5000};
    std::string instance;  // default: <host>-<pid>-<random>
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{5000};
};

const SettingsTable<Settings>& settings_table() {
    using S = Setting<Settings>;
    static const SettingsTable<Settings> table{
        S{"store", &Settings::store,
          "`redis`: presence across every instance sharing the redis of `--redis`; `memory`: this instance's "
          "connections only, no redis (the embedded mode)"}
            .non_empty()
            .default_text("`redis` when redis-session, redis-pubsub or redis-streams is loaded, else `memory`"),
        S{"prefix", &Settings::prefix,
          "the keys are `<prefix>user:<user>`, `<prefix>instances` and "
          "`<prefix>instance:<id>`"}
            .non_empty(),
        S{"channel", &Settings::channel, "where changes are published as {\"user\":\"...\",\"online\":true|false}"}
            .non_empty(),
        {"ttl_ms", &Settings::ttl,
         "how long an instance's word holds: the users of an instance that died go offline within this"},
        {"refresh_interval_ms", &Settings::refresh_interval,
         "how often an instance renews its word and sweeps dead instances (less than ttl_ms)"},
        S{"instance", &Settings::instance, "this instance's id in redis, unique among the instances"}
            .non_empty()
            .default_text("generated: host-pid-random"),
        {"connect_timeout_ms", &Settings::connect_timeout, "time to connect to redis before trying again"},
        {"command_timeout_ms", &Settings::command_timeout,
         "time redis has to answer a command before the link is dropped and made again"},
    };
    return table;
}

// Lua helpers every script starts with: the time from redis's clock, in ms.
constexpr std::string_view now_lua = R"(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
)";

// KEYS: instances, my users set, then one user key per user; ARGV: me, ttl, channel, then the users.
// Stamps this instance's entry for each user (first connection here, or the periodic refresh); a user who had no
// live entry anywhere comes online. Returns how many did.
constexpr std::string_view up_lua = R"(
local me, ttl, channel = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local expiry = now + ttl
redis.call('ZADD', KEYS[1], expiry, me)
local came = 0
for i = 3, #KEYS do
  local key, user = KEYS[i], ARGV[i + 1]
  if redis.call('ZCOUNT', key, '(' .. now, '+inf') == 0 then
    redis.call('PUBLISH', channel, cjson.encode({user = user, online = true}))
    came = came + 1
  end
  redis.call('ZADD', key, expiry, me)
  -- the key outlives the entries by a ttl, so that a sweep finds a dead instance's entries to announce
  if redis.call('PTTL', key) < 2 * ttl then redis.call('PEXPIRE', key, 2 * ttl) end
  redis.call('SADD', KEYS[2], user)
end
return came
)";

// Same KEYS and ARGV: the users' last connection here closed. Removes this instance's entry; a user with no live
// entry left goes offline. Returns how many did.
constexpr std::string_view down_lua = R"(
local me, channel = ARGV[1], ARGV[3]
local gone = 0
for i = 3, #KEYS do
  local key, user = KEYS[i], ARGV[i + 1]
  redis.call('SREM', KEYS[2], user)
  if redis.call('ZREM', key, me) == 1 and redis.call('ZCOUNT', key, '(' .. now, '+inf') == 0 then
    redis.call('DEL', key)
    redis.call('PUBLISH', channel, cjson.encode({user = user, online = false}))
    gone = gone + 1
  end
end
return gone
)";

// remove(instances, prefix, channel, id): removes instance `id` and its entries; a user left with no live entry
// goes offline. Returns how many did. Only the call that removes an instance announces its users.
constexpr std::string_view remove_lua = R"(
local function remove(instances, prefix, channel, id)
  redis.call('ZREM', instances, id)
  local users = prefix .. 'instance:' .. id
  local gone = 0
  for _, user in ipairs(redis.call('SMEMBERS', users)) do
    local key = prefix .. 'user:' .. user
    if redis.call('ZREM', key, id) == 1 and redis.call('ZCOUNT', key, '(' .. now, '+inf') == 0 then
      redis.call('DEL', key)
      redis.call('PUBLISH', channel, cjson.encode({user = user, online = false}))
      gone = gone + 1
    end
  end
  redis.call('DEL', users)
  return gone
end
)";

// KEYS: instances; ARGV: prefix, channel. Removes every instance whose time ran out. Returns how many users went
// offline.
constexpr std::string_view sweep_lua = R"(
local gone = 0
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  gone = gone + remove(KEYS[1], ARGV[1], ARGV[2], dead)
end
return gone
)";

// KEYS: instances; ARGV: prefix, channel, me. This instance stops: its entries go at once, rather than a ttl
// later by another instance's sweep. Returns how many users went offline.
constexpr std::string_view leave_lua = R"(
return remove(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
)";

// KEYS: user keys. The 1-based indexes of those with a live entry (what yunity_sockets.online() runs too).
constexpr std::string_view online_lua = R"(
local online = {}
for i, key in ipairs(KEYS) do
  if redis.call('ZCOUNT', key, '(' .. now, '+inf') > 0 then online[#online + 1] = i end
end
return online
)";

// Users per script call: bounds the time one call holds redis.
constexpr std::size_t batch = 500;

std::string default_instance() {
    std::random_device random;
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%08x", random());
    return boost::asio::ip::host_name() + "-" + std::to_string(::getpid()) + "-" + suffix;
}

AdminResponse json_answer(int status, std::string body) {
    AdminResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

// The users asked for: `users=a,b&users=c` (comma-separated, repeatable), each once, in order.
std::vector<std::string> asked_users(const AdminRequest& req) {
    std::vector<std::string> users;
    for (const auto& [key, value] : req.query) {
        if (key != "users") continue;
        std::string_view rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto user = rest.substr(0, comma);
            if (!user.empty() && std::find(users.begin(), users.end(), user) == users.end()) users.emplace_back(user);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    }
    return users;
}

// The default store: redis when the server talks to redis anyway (its sessions or its notifications come from
// there), memory when it does not (the embedded mode: memory-session, http-publish). Not "when --redis is
// given": the URL has a default, which the stock set uses without naming it.
std::string default_store(const PluginContext& c) {
    const auto* loaded = c.service<LoadedPlugins>();
    if (!loaded) return "redis";
    for (const auto* name : {"redis-session", "redis-pubsub", "redis-streams"})
        if (loaded->contains(name)) return "redis";
    return "memory";
}

std::string online_json(const std::vector<std::string>& online) {
    std::string out = R"({"online":[)";
    for (std::size_t i = 0; i < online.size(); ++i) out += (i ? "," : "") + quoted(online[i]);
    return out + "]}";
}

class PresencePlugin : public Plugin {
public:
    explicit PresencePlugin(PluginContext& c)
        : c_(c),
          settings_(settings_table().parse(c.config())),
          refresh_timer_(c.io()),
          went_online_(c.metrics().counter("yunity_presence_changes_total",
                                           "Users this instance announced online or offline", "online=\"true\"")),
          went_offline_(c.metrics().counter("yunity_presence_changes_total",
                                            "Users this instance announced online or offline", "online=\"false\"")) {
        if (settings_.store.empty()) settings_.store = default_store(c);
        if (settings_.store != "redis" && settings_.store != "memory")
            throw std::runtime_error("setting \"store\" must be \"redis\" or \"memory\", not " +
                                     quoted(settings_.store));
        if (settings_.refresh_interval >= settings_.ttl)
            throw std::runtime_error("setting \"refresh_interval_ms\" must be less than \"ttl_ms\"");
        if (settings_.instance.empty()) settings_.instance = default_instance();
        if (settings_.store == "memory") return;
        std::string error;
        auto url = redis::parse_redis_url(c.settings().redis_url, &error);
        if (!url) throw std::runtime_error("--redis: " + error);
        url_ = *url;
        redis::LinkOptions options;
        options.url = url_;
        options.connect_timeout = settings_.connect_timeout;
        options.command_timeout = settings_.command_timeout;
        options.name = "presence";
        link_ = std::make_unique<redis::RedisLink>(c.io(), options, c.logger());
    }

    void start() override {
        const auto& name = c_.plugin_name();
        c_.bus().subscribe<events::MembershipChanged>(name, [this](const events::MembershipChanged& e) {
            if (stopping_) return;  // stop() removed every entry of this instance
            auto it = user_of_.find(e.connection);
            if (it != user_of_.end() && e.user && it->second == *e.user) return;
            if (it != user_of_.end()) {
                leave(it->second);
                user_of_.erase(it);
            }
            if (e.user) {
                user_of_.emplace(e.connection, *e.user);
                join(*e.user);
            }
        });
        c_.bus().subscribe<events::ConnectionClosed>(name, [this](const events::ConnectionClosed& e) {
            if (stopping_) return;
            auto it = user_of_.find(e.connection);
            if (it == user_of_.end()) return;
            leave(it->second);
            user_of_.erase(it);
        });
        c_.metrics().gauge(name, "yunity_presence_users", "Users with a connection on this instance", "",
                           [this] { return static_cast<double>(connections_.size()); });
        if (auto* stats = c_.service<AdminStats>()) {
            stats_ = stats;
            stats->add("presence", [this] {
                return R"({"users":)" + std::to_string(connections_.size()) + R"(,"announced_online":)" +
                       std::to_string(went_online_.load()) + R"(,"announced_offline":)" +
                       std::to_string(went_offline_.load()) + "}";
            });
        }
        if (auto* routes = c_.service<AdminRoutes>())
            routes->add("GET", "/presence",
                        [this](const AdminRequest& req, AdminResponder respond) { answer(req, std::move(respond)); });

        if (!link_) {
            c_.logger()->info("presence of this instance's users, in memory (GET /presence on the admin port)");
            return;
        }
        c_.metrics().gauge(name, "yunity_redis_connected", "1 while the redis link is usable", "link=\"presence\"",
                           [this] { return link_->connected() ? 1.0 : 0.0; });
        link_->on_connected([this] { on_connected(); });
        c_.logger()->info("presence as instance {} in {} (keys {}user:<user>, changes on \"{}\", ttl {} ms)",
                          settings_.instance, redis::redact(url_), settings_.prefix, settings_.channel,
                          settings_.ttl.count());
        link_->start();
        schedule_refresh();
    }

    // The connections close after this (the transport stops later, and the core drains the loop for at most
    // shutdown_timeout): their users are taken off here, all at once, and the link stays up until redis has
    // answered every write, this one last.
    void stop() override {
        if (stats_) stats_->remove("presence");
        stopping_ = true;
        refresh_timer_.cancel();
        if (!link_) return;
        if (link_->connected()) {
            ++writes_;
            link_->command({"EVAL", std::string(now_lua) + std::string(remove_lua) + std::string(leave_lua), "1",
                            settings_.prefix + "instances", settings_.prefix, settings_.channel, settings_.instance},
                           [this](const redis::Reply* reply, const std::string& error) {
                               if (!reply) c_.logger()->warn("presence: removing this instance failed: {}", error);
                               else if (reply->is_integer()) {
                                   went_offline_.fetch_add(reply->integer);
                                   c_.logger()->info("presence: this instance stops; {} of its users went offline",
                                                     reply->integer);
                               }
                               write_done();
                           });
        }
        if (writes_ == 0) stop_link();
    }

    ~PresencePlugin() override { stop_link(); }

private:
    void join(const std::string& user) {
        if (++connections_[user] > 1) return;
        if (link_) return run(up_lua, {user});
        went_online_.fetch_add(1);  // memory: the change is this instance's to know
    }

    void leave(const std::string& user) {
        auto it = connections_.find(user);
        if (it == connections_.end()) return;
        if (--it->second > 0) return;
        connections_.erase(it);
        if (link_) return run(down_lua, {user});
        went_offline_.fetch_add(1);
    }

    // Every write to redis is counted until answered (or failed), so that a stopping instance closes its link
    // only after the last one.
    void write_done() {
        if (--writes_ == 0 && stopping_) stop_link();
    }

    void stop_link() {
        if (!link_ || link_stopped_) return;
        link_stopped_ = true;
        link_->stop();  // fails what is still pending: write_done() finds link_stopped_ set
    }

    // Runs up_lua or down_lua for `users`, in batches. Nothing is queued while the link is down: the resync after
    // reconnecting sets redis straight.
    void run(std::string_view script, const std::vector<std::string>& users) {
        if (!link_ || !link_->connected() || stopping_) return;
        const bool up = script == up_lua;
        for (std::size_t from = 0; from < users.size(); from += batch) {
            const auto to = std::min(users.size(), from + batch);
            std::vector<std::string> argv{"EVAL", std::string(now_lua) + std::string(script),
                                          std::to_string(2 + (to - from)), settings_.prefix + "instances",
                                          settings_.prefix + "instance:" + settings_.instance};
            for (auto i = from; i < to; ++i) argv.push_back(settings_.prefix + "user:" + users[i]);
            argv.insert(argv.end(), {settings_.instance, std::to_string(settings_.ttl.count()), settings_.channel});
            argv.insert(argv.end(), users.begin() + static_cast<std::ptrdiff_t>(from),
                        users.begin() + static_cast<std::ptrdiff_t>(to));
            ++writes_;
            link_->command(std::move(argv), [this, up](const redis::Reply* reply, const std::string& error) {
                if (!reply) c_.logger()->warn("presence update failed: {}", error);
                else if (reply->is_integer()) (up ? went_online_ : went_offline_).fetch_add(reply->integer);
                write_done();
            });
        }
    }

    void sweep() {
        ++writes_;
        link_->command({"EVAL", std::string(now_lua) + std::string(remove_lua) + std::string(sweep_lua), "1",
                        settings_.prefix + "instances", settings_.prefix, settings_.channel},
                       [this](const redis::Reply* reply, const std::string& error) {
                           if (!reply) c_.logger()->warn("presence sweep failed: {}", error);
                           else if (reply->is_integer() && reply->integer > 0) {
                               went_offline_.fetch_add(reply->integer);
                               c_.logger()->info("presence: {} users of stopped instances went offline",
                                                 reply->integer);
                           }
                           write_done();
                       });
    }

    std::vector<std::string> local_users() const {
        std::vector<std::string> users;
        users.reserve(connections_.size());
        for (const auto& [user, n] : connections_) users.push_back(user);
        return users;
    }

    // After (re)connecting: whatever changed while the link was down is set straight. Users redis still has for
    // this instance but who left meanwhile go down; the others are stamped again.
    void on_connected() {
        link_->command({"SMEMBERS", settings_.prefix + "instance:" + settings_.instance},
                       [this](const redis::Reply* reply, const std::string&) {
                           if (!reply || !reply->is_array()) return;
                           std::vector<std::string> gone;
                           for (const auto& e : reply->elements)
                               if (!connections_.contains(e.str)) gone.push_back(e.str);
                           if (!gone.empty()) run(down_lua, gone);
                       });
        refresh();
    }

    void refresh() {
        if (!link_->connected() || stopping_) return;
        auto users = local_users();
        if (users.empty()) {
            run_up_empty();  // still alive, with nobody: others must not sweep this instance
        } else {
            run(up_lua, users);
        }
        sweep();
    }

    // up_lua with no users: stamps only the instance itself.
    void run_up_empty() {
        ++writes_;
        link_->command({"EVAL", std::string(now_lua) + std::string(up_lua), "2", settings_.prefix + "instances",
                        settings_.prefix + "instance:" + settings_.instance, settings_.instance,
                        std::to_string(settings_.ttl.count()), settings_.channel},
                       [this](const redis::Reply*, const std::string&) { write_done(); });
    }

    void schedule_refresh() {
        refresh_timer_.expires_after(settings_.refresh_interval);
        refresh_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            refresh();
            schedule_refresh();
        });
    }

    void answer(const AdminRequest& req, AdminResponder respond) {
        const auto users = asked_users(req);
        if (users.empty()) return respond(json_answer(400, R"({"error":"name the users: /presence?users=a,b"})"));
        if (!link_) {
            std::vector<std::string> online;
            for (const auto& u : users)
                if (connections_.contains(u)) online.push_back(u);
            return respond(json_answer(200, online_json(online)));
        }
        std::vector<std::string> argv{"EVAL", std::string(now_lua) + std::string(online_lua),
                                      std::to_string(users.size())};
        for (const auto& u : users) argv.push_back(settings_.prefix + "user:" + u);
        link_->command(std::move(argv), [users, respond = std::move(respond)](const redis::Reply* reply,
                                                                              const std::string& error) {
            if (!reply || !reply->is_array())
                return respond(json_answer(503, R"({"error":)" + quoted("redis: " + error) + "}"));
            std::vector<std::string> online;
            for (const auto& i : reply->elements)
                if (i.is_integer() && i.integer >= 1 && static_cast<std::size_t>(i.integer) <= users.size())
                    online.push_back(users[static_cast<std::size_t>(i.integer) - 1]);
            respond(json_answer(200, online_json(online)));
        });
    }

    PluginContext& c_;
    Settings settings_;
    redis::RedisUrl url_;
    std::unique_ptr<redis::RedisLink> link_;
    boost::asio::steady_timer refresh_timer_;
    std::atomic<std::uint64_t>& went_online_;
    std::atomic<std::uint64_t>& went_offline_;
    AdminStats* stats_ = nullptr;
    std::unordered_map<ConnectionId, std::string> user_of_;
    std::unordered_map<std::string, std::size_t> connections_;  // user -> their connections here
    std::size_t writes_ = 0;                                    // writes sent to redis and not answered yet
    bool stopping_ = false;
    bool link_stopped_ = false;
};

}  // namespace

}  // namespace yunity::presence

YUNITY_PLUGIN(yunity::presence::PresencePlugin, "presence",
              "which users are online, across instances (in redis, with a TTL) or on this one (memory)")
YUNITY_PLUGIN_SETTINGS(yunity::presence::settings_table())
