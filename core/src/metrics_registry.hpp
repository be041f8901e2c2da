#pragma once

#include <yunity/metrics.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace yunity::core {

class MetricsRegistry final : public Metrics {
public:
    std::atomic<std::uint64_t>& counter(std::string_view name, std::string_view help,
                                        std::string_view labels = {}) override;
    void gauge(std::string_view owner, std::string_view name, std::string_view help, std::string_view labels,
               std::function<double()> read) override;
    std::string render_prometheus() const override;
    std::uint64_t counter_total(std::string_view name) const override;

    void drop_gauges(std::string_view owner);

    struct Family {
        std::string help;
        bool is_counter = true;
        // labels -> series; a counter's value lives in a stable heap cell so references stay valid
        std::map<std::string, std::unique_ptr<std::atomic<std::uint64_t>>, std::less<>> counters;
        std::map<std::string, std::pair<std::string, std::function<double()>>, std::less<>>
            gauges;  // labels -> (owner, read)
    };

private:
    mutable std::mutex mutex_;
    std::map<std::string, Family, std::less<>> families_;
};

}  // namespace yunity::core
