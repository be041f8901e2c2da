// The admin plugin's own endpoints: /, /metrics, /healthz, /readyz, /stats and the /ui dashboard.
#pragma once

#include "admin_config.hpp"
#include "admin_router.hpp"
#include "readiness.hpp"

#include <yunity/admin_routes.hpp>
#include <yunity/metrics.hpp>
#include <yunity/registry.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace yunity::admin {

// The members other plugins add to /stats (the "admin-stats" service).
class StatsSections : public AdminStats {
public:
    void add(std::string name, std::function<std::string()> read) override;
    void remove(const std::string& name) override;
    // `json` (the core's counts, an object) with every section added as a further member.
    std::string extend(std::string json) const;

private:
    std::map<std::string, std::function<std::string()>> sections_;
};

struct BuiltinSources {
    const RegistryView& registry;
    Metrics& metrics;
    const Readiness& readiness;
    const AdminConfig& config;
    const StatsSections& stats;
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
