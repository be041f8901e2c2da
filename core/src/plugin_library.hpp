#pragma once

#include <yunity/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace yunity::core {

// One plugin library, loaded once with RTLD_NOW and checked before anything in it is trusted: it must
// export the plugin entry, and its API version and build signature must equal the core's. It is released
// only when this object dies, which the core arranges after every object the library created is gone.
class PluginLibrary {
public:
    // `name_or_path`: a plugin name, looked up as `<dir>/<name>.so`, or a path to a library (anything with a
    // '/' or ending in ".so"). Throws StartupError naming the file and the reason.
    static PluginLibrary load(const std::string& name_or_path, const std::filesystem::path& dir);
    // Loads each of a set, in order, and refuses a second plugin of one name.
    static std::vector<PluginLibrary> load_set(const std::vector<std::string>& names_or_paths,
                                               const std::filesystem::path& dir);

    const PluginInfo& info() const { return *info_; }
    // What the plugin exports of its settings (YUNITY_PLUGIN_SETTINGS), or null: that symbol is optional.
    const SettingsDescription* settings() const { return settings_; }
    const std::filesystem::path& path() const { return path_; }

private:
    PluginLibrary(boost::dll::shared_library lib, const PluginInfo* info, const SettingsDescription* settings,
                  std::filesystem::path path);

    boost::dll::shared_library library_;
    const PluginInfo* info_;
    const SettingsDescription* settings_;
    std::filesystem::path path_;
};

}  // namespace yunity::core
