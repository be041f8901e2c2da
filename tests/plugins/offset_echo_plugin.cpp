// Sends every connection a Deliver addresses an `offset` event holding that Deliver's offset, right behind the
// message: how the integration tests see the offsets the sources set and the core copies, before the socketio
// transport carries them itself (tests/integration/streams.test.mjs, redis.test.mjs).
#include <yunity/plugin.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace {

class OffsetEcho : public yunity::Plugin {
public:
    explicit OffsetEcho(yunity::PluginContext& c) : c_(c) {}
    void start() override {
        c_.bus().subscribe<yunity::events::Deliver>(c_.plugin_name(), [this](const yunity::events::Deliver& d) {
            rapidjson::StringBuffer args;
            rapidjson::Writer<rapidjson::StringBuffer> w(args);
            w.StartArray();
            w.String(d.offset.data(), static_cast<rapidjson::SizeType>(d.offset.size()));
            w.EndArray();
            yunity::events::Emit e;
            e.connections = d.connections;
            e.event = "offset";
            e.args = args.GetString();
            c_.bus().publish(std::move(e));
        });
    }
    void stop() override {}

private:
    yunity::PluginContext& c_;
};

}  // namespace

YUNITY_PLUGIN(OffsetEcho, "offset-echo", "emits each delivery's offset to its connections (tests only)")
