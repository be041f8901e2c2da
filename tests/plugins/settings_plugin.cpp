// A plugin that declares its settings with the SDK's table and exports their description: the loader reads it,
// and --config-reference prints it.
#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

namespace {

struct Settings {
    std::string greeting = "hello";
    std::size_t repeat = 1;
};

const yunity::SettingsTable<Settings>& settings_table() {
    static const yunity::SettingsTable<Settings> table{
        yunity::Setting<Settings>{"greeting", &Settings::greeting, "what it says | once"}.env("TEST_GREETING"),
        {"repeat", &Settings::repeat, "how many times"},
    };
    return table;
}

class SettingsPlugin : public yunity::Plugin {
public:
    explicit SettingsPlugin(yunity::PluginContext& c) : settings_(settings_table().parse(c.config())) {}
    void start() override {}
    void stop() override {}

private:
    Settings settings_;
};

}  // namespace

YUNITY_PLUGIN(SettingsPlugin, "with-settings", "a test plugin that describes its settings")
YUNITY_PLUGIN_SETTINGS(settings_table())
