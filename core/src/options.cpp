#include "options.hpp"

#include "core_option.hpp"
#include "startup_error.hpp"

#include <yunity/quoted.hpp>

#include <rapidjson/error/en.h>
#include <spdlog/common.h>
#include <boost/program_options.hpp>

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>

namespace po = boost::program_options;

namespace yunity::core {

namespace {

using Kind = CoreOption::Kind;

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
        throw StartupError("unknown log level " + quoted(level) +
                           " (expected trace, debug, info, warn, error, critical or off)");
}

const CoreOption* option_for_key(const std::string& key) {
    for (const auto& o : core_options())
        if (!o.config_key.empty() && o.config_key == key) return &o;
    return nullptr;
}

// One option's line of --help: what it means, then where its value comes from when not given.
std::string help_line(const CoreOption& o) {
    const std::string meaning = o.meaning();
    if (o.required) return meaning + " (required)";
    std::string source = o.default_value;
    if (!o.environment.empty()) source = "$" + o.environment + (source.empty() ? "" : ", else " + source);
    return source.empty() ? meaning : meaning + " (default " + source + ")";
}

po::options_description describe_options() {
    po::options_description desc(
        "yunity-sockets: pushes notifications from redis to socket.io clients\n\n"
        "Usage: yunity-sockets -w PORT -p PORT [options]\n\nOptions");
    for (const auto& o : core_options()) {
        const std::string spec = o.short_name ? o.long_name + ',' + o.short_name : o.long_name;
        const std::string help = help_line(o);
        if (o.kind == Kind::flag) desc.add_options()(spec.c_str(), help.c_str());
        else if (o.kind == Kind::port || o.kind == Kind::milliseconds || o.kind == Kind::whole_number)
            desc.add_options()(spec.c_str(), po::value<long long>()->value_name(o.value_name), help.c_str());
        else desc.add_options()(spec.c_str(), po::value<std::string>()->value_name(o.value_name), help.c_str());
    }
    return desc;
}

// Reads and checks the config file: the core's keys must have the types of their options, every other member
// must be an object (a plugin's section).
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
                           std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) throw StartupError("config file " + path + ": the top level must be an object");
    for (auto& m : doc.GetObject()) {
        const std::string key(m.name.GetString(), m.name.GetStringLength());
        const auto& v = m.value;
        const CoreOption* option = option_for_key(key);
        bool valid = false;
        if (!option) valid = v.IsObject();
        else if (option->kind == Kind::port) valid = v.IsInt() && v.GetInt() >= 0 && v.GetInt() <= 65535;
        else if (option->kind == Kind::milliseconds) valid = v.IsInt() && v.GetInt() > 0;
        else if (option->kind == Kind::whole_number) valid = v.IsInt() && v.GetInt() >= 0;
        else if (option->kind == Kind::plugin_list) {
            valid = v.IsArray();
            if (valid)
                for (auto& p : v.GetArray()) valid = valid && p.IsString() && p.GetStringLength() != 0;
        } else valid = v.IsString();
        if (!valid) {
            const std::string expected =
                option ? option->config_type() : "an object (the settings of the plugin of that name)";
            throw StartupError("config file " + path + ": " + quoted(key) + " must be " + expected);
        }
    }
    return doc;
}

OptionValue config_value(const CoreOption& option, const rapidjson::Value& v) {
    if (option.kind == Kind::port) return static_cast<std::uint16_t>(v.GetInt());
    if (option.kind == Kind::milliseconds) return std::chrono::milliseconds(v.GetInt());
    if (option.kind == Kind::whole_number) return std::int64_t{v.GetInt()};
    if (option.kind == Kind::plugin_list) {
        std::vector<std::string> list;
        for (auto& p : v.GetArray()) list.emplace_back(p.GetString(), p.GetStringLength());
        return list;
    }
    return std::string(v.GetString(), v.GetStringLength());
}

OptionValue command_line_value(const CoreOption& option, const po::variable_value& v) {
    if (option.kind == Kind::port) return port_value(option.flag(), v.as<long long>());
    if (option.kind == Kind::milliseconds) {
        const auto ms = v.as<long long>();
        if (ms <= 0 || ms > std::numeric_limits<std::int32_t>::max())
            throw StartupError(option.flag() + ": " + std::to_string(ms) + " is not " + option.config_type());
        return std::chrono::milliseconds(ms);
    }
    if (option.kind == Kind::whole_number) {
        const auto n = v.as<long long>();
        if (n < 0 || n > std::numeric_limits<std::int32_t>::max())
            throw StartupError(option.flag() + ": " + std::to_string(n) + " is not " + option.config_type());
        return std::int64_t{n};
    }
    if (option.kind == Kind::plugin_list) {
        auto list = split_list(v.as<std::string>());
        if (list.empty()) throw StartupError(option.flag() + " names no plugin");
        return list;
    }
    return v.as<std::string>();
}

}  // namespace

Options parse_options(int argc, const char* const argv[], const Getenv& getenv) {
    const po::options_description desc = describe_options();
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
    // The reference describes what the rest of the command line would load, so it needs no ports.
    if (vm.count("config-reference")) o.action = Options::Action::config_reference;

    if (vm.count("config")) {
        o.config_path = vm["config"].as<std::string>();
        o.config = read_config(o.config_path);
    }
    // Each option from the weakest source to the strongest: the config file, the environment, the command line.
    for (const auto& option : core_options()) {
        if (!option.apply) continue;
        bool given = false;
        if (!option.config_key.empty()) {
            if (auto it = o.config.FindMember(option.config_key.c_str()); it != o.config.MemberEnd()) {
                option.apply(o, config_value(option, it->value));
                given = true;
            }
        }
        if (!option.environment.empty()) {
            // Only text options have a variable (the table's test checks it): the text is the value.
            if (const char* env = getenv(option.environment.c_str()); env && *env) {
                option.apply(o, std::string(env));
                given = true;
            }
        }
        if (vm.count(option.long_name)) {
            option.apply(o, command_line_value(option, vm[option.long_name]));
            given = true;
        }
        if (option.required && !given && o.action == Options::Action::run)
            throw StartupError("missing " + option.flag() + " " + option.value_name + ", " + option.description +
                               " (see --help)");
    }
    check_log_level(o.log_level);
    return o;
}

}  // namespace yunity::core
