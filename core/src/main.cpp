#include "config_reference.hpp"
#include "options.hpp"
#include "plugin_library.hpp"
#include "server.hpp"
#include "startup_error.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <sys/resource.h>

namespace {

// Plugins are found relative to the executable, so the build tree and any install prefix work alike.
std::filesystem::path default_plugin_dir() {
    auto exe = boost::dll::program_location();
    return std::filesystem::path(exe.parent_path().string()) / YUNITY_PLUGIN_RELDIR;
}

}  // namespace

int main(int argc, char** argv) {
    // A peer that vanishes mid-write must cost an error code, not the process.
    std::signal(SIGPIPE, SIG_IGN);
    // Every client holds a socket: use all the descriptors the hard limit allows (as nginx's
    // worker_rlimit_nofile does); the transport sizes its connection limit from the result.
    if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    auto logger = spdlog::stderr_color_mt("core");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    try {
        auto options = yunity::core::parse_options(argc, argv, [](const char* n) { return std::getenv(n); });
        if (options.action == yunity::core::Options::Action::help) {
            std::cout << options.help_text;
            return 0;
        }
        if (options.action == yunity::core::Options::Action::version) {
            std::cout << "yunity-sockets " YUNITY_VERSION " (plugin API " << yunity::api_version
                      << ", " YUNITY_BUILD_SIGNATURE ")\n";
            return 0;
        }
        if (options.action == yunity::core::Options::Action::config_reference) {
            const auto dir =
                options.plugin_dir.empty() ? default_plugin_dir() : std::filesystem::path(options.plugin_dir);
            // Loaded until printed: the descriptions live in the libraries.
            const auto libraries = yunity::core::PluginLibrary::load_set(options.plugins, dir);
            yunity::core::ConfigReference reference(yunity::core::core_options());
            for (const auto& lib : libraries) {
                const auto& info = lib.info();
                reference.add_plugin(info.name, info.description ? info.description : "", lib.settings());
            }
            std::cout << reference.markdown();
            return 0;
        }
        spdlog::set_level(spdlog::level::from_str(options.log_level));
        yunity::core::Server server(std::move(options), default_plugin_dir());
        server.run();
        return 0;
    } catch (const yunity::core::StartupError& e) {
        spdlog::critical("{}", e.what());
        return 2;
    } catch (const std::exception& e) {
        spdlog::critical("fatal: {}", e.what());
        return 1;
    }
}
