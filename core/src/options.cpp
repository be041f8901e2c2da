#include "options.hpp"

#include "startup_error.hpp"

#include <boost/program_options.hpp>
#include <rapidjson/error/en.h>
#include <spdlog/common.h>

#include <fstream>
#include <sstream>

namespace po = boost::program_options;

namespace yunity::core {

namespace {

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

std::uint16_t port_value(const std::string& what, long long v) {
    if (v < 0 || v > 65535) throw StartupError(what + ": port " + std::to_string(v) + " is out of range 0-65535");
    return static_cast<std::uint16_t>(v);
}

void check_log_level(const std::string& level) {
    if (spdlog::level::from_str(level) == spdlog::level::off && level != "off")
        throw StartupError("unknown log level '" + level +
                           "' (expected trace, debug, info, warn, error, critical or off)");
}

// Reads and checks the config file; core keys are typed, every other member must be an object (a plugin's
// section).
rapidjson::Document read_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StartupError("config file " + path + ": cannot be read");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(
        text.data(), text.size());
    if (doc.HasParseError())
        throw StartupError("config file " + path + ": not valid JSON at offset " +
                           std::to_string(doc.GetErrorOffset()) + ": " + rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) throw StartupError("config file " + path + ": the top level must be an object");
    auto fail = [&](const std::string& key, const char* expected) {
        throw StartupError("config file " + path + ": \"" + key + "\" must be " + expected);
    };
    for (auto& m : doc.GetObject()) {
        const std::string key(m.name.GetString(), m.name.GetStringLength());
        const auto& v = m.value;
        if (key == "plugins") {
            if (!v.IsArray()) fail(key, "an array of plugin names or paths");
            for (auto& p : v.GetArray())
                if (!p.IsString() || p.GetStringLength() == 0) fail(key, "an array of plugin names or paths");
        } else if (key == "plugin_dir" || key == "log_level" || key == "redis" || key == "bind" ||
                   key == "admin_bind") {
            if (!v.IsString()) fail(key, "a string");
        } else if (key == "client_port" || key == "admin_port") {
            if (!v.IsInt() || v.GetInt() < 0 || v.GetInt() > 65535) fail(key, "a port number (0-65535)");
        } else if (!v.IsObject()) {
            fail(key, "an object (the settings of the plugin of that name)");
        }
    }
    return doc;
}

}  // namespace

Options parse_options(int argc, const char* const argv[], const Getenv& getenv) {
    po::options_description desc(
        "yunity-sockets: pushes notifications from redis to socket.io clients\n\n"
        "Usage: yunity-sockets -w PORT -p PORT [options]\n\nOptions");
    // clang-format off
    desc.add_options()
        ("help,h", "print this help and exit")
        ("version,V", "print the version and exit")
        ("ws-port,w", po::value<long long>(), "port for socket.io clients (required; 0 picks a free one)")
        ("admin-port,p", po::value<long long>(), "port for the admin HTTP report (required; 0 picks a free one)")
        ("bind", po::value<std::string>(), "address the client port binds (default 0.0.0.0, all interfaces)")
        ("admin-bind", po::value<std::string>(), "address the admin port binds (default 127.0.0.1)")
        ("redis", po::value<std::string>(), "redis://[user:pass@]host[:port][/db] (default $REDIS_URL, "
                                            "else redis://127.0.0.1:6379/0)")
        ("plugins", po::value<std::string>(), "comma-separated plugin names or paths: the whole set to load "
                                              "(default socketio,redis-session,redis-pubsub,admin-http)")
        ("plugin-dir", po::value<std::string>(), "where plugins named without a path are found "
                                                 "(default: beside the executable)")
        ("config", po::value<std::string>(), "JSON config file; each plugin reads the member named after it")
        ("log-level", po::value<std::string>(), "trace, debug, info, warn, error, critical or off (default info)");
    // clang-format on

    // Positional arguments are collected only to be refused by name.
    po::options_description hidden;
    hidden.add_options()("unexpected", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description positional;
    positional.add("unexpected", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw StartupError(std::string(e.what()) + " (see --help)");
    }
    if (vm.count("unexpected"))
        throw StartupError("unexpected argument '" + vm["unexpected"].as<std::vector<std::string>>().front() +
                           "' (see --help)");

    Options o;
    o.config.SetObject();
    if (vm.count("help")) {
        std::ostringstream text;
        text << desc;
        o.action = Options::Action::help;
        o.help_text = text.str();
        return o;
    }
    if (vm.count("version")) {
        o.action = Options::Action::version;
        return o;
    }

    if (vm.count("config")) {
        o.config_path = vm["config"].as<std::string>();
        o.config = read_config(o.config_path);
        auto str = [&](const char* key, std::string& into) {
            if (o.config.HasMember(key)) into = o.config[key].GetString();
        };
        str("plugin_dir", o.plugin_dir);
        str("log_level", o.log_level);
        str("redis", o.settings.redis_url);
        str("bind", o.settings.client_bind);
        str("admin_bind", o.settings.admin_bind);
        if (o.config.HasMember("plugins")) {
            o.plugins.clear();
            for (auto& p : o.config["plugins"].GetArray()) o.plugins.emplace_back(p.GetString());
        }
    }
    const bool port_in_config = o.config.HasMember("client_port"), admin_in_config = o.config.HasMember("admin_port");
    if (port_in_config) o.settings.client_port = static_cast<std::uint16_t>(o.config["client_port"].GetInt());
    if (admin_in_config) o.settings.admin_port = static_cast<std::uint16_t>(o.config["admin_port"].GetInt());

    if (const char* env = getenv("REDIS_URL"); env && *env) o.settings.redis_url = env;

    if (vm.count("ws-port")) o.settings.client_port = port_value("-w", vm["ws-port"].as<long long>());
    else if (!port_in_config) throw StartupError("missing -w PORT, the port for socket.io clients (see --help)");
    if (vm.count("admin-port")) o.settings.admin_port = port_value("-p", vm["admin-port"].as<long long>());
    else if (!admin_in_config) throw StartupError("missing -p PORT, the port for the admin report (see --help)");
    if (vm.count("bind")) o.settings.client_bind = vm["bind"].as<std::string>();
    if (vm.count("admin-bind")) o.settings.admin_bind = vm["admin-bind"].as<std::string>();
    if (vm.count("redis")) o.settings.redis_url = vm["redis"].as<std::string>();
    if (vm.count("plugin-dir")) o.plugin_dir = vm["plugin-dir"].as<std::string>();
    if (vm.count("log-level")) o.log_level = vm["log-level"].as<std::string>();
    if (vm.count("plugins")) {
        o.plugins = split_list(vm["plugins"].as<std::string>());
        if (o.plugins.empty()) throw StartupError("--plugins names no plugin");
    }
    check_log_level(o.log_level);
    return o;
}

}  // namespace yunity::core
