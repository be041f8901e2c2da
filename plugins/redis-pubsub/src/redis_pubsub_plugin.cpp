// The redis-pubsub source: notifications PUBLISHed by the web app on a channel become bus Notifications.
#include "notification_parser.hpp"
#include "redis_link.hpp"

#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

#include <stdexcept>

namespace yunity::redis_pubsub {

using notifications::parse_notification;
using notifications::ParseError;

namespace {

struct Settings {
    std::string channel = "notifications";
    // A message this large would exceed every client's queue limit anyway.
    std::size_t max_message_bytes = 1 << 20;
    std::chrono::milliseconds connect_timeout{2000};
    // Bad messages are logged at most once per this interval (with a count of those not logged), so a
    // misbehaving publisher cannot flood the log.
    std::chrono::milliseconds log_interval{10000};
};

const SettingsTable<Settings>& settings_table() {
    static const SettingsTable<Settings> table{
        Setting<Settings>{"channel", &Settings::channel, "the channel the web application publishes on"}
            .non_empty(),
        {"max_message_bytes", &Settings::max_message_bytes, "larger messages are rejected (`too large`)"},
        {"connect_timeout_ms", &Settings::connect_timeout, "time to connect to redis before trying again"},
        {"log_interval_ms", &Settings::log_interval,
         "bad messages are logged at most this often, with a count of the others"},
    };
    return table;
}

class RedisPubsubPlugin : public Plugin {
public:
    explicit RedisPubsubPlugin(PluginContext& c)
        : c_(c),
          settings_(settings_table().parse(c.config())),
          received_(c.metrics().counter("yunity_notifications_received_total",
                                        "Messages received on the notifications channel")) {
        std::string error;
        auto url = redis::parse_redis_url(c.settings().redis_url, &error);
        if (!url) throw std::runtime_error("--redis: " + error);
        url_ = *url;
        redis::LinkOptions options;
        options.url = url_;
        options.connect_timeout = settings_.connect_timeout;
        options.name = "pubsub";
        link_ = std::make_unique<redis::RedisLink>(c.io(), options, c.logger());
    }

    void start() override {
        const auto& name = c_.plugin_name();
        link_->subscribe(settings_.channel, [this](std::string_view, std::string_view message) { on_message(message); });
        link_->on_connected([this] { set_ready(true, "subscribed to " + settings_.channel); });
        link_->on_disconnected([this](const std::string& why) { set_ready(false, why); });
        c_.metrics().gauge(name, "yunity_redis_connected", "1 while the redis link is usable", "link=\"pubsub\"",
                           [this] { return link_->connected() ? 1.0 : 0.0; });
        c_.metrics().gauge(name, "yunity_redis_reconnects", "Times the redis link came back after a loss",
                           "link=\"pubsub\"", [this] { return static_cast<double>(link_->reconnects()); });
        // Not ready yet, but nothing is wrong: only a drop after this is worth a warning.
        c_.bus().publish(events::SourceState{name, false, "connecting to " + redis::redact(url_)});
        c_.logger()->info("listening for notifications on channel \"{}\" of {}", settings_.channel,
                          redis::redact(url_));
        link_->start();
    }

    void stop() override { link_->stop(); }

private:
    void on_message(std::string_view message) {
        received_.fetch_add(1, std::memory_order_relaxed);
        auto parsed = parse_notification(message, settings_.max_message_bytes);
        if (auto* n = std::get_if<events::Notification>(&parsed)) {
            c_.bus().publish(std::move(*n));
            return;
        }
        const auto& e = std::get<ParseError>(parsed);
        c_.metrics()
            .counter("yunity_notifications_rejected_total", "Messages on the channel that were not notifications",
                     std::string("reason=\"") + to_string(e.reason) + "\"")
            .fetch_add(1, std::memory_order_relaxed);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_log_ < settings_.log_interval) {
            ++unlogged_;
            return;
        }
        last_log_ = now;
        const auto sample = message.substr(0, 120);
        c_.logger()->warn("ignored a message on \"{}\": {} ({}): {}{}{}", settings_.channel, to_string(e.reason),
                          e.detail, sample, message.size() > sample.size() ? "..." : "",
                          unlogged_ ? fmt::format(" [and {} more since the last report]", unlogged_) : "");
        unlogged_ = 0;
    }

    void set_ready(bool ready, std::string detail) {
        if (ready) c_.logger()->info("redis: {}", detail);
        else c_.logger()->warn("redis link down: {}", detail);
        c_.bus().publish(events::SourceState{c_.plugin_name(), ready, std::move(detail)});
    }

    PluginContext& c_;
    Settings settings_;
    std::atomic<std::uint64_t>& received_;
    redis::RedisUrl url_;
    std::unique_ptr<redis::RedisLink> link_;
    std::chrono::steady_clock::time_point last_log_{};
    std::uint64_t unlogged_ = 0;
};

}  // namespace

}  // namespace yunity::redis_pubsub

YUNITY_PLUGIN(yunity::redis_pubsub::RedisPubsubPlugin, "redis-pubsub",
              "turns JSON messages published on a redis channel into notifications")
YUNITY_PLUGIN_SETTINGS(yunity::redis_pubsub::settings_table())
