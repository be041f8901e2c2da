// The redis-session resolver: sessions as the web app writes them (`<prefix><sessionId> = <userId>`), followed
// through keyspace notifications, and resynced after every reconnect.
#include "keyspace_flags.hpp"
#include "redis_link.hpp"

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
        std::string error;
        auto url = redis::parse_redis_url(c.settings().redis_url, &error);
        if (!url) throw std::runtime_error("--redis: " + error);
        url_ = *url;
        redis::LinkOptions options;
        options.url = url_;
        options.connect_timeout = settings_.connect_timeout;
        options.command_timeout = settings_.command_timeout;
        options.name = "session-commands";
        commands_ = std::make_unique<redis::RedisLink>(c.io(), options, c.logger());
        options.name = "session-keyspace";
        keyspace_ = std::make_unique<redis::RedisLink>(c.io(), options, c.logger());
    }

    void start() override {
        const auto& name = c_.plugin_name();
        c_.bus().subscribe<events::Authenticate>(name, [this](const events::Authenticate& e) { lookup(e.session_id); });
        if (!settings_.cookie.empty()) {
            const auto* origins = c_.service<const OriginPolicy>();
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
        const std::string channel_prefix = "__keyspace@" + std::to_string(url_.db) + "__:" + settings_.prefix;
        keyspace_->psubscribe(escape_glob(channel_prefix) + "*",
                              [this, skip = channel_prefix.size()](std::string_view, std::string_view channel,
                                                                   std::string_view event) {
                                  on_keyspace(std::string(channel.substr(skip)), event);
                              });
        commands_->on_connected([this] { on_commands_connected(); });
        keyspace_->on_connected([this] { on_keyspace_connected(); });
        commands_->on_disconnected([this](const std::string& why) {
            keyspace_events_checked_ = false;
            set_ready(false, "commands: " + why);
        });
        keyspace_->on_disconnected([this](const std::string& why) { set_ready(false, "keyspace: " + why); });
        for (auto* link : {commands_.get(), keyspace_.get()}) {
            const auto labels = "link=\"" + link->options().name + "\"";
            c_.metrics().gauge(name, "yunity_redis_connected", "1 while the redis link is usable", labels,
                               [link] { return link->connected() ? 1.0 : 0.0; });
            c_.metrics().gauge(name, "yunity_redis_reconnects", "Times the redis link came back after a loss",
                               labels, [link] { return static_cast<double>(link->reconnects()); });
        }
        set_ready(false, "connecting to " + redis::redact(url_));
        c_.logger()->info("resolving sessions {}<id> in {}", settings_.prefix, redis::redact(url_));
        commands_->start();
        keyspace_->start();
    }

    void stop() override {
        keyspace_->stop();
        commands_->stop();
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
        update_ready();
    }

    void on_keyspace_connected() {
        // Events were lost while the subscription was down: read every held session again.
        resync();
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
        if (commands_->connected() && keyspace_->connected() && keyspace_events_checked_)
            set_ready(true, "connected to " + redis::redact(url_));
    }

    void set_ready(bool ready, std::string detail) {
        if (ready == ready_ && reported_) return;
        const bool first = !reported_;
        reported_ = true;
        ready_ = ready;
        if (ready) c_.logger()->info("redis link up: {}", detail);
        else if (first) c_.logger()->info("redis link: {}", detail);  // the start, not a fault
        else c_.logger()->warn("redis link down: {}", detail);
        c_.bus().publish(events::SourceState{c_.plugin_name(), ready, std::move(detail)});
    }

    PluginContext& c_;
    Settings settings_;
    redis::RedisUrl url_;
    std::unique_ptr<redis::RedisLink> commands_;
    std::unique_ptr<redis::RedisLink> keyspace_;
    bool ready_ = false;
    bool reported_ = false;
    bool keyspace_events_checked_ = false;  // since the commands link last connected
};

}  // namespace

}  // namespace yunity::redis_session

YUNITY_PLUGIN(yunity::redis_session::RedisSessionPlugin, "redis-session",
              "resolves sessions from redis keys and follows them through keyspace notifications")
YUNITY_PLUGIN_SETTINGS(yunity::redis_session::settings_table())
