#pragma once

#include <string>

namespace yunity {
class PluginContext;
}

namespace yunity::redis {

// A redis source's readiness as /readyz reports it: each change is published as a SourceState and logged, at
// info level until the source was first ready (the start is under way, not a fault: a redis that cannot be
// reached says so in its link's own warnings), as a warning after that. Used on the loop only.
class SourceReadiness {
public:
    explicit SourceReadiness(PluginContext& context) : context_(context) {}

    // The first report, at start: not ready, nothing logged (the admin port logs each source's first state).
    void announce(std::string detail);
    // Publishes and logs a change of state or detail; the same again is nothing.
    void set(bool ready, std::string detail);
    bool ready() const { return ready_; }

private:
    PluginContext& context_;
    bool ready_ = false;
    bool been_ready_ = false;
    std::string detail_;
};

}  // namespace yunity::redis
