#pragma once

#include <map>
#include <string>
#include <string_view>

namespace yunity::admin {

// What the sources (plugins with a backend link, e.g. redis) last reported through events::SourceState.
// Ready when every source that reported is ready, and with none at all.
class Readiness {
public:
    struct State {
        bool ready = false;
        std::string detail;
    };

    // Records a report; returns true when it is the source's first.
    bool update(const std::string& source, bool ready, std::string detail);

    bool ready() const;
    // Whether `source` is ready; false for a source that never reported.
    bool ready(std::string_view source) const;
    const std::map<std::string, State, std::less<>>& sources() const { return sources_; }

    // {"ready":B,"sources":{"<name>":{"ready":B,"detail":"..."},...}}
    std::string json() const;

private:
    std::map<std::string, State, std::less<>> sources_;
};

}  // namespace yunity::admin
