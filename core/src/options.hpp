#pragma once

#include <yunity/plugin.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace yunity::core {

// The stock set, loaded when neither the command line nor the config file names plugins.
inline const std::vector<std::string> stock_plugins{"socketio", "redis-session", "redis-pubsub", "admin-http"};

struct Options {
    enum class Action { run, help, version, config_reference };
    Action action = Action::run;
    std::string help_text;

    CoreSettings settings;
    std::vector<std::string> plugins = stock_plugins;  // names or paths
    std::string plugin_dir;                            // empty: next to the executable
    std::string log_level = "info";
    std::chrono::milliseconds shutdown_timeout{5000};
    std::string config_path;
    // The whole config file (an empty object without one); each plugin gets the member named after it.
    rapidjson::Document config;
};

using Getenv = std::function<const char*(const char*)>;

// Parses the command line, the environment (REDIS_URL) and the config file it names, in that order of
// precedence, as the table of core_options() says. Throws StartupError with one line naming the culprit.
Options parse_options(int argc, const char* const argv[], const Getenv& getenv);

}  // namespace yunity::core
