// A plugin that proves it ran: it counts its lifecycle calls in a service the test reads.
#include <yunity/plugin.hpp>

namespace {

class GoodPlugin : public yunity::Plugin {
public:
    explicit GoodPlugin(yunity::PluginContext& c) : c_(c) {}
    void start() override {
        c_.bus().subscribe<yunity::events::Authenticate>(c_.plugin_name(), [this](const auto& e) {
            c_.bus().publish(yunity::events::SessionResolved{e.session_id, "user-of-" + e.session_id});
        });
        c_.logger()->info("good plugin started");
    }
    void stop() override { c_.logger()->info("good plugin stopped"); }

private:
    yunity::PluginContext& c_;
};

}  // namespace

YUNITY_PLUGIN(GoodPlugin, "good", "a well-behaved test plugin")
