// The admin-http plugin: the admin port (connection report, metrics, health, readiness, dashboard) and the
// "admin-routes" service through which other plugins add their own endpoints to it.
#include "admin_config.hpp"
#include "admin_router.hpp"
#include "admin_server.hpp"
#include "builtin_routes.hpp"
#include "readiness.hpp"
#include "time_series.hpp"

#include <yunity/admin_routes.hpp>
#include <yunity/plugin.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdlib>

namespace yunity::admin {

namespace {

std::string prometheus_label(std::string_view value) {
    std::string out;
    for (char ch : value) {
        if (ch == '\\' || ch == '"') out += '\\';
        if (ch == '\n') out += "\\n";
        else out += ch;
    }
    return out;
}

class AdminHttpPlugin : public Plugin {
public:
    // The routes exist from construction on, so plugins loaded before or after this one can add theirs in
    // their start().
    explicit AdminHttpPlugin(PluginContext& context)
        : context_(context),
          config_(AdminConfig::from_json(context.config(), std::getenv(AdminConfig::token_variable))),
          router_(config_.token, context.logger()),
          sample_timer_(context.io()) {
        add_builtin_routes(router_, {context.registry(), context.metrics(), readiness_, config_, stats_, series_});
        context.provide<AdminRoutes>(&router_);
        context.provide<AdminStats>(&stats_);
    }

    void start() override {
        const auto& name = context_.plugin_name();
        auto& metrics = context_.metrics();
        metrics.gauge(name, "process_resident_memory_bytes", "Resident memory size in bytes", "",
                      [] { return resident_memory_bytes(); });
        metrics.gauge(name, "process_open_fds", "Number of open file descriptors", "", [] { return open_fds(); });
        metrics.gauge(name, "yunity_ready", "1 when every source that reported is ready", "",
                      [this] { return readiness_.ready() ? 1.0 : 0.0; });
        context_.bus().subscribe<events::SourceState>(name, [this](const events::SourceState& s) { on_source(s); });

        const auto& settings = context_.settings();
        router_.guard(RequestGuard(settings.admin_bind, config_.allowed_hosts));
        server_ = std::make_unique<AdminServer>(context_.io(), router_, config_, context_.logger(), settings.admin_bind,
                                                settings.admin_port);
        if (!config_.token.empty()) context_.logger()->info("admin requests need the bearer token");
        server_->start();
        sample();
        next_sample_ = std::chrono::steady_clock::now();
        schedule_sample();
    }

    void stop() override {
        sample_timer_.cancel();
        if (server_) server_->stop();
    }

private:
    // The dashboard's charts: a reading a second, on the loop (the registry is read there). A stall of the loop
    // delays the reading due meanwhile, and the next comes an interval after that one (not at once, which would
    // make a rate over a few milliseconds): the gap shows on the charts, the rates over it are its averages.
    void schedule_sample() {
        const auto now = std::chrono::steady_clock::now();
        next_sample_ += TimeSeries::default_interval;
        if (next_sample_ <= now) next_sample_ = now + TimeSeries::default_interval;
        sample_timer_.expires_at(next_sample_);
        sample_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            sample();
            schedule_sample();
        });
    }

    void sample() {
        using namespace std::chrono;
        const auto& metrics = context_.metrics();
        SeriesReading r;
        r.time_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        r.monotonic_ms = duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
        r.connections = context_.registry().connection_count();
        r.deliveries = metrics.counter_total("yunity_deliveries_routed_total");
        r.notifications = metrics.counter_total("yunity_notifications_routed_total");
        // What the redis sources (by way of the notification parser) and POST /publish turned away.
        r.rejected = metrics.counter_total("yunity_notifications_rejected_total") +
                     metrics.counter_total("yunity_http_publish_rejected_total");
        series_.add(r);
    }

    // Logs changes only (a source retrying reports "not ready" again and again); the first report of a
    // source, "connecting" at startup, is no cause for a warning.
    void on_source(const events::SourceState& s) {
        const bool was_ready = readiness_.ready(s.source);
        const bool first = readiness_.update(s.source, s.ready, s.detail);
        if (first) {
            context_.metrics().gauge(context_.plugin_name(), "yunity_source_ready",
                                     "1 when the source's link to its backend is up",
                                     "source=\"" + prometheus_label(s.source) + "\"",
                                     [this, source = s.source] { return readiness_.ready(source) ? 1.0 : 0.0; });
        } else if (was_ready == s.ready) {
            return;
        }
        const auto level = s.ready || first ? spdlog::level::info : spdlog::level::warn;
        context_.logger()->log(level, "source {} {}{}{}", s.source, s.ready ? "ready" : "not ready",
                               s.detail.empty() ? "" : ": ", s.detail);
    }

    PluginContext& context_;
    AdminConfig config_;
    Readiness readiness_;
    StatsSections stats_;
    TimeSeries series_;
    AdminRouter router_;
    boost::asio::steady_timer sample_timer_;
    std::chrono::steady_clock::time_point next_sample_;
    std::unique_ptr<AdminServer> server_;
};

}  // namespace

}  // namespace yunity::admin

YUNITY_PLUGIN(yunity::admin::AdminHttpPlugin, "admin-http",
              "admin HTTP port: connection report, Prometheus metrics, health and readiness, dashboard")
YUNITY_PLUGIN_SETTINGS(yunity::admin::AdminConfig::settings())
