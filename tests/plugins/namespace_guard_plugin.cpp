// Serves "/private" to clients whose CONNECT auth payload holds {"token":"open-sesame"}, refusing the others
// with "Not authorized" (tests/integration/events.test.mjs).
#include <yunity/namespaces.hpp>
#include <yunity/plugin.hpp>

#include <stdexcept>

namespace {

class NamespaceGuard : public yunity::Plugin {
public:
    explicit NamespaceGuard(yunity::PluginContext& c) : c_(c) {}
    void start() override {
        auto* ns = c_.service<yunity::Namespaces>();
        if (!ns) throw std::runtime_error("needs the socketio plugin");
        ns->declare("/private", [](yunity::ConnectionId, const std::string& auth) -> std::optional<std::string> {
            rapidjson::Document d;
            d.Parse(auth.data(), auth.size());
            if (d.IsObject()) {
                auto it = d.FindMember("token");
                if (it != d.MemberEnd() && it->value.IsString() && std::string(it->value.GetString()) == "open-sesame")
                    return std::nullopt;
            }
            return "Not authorized";
        });
    }
    void stop() override {}

private:
    yunity::PluginContext& c_;
};

}  // namespace

YUNITY_PLUGIN(NamespaceGuard, "namespace-guard", "serves /private to clients with the right token")
