#include "config_reference.hpp"

#include <rapidjson/document.h>

namespace yunity::core {

namespace {

// Table cells hold one line; a '|' would end the cell.
std::string cell(std::string_view text) {
    std::string out;
    for (char ch : text) {
        if (ch == '|') out += "\\|";
        else if (ch == '\n' || ch == '\r') out += ' ';
        else out += ch;
    }
    return out;
}

std::string code(std::string_view text) {
    if (text.find('`') != std::string_view::npos) return "`` " + cell(text) + " ``";
    return "`" + cell(text) + "`";
}

// A plugin's default is a value as written in the config file (JSON), shown as code, or words ("none").
std::string plugin_default(const char* text) {
    rapidjson::Document value;
    value.Parse(text);
    return value.HasParseError() ? cell(text) : code(text);
}

std::string command_line(const CoreOption& o) {
    const std::string value = o.value_name.empty() ? "" : " " + o.value_name;
    std::string out;
    if (o.short_name) out = code(std::string{'-', o.short_name} + value) + ", ";
    return out + code("--" + o.long_name + value);
}

}  // namespace

ConfigReference::ConfigReference(const std::vector<CoreOption>& options) : options_(options) {}

void ConfigReference::add_plugin(std::string name, std::string description, const SettingsDescription* settings) {
    plugins_.push_back({std::move(name), std::move(description), settings});
}

std::string ConfigReference::markdown() const {
    std::string md =
        "# Configuration reference\n\n"
        "<!-- Printed by `yunity-sockets --config-reference` from the tables the server reads its options and "
        "settings with. -->\n\n"
        "The core's options are read from the config file (`--config FILE`), then from the environment, then from "
        "the command line, each winning over the one before; the plugins' settings from the config file, and from "
        "the environment where a setting has a variable, which wins. An unknown option or setting, or a value of "
        "the wrong kind, stops the server at startup with one line naming it, and exit status 2.\n\n"
        "## Command line and config file\n\n"
        "| command line | config file | environment | default | meaning |\n"
        "|---|---|---|---|---|\n";
    for (const auto& o : options_) {
        const std::string key = o.config_key.empty() ? "" : code(o.config_key);
        const std::string env = o.environment.empty() ? "" : code(o.environment);
        const std::string def = o.required ? "required" : o.default_value.empty() ? "" : code(o.default_value);
        md += "| " + command_line(o) + " | " + key + " | " + env + " | " + def + " | " + cell(o.meaning()) + " |\n";
    }
    md += "\nThe config file is a JSON object (comments and trailing commas allowed) with the keys above and, for "
          "each plugin, a member named after it that holds its settings (see below). A member that names no "
          "loaded plugin is warned about.\n\n"
          "## Environment variables\n\n"
          "| variable | sets |\n"
          "|---|---|\n";
    for (const auto& o : options_)
        if (!o.environment.empty())
            md += "| " + code(o.environment) + " | " + code("--" + o.long_name) + " (config file: " +
                  code(o.config_key) + ") |\n";
    for (const auto& p : plugins_)
        for (std::uint32_t i = 0; p.settings && i < p.settings->count; ++i)
            if (const auto& s = p.settings->settings[i]; s.environment)
                md += "| " + code(s.environment) + " | setting " + code(s.name) + " of " + code(p.name) + " |\n";
    md += "\nA variable that is set but empty counts as unset. A variable for a setting that is not a string is "
          "read as JSON.\n\n"
          "## Plugins\n\n"
          "Each plugin reads its settings from the member of the config file named after it, e.g. "
          "`{\"socketio\": {\"ping_interval_ms\": 10000}}`; a setting left out keeps its default.\n";
    for (const auto& p : plugins_) {
        md += "\n### " + code(p.name) + "\n\n";
        if (!p.description.empty()) md += cell(p.description) + ".\n\n";
        if (!p.settings) {
            md += "It does not describe its settings (its library exports no `yunity_plugin_settings`): see its "
                  "own documentation.\n";
            continue;
        }
        if (p.settings->count == 0) {
            md += "It takes no settings: its member of the config file, if any, must be empty.\n";
            continue;
        }
        md += "| setting | value | default | meaning |\n|---|---|---|---|\n";
        for (std::uint32_t i = 0; i < p.settings->count; ++i) {
            const auto& s = p.settings->settings[i];
            std::string meaning = cell(s.description);
            if (s.environment) meaning += "; " + code(s.environment) + " wins over it";
            md += "| " + code(s.name) + " | " + cell(s.type) + " | " + plugin_default(s.default_value) + " | " +
                  meaning + " |\n";
        }
    }
    return md;
}

}  // namespace yunity::core
