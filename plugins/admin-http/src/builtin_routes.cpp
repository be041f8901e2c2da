#include "builtin_routes.hpp"

#include "report.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace yunity::admin {

double resident_memory_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return -1;
    unsigned long size = 0, resident = 0;
    const int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    if (n != 2) return -1;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    double count = 0;
    const int own = dirfd(dir);
    while (const dirent* e = readdir(dir)) {
        if (e->d_name[0] == '.') continue;
        if (std::atoi(e->d_name) == own) continue;  // the descriptor this listing itself holds
        ++count;
    }
    closedir(dir);
    return count;
}

void add_builtin_routes(AdminRouter& router, const BuiltinSources& s) {
    router.add("GET", "/", [&registry = s.registry, &config = s.config](const AdminRequest&, AdminResponder respond) {
        // Streamed: the report of tens of thousands of connections is produced a slice at a time, each slice
        // written before the next is made, so the loop goes on serving clients in between.
        auto report = std::make_shared<ConnectionReport>(registry, config.redact, config.report_slice);
        AdminResponse res;
        res.stream = [report](std::string& chunk) { return report->next(chunk); };
        respond(std::move(res));
    });
    router.add("GET", "/metrics", [&metrics = s.metrics](const AdminRequest&, AdminResponder respond) {
        AdminResponse res;
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = metrics.render_prometheus();
        respond(std::move(res));
    });
    router.add("GET", "/healthz",
               [](const AdminRequest&, AdminResponder respond) { respond(json_response(200, R"({"status":"ok"})")); });
    router.add("GET", "/readyz", [&readiness = s.readiness](const AdminRequest&, AdminResponder respond) {
        respond(json_response(readiness.ready() ? 200 : 503, readiness.json()));
    });
    router.add("GET", "/stats",
               [&registry = s.registry, &readiness = s.readiness, &stats = s.stats](const AdminRequest&,
                                                                                    AdminResponder respond) {
                   respond(json_response(200, stats.extend(stats_json(registry, readiness.ready()))));
               });
    router.add("GET", "/series", [&series = s.series](const AdminRequest&, AdminResponder respond) {
        respond(json_response(200, series.json()));
    });
    router.add_public("GET", "/ui", [](const AdminRequest&, AdminResponder respond) {
        AdminResponse res;
        res.content_type = "text/html; charset=utf-8";
        res.headers.emplace_back("Content-Security-Policy",
                                 "default-src 'self'; script-src 'unsafe-inline'; "
                                 "style-src 'unsafe-inline'; frame-ancestors 'none'");
        res.body = std::string(ui_page());
        respond(std::move(res));
    });
}

}  // namespace yunity::admin
