#include "metrics_registry.hpp"

#include <fmt/format.h>

namespace yunity::core {

namespace {

MetricsRegistry::Family make_family(std::string_view help) {
    MetricsRegistry::Family f;
    f.help = help;
    return f;
}

}  // namespace

std::atomic<std::uint64_t>& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                                     std::string_view labels) {
    std::lock_guard lock(mutex_);
    auto fam = families_.find(name);
    if (fam == families_.end()) fam = families_.emplace(std::string(name), make_family(help)).first;
    auto& series = fam->second.counters;
    auto it = series.find(labels);
    if (it == series.end())
        it = series.emplace(std::string(labels), std::make_unique<std::atomic<std::uint64_t>>(0)).first;
    return *it->second;
}

void MetricsRegistry::gauge(std::string_view owner, std::string_view name, std::string_view help,
                            std::string_view labels, std::function<double()> read) {
    std::lock_guard lock(mutex_);
    auto fam = families_.find(name);
    if (fam == families_.end()) fam = families_.emplace(std::string(name), make_family(help)).first;
    fam->second.is_counter = false;
    fam->second.gauges.insert_or_assign(std::string(labels), std::pair{std::string(owner), std::move(read)});
}

void MetricsRegistry::drop_gauges(std::string_view owner) {
    std::lock_guard lock(mutex_);
    for (auto& [name, fam] : families_)
        std::erase_if(fam.gauges, [&](const auto& g) { return g.second.first == owner; });
}

std::string MetricsRegistry::render_prometheus() const {
    std::lock_guard lock(mutex_);
    std::string out;
    out.reserve(4096);
    for (const auto& entry : families_) {
        const auto& name = entry.first;
        const auto& fam = entry.second;
        if (fam.counters.empty() && fam.gauges.empty()) continue;
        fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name,
                       fam.is_counter ? "counter" : "gauge");
        auto series = [&](const std::string& labels) {
            return labels.empty() ? name : fmt::format("{}{{{}}}", name, labels);
        };
        for (const auto& [labels, value] : fam.counters)
            fmt::format_to(std::back_inserter(out), "{} {}\n", series(labels), value->load());
        for (const auto& [labels, g] : fam.gauges)
            fmt::format_to(std::back_inserter(out), "{} {}\n", series(labels), g.second());
    }
    return out;
}

std::uint64_t MetricsRegistry::counter_total(std::string_view name) const {
    std::lock_guard lock(mutex_);
    const auto fam = families_.find(name);
    if (fam == families_.end()) return 0;
    std::uint64_t total = 0;
    for (const auto& [labels, value] : fam->second.counters) total += value->load(std::memory_order_relaxed);
    return total;
}

}  // namespace yunity::core
