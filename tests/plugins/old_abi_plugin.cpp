// Built with _GLIBCXX_USE_CXX11_ABI=0: its std::string is another type, so the core must refuse it.
#include <yunity/plugin.hpp>

namespace {

class OldAbiPlugin : public yunity::Plugin {
public:
    explicit OldAbiPlugin(yunity::PluginContext&) {}
    void start() override {}
    void stop() override {}
};

}  // namespace

YUNITY_PLUGIN(OldAbiPlugin, "old-abi", "a plugin built for another ABI")
