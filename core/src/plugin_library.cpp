#include "plugin_library.hpp"

#include "startup_error.hpp"

#include <dlfcn.h>

#include <cstring>
#include <set>

namespace yunity::core {

namespace {

bool looks_like_path(const std::string& s) {
    return s.find('/') != std::string::npos || (s.size() > 3 && s.compare(s.size() - 3, 3, ".so") == 0);
}

}  // namespace

PluginLibrary::PluginLibrary(boost::dll::shared_library lib, const PluginInfo* info,
                             const SettingsDescription* settings, std::filesystem::path path)
    : library_(std::move(lib)), info_(info), settings_(settings), path_(std::move(path)) {}

PluginLibrary PluginLibrary::load(const std::string& name_or_path, const std::filesystem::path& dir) {
    std::filesystem::path path = looks_like_path(name_or_path) ? std::filesystem::path(name_or_path)
                                                               : dir / (name_or_path + ".so");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        if (looks_like_path(name_or_path)) throw StartupError("plugin " + path.string() + ": no such file");
        throw StartupError("plugin '" + name_or_path + "' not found (looked for " + path.string() +
                           "; see --plugin-dir)");
    }
    path = std::filesystem::absolute(path, ec);

    boost::dll::shared_library lib;
    boost::dll::fs::error_code load_ec;
    lib.load(boost::dll::fs::path(path.string()), boost::dll::load_mode::rtld_now, load_ec);
    if (load_ec) {
        const char* why = dlerror();
        throw StartupError("plugin " + path.string() + ": not a loadable library (" +
                           (why ? std::string(why) : load_ec.message()) + ")");
    }
    if (!lib.has(plugin_entry_symbol))
        throw StartupError("plugin " + path.string() + ": not a yunity-sockets plugin (it exports no " +
                           plugin_entry_symbol + ")");
    auto& entry = lib.get_alias<const PluginInfo*()>(plugin_entry_symbol);
    const PluginInfo* info = entry();
    if (info == nullptr || info->name == nullptr || info->build_signature == nullptr || info->create == nullptr)
        throw StartupError("plugin " + path.string() + ": its plugin entry is incomplete");
    if (info->api_version != api_version || std::strcmp(info->build_signature, YUNITY_BUILD_SIGNATURE) != 0)
        throw StartupError("plugin " + path.string() + ": built for another ABI (plugin API " +
                           std::to_string(info->api_version) + ", \"" + info->build_signature +
                           "\"; this core: API " + std::to_string(api_version) + ", \"" YUNITY_BUILD_SIGNATURE
                           "\"): rebuild it against this SDK");
    // Read only now that the ABI is known to be ours: its layout is then the one this core was built with.
    const SettingsDescription* settings = nullptr;
    if (lib.has(plugin_settings_symbol)) {
        settings = lib.get_alias<const SettingsDescription*()>(plugin_settings_symbol)();
        bool complete = settings != nullptr && (settings->count == 0 || settings->settings != nullptr);
        for (std::uint32_t i = 0; complete && i < settings->count; ++i) {
            const auto& s = settings->settings[i];
            complete = s.name && s.type && s.default_value && s.description;
        }
        if (!complete) throw StartupError("plugin " + path.string() + ": its description of settings is incomplete");
    }
    return PluginLibrary(std::move(lib), info, settings, std::move(path));
}

std::vector<PluginLibrary> PluginLibrary::load_set(const std::vector<std::string>& names_or_paths,
                                                   const std::filesystem::path& dir) {
    std::vector<PluginLibrary> libraries;
    std::set<std::string, std::less<>> names;
    for (const auto& p : names_or_paths) {
        auto lib = load(p, dir);
        const std::string name = lib.info().name;
        if (!names.insert(name).second)
            throw StartupError("plugin " + lib.path().string() + ": a plugin named '" + name +
                               "' is already loaded (plugin names must be unique)");
        libraries.push_back(std::move(lib));
    }
    return libraries;
}

}  // namespace yunity::core
