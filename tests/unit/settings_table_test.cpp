// The SDK's settings helper (yunity/setting.hpp, yunity/settings_table.hpp): reading a section over the
// defaults, every kind of value and refinement, the refusals' wording, the environment, and the description the
// configuration reference is printed from.
#include <yunity/settings_table.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using yunity::Setting;
using yunity::SettingsTable;

namespace {

struct Config {
    bool enabled = true;
    std::string name = "say \"hi\"";
    std::string file;
    std::string optional;
    std::size_t count = 500;
    std::uint32_t small = 7;
    std::chrono::milliseconds timeout{2000};
    std::chrono::seconds period{3};
    std::vector<std::string> paths{"/a/", "/b/"};
    std::vector<std::string> tags;
    std::string secret;
    std::size_t limit = 10;
};

using S = Setting<Config>;

const SettingsTable<Config>& table() {
    static const SettingsTable<Config> t{
        {"enabled", &Config::enabled, "a switch"},
        {"name", &Config::name, "any text"},
        S{"file", &Config::file, "a file"}.non_empty(),
        S{"optional", &Config::optional, "text that may be empty"}.default_text("none"),
        {"count", &Config::count, "a count"},
        {"small", &Config::small, "a 32-bit count"},
        {"timeout_ms", &Config::timeout, "a duration in milliseconds"},
        {"period_s", &Config::period, "a duration in seconds"},
        S{"paths", &Config::paths, "paths | pipes"}.non_empty().each("paths starting with '/'",
                                                                     [](std::string& p) {
                                                                         if (p.empty() || p.front() != '/') return false;
                                                                         if (p.back() != '/') p += '/';
                                                                         return true;
                                                                     }),
        {"tags", &Config::tags, "any strings"},
        S{"secret", &Config::secret, "from the environment"}.non_empty().env("TEST_SECRET"),
        S{"limit", &Config::limit, "bounded"}.at_most(100).env("TEST_LIMIT"),
    };
    return t;
}

struct Env {
    std::map<std::string, std::string> vars;
    yunity::Getenv getenv() const {
        return [this](const char* n) -> const char* {
            auto it = vars.find(n);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

Config parse(const char* json, const Env& env = {}) {
    rapidjson::Document doc;
    doc.Parse(json);
    REQUIRE_FALSE(doc.HasParseError());
    return table().parse(doc, env.getenv());
}

std::string refusal(const char* json, const Env& env = {}) {
    try {
        parse(json, env);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(accepted)";
}

const yunity::SettingDescription& row(const char* name) {
    const auto& d = table().description();
    for (std::uint32_t i = 0; i < d.count; ++i)
        if (std::string(d.settings[i].name) == name) return d.settings[i];
    FAIL("no row " << name);
    return d.settings[0];
}

}  // namespace

TEST_CASE("settings: an empty or absent section keeps every default") {
    for (const char* json : {"{}", "null"}) {
        const Config c = parse(json);
        CHECK(c.enabled);
        CHECK(c.name == "say \"hi\"");
        CHECK(c.count == 500);
        CHECK(c.timeout == std::chrono::seconds(2));
        CHECK(c.paths == std::vector<std::string>{"/a/", "/b/"});
        CHECK(c.secret.empty());
    }
}

TEST_CASE("settings: each kind of value is read into its member") {
    const Config c = parse(R"({"enabled": false, "name": "", "file": "/etc/x", "count": 3, "small": 4294967295,
        "timeout_ms": 250, "period_s": 60, "paths": ["/x", "/y/"], "tags": ["", "t"], "secret": "s",
        "limit": 100})");
    CHECK_FALSE(c.enabled);
    CHECK(c.name.empty());
    CHECK(c.file == "/etc/x");
    CHECK(c.count == 3);
    CHECK(c.small == 4294967295u);
    CHECK(c.timeout == std::chrono::milliseconds(250));
    CHECK(c.period == std::chrono::minutes(1));
    CHECK(c.paths == std::vector<std::string>{"/x/", "/y/"});  // the item rule normalized "/x"
    CHECK(c.tags == std::vector<std::string>{"", "t"});
    CHECK(c.secret == "s");
    CHECK(c.limit == 100);
}

TEST_CASE("settings: a value of the wrong kind is refused naming the setting and what it must be") {
    CHECK(refusal(R"({"enabled": 1})") == "setting \"enabled\" must be true or false");
    CHECK(refusal(R"({"name": 5})") == "setting \"name\" must be a string");
    CHECK(refusal(R"({"file": ""})") == "setting \"file\" must be a non-empty string");
    CHECK(refusal(R"({"count": 0})") == "setting \"count\" must be a positive integer");
    CHECK(refusal(R"({"count": -1})") == "setting \"count\" must be a positive integer");
    CHECK(refusal(R"({"count": 1.5})") == "setting \"count\" must be a positive integer");
    CHECK(refusal(R"({"count": "5"})") == "setting \"count\" must be a positive integer");
    CHECK(refusal(R"({"small": 4294967296})") == "setting \"small\" must be a positive integer, at most 4294967295");
    CHECK(refusal(R"({"limit": 101})") == "setting \"limit\" must be a positive integer, at most 100");
    CHECK(refusal(R"({"timeout_ms": 0})") == "setting \"timeout_ms\" must be a positive integer, at most 2147483647");
    // Durations stop at 2^31-1 ms, whatever their unit: beyond, a timer's conversion to nanoseconds overflows.
    CHECK(refusal(R"({"timeout_ms": 2147483648})") ==
          "setting \"timeout_ms\" must be a positive integer, at most 2147483647");
    CHECK(refusal(R"({"timeout_ms": 9223372036854775807})") ==
          "setting \"timeout_ms\" must be a positive integer, at most 2147483647");
    CHECK(refusal(R"({"period_s": 2147484})") == "setting \"period_s\" must be a positive integer, at most 2147483");
    const std::string paths = "setting \"paths\" must be a non-empty array of paths starting with '/'";
    CHECK(refusal(R"({"paths": []})") == paths);
    CHECK(refusal(R"({"paths": "/x"})") == paths);
    CHECK(refusal(R"({"paths": ["x"]})") == paths);
    CHECK(refusal(R"({"paths": ["/x", 1]})") == paths);
    CHECK(refusal(R"({"tags": [1]})") == "setting \"tags\" must be an array of strings");
}

TEST_CASE("settings: an unknown setting is refused with the known ones; a section must be an object") {
    CHECK(refusal(R"({"enabeld": true})") ==
          "unknown setting \"enabeld\" (known: enabled, name, file, optional, count, small, timeout_ms, period_s, "
          "paths, tags, secret, limit)");
    // A key is quoted as JSON quotes it: a newline in it cannot split the one-line refusal.
    CHECK(refusal("{\"a\\nb\\\"\": 1}").find("unknown setting \"a\\nb\\\"\" (known: ") == 0);
    CHECK(refusal("[1]") == "the settings must be a JSON object");
    CHECK(refusal("\"x\"") == "the settings must be a JSON object");

    struct None {};
    static const SettingsTable<None> none{};
    rapidjson::Document doc;
    doc.Parse(R"({"path": "/x"})");
    CHECK_THROWS_WITH_AS(none.parse(doc), "unknown setting \"path\" (it takes no settings)", std::runtime_error);
    doc.Parse("{}");
    CHECK_NOTHROW(none.parse(doc));
    CHECK(none.description().count == 0);
}

TEST_CASE("settings: an environment variable wins over the section; empty counts as unset") {
    Env env{{{"TEST_SECRET", "from-env"}, {"TEST_LIMIT", "42"}}};
    Config c = parse(R"({"secret": "from-file", "limit": 5})", env);
    CHECK(c.secret == "from-env");
    CHECK(c.limit == 42);  // not a string: read as JSON

    env.vars = {{"TEST_SECRET", ""}, {"TEST_LIMIT", ""}};
    c = parse(R"({"secret": "from-file", "limit": 5})", env);
    CHECK(c.secret == "from-file");
    CHECK(c.limit == 5);

    // A string is taken as it is, whatever it looks like.
    env.vars = {{"TEST_SECRET", "[\"not json\""}};
    CHECK(parse("{}", env).secret == "[\"not json\"");

    env.vars = {{"TEST_LIMIT", "many"}};
    CHECK(refusal("{}", env) ==
          "environment variable TEST_LIMIT (setting \"limit\") must be a positive integer, at most 100, written as "
          "JSON");
    env.vars = {{"TEST_LIMIT", "1000"}};
    CHECK(refusal("{}", env).find("environment variable TEST_LIMIT") == 0);
}

TEST_CASE("settings: a required setting must come from the section or the environment") {
    struct Needs {
        std::string file;
    };
    static const SettingsTable<Needs> needs{
        Setting<Needs>{"file", &Needs::file, "the file"}.non_empty().required().env("TEST_FILE"),
    };
    rapidjson::Document doc;
    doc.Parse("{}");
    CHECK_THROWS_WITH_AS(needs.parse(doc, [](const char*) { return nullptr; }),
                         "setting \"file\" is required (a non-empty string)", std::runtime_error);
    CHECK(needs.parse(doc, [](const char*) { return "/from/env"; }).file == "/from/env");
    doc.Parse(R"({"file": "/from/file"})");
    CHECK(needs.parse(doc, [](const char*) { return nullptr; }).file == "/from/file");
    CHECK(std::string(needs.description().settings[0].default_value) == "required");
}

TEST_CASE("settings: the description says each setting's type, default, variable and meaning") {
    const auto& d = table().description();
    REQUIRE(d.count == 12);
    CHECK(std::string(d.settings[0].name) == "enabled");  // in declaration order

    auto check = [](const char* name, const char* type, const char* default_value) {
        const auto& r = row(name);
        CHECK(std::string(r.type) == type);
        CHECK(std::string(r.default_value) == default_value);
    };
    check("enabled", "true or false", "true");
    check("name", "a string", R"("say \"hi\"")");  // as JSON
    check("file", "a non-empty string", "none");
    check("optional", "a string", "none");  // default_text
    check("count", "a positive integer", "500");
    check("small", "a positive integer, at most 4294967295", "7");
    check("timeout_ms", "a positive integer, at most 2147483647", "2000");
    check("period_s", "a positive integer, at most 2147483", "3");
    check("paths", "a non-empty array of paths starting with '/'", R"(["/a/", "/b/"])");
    check("tags", "an array of strings", "[]");
    check("limit", "a positive integer, at most 100", "10");

    CHECK(std::string(row("paths").description) == "paths | pipes");
    CHECK(row("name").environment == nullptr);
    CHECK(std::string(row("secret").environment) == "TEST_SECRET");
}

TEST_CASE("settings: a declaration that does not fit its setting is a logic error") {
    CHECK_THROWS_WITH_AS(S("enabled", &Config::enabled, "").non_empty(),
                         "setting \"enabled\": non_empty() fits strings and arrays", std::logic_error);
    CHECK_THROWS_WITH_AS(S("count", &Config::count, "").non_empty(),
                         "setting \"count\": non_empty() fits strings and arrays", std::logic_error);
    CHECK_THROWS_WITH_AS(S("name", &Config::name, "").at_most(3), "setting \"name\": at_most() fits integers",
                         std::logic_error);
    CHECK_THROWS_WITH_AS(S("name", &Config::name, "").each("x", [](std::string&) { return true; }),
                         "setting \"name\": each() fits arrays", std::logic_error);
    CHECK_THROWS_WITH_AS((SettingsTable<Config>{{"count", &Config::count, ""}, {"count", &Config::limit, ""}}),
                         "setting \"count\" is declared twice", std::logic_error);
}
