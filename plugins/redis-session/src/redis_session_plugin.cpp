// The redis-session resolver: sessions as the web app writes them (`<prefix><sessionId> = <userId>`), followed
// through keyspace notifications, and resynced after every reconnect.
#include "canary.hpp"
#include "keyspace_flags.hpp"
#include "redis_endpoint.hpp"

#include <yunity/origin_policy.hpp>
#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

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
    };
    return table;
}

std::optional<std::string> cookie_value(const Handshake& hs, std::string_view name) {
    const auto* header = hs.header("cookie");
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
        commands_ = &endpoint_->make_link("session-commands", settings_.connect_timeout, settings_.command_timeout);
        keyspace_ = &endpoint_->make_link("session-keyspace", settings_.connect_timeout, settings_.command_timeout);
        if (settings_.canary) {
            canary_ = std::make_unique<redis::Canary>(
                c.io(), redis::CanaryOptions{settings_.canary_interval, settings_.canary_timeout},
                [this](const std::string& token) { return send_probe(token); },
                [this](bool ok, const std::string& why) { on_canary(ok, why); });
        }
    }

    void start() override {
        const auto& name = c_.plugin_name();
        c_.bus().subscribe<events::Authenticate>(name, [this](const events::Authenticate& e) { lookup(e.session_id); });
        if (!settings_.cookie.empty()) {
            const auto* origins = static_cast<const OriginPolicy*>(c_.find(origin_policy_service));
            if (origins && origins->any_origin())
                c_.logger()->warn("sessions are taken from the \"{}\" cookie while the socketio plugin allows every "
                                  "origin: a page on any site can open a connection with a visitor's cookie and read "
                                  "their notifications. Set socketio's allowed_origins to your site's origins",
                                  settings_.cookie);
            c_.bus().subscribe<events::ConnectionOpened>(name, [this](const events::ConnectionOpened& e) {
                if (!e.handshake) return;
                if (auto sid = cookie_value(*e.handshake, settings_.cookie); sid && !sid->empty())
                    c_.bus().publish(events::Authenticate{e.connection, *sid});
            });
        }
        const std::string channel_prefix = "__keyspace@" + std::to_string(endpoint_->db()) + "__:" + settings_.prefix;
        keyspace_->psubscribe(escape_glob(channel_prefix) + "*",
                              [this, skip = channel_prefix.size()](std::string_view, std::string_view channel,
                                                                   std::string_view event) {
                                  on_keyspace(std::string(channel.substr(skip)), event);
                              });
        commands_->on_connected([this] { on_commands_connected(); });
        keyspace_->on_connected([this] { on_keyspace_connected(); });
        commands_->on_disconnected([this](const std::string& why) {
            keyspace_events_checked_ = false;
            down_reason_ = "commands: " + why;
            update_ready();
        });
        keyspace_->on_disconnected([this](const std::string& why) {
            down_reason_ = "keyspace: " + why;
            update_ready();
        });
        if (canary_) {
            c_.metrics().gauge(name, "yunity_redis_canary_ok", "1 while the source's canary probes come back in time",
                               "source=\"" + name + "\"", [this] { return canary_->ok() ? 1.0 : 0.0; });
            c_.metrics().gauge(name, "yunity_redis_canary_round_trip_seconds",
                               "Round trip of the source's last canary probe that came back", "source=\"" + name + "\"",
                               [this] {
                                   const auto rtt = canary_->round_trip();
                                   return rtt ? static_cast<double>(rtt->count()) / 1e6 : -1.0;
                               });
            canary_failures_ = &c_.metrics().counter(
                "yunity_redis_canary_failures_total",
                "Canary probes that did not come back in time (a subscription that stopped delivering)",
                "source=\"" + name + "\"");
        }
        for (auto* link : {commands_, keyspace_}) {
            const auto labels = "link=\"" + link->options().name + "\"";
            c_.metrics().gauge(name, "yunity_redis_connected", "1 while the redis link is usable", labels,
                               [link] { return link->connected() ? 1.0 : 0.0; });
            c_.metrics().gauge(name, "yunity_redis_reconnects", "Times the redis link came back after a loss",
                               labels, [link] { return static_cast<double>(link->reconnects()); });
        }
        endpoint_->add_metrics(c_.metrics(), name);
        down_reason_ = "connecting to " + endpoint_->describe();
        set_ready(false, down_reason_);
        c_.logger()->info("resolving sessions {}<id> in {}", settings_.prefix, redis::redact(endpoint_->target()));
        endpoint_->start();
        if (canary_) canary_->start();
    }

    void stop() override {
        if (canary_) canary_->stop();
        endpoint_->stop();
    }

private:
    // Every answer goes through the one command link, so answers reach the bus in the order redis gave
    // them: the last lookup issued (after the last keyspace event seen) decides the session's state.
    void lookup(const std::string& session_id) {
        commands_->command({"GET", settings_.prefix + session_id},
                           [this, session_id](const redis::Reply* reply, const std::string& error) {
                               if (!reply) {
                                   // The link is down; the resync after reconnecting resolves it.
                                   c_.logger()->debug("a session lookup failed: {}", error);
                                   return;
                               }
                               std::optional<std::string> user;
                               if (reply->is_string() && !reply->str.empty()) user = reply->str;
                               c_.bus().publish(events::SessionResolved{session_id, std::move(user)});
                           });
    }

    void on_keyspace(std::string session_id, std::string_view event) {
        // A probe key (ours, or another server's under the same prefix): never a session.
        if (redis::Canary::is_probe(session_id)) {
            if (canary_ && event == "set") canary_->arrived(session_id);
            return;
        }
        // Only sessions held by live connections matter; the web app's other logins are none of our business.
        if (!c_.registry().has_session(session_id)) return;
        c_.logger()->debug("keyspace event {} on a held session", event);
        // Whatever the event (set, del, expired, evicted, rename_from, rename_to, ...), read the key again:
        // the answer is the state after the event, ordered with any lookup already in flight.
        lookup(session_id);
    }

    // Ready, and the held sessions read again, only once redis sends keyspace events: a login written between
    // the reconnect and the CONFIG SET would otherwise go unseen (a restarted redis has them off).
    void on_commands_connected() { ensure_keyspace_events(); }

    void keyspace_events_checked() {
        if (!commands_->connected()) return;  // the link dropped meanwhile: its next connect checks again
        keyspace_events_checked_ = true;
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

    // Only a probe written once keyspace events are on and the subscription is made proves the path.
    void restart_canary() {
        down_reason_ = "waiting for the canary's probe to come back as a keyspace event";
        if (canary_) canary_->restart();
    }

    bool send_probe(const std::string& token) {
        if (!commands_->connected() || !keyspace_->connected() || !keyspace_events_checked_) return false;
        // The key expires by itself: a server that dies leaves nothing behind for long.
        commands_->command({"SET", settings_.prefix + token, "1", "PX", std::to_string(settings_.canary_timeout.count())},
                           [this](const redis::Reply* reply, const std::string& error) {
                               if (!reply) probe_error_ = error;
                               else probe_error_.clear();
                           });
        return true;
    }

    // A probe written but never seen as a keyspace event: the subscription no longer delivers (or keyspace
    // events were switched off behind our back); make the subscription again, which checks the setting too.
    void on_canary(bool ok, const std::string& why) {
        if (ok) {
            if (canary_->failures() > failures_logged_)
                c_.logger()->warn("canary: keyspace events for probes come back again");
            failures_logged_ = canary_->failures();
            return update_ready();
        }
        if (canary_->failures() > failures_seen_) {
            failures_seen_ = canary_->failures();
            canary_failures_->fetch_add(1, std::memory_order_relaxed);
            if (!probe_error_.empty()) {
                down_reason_ = "canary: cannot write a probe key: " + probe_error_;
            } else {
                keyspace_->reconnect("the canary's probe did not come back");
                // The flags may have been reset (CONFIG SET by someone else): check them again.
                commands_->reconnect("the canary's probe did not come back");
                // After the reconnects, whose on_disconnected wrote theirs.
                down_reason_ = "canary: " + why + " as a keyspace event: logins and logouts are not seen";
            }
            c_.logger()->warn("{}", down_reason_);
        } else {
            down_reason_ = why;
        }
        update_ready();
    }

    void resync() {
        if (!commands_->connected() || !keyspace_events_checked_) return;
        std::size_t n = 0;
        c_.registry().for_each_session([&](const std::string& sid) {
            lookup(sid);
            ++n;
        });
        if (n) c_.logger()->info("re-reading {} sessions after (re)connecting", n);
    }

    // A redis restart resets notify-keyspace-events; without it, logins and logouts go unseen.
    void ensure_keyspace_events() {
        commands_->command({"CONFIG", "GET", "notify-keyspace-events"}, [this](const redis::Reply* reply,
                                                                              const std::string& error) {
            if (!reply || !reply->is_array() || reply->elements.size() != 2) {
                // Refused (an ACL without CONFIG): nothing more can be done here; the operator was told.
                c_.logger()->warn("cannot read notify-keyspace-events ({}): make sure redis has it include \"{}\", "
                                  "or logins and logouts will not be seen",
                                  error.empty() ? "unexpected reply" : error, needed_keyspace_flags);
                return keyspace_events_checked();
            }
            const auto& current = reply->elements[1].str;
            const auto merged = merge_keyspace_flags(current);
            if (merged == current) return keyspace_events_checked();
            commands_->command({"CONFIG", "SET", "notify-keyspace-events", merged},
                               [this, merged](const redis::Reply* r, const std::string& err) {
                                   if (r) c_.logger()->info("set notify-keyspace-events to \"{}\"", merged);
                                   else
                                       c_.logger()->warn("cannot set notify-keyspace-events to \"{}\" ({}): set it in "
                                                         "redis.conf, or logins and logouts will not be seen",
                                                         merged, err);
                                   keyspace_events_checked();
                               });
        });
    }

    void update_ready() {
        const bool links = commands_->connected() && keyspace_->connected() && keyspace_events_checked_;
        if (links && (!canary_ || canary_->ok())) return set_ready(true, "connected to " + endpoint_->describe());
        set_ready(false, links ? down_reason_ : down_reason_ + " (" + endpoint_->describe() + ")");
    }

    void set_ready(bool ready, std::string detail) {
        if (ready == ready_ && reported_ && detail == detail_) return;
        reported_ = true;
        ready_ = ready;
        detail_ = detail;
        if (ready) c_.logger()->info("redis link up: {}", detail);
        else c_.logger()->warn("redis link down: {}", detail);
        c_.bus().publish(events::SourceState{c_.plugin_name(), ready, std::move(detail)});
    }

    PluginContext& c_;
    Settings settings_;
    std::unique_ptr<redis::RedisEndpoint> endpoint_;
    redis::RedisLink* commands_ = nullptr;  // owned by endpoint_
    redis::RedisLink* keyspace_ = nullptr;
    bool ready_ = false;
    bool reported_ = false;
    bool keyspace_events_checked_ = false;  // since the commands link last connected
    std::unique_ptr<redis::Canary> canary_;
    std::atomic<std::uint64_t>* canary_failures_ = nullptr;
    std::uint64_t failures_seen_ = 0;
    std::uint64_t failures_logged_ = 0;
    std::string probe_error_;
    std::string down_reason_;
    std::string detail_;
};

}  // namespace

}  // namespace yunity::redis_session

YUNITY_PLUGIN(yunity::redis_session::RedisSessionPlugin, "redis-session",
              "resolves sessions from redis keys and follows them through keyspace notifications")
YUNITY_PLUGIN_SETTINGS(yunity::redis_session::settings_table())
