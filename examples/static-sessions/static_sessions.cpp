// A custom session backend, as small as one gets: the sessions are a JSON file read once at startup,
//   {"<sessionId>": "<userId>", ...}
// named by its config section {"file": "<path>"}. It takes the place of redis-session (or memory-session):
// load it instead of them. What makes a plugin a session resolver is the one handler in start(): every
// events::Authenticate gets an events::SessionResolved for its session, with the user or with none.
#include <yunity/plugin.hpp>

#include <rapidjson/error/en.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

std::map<std::string, std::string> read_sessions(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(text.str().c_str());
    if (doc.HasParseError())
        throw std::runtime_error(path + ": not JSON: " + rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) throw std::runtime_error(path + ": must be an object {\"<sessionId>\": \"<userId>\"}");
    std::map<std::string, std::string> sessions;
    const rapidjson::Value& root = doc;  // const iterators: clang warns about RapidJSON's mutable ones in C++20
    for (const auto& m : root.GetObject()) {
        // User ids are strings; 79 and "79" name the same user, as notifications do.
        if (m.value.IsString()) sessions[m.name.GetString()] = m.value.GetString();
        else if (m.value.IsInt64()) sessions[m.name.GetString()] = std::to_string(m.value.GetInt64());
        else throw std::runtime_error(path + ": session " + m.name.GetString() + ": user must be a string or integer");
    }
    return sessions;
}

class StaticSessions : public yunity::Plugin {
public:
    // Read here, so that a missing or broken file stops the server at startup (exit status 2, with
    // "plugin static-sessions: <message>").
    explicit StaticSessions(yunity::PluginContext& context) : context_(context) {
        const auto& config = context.config();
        const auto file = config.FindMember("file");
        if (file == config.MemberEnd() || !file->value.IsString())
            throw std::runtime_error("setting \"file\" must name the sessions file");
        sessions_ = read_sessions(file->value.GetString());
    }

    void start() override {
        // The answer is at hand, so it is published at once. A backend with I/O answers later, from its own
        // callback, but must publish in the order its backend answered: the core keeps a session's latest
        // SessionResolved, whoever asked.
        context_.bus().subscribe<yunity::events::Authenticate>(
            context_.plugin_name(), [this](const yunity::events::Authenticate& e) {
                std::optional<std::string> user;
                if (auto it = sessions_.find(e.session_id); it != sessions_.end() && !it->second.empty())
                    user = it->second;
                context_.bus().publish(yunity::events::SessionResolved{e.session_id, std::move(user)});
            });
        // A resolver with a backend reports its link; this one is ready at once (the admin port's /readyz).
        context_.bus().publish(yunity::events::SourceState{context_.plugin_name(), true, "static file"});
        context_.logger()->info("resolving {} sessions from a static file", sessions_.size());
    }

    void stop() override {}

private:
    yunity::PluginContext& context_;
    std::map<std::string, std::string> sessions_;
};

}  // namespace

YUNITY_PLUGIN(StaticSessions, "static-sessions", "resolves sessions from a static JSON file")
