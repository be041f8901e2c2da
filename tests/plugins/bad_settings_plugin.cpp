// A plugin whose description of settings has a row without a name: the loader must refuse it rather than let
// the reference read a null pointer.
#include <yunity/plugin.hpp>

namespace {

class BadSettingsPlugin : public yunity::Plugin {
public:
    explicit BadSettingsPlugin(yunity::PluginContext&) {}
    void start() override {}
    void stop() override {}
};

const yunity::SettingDescription rows[] = {{nullptr, "a string", "\"\"", nullptr, "no name"}};
const yunity::SettingsDescription incomplete{1, rows};

struct Table {
    const yunity::SettingsDescription& description() const { return incomplete; }
};

}  // namespace

YUNITY_PLUGIN(BadSettingsPlugin, "bad-settings", "a test plugin with an incomplete description of settings")
YUNITY_PLUGIN_SETTINGS(Table{})
