// Logs every event that crosses the bus, one line each: a starting point for a plugin of your own.
#include <yunity/plugin.hpp>

namespace {

class EventLogger : public yunity::Plugin {
public:
    explicit EventLogger(yunity::PluginContext& context) : context_(context) {}

    void start() override {
        // Handlers run on the core's loop, after the publisher has returned; they must not block.
        context_.bus().subscribe_all(context_.plugin_name(), [this](yunity::EventKind kind, const void* event) {
            ++seen_;
            context_.logger()->info("event {}: {}", seen_, yunity::describe(kind, event));
        });
        context_.logger()->info("logging every event");
    }

    void stop() override { context_.logger()->info("logged {} events", seen_); }

private:
    yunity::PluginContext& context_;
    std::uint64_t seen_ = 0;
};

}  // namespace

YUNITY_PLUGIN(EventLogger, "event-logger", "logs every event on the bus")
