// The server the official socket.io test suites expect, as a plugin: it serves "/" and "/custom", emits `auth`
// with the CONNECT's auth payload to each socket that connects, answers `message` with `message-back` and the
// same arguments (binary ones included), and `message-with-ack` with an ack of the same arguments; and it
// serves plain Engine.IO on "/engine.io/", echoing every message (text or binary) to its sender.
#include <yunity/engineio.hpp>
#include <yunity/namespaces.hpp>
#include <yunity/plugin.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
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
                yunity::events::Emit e;
                e.connections = {connection};
                e.nsp = nsp;
                e.event = "auth";
                e.args = "[" + auth + "]";
                // Published a moment after the CONNECT answer, not in the same turn of the loop: the transport
                // writes a turn's frames together, and the suites' `ws` client (8.5) hands every frame of one
                // read to the test before it listens again, so the test would miss this one. socket.io's own
                // pace (one write in flight) leaves such a gap; the open packet waits 2 ms for the same reason.
                auto timer = std::make_shared<boost::asio::steady_timer>(c_.io(), std::chrono::milliseconds(2));
                timer->async_wait([this, timer, e = std::move(e)](const boost::system::error_code&) mutable {
                    c_.bus().publish(std::move(e));
                });
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
