// The http-publish source: `POST /publish` on the admin port takes the JSON the redis channel takes and
// answers how many connections it reached, so a web application can push without redis (embedded mode).
#include "notification_parser.hpp"
#include "run_offsets.hpp"

#include <yunity/admin_routes.hpp>
#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>
#include <unordered_map>

namespace yunity::http_publish {

namespace {

AdminResponse json_answer(int status, std::string body) {
    AdminResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

std::string error_json(std::string_view message) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("error");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

struct NoSettings {};

// Empty, and still declared: the section is refused if it holds anything, and the reference says so. Its body
// limit is the admin plugin's max_body_bytes, which bounds requests before they get here.
const SettingsTable<NoSettings>& settings_table() {
    static const SettingsTable<NoSettings> table{};
    return table;
}

class HttpPublishPlugin : public Plugin {
public:
    explicit HttpPublishPlugin(PluginContext& c)
        : c_(c), received_(c.metrics().counter("yunity_http_publish_received_total", "POST /publish requests")) {
        settings_table().parse(c.config());
    }

    void start() override {
        auto* routes = c_.service<AdminRoutes>();
        if (!routes) throw std::runtime_error("needs the admin-http plugin: POST /publish is served on its port");
        routes->add("POST", "/publish",
                    [this](const AdminRequest& req, AdminResponder respond) { publish(req.body, std::move(respond)); });
        c_.bus().subscribe<events::Notification>(c_.plugin_name(),
                                                 [this](const events::Notification& n) { on_routed(n); });
        c_.logger()->info("taking notifications on POST /publish of the admin port");
    }

    void stop() override {
        // Dropping the responders closes their clients' connections; nothing is routed after stop anyway.
        pending_.clear();
    }

private:
    struct Pending {
        std::shared_ptr<const std::string> payload;  // keeps the key's address from being reused meanwhile
        AdminResponder respond;
    };

    void publish(std::string_view body, AdminResponder respond) {
        received_.fetch_add(1, std::memory_order_relaxed);
        auto parsed = notifications::parse_notification(body);
        if (auto* error = std::get_if<notifications::ParseError>(&parsed)) {
            c_.metrics()
                .counter("yunity_http_publish_rejected_total", "POST /publish bodies that were not notifications",
                         std::string("reason=\"") + to_string(error->reason) + "\"")
                .fetch_add(1, std::memory_order_relaxed);
            return respond(json_answer(400, error_json(std::string(to_string(error->reason)) + ": " + error->detail)));
        }
        auto& n = std::get<events::Notification>(parsed);
        n.offset = offsets_.next();
        const auto* key = n.payload.get();
        pending_.emplace(key, Pending{n.payload, std::move(respond)});
        c_.bus().publish(std::move(n));
    }

    // Answers once the notification is routed: counting then, not when it was posted, sees every login and
    // logout queued before it, exactly as the core does when it picks the connections (a connection belongs
    // to one user, and the parser dropped repeated users, so the sum is the number reached).
    void on_routed(const events::Notification& n) {
        auto it = pending_.find(n.payload.get());
        if (it == pending_.end()) return;  // another source's
        std::size_t reached = 0;
        for (const auto& user : n.users) reached += c_.registry().connections_of_user(user);
        auto respond = std::move(it->second.respond);
        pending_.erase(it);
        c_.logger()->debug("published to {} users, {} connections", n.users.size(), reached);
        respond(json_answer(202, "{\"connections\":" + std::to_string(reached) + "}"));
    }

    PluginContext& c_;
    std::atomic<std::uint64_t>& received_;
    std::unordered_map<const std::string*, Pending> pending_;
    notifications::RunOffsets offsets_;
};

}  // namespace

}  // namespace yunity::http_publish

YUNITY_PLUGIN(yunity::http_publish::HttpPublishPlugin, "http-publish",
              "takes notifications on POST /publish of the admin port and answers how many connections they reached")
YUNITY_PLUGIN_SETTINGS(yunity::http_publish::settings_table())
