// A plugin that misbehaves on request (tests/integration/faults.test.mjs): its handlers throw on a notification
// whose payload holds "explode" and on the client event `explode`; on `bad-acks` it answers an ack id the client
// never asked for, and answers the real one twice. The server must log each and go on serving everyone.
#include <yunity/plugin.hpp>

#include <stdexcept>

namespace {

class Faulty : public yunity::Plugin {
public:
    explicit Faulty(yunity::PluginContext& c) : c_(c) {}
    void start() override {
        c_.bus().subscribe<yunity::events::Notification>(c_.plugin_name(), [](const yunity::events::Notification& n) {
            if (n.payload && n.payload->find("explode") != std::string::npos)
                throw std::runtime_error("exploding on a notification, as asked");
        });
        c_.bus().subscribe<yunity::events::ClientEvent>(c_.plugin_name(), [this](const yunity::events::ClientEvent& e) {
            if (e.event == "explode") throw std::runtime_error("exploding on a client event, as asked");
            if (e.event == "bad-acks" && e.ack_id) {
                c_.bus().publish(yunity::events::Ack{e.connection, e.nsp, *e.ack_id + 1000, "[\"stray\"]", {}});
                c_.bus().publish(yunity::events::Ack{e.connection, e.nsp, *e.ack_id, "[\"first\"]", {}});
                c_.bus().publish(yunity::events::Ack{e.connection, e.nsp, *e.ack_id, "[\"second\"]", {}});
            }
        });
    }
    void stop() override {}

private:
    yunity::PluginContext& c_;
};

}  // namespace

YUNITY_PLUGIN(Faulty, "faulty", "throws and answers acks wrongly on request (tests only)")
