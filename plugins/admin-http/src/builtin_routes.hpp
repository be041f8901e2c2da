// The admin plugin's own endpoints: /, /metrics, /healthz, /readyz, /stats, /series and the /ui dashboard.
#pragma once

#include "admin_config.hpp"
#include "admin_router.hpp"
#include "readiness.hpp"
#include "stats_sections.hpp"
#include "time_series.hpp"

#include <yunity/metrics.hpp>
#include <yunity/registry.hpp>

#include <string_view>

namespace yunity::admin {

struct BuiltinSources {
    const RegistryView& registry;
    Metrics& metrics;
    const Readiness& readiness;
    const AdminConfig& config;
    const StatsSections& stats;
    const TimeSeries& series;  // the dashboard's charts
};

// Adds the endpoints to `router`; everything referenced must outlive it.
void add_builtin_routes(AdminRouter& router, const BuiltinSources& sources);

// The process's resident memory (from /proc/self/statm) and open file descriptors (/proc/self/fd); -1 when
// they cannot be read.
double resident_memory_bytes();
double open_fds();

// The dashboard page: self-contained HTML, CSS and JavaScript (embedded at build time from ui.html).
std::string_view ui_page();

}  // namespace yunity::admin
