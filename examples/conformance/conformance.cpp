// The server the official socket.io test suites expect, as a plugin: it serves "/" and "/custom", emits `auth`
// with the CONNECT's auth payload to each socket that connects, answers `message` with `message-back` and the
// same arguments (binary ones included), and `message-with-ack` with an ack of the same arguments; and it
// serves plain Engine.IO on "/engine.io/", echoing every message (text or binary) to its sender.
#include <yunity/engineio.hpp>
#include <yunity/namespaces.hpp>
#include <yunity/plugin.hpp>

#include <stdexcept>

namespace {

class Conformance : public yunity::Plugin {
public:
    explicit Conformance(yunity::PluginContext& context) : c_(context) {
        if (!c_.config().IsObject() || c_.config().MemberCount() != 0)
            throw std::invalid_argument("takes no settings");
    }

    void start() override {
        auto* namespaces = c_.service<yunity::Namespaces>();
        auto* engine_paths = c_.service<yunity::EnginePaths>();
        if (!namespaces || !engine_paths) throw std::runtime_error("needs the socketio plugin");
        engine_paths->serve("/engine.io/");
        c_.bus().subscribe<yunity::events::EngineMessage>(
            c_.plugin_name(), [this](const yunity::events::EngineMessage& m) {
                if (m.path == "/engine.io/") c_.bus().publish(yunity::events::EngineSend{{m.connection}, m.data, m.binary});
            });
        for (const char* nsp : {"/", "/custom"}) {
            namespaces->declare(nsp, [this, nsp = std::string(nsp)](yunity::ConnectionId connection,
                                                                      const std::string& auth) {
                // Published now, written after the transport's CONNECT answer.
                yunity::events::Emit e;
                e.connections = {connection};
                e.nsp = nsp;
                e.event = "auth";
                e.args = "[" + auth + "]";
                c_.bus().publish(std::move(e));
                return std::optional<std::string>();
            });
        }
        c_.bus().subscribe<yunity::events::ClientEvent>(c_.plugin_name(), [this](const yunity::events::ClientEvent& e) {
            if (e.event == "message") {
                yunity::events::Emit out;
                out.connections = {e.connection};
                out.nsp = e.nsp;
                out.event = "message-back";
                out.args = e.args;
                out.attachments = e.attachments;
                c_.bus().publish(std::move(out));
            } else if (e.event == "message-with-ack" && e.ack_id) {
                c_.bus().publish(yunity::events::Ack{e.connection, e.nsp, *e.ack_id, e.args, e.attachments});
            }
        });
    }

    void stop() override {}

private:
    yunity::PluginContext& c_;
};

}  // namespace

YUNITY_PLUGIN(Conformance, "conformance",
              "the server the socket.io conformance suites expect: / and /custom, auth, message-back, acks")
