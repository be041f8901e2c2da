#include "plugin_library.hpp"
#include "server.hpp"
#include "startup_error.hpp"

#include <doctest/doctest.h>

#include <boost/asio/post.hpp>

#include <atomic>
#include <thread>

using namespace yunity;
using core::PluginLibrary;

namespace {

const std::filesystem::path dir = TEST_PLUGIN_DIR;

std::string refusal(const std::string& name_or_path) {
    try {
        PluginLibrary::load(name_or_path, dir);
    } catch (const core::StartupError& e) {
        return e.what();
    }
    return "(loaded)";
}

core::Options options(std::vector<std::string> plugins) {
    core::Options o;
    o.config.SetObject();
    o.plugins = std::move(plugins);
    return o;
}

}  // namespace

TEST_CASE("a good plugin loads by name and by path") {
    auto lib = PluginLibrary::load("good", dir);
    CHECK(std::string(lib.info().name) == "good");
    CHECK(lib.info().api_version == api_version);
    auto by_path = PluginLibrary::load((dir / "good.so").string(), "/nowhere");
    CHECK(std::string(by_path.info().name) == "good");
}

TEST_CASE("the loader refuses what is not a compatible plugin, naming the file") {
    CHECK(refusal("missing") ==
          "plugin 'missing' not found (looked for " + (dir / "missing.so").string() + "; see --plugin-dir)");
    CHECK(refusal("/no/such/plugin.so") == "plugin /no/such/plugin.so: no such file");
    CHECK(
        refusal((dir / "text.so").string()).find("plugin " + (dir / "text.so").string() + ": not a loadable library") ==
        0);
    CHECK(refusal((dir / "not-a-plugin.so").string()) ==
          "plugin " + (dir / "not-a-plugin.so").string() +
              ": not a yunity-sockets plugin (it exports no yunity_plugin_info)");
    auto abi = refusal("old-abi");
    CHECK(abi.find("plugin " + (dir / "old-abi.so").string() + ": built for another ABI") == 0);
    CHECK(abi.find("cxx11abi=0") != std::string::npos);
}

TEST_CASE("two plugins with the same name are refused before any is created") {
    try {
        core::Server server(options({"good", "duplicate"}), dir);
        FAIL("duplicate accepted");
    } catch (const core::StartupError& e) {
        CHECK(std::string(e.what()) == "plugin " + (dir / "duplicate.so").string() +
                                           ": a plugin named 'good' is already loaded (plugin names must be unique)");
    }
}

TEST_CASE("a loaded plugin runs on the bus and the server stops cleanly") {
    core::Server server(options({"good"}), dir);
    auto& io = server.io();
    std::optional<std::string> user;
    // The watchdog thread looks at this, never at `user`, which the loop's thread writes (a data race, ThreadSanitizer).
    std::atomic<bool> resolved{false};
    boost::asio::post(io, [&] {
        auto hs = std::make_shared<Handshake>();
        server.bus().publish(events::ConnectionOpened{1, "pub1", "websocket", Protocol::eio4_sio5, hs, {}});
        server.bus().publish(events::Authenticate{1, "abc"});  // the good plugin resolves it to user-of-abc
        // Once the plugin's answer went round the bus, read the registry and stop.
        server.bus().subscribe<events::MembershipChanged>("test", [&](const events::MembershipChanged& e) {
            if (e.user) {
                user = server.registry().find(1)->user;
                resolved = true;
                server.stop();
            }
        });
    });
    std::thread watchdog([&] {
        for (int i = 0; i < 100 && !resolved; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (!resolved) boost::asio::post(io, [&] { server.stop(); });
    });
    server.run();
    watchdog.join();
    CHECK(user == "user-of-abc");
}

TEST_CASE("a plugin's description of its settings is read when it exports one, and checked") {
    CHECK(PluginLibrary::load("good", dir).settings() == nullptr);  // optional: a plugin without it still loads

    auto lib = PluginLibrary::load("with-settings", dir);
    const SettingsDescription* settings = lib.settings();
    REQUIRE(settings != nullptr);
    REQUIRE(settings->count == 2);
    CHECK(std::string(settings->settings[0].name) == "greeting");
    CHECK(std::string(settings->settings[0].default_value) == "\"hello\"");
    CHECK(std::string(settings->settings[0].environment) == "TEST_GREETING");
    CHECK(std::string(settings->settings[1].type) == "a positive integer");

    CHECK(refusal("bad-settings") ==
          "plugin " + (dir / "bad-settings.so").string() + ": its description of settings is incomplete");
}

TEST_CASE("a set of plugins loads in order, and refuses a second plugin of one name") {
    auto set = PluginLibrary::load_set({"with-settings", "good"}, dir);
    REQUIRE(set.size() == 2);
    CHECK(std::string(set[0].info().name) == "with-settings");
    CHECK(std::string(set[1].info().name) == "good");
    const std::string duplicate = "plugin " + (dir / "duplicate.so").string() +
                                  ": a plugin named 'good' is already loaded (plugin names must be unique)";
    CHECK_THROWS_WITH_AS(PluginLibrary::load_set({"good", "duplicate"}, dir), duplicate.c_str(), core::StartupError);
}
