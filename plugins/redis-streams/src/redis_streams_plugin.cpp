// The redis-streams source: entries XADDed by the web application on a stream become bus Notifications. It reads
// with XREAD from the last id it has seen, so that what was added while the link was down, or redis restarted, is
// read after it comes back: a pull, where pub/sub loses whatever is published while nobody listens.
#include "cluster_slots.hpp"
#include "gap_detector.hpp"
#include "notification_parser.hpp"
#include "redis_endpoint.hpp"
#include "rejection_log.hpp"
#include "source_readiness.hpp"
#include "stream_log.hpp"
#include "stream_reply.hpp"

#include <yunity/admin_routes.hpp>
#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <stdexcept>

namespace yunity::redis_streams {

using notifications::parse_notification;
using notifications::ParseError;

namespace {

// The entry field that holds the notification's JSON (what integrations/python writes).
constexpr std::string_view kField = "notification";

struct Settings {
    std::string stream = "notifications";
    // One XREAD brings at most this many entries; the next goes once they are on the bus, so a backlog is read
    // at the server's pace in bounded turns. The larger the turn, the more frames each connection gets per
    // write (a system call's cost is mostly per call): draining a burst to 5,000 connections, 1,000 gave
    // 862,235 deliveries/s and 4,000 gave 1,163,773-1,285,498 with a peak 18 MB higher (bench/README.md,
    // "Bursts, second round", measured before writes were coalesced).
    std::size_t count = 4000;
    // How long an XREAD waits for new entries; each answer (entries or none) proves the stream is read.
    std::chrono::milliseconds block{1000};
    // An entry this large would exceed every client's queue limit anyway.
    std::size_t max_message_bytes = 1 << 20;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{5000};
    std::chrono::milliseconds stall_timeout{3000};
    std::chrono::milliseconds info_interval{5000};
    std::chrono::milliseconds retry_interval{1000};
    // Bad entries are logged at most once per this interval (RejectionLog).
    std::chrono::milliseconds log_interval{10000};
};

const SettingsTable<Settings>& settings_table() {
    static const SettingsTable<Settings> table{
        Setting<Settings>{"stream", &Settings::stream,
                          "the stream the web application adds notifications to (each entry's field `notification` "
                          "holds the JSON the channel takes)"}
            .non_empty(),
        Setting<Settings>{"count", &Settings::count,
                          "entries read per XREAD at most; the next XREAD goes once they are on the bus"}
            .at_most(100000),
        {"block_ms", &Settings::block,
         "how long an XREAD waits for new entries before it answers none (and is sent again)"},
        {"max_message_bytes", &Settings::max_message_bytes, "larger entries are rejected (`too large`)"},
        {"connect_timeout_ms", &Settings::connect_timeout, "time to connect to redis before trying again"},
        {"command_timeout_ms", &Settings::command_timeout,
         "a command (an XREAD: after `block_ms` and this) without an answer drops the link, which is made again"},
        {"stall_timeout_ms", &Settings::stall_timeout,
         "an XREAD not answered within `block_ms` and this makes the source not ready"},
        {"info_interval_ms", &Settings::info_interval,
         "how often XINFO STREAM is asked for the stream's length, the lag and entries trimmed before they were read "
         "(also after every reconnect)"},
        {"retry_interval_ms", &Settings::retry_interval,
         "after an error answer (a stream key of another type, a cluster slot on the move) the read is tried "
         "again after this"},
        {"log_interval_ms", &Settings::log_interval,
         "bad entries are logged at most this often, with a count of the others"},
    };
    return table;
}

class RedisStreamsPlugin : public Plugin {
public:
    explicit RedisStreamsPlugin(PluginContext& c)
        : c_(c),
          settings_(settings_table().parse(c.config())),
          source_label_("source=\"" + c.plugin_name() + "\""),
          entries_(c.metrics().counter("yunity_redis_streams_entries_total",
                                       "Entries read from the notifications stream", source_label_)),
          gaps_(
              c.metrics().counter("yunity_redis_streams_gaps_total",
                                  "Times entries were found removed from the stream (trimmed, or deleted) before this "
                                  "server read them",
                                  source_label_)),
          errors_(c.metrics().counter("yunity_redis_streams_errors_total",
                                      "Error answers and unreadable replies to the stream reader's commands, and "
                                      "XREADs that stalled",
                                      source_label_)),
          rejections_(c.metrics(), c.logger(), settings_.log_interval),
          readiness_(c),
          stall_timer_(c.io()),
          retry_timer_(c.io()) {
        endpoint_ = std::make_unique<redis::RedisEndpoint>(c.io(), c.settings().redis_url, "streams", c.logger());
        // In a cluster the link goes to the master of the stream key's slot, known once the map is read.
        if (c.settings().recovery_window.count() > 0) {
            // Clients that come back here from another instance, after a restart, or from further back than the
            // core's history are replayed from the stream.
            log_ = std::make_unique<StreamLog>(
                c.io(),
                StreamLog::Options{settings_.stream, std::string(kField), settings_.max_message_bytes,
                                   c.settings().recovery_window},
                [this] { return start_id_; });
        }
        if (!endpoint_->is_cluster()) {
            link_ = &endpoint_->make_link("streams", settings_.connect_timeout, link_command_timeout());
            make_replay_link({});
        }
    }

    void start() override {
        const auto& name = c_.plugin_name();
        if (log_) c_.provide<NotificationLog>(log_.get());
        if (link_) wire();
        if (endpoint_->is_cluster()) endpoint_->cluster().on_change([this] { on_cluster_change(); });
        c_.metrics().gauge(name, "yunity_redis_connected", "1 while the redis link is usable", "link=\"streams\"",
                           [this] { return link_ && link_->connected() ? 1.0 : 0.0; });
        c_.metrics().gauge(name, "yunity_redis_reconnects", "Times the redis link came back after a loss",
                           "link=\"streams\"",
                           [this] { return link_ ? static_cast<double>(link_->reconnects()) : 0.0; });
        c_.metrics().gauge(name, "yunity_redis_streams_last_id_milliseconds",
                           "The time part of the id of the last entry read (the position resumed from)", source_label_,
                           [this] { return last_id_ ? static_cast<double>(last_id_->ms) : -1.0; });
        c_.metrics().gauge(name, "yunity_redis_streams_lag_milliseconds",
                           "How far the last entry read is behind the newest entry, by their ids' time, as of the "
                           "last XINFO STREAM (-1 before the first)",
                           source_label_, [this] { return lag_ms_ ? static_cast<double>(*lag_ms_) : -1.0; });
        c_.metrics().gauge(name, "yunity_redis_streams_lag_entries",
                           "Entries added after the last one read, as of the last XINFO STREAM (redis 7; -1 when "
                           "not known)",
                           source_label_, [this] { return lag_entries_ ? static_cast<double>(*lag_entries_) : -1.0; });
        c_.metrics().gauge(name, "yunity_redis_streams_length",
                           "Entries the stream holds, as of the last XINFO STREAM (-1 before the first)", source_label_,
                           [this] { return length_ ? static_cast<double>(*length_) : -1.0; });
        endpoint_->add_metrics(c_.metrics(), name);
        if (auto* stats = c_.service<AdminStats>()) {
            stats_ = stats;
            stats_->add(name, [this] { return stats_json(); });
        }
        down_reason_ = "connecting to " + endpoint_->describe();
        readiness_.announce(down_reason_);
        c_.logger()->info("reading notifications from stream \"{}\" of {}", settings_.stream,
                          redis::redact(endpoint_->target()));
        endpoint_->start();
    }

    void stop() override {
        stopped_ = true;
        if (stats_) stats_->remove(c_.plugin_name());
        stall_timer_.cancel();
        retry_timer_.cancel();
        endpoint_->stop();
    }

private:
    // Replays (XINFO, XRANGE) go through a link of their own: behind the reader's blocking XREAD they would wait.
    void make_replay_link(std::optional<std::pair<std::string, std::uint16_t>> master) {
        if (!log_) return;
        replay_link_ =
            master ? &endpoint_->make_node_link("streams-replay", master->first, master->second,
                                                settings_.connect_timeout, settings_.command_timeout)
                   : &endpoint_->make_link("streams-replay", settings_.connect_timeout, settings_.command_timeout);
        log_->use(replay_link_);
    }

    std::chrono::milliseconds link_command_timeout() const { return settings_.block + settings_.command_timeout; }

    void wire() {
        link_->on_connected([this] {
            c_.logger()->info("redis: reading stream {} on {}", settings_.stream, endpoint_->describe());
            down_reason_ = "waiting for the first XREAD on " + settings_.stream + " to answer";
            update_ready();
            // Whatever happened while the link was down is read from where it stopped; the XINFO first finds
            // out whether the stream was trimmed past that point meanwhile.
            info_due_ = true;
            begin();
        });
        link_->on_disconnected([this](const std::string& why) {
            ++generation_;  // whatever was in flight belongs to the connection that is gone
            stall_timer_.cancel();
            retry_timer_.cancel();
            down_reason_ = why;
            update_ready();
        });
    }

    // A cluster: the link follows the master of the stream key's slot (made at the first map, moved with it).
    void on_cluster_change() {
        const auto master = endpoint_->cluster().master_of(redis::key_slot(settings_.stream));
        if (!master) {
            c_.logger()->warn("cluster: no master serves the slot of stream {} yet", settings_.stream);
            return;
        }
        if (!link_) {
            link_ = &endpoint_->make_node_link("streams", master->first, master->second, settings_.connect_timeout,
                                               link_command_timeout());
            wire();
            c_.logger()->info("cluster: stream {} is read on master {}:{}", settings_.stream, master->first,
                              master->second);
            link_->start();
            make_replay_link(*master);
            if (replay_link_) replay_link_->start();
            return;
        }
        link_->retarget(master->first, master->second);  // the same address changes nothing
        if (replay_link_) replay_link_->retarget(master->first, master->second);
    }

    // Starts a read loop for the current connection (each connection has its own generation).
    void begin() {
        const auto generation = ++generation_;
        if (!last_id_) return resolve_start(generation);
        step(generation);
    }

    bool current(std::uint64_t generation) const { return !stopped_ && generation == generation_; }

    // The first start reads new entries only: "$" is pinned to a concrete id before the first XREAD, so that what
    // is added between now and that XREAD is read too. A stream that does not exist yet starts at 0-0: all it
    // will ever hold is new.
    void resolve_start(std::uint64_t generation) {
        link_->command({"XINFO", "STREAM", settings_.stream}, [this, generation](const redis::Reply* reply,
                                                                                 const std::string& error) {
            if (!current(generation)) return;
            if (!reply) {
                if (error.find("no such key") != std::string::npos) {
                    set_start(StreamId{0, 0}, 0, "the stream does not exist yet: every entry it gets is read");
                    return step(generation);
                }
                return failed(generation, "XINFO STREAM", error);
            }
            std::string why;
            auto info = parse_xinfo(*reply, &why);
            if (!info) return failed(generation, "XINFO STREAM", why);
            set_start(info->last_generated, info->entries_added, "new entries only");
            note_info(*info);
            step(generation);
        });
    }

    void set_start(StreamId id, std::optional<std::uint64_t> entries_added, const char* what) {
        last_id_ = id;
        start_id_ = id;
        gaps_seen_.start_at(id, entries_added);
        // The first check must not take a stream that never existed for one that went away.
        stream_absent_ = entries_added == std::optional<std::uint64_t>(0) && id == StreamId{};
        c_.logger()->info("stream {}: reading after {} ({})", settings_.stream, id.to_string(), what);
    }

    // One turn: XINFO when due, then XREAD.
    void step(std::uint64_t generation) {
        if (!current(generation)) return;
        const auto now = std::chrono::steady_clock::now();
        if (info_due_ || now - last_info_ >= settings_.info_interval) return check_info(generation);
        read(generation);
    }

    void check_info(std::uint64_t generation) {
        info_due_ = false;
        last_info_ = std::chrono::steady_clock::now();
        link_->command({"XINFO", "STREAM", settings_.stream},
                       [this, generation](const redis::Reply* reply, const std::string& error) {
                           if (!current(generation)) return;
                           if (!reply) {
                               // Gone (deleted, or a redis restarted without its data): XREAD waits for it to come back, and all
                               // it will hold then is new.
                               if (error.find("no such key") != std::string::npos) {
                                   stream_gone();
                                   return read(generation);
                               }
                               return failed(generation, "XINFO STREAM", error);
                           }
                           std::string why;
                           auto info = parse_xinfo(*reply, &why);
                           if (!info) return failed(generation, "XINFO STREAM", why);
                           stream_absent_ = false;
                           if (auto gap = gaps_seen_.check(*info)) report_gap(*gap);
                           note_info(*info);
                           read(generation);
                       });
    }

    void stream_gone() {
        if (!stream_absent_)
            c_.logger()->warn(
                "stream {} does not exist any more (deleted, or redis restarted without its data): "
                "entries added after {} that were not read yet are gone; reading goes on when it is "
                "made again",
                settings_.stream, last_id_->to_string());
        stream_absent_ = true;
        gaps_seen_.absent();
        length_ = 0;
        lag_ms_ = 0;
        lag_entries_ = 0;
    }

    void note_info(const StreamInfo& info) {
        length_ = info.length;
        if (last_id_) lag_ms_ = lag_ms(info, *last_id_);
        lag_entries_ = gaps_seen_.behind(info);
    }

    // Entries the stream removed before this server read them (trimmed by the producer's MAXLEN/MINID while it
    // was away or behind, or deleted): their notifications are lost here. Said once per gap, and counted; the
    // read goes on with the oldest entry held, which is where XREAD from the last id continues anyway.
    void report_gap(const Gap& gap) {
        gaps_.fetch_add(1, std::memory_order_relaxed);
        const auto span_ms = gap.until.ms > gap.after.ms ? gap.until.ms - gap.after.ms : 0;
        c_.logger()->warn(
            "stream {}: {} after {}, up to {} ({} ms of the stream), were removed before this server "
            "read them: their notifications are not delivered. If they were trimmed, the producer's "
            "MAXLEN/MINID keeps too little for how long this server was away or behind",
            settings_.stream, gap.count ? std::to_string(*gap.count) + " entries" : std::string("entries"),
            gap.after.to_string(), gap.until.to_string(), span_ms);
    }

    void read(std::uint64_t generation) {
        if (!current(generation)) return;
        stall_timer_.expires_after(settings_.block + settings_.stall_timeout);
        stall_timer_.async_wait([this, generation](const boost::system::error_code& ec) {
            if (ec || !current(generation)) return;
            errors_.fetch_add(1, std::memory_order_relaxed);
            down_reason_ = "an XREAD on " + settings_.stream + " has not answered within " +
                           std::to_string((settings_.block + settings_.stall_timeout).count()) + " ms";
            update_ready();
        });
        link_->command({"XREAD", "BLOCK", std::to_string(settings_.block.count()), "COUNT",
                        std::to_string(settings_.count), "STREAMS", settings_.stream, last_id_->to_string()},
                       [this, generation](const redis::Reply* reply, const std::string& error) {
                           if (!current(generation)) return;
                           stall_timer_.cancel();
                           if (!reply) return failed(generation, "XREAD", error);
                           std::string why;
                           auto entries = parse_xread(*reply, settings_.stream, kField, &why);
                           if (!entries) return failed(generation, "XREAD", why);
                           answered();
                           take(*entries);
                           // The next XREAD goes after this batch's Notifications were dispatched, and the
                           // Delivers they made too (each post is one turn of the loop behind the bus' own):
                           // a backlog never has more than one batch on the bus.
                           boost::asio::post(c_.io(), [this, generation] {
                               if (!current(generation)) return;
                               boost::asio::post(c_.io(), [this, generation] { step(generation); });
                           });
                       });
    }

    void take(std::vector<StreamEntry>& entries) {
        for (auto& entry : entries) {
            // Ids only grow in a stream, and XREAD answers those after the one asked for; a reply that says
            // otherwise is not taken, so that nothing is delivered twice.
            if (entry.id <= *last_id_) {
                errors_.fetch_add(1, std::memory_order_relaxed);
                c_.logger()->warn("stream {}: XREAD answered entry {} which is not after {}: skipped", settings_.stream,
                                  entry.id.to_string(), last_id_->to_string());
                continue;
            }
            last_id_ = entry.id;
            if (auto gap = gaps_seen_.read(entry.id)) report_gap(*gap);
            entries_.fetch_add(1, std::memory_order_relaxed);
            if (!entry.value) {
                reject(entry.id, "no notification field", "the entry has no field \"notification\"", {});
                continue;
            }
            auto parsed = parse_notification(*entry.value, settings_.max_message_bytes);
            if (auto* n = std::get_if<events::Notification>(&parsed)) {
                n->offset = entry.id.to_string();
                c_.bus().publish(std::move(*n));
                continue;
            }
            const auto& e = std::get<ParseError>(parsed);
            reject(entry.id, to_string(e.reason), e.detail, *entry.value);
        }
    }

    // Counted under the same metric and reasons as redis-pubsub's channel; logged at most every log_interval.
    void reject(StreamId id, std::string_view reason, std::string_view detail, std::string_view message) {
        rejections_.reject("entry " + id.to_string() + " of stream \"" + settings_.stream + "\"", reason, detail,
                           message);
    }

    // An error answer, a lost link or a reply of the wrong shape. A lost link comes back through on_connected,
    // which starts a new loop (and so makes the retry below stale); anything else is tried again after
    // retry_interval, from the same id.
    void failed(std::uint64_t generation, const char* command, const std::string& error) {
        stall_timer_.cancel();
        if (auto redirect = redis::parse_redirect(error); redirect && endpoint_->is_cluster()) {
            // The stream's slot moved: read the map again, and go where redis said (MOVED is for good; ASK is a
            // migration under way, which the next map settles).
            endpoint_->cluster().refresh();
            c_.logger()->info("stream {}: {} was redirected ({}) to {}:{}", settings_.stream, command,
                              redirect->ask ? "ASK" : "MOVED", redirect->host, redirect->port);
            if (!redirect->ask) link_->retarget(redirect->host, redirect->port);
        } else if (error.rfind("redis ", 0) != 0) {
            // Redis' own error answers ("WRONGTYPE ...") and replies this reader cannot read; the link's
            // failures ("redis connection lost: ...", "redis link 'streams' is not connected") are not errors
            // of the stream, and its own reconnect reports them.
            errors_.fetch_add(1, std::memory_order_relaxed);
            down_reason_ = std::string(command) + " on " + settings_.stream + " failed: " + error;
            const auto now = std::chrono::steady_clock::now();
            if (now - last_error_log_ >= settings_.log_interval) {
                last_error_log_ = now;
                c_.logger()->error("stream {}: {} failed: {}; trying again every {} ms", settings_.stream, command,
                                   error, settings_.retry_interval.count());
            }
            update_ready();
        }
        retry_timer_.expires_after(settings_.retry_interval);
        retry_timer_.async_wait([this, generation](const boost::system::error_code& ec) {
            if (ec || !current(generation)) return;
            if (!last_id_) return resolve_start(generation);
            step(generation);
        });
    }

    void answered() {
        down_reason_.clear();
        update_ready();
    }

    void update_ready() {
        const bool ready = link_ && link_->connected() && down_reason_.empty();
        if (ready) return readiness_.set(true, "reading stream " + settings_.stream + " on " + endpoint_->describe());
        const std::string why = down_reason_.empty() ? "connecting to " + endpoint_->describe() : down_reason_;
        readiness_.set(false, link_ && link_->connected() ? why : why + " (" + endpoint_->describe() + ")");
    }

    std::string stats_json() const {
        rapidjson::StringBuffer out;
        rapidjson::Writer<rapidjson::StringBuffer> w(out);
        const auto count = [&](const char* name, std::optional<std::uint64_t> value) {
            w.Key(name);
            if (value) w.Uint64(*value);
            else w.Null();
        };
        w.StartObject();
        w.Key("stream");
        w.String(settings_.stream.data(), static_cast<rapidjson::SizeType>(settings_.stream.size()));
        w.Key("last_id");
        if (last_id_) w.String(last_id_->to_string().c_str());
        else w.Null();
        count("entries", entries_.load(std::memory_order_relaxed));
        count("gaps", gaps_.load(std::memory_order_relaxed));
        count("length", length_);
        count("lag_ms", lag_ms_);
        count("lag_entries", lag_entries_);
        w.Key("ready");
        w.Bool(readiness_.ready());
        w.EndObject();
        return out.GetString();
    }

    PluginContext& c_;
    Settings settings_;
    const std::string source_label_;
    std::atomic<std::uint64_t>& entries_;
    std::atomic<std::uint64_t>& gaps_;
    std::atomic<std::uint64_t>& errors_;
    notifications::RejectionLog rejections_;
    redis::SourceReadiness readiness_;
    std::unique_ptr<StreamLog> log_;  // before endpoint_: its commands' callbacks run while the links stop
    std::unique_ptr<redis::RedisEndpoint> endpoint_;
    redis::RedisLink* link_ = nullptr;         // owned by endpoint_; in a cluster made at the first slot map
    redis::RedisLink* replay_link_ = nullptr;  // the same, for the log's reads
    AdminStats* stats_ = nullptr;
    boost::asio::steady_timer stall_timer_;
    boost::asio::steady_timer retry_timer_;
    std::uint64_t generation_ = 0;
    bool stopped_ = false;
    // The position: the last entry read, or where the first start pinned "$". Kept across reconnects and
    // failovers for the life of the process.
    std::optional<StreamId> last_id_;
    std::optional<StreamId> start_id_;  // where the first start began: nothing up to it was put on the bus
    GapDetector gaps_seen_;
    bool stream_absent_ = false;
    bool info_due_ = true;
    std::chrono::steady_clock::time_point last_info_{};
    std::optional<std::uint64_t> length_;
    std::optional<std::uint64_t> lag_ms_;
    std::optional<std::uint64_t> lag_entries_;
    std::string down_reason_ = "connecting";
    std::chrono::steady_clock::time_point last_error_log_{};
};

}  // namespace

}  // namespace yunity::redis_streams

YUNITY_PLUGIN(yunity::redis_streams::RedisStreamsPlugin, "redis-streams",
              "turns JSON entries added to a redis stream into notifications, read from the last id seen")
YUNITY_PLUGIN_SETTINGS(yunity::redis_streams::settings_table())
