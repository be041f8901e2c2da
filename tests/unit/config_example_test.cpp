// deploy/config.example.json promises every setting of the stock plugins with its default: hold it to the tables
// the settings are read with, as the configuration reference is, so that neither drifts from the code.
#include "core_option.hpp"
#include "plugin_library.hpp"

#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>

using namespace yunity;

namespace {

rapidjson::Document read_example() {
    std::ifstream in(YUNITY_SOURCE_DIR "/deploy/config.example.json");
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.str().c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

// A default given in words ("none", "any", "required") has no value to compare.
std::optional<rapidjson::Document> value_of(const char* default_value) {
    rapidjson::Document value;
    value.Parse(default_value);
    if (value.HasParseError()) return std::nullopt;
    return value;
}

}  // namespace

TEST_CASE("config.example.json: each stock plugin's section has every setting, with its default") {
    const auto example = read_example();
    const auto libraries = core::PluginLibrary::load_set(core::stock_plugins, YUNITY_BUILD_PLUGINDIR);
    for (const auto& lib : libraries) {
        const std::string name = lib.info().name;
        CAPTURE(name);
        REQUIRE(example.HasMember(name.c_str()));
        const auto& section = example[name.c_str()];
        REQUIRE(lib.settings() != nullptr);
        std::set<std::string> declared;
        for (std::uint32_t i = 0; i < lib.settings()->count; ++i) {
            const auto& s = lib.settings()->settings[i];
            const std::string setting = s.name;
            CAPTURE(setting);
            declared.insert(s.name);
            const auto value = value_of(s.default_value);
            // Settings whose default is only words may be left out (commented), or show an example value.
            if (!value) continue;
            REQUIRE(section.HasMember(s.name));
            CHECK(section[s.name] == *value);
        }
        for (const auto& m : section.GetObject())
            CHECK_MESSAGE(declared.count(m.name.GetString()) == 1, "not a setting: " << m.name.GetString());
    }
}

TEST_CASE("config.example.json: the core's keys, with their defaults") {
    const auto example = read_example();
    for (const auto& option : core::core_options()) {
        if (option.config_key.empty() || option.required || !example.HasMember(option.config_key.c_str())) continue;
        CAPTURE(option.config_key);
        const auto& v = example[option.config_key.c_str()];
        if (option.kind == core::CoreOption::Kind::plugin_list) {
            std::string joined;
            for (const auto& p : v.GetArray()) joined += (joined.empty() ? "" : ",") + std::string(p.GetString());
            CHECK(joined == option.default_value);
        } else {
            CHECK(std::string(v.GetString()) == option.default_value);
        }
    }
}
