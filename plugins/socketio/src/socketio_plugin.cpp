// The socketio transport plugin: Engine.IO 3 and 4 over polling and websocket, Socket.IO 4 and 5 on top.
#include "engine.hpp"
#include "listener.hpp"

#include <yunity/origin_policy.hpp>
#include <yunity/plugin.hpp>

namespace yunity::socketio {

namespace {

class SocketioPlugin : public Plugin {
public:
    explicit SocketioPlugin(PluginContext& context)
        : context_(context), engine_(context, TransportConfig::from_json(context.config())) {
        // From the constructor, so that every plugin finds it in its start(), whatever the load order.
        context_.provide<Namespaces>(&engine_.namespaces());
        context_.provide<EnginePaths>(&engine_.engine_paths());
        context_.provide<OriginPolicy>(&origin_policy_);
    }

    void start() override {
        const auto& s = context_.settings();
        listener_ = std::make_shared<Listener>(engine_, s.client_bind, s.client_port, s.tls_cert, s.tls_key);
        context_.bus().subscribe<events::Deliver>(context_.plugin_name(),
                                                  [this](const events::Deliver& d) { engine_.deliver(d); });
        context_.bus().subscribe<events::Resumed>(context_.plugin_name(),
                                                  [this](const events::Resumed& r) { engine_.resumed(r); });
        context_.bus().subscribe<events::AwaitDrain>(context_.plugin_name(),
                                                     [this](const events::AwaitDrain& a) { engine_.await_drain(a); });
        context_.bus().subscribe<events::CloseConnection>(
            context_.plugin_name(), [this](const events::CloseConnection& c) { engine_.close_connection(c); });
        context_.bus().subscribe<events::Ack>(context_.plugin_name(), [this](const events::Ack& a) { engine_.ack(a); });
        context_.bus().subscribe<events::Emit>(context_.plugin_name(),
                                               [this](const events::Emit& e) { engine_.emit(e); });
        context_.bus().subscribe<events::EngineSend>(context_.plugin_name(),
                                                     [this](const events::EngineSend& e) { engine_.engine_send(e); });
        context_.metrics().gauge(context_.plugin_name(), "yunity_socketio_sessions",
                                 "Engine.IO sessions, including those not yet connected to a namespace", "",
                                 [this] { return static_cast<double>(engine_.session_count()); });
        context_.metrics().gauge(context_.plugin_name(), "yunity_socketio_pending_sessions",
                                 "Socket.IO 5 sessions that have not completed a CONNECT yet", "",
                                 [this] { return static_cast<double>(engine_.pending_count()); });
        context_.metrics().gauge(context_.plugin_name(), "yunity_socketio_unbound_connections",
                                 "Client-port connections that have not carried a request for a session yet (a "
                                 "trusted proxy's not counted)",
                                 "", [this] { return static_cast<double>(engine_.unbound_count()); });
        listener_->start();
    }

    void stop() override {
        // Sessions first: waiting polls get their close packet and websockets a 1001 close frame; then the
        // listener stops accepting and cuts idle keep-alive connections.
        engine_.close_all(CloseReason::server_shutdown);
        if (listener_) listener_->stop();
    }

private:
    struct Origins : OriginPolicy {
        explicit Origins(const TransportConfig& c) : config(c) {}
        const TransportConfig& config;
        bool any_origin() const override { return config.allowed_origins.empty(); }
    };

    PluginContext& context_;
    Engine engine_;
    Origins origin_policy_{engine_.config()};
    std::shared_ptr<Listener> listener_;
};

}  // namespace

}  // namespace yunity::socketio

YUNITY_PLUGIN(yunity::socketio::SocketioPlugin, "socketio",
              "socket.io transport: Engine.IO 3/4, polling and websocket, Socket.IO protocols 4/5")
