// The configuration reference: the core's table of options, the environment variables, and each plugin's
// settings as it exports them (or not), in Markdown that a table cell cannot break.
#include "config_reference.hpp"
#include "plugin_library.hpp"

#include <doctest/doctest.h>

using namespace yunity;
using core::ConfigReference;

namespace {

const std::filesystem::path dir = TEST_PLUGIN_DIR;

bool has(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return true;
    MESSAGE("missing: " << part);
    return false;
}

}  // namespace

TEST_CASE("reference: every core option with its config key, variable and default, from the table") {
    const std::string md = ConfigReference(core::core_options()).markdown();
    CHECK(md.rfind("# Configuration reference\n", 0) == 0);
    CHECK(has(md, "| `-w PORT`, `--ws-port PORT` | `client_port` |  | required | the port for socket.io clients; 0 "
                  "picks a free one, logged at start |\n"));
    CHECK(has(md, "| `--redis URL` | `redis` | `REDIS_URL` | `redis://127.0.0.1:6379/0` |"));
    CHECK(has(md, "| `--plugins LIST` | `plugins` |  | `socketio,redis-session,redis-pubsub,admin-http` |"));
    CHECK(has(md, "| `--plugin-dir DIR` | `plugin_dir` |  | `" YUNITY_PLUGIN_RELDIR "` |"));
    CHECK(has(md, "| `--config FILE` |  |  |  |"));
    CHECK(has(md, "| `-h`, `--help` |  |  |  | print this help and exit |\n"));
    CHECK(has(md, "| `REDIS_URL` | `--redis` (config file: `redis`) |\n"));
    for (const auto& o : core::core_options()) CHECK(has(md, "`--" + o.long_name));
}

TEST_CASE("reference: plugins with settings, without any, and without a description of them") {
    auto with = core::PluginLibrary::load("with-settings", dir);
    auto good = core::PluginLibrary::load("good", dir);
    const SettingsDescription none{0, nullptr};
    const SettingDescription odd_rows[] = {{"quote", "a string", "\"a`b\"", nullptr, "line one\nline two"},
                                           {"word", "a string", "none", nullptr, "words stay plain"}};
    const SettingsDescription odd{2, odd_rows};

    ConfigReference reference(core::core_options());
    reference.add_plugin(with.info().name, with.info().description, with.settings());
    reference.add_plugin(good.info().name, good.info().description, good.settings());
    reference.add_plugin("quiet", "", &none);
    reference.add_plugin("odd", "odd | texts", &odd);
    const std::string md = reference.markdown();

    CHECK(has(md, "### `with-settings`\n\na test plugin that describes its settings.\n\n"
                  "| setting | value | default | meaning |\n|---|---|---|---|\n"
                  "| `greeting` | a string | `\"hello\"` | what it says \\| once; `TEST_GREETING` wins over it |\n"
                  "| `repeat` | a positive integer | `1` | how many times |\n"));
    CHECK(has(md, "| `TEST_GREETING` | setting `greeting` of `with-settings` |\n"));
    CHECK(has(md, "### `good`\n\na well-behaved test plugin.\n\nIt does not describe its settings"));
    CHECK(has(md, "### `quiet`\n\nIt takes no settings"));
    CHECK(has(md, "### `odd`\n\nodd \\| texts.\n"));
    CHECK(has(md, "| `quote` | a string | `` \"a`b\" `` | line one line two |\n"));
    CHECK(has(md, "| `word` | a string | none | words stay plain |\n"));
    // The plugins come in the order they were added, after the core's part.
    CHECK(md.find("### `with-settings`") < md.find("### `good`"));
    CHECK(md.find("## Command line") < md.find("### `with-settings`"));
}
