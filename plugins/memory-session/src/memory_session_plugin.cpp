// The memory-session resolver: sessions held in this process, loaded from a JSON file at start and changed
// through the admin port, so that yunity-sockets runs with no redis at all (embedded mode).
#include "session_json.hpp"

#include <yunity/admin_routes.hpp>
#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

#include <stdexcept>

namespace yunity::memory_session {

namespace {

struct Settings {
    std::string file;  // none: start with no sessions
};

const SettingsTable<Settings>& settings_table() {
    static const SettingsTable<Settings> table{
        Setting<Settings>{"file", &Settings::file,
                          "sessions to start with: a JSON object `{\"<sessionId>\": \"<userId>\"}`, user ids "
                          "strings or integers, comments allowed; read once, never written"}
            .non_empty(),
    };
    return table;
}

AdminResponse json_answer(int status, std::string body) {
    AdminResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

AdminResponse no_content() {
    AdminResponse r;
    r.status = 204;
    return r;
}

class MemorySessionPlugin : public Plugin {
public:
    // The file is read here, so that a missing or broken one stops the server before anything listens.
    explicit MemorySessionPlugin(PluginContext& c) : c_(c), settings_(settings_table().parse(c.config())) {
        if (!settings_.file.empty()) sessions_ = load_session_file(settings_.file);
    }

    void start() override {
        const auto& name = c_.plugin_name();
        c_.bus().subscribe<events::Authenticate>(name, [this](const events::Authenticate& e) {
            c_.bus().publish(events::SessionResolved{e.session_id, user_of(e.session_id)});
        });
        c_.metrics().gauge(name, "yunity_memory_sessions", "Sessions with a user held by memory-session", "",
                           [this] { return static_cast<double>(sessions_.size()); });

        if (auto* routes = c_.service<AdminRoutes>()) add_routes(*routes);
        else
            c_.logger()->warn("the admin-routes service is missing (admin-http is not loaded): sessions can only "
                              "come from the file, and PUT/DELETE /sessions are not available");

        const auto detail = settings_.file.empty()
                                ? std::string("in memory")
                                : "in memory, " + std::to_string(sessions_.size()) + " from " + settings_.file;
        c_.logger()->info("resolving sessions {}", detail);
        // Nothing to connect to: ready from the start, so readiness does not wait for it.
        c_.bus().publish(events::SourceState{name, true, detail});
    }

    void stop() override {}

private:
    std::optional<std::string> user_of(std::string_view session) const {
        auto it = sessions_.find(session);
        if (it == sessions_.end()) return std::nullopt;
        return it->second;
    }

    void add_routes(AdminRoutes& routes) {
        routes.add("GET", "/sessions", [this](const AdminRequest&, AdminResponder respond) {
            respond(json_answer(200, session_map_json(sessions_)));
        });
        routes.add("PUT", "/sessions/*", [this](const AdminRequest& req, AdminResponder respond) {
            if (!is_valid_utf8(req.rest)) return respond(json_answer(400, error_json("the session id must be UTF-8")));
            std::string error;
            auto user = parse_user_body(req.body, error);
            if (!user) return respond(json_answer(400, error_json(error)));
            c_.logger()->debug("a session logged in as {}", *user);
            sessions_.insert_or_assign(req.rest, *user);
            // Connections holding the session move at once, as a SET in redis moves them through keyspace
            // events; the core ignores the answer when none holds it.
            c_.bus().publish(events::SessionResolved{req.rest, std::move(user)});
            respond(no_content());
        });
        routes.add("DELETE", "/sessions/*", [this](const AdminRequest& req, AdminResponder respond) {
            auto it = sessions_.find(req.rest);
            if (it == sessions_.end()) return respond(json_answer(404, error_json("no such session")));
            sessions_.erase(it);
            c_.logger()->debug("a session logged out");
            c_.bus().publish(events::SessionResolved{req.rest, std::nullopt});
            respond(no_content());
        });
    }

    PluginContext& c_;
    Settings settings_;
    SessionMap sessions_;
};

}  // namespace

}  // namespace yunity::memory_session

YUNITY_PLUGIN(yunity::memory_session::MemorySessionPlugin, "memory-session",
              "resolves sessions held in memory: loaded from a JSON file, changed through the admin port")
YUNITY_PLUGIN_SETTINGS(yunity::memory_session::settings_table())
