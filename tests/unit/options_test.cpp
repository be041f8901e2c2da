#include "core_option.hpp"
#include "options.hpp"
#include "startup_error.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>

using namespace yunity::core;

namespace {

struct Env {
    std::map<std::string, std::string> vars;
    Getenv getenv() const {
        return [this](const char* n) -> const char* {
            auto it = vars.find(n);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

Options parse(std::vector<std::string> args, const Env& env = {}) {
    args.insert(args.begin(), "yunity-sockets");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    return parse_options(static_cast<int>(argv.size()), argv.data(), env.getenv());
}

std::string refusal(std::vector<std::string> args, const Env& env = {}) {
    try {
        parse(std::move(args), env);
    } catch (const StartupError& e) {
        return e.what();
    }
    return "(accepted)";
}

std::string write_file(const std::string& name, const std::string& text) {
    auto path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/yunity-options-" + name;
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST_CASE("the original's -w and -p load the stock set with the defaults") {
    auto o = parse({"-w", "5000", "-p", "5001"});
    CHECK(o.action == Options::Action::run);
    CHECK(o.settings.client_port == 5000);
    CHECK(o.settings.admin_port == 5001);
    CHECK(o.settings.client_bind == "0.0.0.0");
    CHECK(o.settings.admin_bind == "127.0.0.1");
    CHECK(o.settings.redis_url == "redis://127.0.0.1:6379/0");
    CHECK(o.plugins == stock_plugins);
    CHECK(o.log_level == "info");
}

TEST_CASE("every option, and REDIS_URL from the environment under --redis") {
    Env env{{{"REDIS_URL", "redis://env:1/2"}}};
    CHECK(parse({"-w", "1", "-p", "2"}, env).settings.redis_url == "redis://env:1/2");
    auto o = parse({"--ws-port=1", "-p", "2", "--redis", "redis://cli:3/4", "--plugins", "socketio,/x/y.so",
                    "--plugin-dir", "/pd", "--log-level", "debug", "--bind", "127.0.0.2", "--admin-bind", "::1"},
                   env);
    CHECK(o.settings.redis_url == "redis://cli:3/4");
    CHECK(o.plugins == std::vector<std::string>{"socketio", "/x/y.so"});
    CHECK(o.plugin_dir == "/pd");
    CHECK(o.log_level == "debug");
    CHECK(o.settings.client_bind == "127.0.0.2");
    CHECK(o.settings.admin_bind == "::1");
    CHECK(parse({"--help"}).action == Options::Action::help);
    CHECK(parse({"--version"}).action == Options::Action::version);
}

TEST_CASE("the command line's refusals name the culprit") {
    CHECK(refusal({"-w", "5000"}) == "missing -p PORT, the port for the admin report (see --help)");
    CHECK(refusal({"-p", "5000"}) == "missing -w PORT, the port for socket.io clients (see --help)");
    CHECK(refusal({"-w", "5000", "-p", "5001", "--frobnicate"}).find("frobnicate") != std::string::npos);
    CHECK(refusal({"-w", "70000", "-p", "1"}) == "-w: port 70000 is out of range 0-65535");
    CHECK(refusal({"-w", "abc", "-p", "1"}).find("ws-port") != std::string::npos);
    CHECK(refusal({"-w", "1", "-p", "2", "stray"}) == "unexpected argument 'stray' (see --help)");
    CHECK(refusal({"-w", "1", "-p", "2", "--log-level", "loud"}).find("unknown log level \"loud\"") == 0);
    CHECK(refusal({"-w", "1", "-p", "2", "--plugins", ","}) == "--plugins names no plugin");
}

TEST_CASE("the config file: plugin sections, core keys, and its refusals") {
    auto good = write_file("good.json", R"({
        // comments are allowed
        "plugins": ["socketio", "admin-http"],
        "log_level": "warn",
        "redis": "redis://cfg:9/1",
        "socketio": {"ping_interval_ms": 1000},
    })");
    auto o = parse({"-w", "1", "-p", "2", "--config", good});
    CHECK(o.plugins == std::vector<std::string>{"socketio", "admin-http"});
    CHECK(o.log_level == "warn");
    CHECK(o.settings.redis_url == "redis://cfg:9/1");
    CHECK(o.config["socketio"]["ping_interval_ms"].GetInt() == 1000);
    // The command line wins over the file.
    CHECK(parse({"-w", "1", "-p", "2", "--config", good, "--log-level", "error"}).log_level == "error");

    auto bad_json = write_file("bad.json", R"({"socketio": {)");
    CHECK(refusal({"-w", "1", "-p", "2", "--config", bad_json}).find("config file " + bad_json + ": not valid JSON") == 0);
    auto bad_type = write_file("type.json", R"({"socketio": 5})");
    CHECK(refusal({"-w", "1", "-p", "2", "--config", bad_type}) ==
          "config file " + bad_type + ": \"socketio\" must be an object (the settings of the plugin of that name)");
    auto bad_plugins = write_file("plugins.json", R"({"plugins": "socketio"})");
    CHECK(refusal({"-w", "1", "-p", "2", "--config", bad_plugins}).find("\"plugins\" must be an array") !=
          std::string::npos);
    // Keys and values from the file are quoted as JSON quotes them: the refusal stays one line.
    auto newline_key = write_file("newline.json", "{\"a\\nb\": 1}");
    CHECK(refusal({"-w", "1", "-p", "2", "--config", newline_key}) ==
          "config file " + newline_key + ": \"a\\nb\" must be an object (the settings of the plugin of that name)");
    auto newline_level = write_file("level.json", "{\"log_level\": \"lo\\nud\"}");
    CHECK(refusal({"-w", "1", "-p", "2", "--config", newline_level}).find("unknown log level \"lo\\nud\" (") == 0);
    CHECK(refusal({"-w", "1", "-p", "2", "--config", "/nonexistent.json"}) ==
          "config file /nonexistent.json: cannot be read");
}

TEST_CASE("--config-reference needs no ports and honours the plugin options") {
    auto o = parse({"--config-reference"});
    CHECK(o.action == Options::Action::config_reference);
    CHECK(o.plugins == stock_plugins);
    o = parse({"--config-reference", "--plugins", "socketio,/x/y.so", "--plugin-dir", "/pd"});
    CHECK(o.plugins == std::vector<std::string>{"socketio", "/x/y.so"});
    CHECK(o.plugin_dir == "/pd");
    auto file = write_file("reference.json", R"({"plugins": ["memory-session"], "plugin_dir": "/from-file"})");
    o = parse({"--config-reference", "--config", file});
    CHECK(o.plugins == std::vector<std::string>{"memory-session"});
    CHECK(o.plugin_dir == "/from-file");
}

TEST_CASE("the config file's core keys: every option's key, typed as its option; ports from the file") {
    auto all = write_file("core-keys.json", R"({"client_port": 5000, "admin_port": 5001, "bind": "127.0.0.3",
        "admin_bind": "::1", "plugin_dir": "/pd", "redis": "redis://file:1/0", "plugins": ["a", "b"],
        "log_level": "debug", "shutdown_timeout_ms": 1500})");
    auto o = parse({"--config", all});
    CHECK(o.shutdown_timeout == std::chrono::milliseconds(1500));
    CHECK(o.settings.client_port == 5000);
    CHECK(o.settings.admin_port == 5001);
    CHECK(o.settings.client_bind == "127.0.0.3");
    CHECK(o.settings.admin_bind == "::1");
    CHECK(o.plugin_dir == "/pd");
    CHECK(o.plugins == std::vector<std::string>{"a", "b"});
    CHECK(o.log_level == "debug");
    // The environment wins over the file, and the command line over both; an empty variable counts as unset.
    CHECK(parse({"--config", all}, Env{{{"REDIS_URL", "redis://env:2/0"}}}).settings.redis_url == "redis://env:2/0");
    CHECK(parse({"--config", all}, Env{{{"REDIS_URL", ""}}}).settings.redis_url == "redis://file:1/0");
    CHECK(parse({"--config", all, "-w", "7"}).settings.client_port == 7);

    auto refused = [](const char* name, const char* json) {
        auto path = write_file(name, json);
        return refusal({"--config", path});
    };
    CHECK(refused("bind.json", R"({"bind": 5})").find("\"bind\" must be a string") != std::string::npos);
    CHECK(refused("port.json", R"({"client_port": 70000})").find("\"client_port\" must be a port number (0-65535)") !=
          std::string::npos);
    CHECK(refused("list.json", R"({"plugins": ["a", ""]})").find("\"plugins\" must be an array of plugin names") !=
          std::string::npos);
    CHECK(refused("ms.json", R"({"shutdown_timeout_ms": 0})").find("\"shutdown_timeout_ms\" must be a positive integer, at most 2147483647") !=
          std::string::npos);
    CHECK(refused("ms2.json", R"({"shutdown_timeout_ms": 2147483648})").find("must be a positive integer") !=
          std::string::npos);
}

TEST_CASE("--shutdown-timeout: 5 s by default, milliseconds from 1 to 2^31-1") {
    CHECK(parse({"-w", "1", "-p", "2"}).shutdown_timeout == std::chrono::milliseconds(5000));
    CHECK(parse({"-w", "1", "-p", "2", "--shutdown-timeout", "250"}).shutdown_timeout == std::chrono::milliseconds(250));
    CHECK(refusal({"-w", "1", "-p", "2", "--shutdown-timeout", "0"}) ==
          "--shutdown-timeout: 0 is not a positive integer, at most 2147483647");
    CHECK(refusal({"-w", "1", "-p", "2", "--shutdown-timeout", "2147483648"}) ==
          "--shutdown-timeout: 2147483648 is not a positive integer, at most 2147483647");
    CHECK(refusal({"-w", "1", "-p", "2", "--shutdown-timeout", "soon"}).find("shutdown-timeout") != std::string::npos);
}

TEST_CASE("--help is made from the option table: every option, with its default or variable") {
    // program_options wraps lines anywhere, even inside a word: compare without white space.
    auto squeezed = [](std::string text) {
        std::erase_if(text, [](char ch) { return ch == ' ' || ch == '\n'; });
        return text;
    };
    const auto help = squeezed(parse({"--help"}).help_text);
    auto has = [&](const std::string& part) { return help.find(squeezed(part)) != std::string::npos; };
    for (const auto& option : core_options()) CHECK(has("--" + option.long_name));
    CHECK(has("-w [ --ws-port ] PORT the port for socket.io clients; 0 picks a free one, logged at start (required)"));
    CHECK(has("--bind ADDR the address the client port binds (default 0.0.0.0)"));
    CHECK(has("(default $REDIS_URL, else redis://127.0.0.1:6379/0)"));
}

TEST_CASE("the option table: what parse_options relies on") {
    for (const auto& option : core_options()) {
        CAPTURE(option.long_name);
        // A value from the environment is applied as text.
        if (!option.environment.empty()) CHECK(option.kind == CoreOption::Kind::text);
        // A key of the config file, or a value, is applied; only the switches and --config are handled apart.
        if (!option.config_key.empty()) CHECK(option.apply);
        if (option.kind == CoreOption::Kind::flag) CHECK_FALSE(option.apply);
        if (option.kind != CoreOption::Kind::flag && option.long_name != "config") CHECK(option.apply);
        CHECK((option.kind == CoreOption::Kind::flag) == option.value_name.empty());
    }
}
