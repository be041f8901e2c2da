// The redis-session resolver: sessions as the web app writes them (`<prefix><sessionId> = <userId>`), followed
// through keyspace notifications, and resynced after every reconnect.
#include "canary.hpp"
#include "cluster_slots.hpp"
#include "keyspace_flags.hpp"
#include "redis_endpoint.hpp"
#include "redis_recovery_records.hpp"

#include <yunity/origin_policy.hpp>
#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

#include <algorithm>
#include <stdexcept>

namespace yunity::redis_session {

namespace {

struct Settings {
    std::string prefix = "session-store-";
    // Django's session cookie is HttpOnly, so a web page cannot read it to authenticate: take it from the
    // handshake instead when configured (e.g. "sessionid").
    std::string cookie;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{5000};
    // The readiness canary: a key written under the prefix must come back as a keyspace event.
    bool canary = true;
    std::chrono::milliseconds canary_interval{1000};
    std::chrono::milliseconds canary_timeout{3000};
    // Connection state recovery's records (the core's recovery window as their TTL), shared by every instance.
    std::string recovery_prefix = "yunity-recovery:";
    // How long a claim for a pid with no record waits for another instance to let it go.
    std::chrono::milliseconds claim_wait{300};
};

const SettingsTable<Settings>& settings_table() {
    static const SettingsTable<Settings> table{
        {"prefix", &Settings::prefix, "the web application's session keys are `<prefix><sessionId>`"},
        Setting<Settings>{"cookie", &Settings::cookie,
                          "a handshake cookie holding the session id (Django's `sessionid`), taken as if the "
                          "client had emitted `authenticate`"}
            .default_text("none"),
        {"connect_timeout_ms", &Settings::connect_timeout, "time to connect to redis before trying again"},
        {"command_timeout_ms", &Settings::command_timeout,
         "time redis has to answer a command before the link is dropped and made again"},
        {"canary", &Settings::canary,
         "write a probe key `<prefix>yunity-canary:...` (expiring after `canary_timeout_ms`) every "
         "`canary_interval_ms` and be ready only while its keyspace event comes back (needs SET on such keys)"},
        {"canary_interval_ms", &Settings::canary_interval, "how often the canary writes a probe key"},
        {"canary_timeout_ms", &Settings::canary_timeout,
         "a probe whose keyspace event is not back within this makes the source not ready and the keyspace "
         "subscription is made again"},
        {"recovery_prefix", &Settings::recovery_prefix,
         "the key prefix of connection state recovery's records (`<prefix><pid>`, expiring after the recovery "
         "window), so that a client can come back to any instance, or after a restart; needs GETDEL (redis 6.2)"},
        {"claim_wait_ms", &Settings::claim_wait,
         "a client back with a pid that has no record may come from a connection another instance still holds "
         "(its network changed unseen): the claim is written as `<recovery_prefix>claim:<pid>`, the holder closes "
         "that connection and writes its record, and the record is looked for again for this long; 0: not asked "
         "(the claims of other instances are answered all the same)"},
    };
    return table;
}

std::optional<std::string> cookie_value(const Handshake& hs, std::string_view name) {
    const auto header = hs.header("cookie");
    if (!header) return std::nullopt;
    std::string_view rest = *header;
    while (!rest.empty()) {
        auto end = rest.find(';');
        auto pair = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
    return std::nullopt;
}

class RedisSessionPlugin : public Plugin {
public:
    explicit RedisSessionPlugin(PluginContext& c) : c_(c), settings_(settings_table().parse(c.config())) {
        endpoint_ = std::make_unique<redis::RedisEndpoint>(c.io(), c.settings().redis_url, "session", c.logger());
        if (!endpoint_->is_cluster()) {
            auto node = std::make_unique<Node>();
            node->commands =
                &endpoint_->make_link("session-commands", settings_.connect_timeout, settings_.command_timeout);
            node->keyspace =
                &endpoint_->make_link("session-keyspace", settings_.connect_timeout, settings_.command_timeout);
            nodes_.push_back(std::move(node));
        }
        if (c.settings().recovery_window.count() > 0) {
            records_ = std::make_unique<RedisRecoveryRecords>(
                c.io(), settings_.recovery_prefix, settings_.claim_wait,
                [this](const std::string& key) {
                    Node* node = node_for(key);
                    return node ? node->commands : nullptr;
                },
                [this](const std::string& host, std::uint16_t port) -> redis::RedisLink* {
                    Node* node = find_node(host, port);
                    return node && node->active ? node->commands : nullptr;
                });
            records_->on_writes_done([this] {
                if (stopping_) stop_links();
            });
        }
        if (settings_.canary) {
            canary_ = std::make_unique<redis::Canary>(
                c.io(), redis::CanaryOptions{settings_.canary_interval, settings_.canary_timeout},
                [this](const std::string& token) { return send_probe(token); },
                [this](const std::string& why) { on_canary_failure(why); },
                [this](bool after_failures) {
                    if (after_failures) c_.logger()->warn("canary: keyspace events for probes come back again");
                    update_ready();
                });
        }
    }

    ~RedisSessionPlugin() override {
        if (records_) records_->on_writes_done({});  // the links' last callbacks, while endpoint_ goes, find no one
    }

    void start() override {
        const auto& name = c_.plugin_name();
        if (records_) c_.provide<RecoveryRecords>(records_.get());
        c_.bus().subscribe<events::Authenticate>(name, [this](const events::Authenticate& e) { lookup(e.session_id); });
        if (!settings_.cookie.empty()) {
            const auto* origins = c_.service<const OriginPolicy>();
            if (origins && origins->any_origin())
                c_.logger()->warn(
                    "sessions are taken from the \"{}\" cookie while the socketio plugin allows every "
                    "origin: a page on any site can open a connection with a visitor's cookie and read "
                    "their notifications. Set socketio's allowed_origins to your site's origins",
                    settings_.cookie);
            c_.bus().subscribe<events::ConnectionOpened>(name, [this](const events::ConnectionOpened& e) {
                if (!e.handshake) return;
                if (auto sid = cookie_value(*e.handshake, settings_.cookie); sid && !sid->empty())
                    c_.bus().publish(events::Authenticate{e.connection, *sid});
            });
        }
        for (auto& node : nodes_) wire(*node);
        if (endpoint_->is_cluster()) {
            // Keyspace events are node-local in a cluster: every master gets its own links, made as masters appear.
            endpoint_->cluster().on_change([this] { on_cluster_change(); });
            c_.metrics().gauge(name, "yunity_redis_cluster_masters", "Masters in the cluster's slot map",
                               "source=\"" + name + "\"",
                               [this] { return static_cast<double>(endpoint_->cluster().masters().size()); });
            c_.metrics().gauge(name, "yunity_redis_cluster_map_changes", "Times the cluster's slot map changed",
                               "source=\"" + name + "\"",
                               [this] { return static_cast<double>(endpoint_->cluster().changes()); });
        }
        if (canary_) canary_->add_metrics(c_.metrics(), name);
        endpoint_->add_metrics(c_.metrics(), name);
        down_reason_ = "connecting to " + endpoint_->describe();
        set_ready(false, down_reason_);
        c_.logger()->info("resolving sessions {}<id> in {}", settings_.prefix, redis::redact(endpoint_->target()));
        endpoint_->start();
        if (canary_) canary_->start();
    }

    // The recovery records the core wrote at shutdown (one per live connection) are still on their way: the
    // links stay up until redis has answered them (or the command timeout), within the core's drain.
    void stop() override {
        if (canary_) canary_->stop();
        if (records_) records_->stop();
        stopping_ = true;
        if (!records_ || records_->writes_in_flight() == 0) stop_links();
        else c_.logger()->info("writing {} recovery records before stopping", records_->writes_in_flight());
    }

private:
    void stop_links() {
        if (links_stopped_) return;
        links_stopped_ = true;
        endpoint_->stop();
    }

    // The links to one master: all of redis outside a cluster, one master of the slot map in a cluster.
    struct Node {
        std::string address;                   // host:port in a cluster, empty otherwise
        redis::RedisLink* commands = nullptr;  // owned by endpoint_
        redis::RedisLink* keyspace = nullptr;
        bool keyspace_events_checked = false;  // since the commands link last connected
        bool active = true;                    // false: no longer a master of the map (links stopped)
    };

    void wire(Node& node) {
        const std::string channel_prefix = "__keyspace@" + std::to_string(endpoint_->db()) + "__:" + settings_.prefix;
        node.keyspace->psubscribe(
            escape_glob(channel_prefix) + "*",
            [this, skip = channel_prefix.size()](std::string_view, std::string_view channel, std::string_view event) {
                on_keyspace(std::string(channel.substr(skip)), event);
            });
        if (records_) {
            // Claims for pids this instance may hold, from instances that found no record (see claim_wait_ms):
            // answered whatever this instance's own claim_wait_ms.
            const std::string claims =
                "__keyspace@" + std::to_string(endpoint_->db()) + "__:" + records_->claim_prefix();
            node.keyspace->psubscribe(
                escape_glob(claims) + "*",
                [this, skip = claims.size()](std::string_view, std::string_view channel, std::string_view event) {
                    if (event == "set") records_->claimed(std::string(channel.substr(skip)));
                });
        }
        node.commands->on_connected([this, &node] { on_commands_connected(node); });
        node.keyspace->on_connected([this] { on_keyspace_connected(); });
        node.commands->on_disconnected([this, &node](const std::string& why) {
            node.keyspace_events_checked = false;
            if (canary_) canary_->restart();
            down_reason_ = "commands" + where(node) + ": " + why;
            update_ready();
        });
        node.keyspace->on_disconnected([this, &node](const std::string& why) {
            if (canary_) canary_->restart();
            down_reason_ = "keyspace" + where(node) + ": " + why;
            update_ready();
        });
        for (auto* link : {node.commands, node.keyspace}) {
            const auto labels = "link=\"" + link->options().name + "\"";
            c_.metrics().gauge(c_.plugin_name(), "yunity_redis_connected", "1 while the redis link is usable", labels,
                               [link] { return link->connected() ? 1.0 : 0.0; });
            c_.metrics().gauge(c_.plugin_name(), "yunity_redis_reconnects",
                               "Times the redis link came back after a loss", labels,
                               [link] { return static_cast<double>(link->reconnects()); });
        }
    }

    static std::string where(const Node& node) { return node.address.empty() ? "" : " " + node.address; }

    Node* find_node(const std::string& host, std::uint16_t port) {
        const std::string address = redis::address_of(redis::RedisUrl{host, port, {}, {}, 0});
        for (auto& node : nodes_)
            if (node->address == address) return node.get();
        return nullptr;
    }

    // Outside a cluster the one node; in a cluster the active node of the master serving the key's slot.
    Node* node_for(const std::string& key) {
        if (!endpoint_->is_cluster()) return nodes_.front().get();
        const auto master = endpoint_->cluster().master_of(redis::key_slot(key));
        if (!master) return nullptr;
        Node* node = find_node(master->first, master->second);
        return node && node->active ? node : nullptr;
    }

    // New masters get links; masters gone from the map have theirs stopped (kept, so that callbacks already
    // queued find them); every held session is read again, since its slot may have moved.
    void on_cluster_change() {
        const auto& masters = endpoint_->cluster().masters();
        for (auto& node : nodes_) {
            const bool still = std::any_of(masters.begin(), masters.end(), [&](const auto& m) {
                return redis::address_of(redis::RedisUrl{m.first, m.second, {}, {}, 0}) == node->address;
            });
            if (!still && node->active) {
                c_.logger()->info("cluster: {} is no longer a master: its links stop", node->address);
                node->active = false;
                node->keyspace_events_checked = false;
                node->commands->stop();
                node->keyspace->stop();
            }
        }
        for (const auto& [host, port] : masters) {
            Node* node = find_node(host, port);
            if (!node) {
                auto made = std::make_unique<Node>();
                made->address = redis::address_of(redis::RedisUrl{host, port, {}, {}, 0});
                made->commands = &endpoint_->make_node_link("session-commands-" + made->address, host, port,
                                                            settings_.connect_timeout, settings_.command_timeout);
                made->keyspace = &endpoint_->make_node_link("session-keyspace-" + made->address, host, port,
                                                            settings_.connect_timeout, settings_.command_timeout);
                node = made.get();
                nodes_.push_back(std::move(made));
                wire(*node);
                c_.logger()->info("cluster: following keyspace events on master {}", node->address);
            } else if (!node->active) {
                node->active = true;
                c_.logger()->info("cluster: {} is a master again", node->address);
            } else {
                continue;
            }
            node->commands->start();
            node->keyspace->start();
        }
        resync();
        update_ready();
    }

    // Answers for one key come through one link (its slot's master), so they reach the bus in the order redis
    // gave them: the last lookup issued (after the last keyspace event seen) decides the session's state.
    void lookup(const std::string& session_id, int redirects = 0) {
        const std::string key = settings_.prefix + session_id;
        Node* node = node_for(key);
        if (!node) {
            // The cluster's map is not known yet, or the slot has no master: the resync after the next map
            // change resolves it.
            c_.logger()->debug("a session lookup has no master to go to yet");
            return;
        }
        send_get(*node, key, session_id, redirects, false);
    }

    void send_get(Node& node, const std::string& key, const std::string& session_id, int redirects, bool asking) {
        if (asking) node.commands->command({"ASKING"}, {});
        node.commands->command({"GET", key},
                               [this, key, session_id, redirects](const redis::Reply* reply, const std::string& error) {
                                   if (!reply) {
                                       if (auto redirect = redis::parse_redirect(error))
                                           return follow(*redirect, key, session_id, redirects);
                                       // The link is down; the resync after reconnecting resolves it.
                                       c_.logger()->debug("a session lookup failed: {}", error);
                                       return;
                                   }
                                   std::optional<std::string> user;
                                   if (reply->is_string() && !reply->str.empty()) user = reply->str;
                                   c_.bus().publish(events::SessionResolved{session_id, std::move(user)});
                               });
    }

    // MOVED: the slot lives elsewhere for good; the map is read again, and the lookup goes where redis said.
    // ASK: the slot is being migrated and this key is already on the target: ASKING there, this once.
    void follow(const redis::Redirect& redirect, const std::string& key, const std::string& session_id, int redirects) {
        if (!redirect.ask) endpoint_->cluster().refresh();
        Node* target = find_node(redirect.host, redirect.port);
        if (redirects >= 3 || !target || !target->active || !target->commands->connected()) {
            // Not a master we follow yet: the map change that is coming re-reads every held session.
            c_.logger()->debug("a session lookup was redirected to {}:{}; waiting for the new map", redirect.host,
                               redirect.port);
            if (redirect.ask) endpoint_->cluster().refresh();
            return;
        }
        c_.logger()->debug("a session lookup was redirected ({}) to {}", redirect.ask ? "ASK" : "MOVED",
                           target->address);
        send_get(*target, key, session_id, redirects + 1, redirect.ask);
    }

    void on_keyspace(std::string session_id, std::string_view event) {
        // A probe key (ours, or another server's under the same prefix): never a session.
        if (redis::Canary::is_probe(session_id)) {
            if (canary_ && event == "set") canary_->arrived(session_id);
            return;
        }
        if (canary_) canary_->progress();
        // Only sessions held by live connections matter; the web app's other logins are none of our business.
        if (!c_.registry().has_session(session_id)) return;
        c_.logger()->debug("keyspace event {} on a held session", event);
        // Whatever the event (set, del, expired, evicted, rename_from, rename_to, ...), read the key again:
        // the answer is the state after the event, ordered with any lookup already in flight.
        lookup(session_id);
    }

    // Ready, and the held sessions read again, only once redis sends keyspace events: a login written between
    // the reconnect and the CONFIG SET would otherwise go unseen (a restarted redis has them off).
    void on_commands_connected(Node& node) { ensure_keyspace_events(node); }

    void keyspace_events_checked(Node& node) {
        if (!node.commands->connected()) return;  // the link dropped meanwhile: its next connect checks again
        node.keyspace_events_checked = true;
        resync();
        restart_canary();
        update_ready();
    }

    void on_keyspace_connected() {
        // Events were lost while the subscription was down: read every held session again.
        resync();
        restart_canary();
        update_ready();
    }

    bool nodes_usable() const {
        if (endpoint_->is_cluster() && !endpoint_->cluster().known()) return false;
        bool any = false;
        for (const auto& node : nodes_) {
            if (!node->active) continue;
            any = true;
            if (!node->commands->connected() || !node->keyspace->connected() || !node->keyspace_events_checked)
                return false;
        }
        return any;
    }

    // Only a probe written once keyspace events are on and the subscription is made proves the path.
    void restart_canary() {
        down_reason_ = "waiting for the canary's probe to come back as a keyspace event";
        if (canary_) canary_->restart();
    }

    // In a cluster the probe key lands on the master of its slot, which changes with every probe.
    bool send_probe(const std::string& token) {
        if (!nodes_usable()) return false;
        const std::string key = settings_.prefix + token;
        Node* node = node_for(key);
        if (!node) return false;
        // The key expires by itself: a server that dies leaves nothing behind for long.
        node->commands->command({"SET", key, "1", "PX", std::to_string(settings_.canary_timeout.count())},
                                [this](const redis::Reply* reply, const std::string& error) {
                                    if (!reply) probe_error_ = error;
                                    else probe_error_.clear();
                                });
        return true;
    }

    // A probe written but never seen as a keyspace event: the subscription no longer delivers (or keyspace
    // events were switched off behind our back); make the subscriptions again, which checks the setting too.
    void on_canary_failure(const std::string& why) {
        if (!probe_error_.empty()) {
            down_reason_ = "canary: cannot write a probe key: " + probe_error_;
        } else {
            for (auto& node : nodes_) {
                if (!node->active) continue;
                node->keyspace->reconnect("the canary's probe did not come back");
                // The flags may have been reset (CONFIG SET by someone else): check them again.
                node->commands->reconnect("the canary's probe did not come back");
            }
            // After the reconnects, whose on_disconnected wrote theirs.
            down_reason_ = "canary: " + why + " as a keyspace event: logins and logouts are not seen";
        }
        c_.logger()->warn("{}", down_reason_);
        update_ready();
    }

    void resync() {
        if (!nodes_usable()) return;
        std::size_t n = 0;
        c_.registry().for_each_session([&](const std::string& sid) {
            lookup(sid);
            ++n;
        });
        if (n) c_.logger()->info("re-reading {} sessions after (re)connecting", n);
    }

    // A redis restart resets notify-keyspace-events; without it, logins and logouts go unseen. In a cluster the
    // setting is per node and not replicated: each master is checked when its link connects.
    void ensure_keyspace_events(Node& node) {
        node.commands->command({"CONFIG", "GET", "notify-keyspace-events"}, [this, &node](const redis::Reply* reply,
                                                                                          const std::string& error) {
            if (!reply || !reply->is_array() || reply->elements.size() != 2) {
                // Refused (an ACL without CONFIG): nothing more can be done here; the operator was told.
                c_.logger()->warn(
                    "cannot read notify-keyspace-events{} ({}): make sure redis has it include \"{}\", "
                    "or logins and logouts will not be seen",
                    where(node), error.empty() ? "unexpected reply" : error, needed_keyspace_flags);
                return keyspace_events_checked(node);
            }
            const auto& current = reply->elements[1].str;
            const auto merged = merge_keyspace_flags(current);
            if (merged == current) return keyspace_events_checked(node);
            node.commands->command({"CONFIG", "SET", "notify-keyspace-events", merged},
                                   [this, merged, &node](const redis::Reply* r, const std::string& err) {
                                       if (r)
                                           c_.logger()->info("set notify-keyspace-events to \"{}\"{}", merged,
                                                             node.address.empty() ? "" : " on " + node.address);
                                       else
                                           c_.logger()->warn(
                                               "cannot set notify-keyspace-events to \"{}\"{} ({}): set "
                                               "it in redis.conf, or logins and logouts will not be seen",
                                               merged, where(node), err);
                                       keyspace_events_checked(node);
                                   });
        });
    }

    void update_ready() {
        const bool links = nodes_usable();
        if (links && (!canary_ || canary_->ok())) return set_ready(true, "connected to " + endpoint_->describe());
        set_ready(false, links ? down_reason_ : down_reason_ + " (" + endpoint_->describe() + ")");
    }

    void set_ready(bool ready, std::string detail) {
        if (ready == ready_ && reported_ && detail == detail_) return;
        reported_ = true;
        ready_ = ready;
        detail_ = detail;
        if (ready) been_ready_ = true;
        if (ready) c_.logger()->info("redis link up: {}", detail);
        // Until the first time ready (connecting, the canary's first probe) the start is under way, not a fault:
        // a redis that cannot be reached says so in the link's own warnings.
        else if (!been_ready_) c_.logger()->info("redis link: {}", detail);
        else c_.logger()->warn("redis link down: {}", detail);
        c_.bus().publish(events::SourceState{c_.plugin_name(), ready, std::move(detail)});
    }

    PluginContext& c_;
    Settings settings_;
    std::unique_ptr<RedisRecoveryRecords> records_;  // before endpoint_: the links' callbacks outlive neither
    bool stopping_ = false;
    bool links_stopped_ = false;
    std::unique_ptr<redis::RedisEndpoint> endpoint_;
    std::vector<std::unique_ptr<Node>> nodes_;  // never shrinks: link callbacks refer to their node
    bool ready_ = false;
    bool been_ready_ = false;
    bool reported_ = false;
    std::unique_ptr<redis::Canary> canary_;
    std::string probe_error_;
    std::string down_reason_;
    std::string detail_;
};

}  // namespace

}  // namespace yunity::redis_session

YUNITY_PLUGIN(yunity::redis_session::RedisSessionPlugin, "redis-session",
              "resolves sessions from redis keys and follows them through keyspace notifications")
YUNITY_PLUGIN_SETTINGS(yunity::redis_session::settings_table())
