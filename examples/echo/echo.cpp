// The SDK guide's example plugin (sdk/README.md shows this file, and a test checks they agree). It answers
// `socket.emit("echo", data, callback)` with callback(data); serves the namespace /chat to clients whose CONNECT
// carries a token; and when a client emits `quiz`, asks it `question` with an ack and emits the answer back to
// it as `answered`.
#include <yunity/namespaces.hpp>
#include <yunity/plugin.hpp>

#include <stdexcept>

class Echo : public yunity::Plugin {
public:
    explicit Echo(yunity::PluginContext& c) : c_(c) {}

    void start() override {
        auto* ns = c_.service<yunity::Namespaces>();
        if (!ns) throw std::runtime_error("needs the socketio plugin");
        ns->declare("/chat", [](yunity::ConnectionId, const std::string& auth) -> std::optional<std::string> {
            if (auth.find("\"token\"") == std::string::npos) return "Not authorized";  // the client's connect_error
            return std::nullopt;
        });
        c_.bus().subscribe<yunity::events::ClientEvent>(c_.plugin_name(), [this](const auto& e) {
            if (e.event == "echo" && e.ack_id)
                c_.bus().publish(yunity::events::Ack{e.connection, e.nsp, *e.ack_id, e.args, e.attachments});
            if (e.event == "quiz") {
                yunity::events::Emit ask;
                ask.connections = {e.connection};
                ask.nsp = e.nsp;
                ask.event = "question";
                ask.args = R"(["6 x 7?"])";
                ask.ack_id = ++asked_;  // ours to choose: the client's answer comes back with it
                c_.bus().publish(std::move(ask));
            }
        });
        c_.bus().subscribe<yunity::events::ClientAck>(c_.plugin_name(), [this](const auto& a) {
            yunity::events::Emit tell;
            tell.connections = {a.connection};
            tell.nsp = a.nsp;
            tell.event = "answered";
            tell.args = a.args;
            c_.bus().publish(std::move(tell));
        });
    }

    void stop() override {}

private:
    yunity::PluginContext& c_;
    std::uint64_t asked_ = 0;
};

YUNITY_PLUGIN(Echo, "echo", "acks echo with its arguments; serves /chat; asks quiz takers a question")
