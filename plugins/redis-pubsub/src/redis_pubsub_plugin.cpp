// The redis-pubsub source: notifications PUBLISHed by the web app on a channel become bus Notifications.
#include "canary.hpp"
#include "notification_parser.hpp"
#include "redis_endpoint.hpp"
#include "rejection_log.hpp"
#include "run_offsets.hpp"
#include "source_readiness.hpp"

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
    // Bad messages are logged at most once per this interval (RejectionLog).
    std::chrono::milliseconds log_interval{10000};
    // The readiness canary: a probe published on the channel must come back through the subscription.
    bool canary = true;
    std::chrono::milliseconds canary_interval{1000};
    std::chrono::milliseconds canary_timeout{3000};
};

const SettingsTable<Settings>& settings_table() {
    static const SettingsTable<Settings> table{
        Setting<Settings>{"channel", &Settings::channel, "the channel the web application publishes on"}
            .non_empty(),
        {"max_message_bytes", &Settings::max_message_bytes, "larger messages are rejected (`too large`)"},
        {"connect_timeout_ms", &Settings::connect_timeout, "time to connect to redis before trying again"},
        {"log_interval_ms", &Settings::log_interval,
         "bad messages are logged at most this often, with a count of the others"},
        {"canary", &Settings::canary,
         "publish a probe on the channel every `canary_interval_ms` and be ready only while it comes back through "
         "the subscription (needs PUBLISH on the channel)"},
        {"canary_interval_ms", &Settings::canary_interval, "how often the canary publishes a probe"},
        {"canary_timeout_ms", &Settings::canary_timeout,
         "a probe not back within this makes the source not ready and the subscription is made again"},
    };
    return table;
}

class RedisPubsubPlugin : public Plugin {
public:
    explicit RedisPubsubPlugin(PluginContext& c)
        : c_(c),
          settings_(settings_table().parse(c.config())),
          received_(c.metrics().counter("yunity_notifications_received_total",
                                        "Messages received on the notifications channel")),
          rejections_(c.metrics(), c.logger(), settings_.log_interval),
          readiness_(c) {
        endpoint_ = std::make_unique<redis::RedisEndpoint>(c.io(), c.settings().redis_url, "pubsub", c.logger());
        link_ = &endpoint_->make_link("pubsub", settings_.connect_timeout, redis::LinkOptions{}.command_timeout);
        if (settings_.canary) {
            // PUBLISH cannot go on the subscribed connection: the probe has a link of its own.
            publisher_ = &endpoint_->make_link("pubsub-canary", settings_.connect_timeout,
                                               redis::LinkOptions{}.command_timeout);
            canary_ = std::make_unique<redis::Canary>(
                c.io(), redis::CanaryOptions{settings_.canary_interval, settings_.canary_timeout},
                [this](const std::string& token) { return send_probe(token); },
                [this](const std::string& why) { on_canary_failure(why); },
                [this](bool after_failures) {
                    if (after_failures)
                        c_.logger()->warn("canary: probes on \"{}\" come back again", settings_.channel);
                    update_ready();
                });
        }
    }

    void start() override {
        const auto& name = c_.plugin_name();
        link_->subscribe(settings_.channel, [this](std::string_view, std::string_view message) { on_message(message); });
        link_->on_connected([this] {
            c_.logger()->info("redis: subscribed to {} on {}", settings_.channel, endpoint_->describe());
            // Only a probe sent through this subscription proves it delivers.
            down_reason_ = "waiting for the canary's probe to come back through the subscription";
            if (canary_) canary_->restart();
            update_ready();
        });
        link_->on_disconnected([this](const std::string& why) {
            if (canary_) canary_->restart();
            down_reason_ = why;
            update_ready();
        });
        // The link's state, as redis-session reports its own links (docs/operations.md's alerts use both).
        c_.metrics().gauge(name, "yunity_redis_connected", "1 while the redis link is usable", "link=\"pubsub\"",
                           [this] { return link_->connected() ? 1.0 : 0.0; });
        c_.metrics().gauge(name, "yunity_redis_reconnects", "Times the redis link came back after a loss",
                           "link=\"pubsub\"", [this] { return static_cast<double>(link_->reconnects()); });
        if (canary_) canary_->add_metrics(c_.metrics(), name);
        endpoint_->add_metrics(c_.metrics(), name);
        down_reason_ = "connecting to " + endpoint_->describe();
        readiness_.announce(down_reason_);
        c_.logger()->info("listening for notifications on channel \"{}\" of {}", settings_.channel,
                          redis::redact(endpoint_->target()));
        endpoint_->start();
        if (canary_) canary_->start();
    }

    void stop() override {
        if (canary_) canary_->stop();
        endpoint_->stop();
    }

private:
    void on_message(std::string_view message) {
        // Probes (ours, and those of other servers on the channel) are neither notifications nor rejects.
        if (redis::Canary::is_probe(message)) {
            if (canary_) canary_->arrived(message);
            return;
        }
        if (canary_) canary_->progress();
        received_.fetch_add(1, std::memory_order_relaxed);
        auto parsed = parse_notification(message, settings_.max_message_bytes);
        if (auto* n = std::get_if<events::Notification>(&parsed)) {
            // Counts notifications only (not probes, not rejects): a client's offsets of one run are consecutive.
            n->offset = offsets_.next();
            c_.bus().publish(std::move(*n));
            return;
        }
        const auto& e = std::get<ParseError>(parsed);
        rejections_.reject("a message on \"" + settings_.channel + "\"", to_string(e.reason), e.detail, message);
    }

    bool send_probe(const std::string& token) {
        if (!link_->connected() || !publisher_->connected()) return false;
        publisher_->command({"PUBLISH", settings_.channel, token},
                            [this](const redis::Reply* reply, const std::string& error) {
                                if (!reply) probe_error_ = error;
                                else probe_error_.clear();
                            });
        return true;
    }

    // A probe that did not come back after a PUBLISH that went through means the subscription no longer
    // delivers although its connection looks fine (a proxy or redis dropped it without a word): make it again.
    void on_canary_failure(const std::string& why) {
        if (!probe_error_.empty()) {
            down_reason_ = "canary: cannot publish a probe: " + probe_error_;
        } else {
            link_->reconnect("the canary's probe did not come back");
            // After the reconnect, whose on_disconnected wrote its own.
            down_reason_ = "canary: " + why + " on channel " + settings_.channel + ": the subscription does not deliver";
        }
        c_.logger()->warn("{}", down_reason_);
        update_ready();
    }

    void update_ready() {
        const bool ready = link_->connected() && (!canary_ || canary_->ok());
        if (ready) return readiness_.set(true, "subscribed to " + settings_.channel + " on " + endpoint_->describe());
        readiness_.set(false, link_->connected() ? down_reason_ : down_reason_ + " (" + endpoint_->describe() + ")");
    }

    PluginContext& c_;
    Settings settings_;
    std::atomic<std::uint64_t>& received_;
    notifications::RejectionLog rejections_;
    redis::SourceReadiness readiness_;
    std::unique_ptr<redis::RedisEndpoint> endpoint_;
    redis::RedisLink* link_ = nullptr;       // owned by endpoint_
    redis::RedisLink* publisher_ = nullptr;  // owned by endpoint_; only with the canary
    std::unique_ptr<redis::Canary> canary_;
    std::string probe_error_;
    std::string down_reason_;
    notifications::RunOffsets offsets_;
};

}  // namespace

}  // namespace yunity::redis_pubsub

YUNITY_PLUGIN(yunity::redis_pubsub::RedisPubsubPlugin, "redis-pubsub",
              "turns JSON messages published on a redis channel into notifications")
YUNITY_PLUGIN_SETTINGS(yunity::redis_pubsub::settings_table())
