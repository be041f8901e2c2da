#include "core_option.hpp"

#ifndef YUNITY_PLUGIN_RELDIR
#error "YUNITY_PLUGIN_RELDIR must name the plugin directory relative to the executable's directory"
#endif

namespace yunity::core {

namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return out;
}

}  // namespace

std::string CoreOption::config_type() const {
    switch (kind) {
        case Kind::port:
            return "a port number (0-65535)";
        case Kind::plugin_list:
            return "an array of plugin names or paths";
        case Kind::milliseconds:
            return "a positive integer, at most 2147483647";
        case Kind::whole_number:
            return "an integer from 0 to 2147483647";
        default:
            return "a string";
    }
}

std::string CoreOption::meaning() const {
    return kind == Kind::port ? description + "; 0 picks a free one, logged at start" : description;
}

const std::vector<CoreOption>& core_options() {
    using Kind = CoreOption::Kind;
    // The defaults are read from the structures the options fill, not written again here.
    static const Options defaults;
    static const std::vector<CoreOption> table{
        {.long_name = "help", .short_name = 'h', .description = "print this help and exit"},
        {.long_name = "version", .short_name = 'V', .description = "print the version and exit"},
        {.long_name = "config-reference",
         .description = "print every option, and every setting of the plugins --plugins names (or of the stock "
                        "set), with their defaults, as Markdown, and exit"},
        {.long_name = "ws-port",
         .short_name = 'w',
         .kind = Kind::port,
         .value_name = "PORT",
         .config_key = "client_port",
         .required = true,
         .description = "the port for socket.io clients",
         .apply = [](Options& o, const OptionValue& v) { o.settings.client_port = std::get<std::uint16_t>(v); }},
        {.long_name = "admin-port",
         .short_name = 'p',
         .kind = Kind::port,
         .value_name = "PORT",
         .config_key = "admin_port",
         .required = true,
         .description = "the port for the admin report",
         .apply = [](Options& o, const OptionValue& v) { o.settings.admin_port = std::get<std::uint16_t>(v); }},
        {.long_name = "bind",
         .kind = Kind::text,
         .value_name = "ADDR",
         .config_key = "bind",
         .default_value = defaults.settings.client_bind,
         .description = "the address the client port binds",
         .apply = [](Options& o, const OptionValue& v) { o.settings.client_bind = std::get<std::string>(v); }},
        {.long_name = "admin-bind",
         .kind = Kind::text,
         .value_name = "ADDR",
         .config_key = "admin_bind",
         .default_value = defaults.settings.admin_bind,
         .description = "the address the admin port binds",
         .apply = [](Options& o, const OptionValue& v) { o.settings.admin_bind = std::get<std::string>(v); }},
        {.long_name = "tls-cert",
         .kind = Kind::text,
         .value_name = "FILE",
         .config_key = "tls_cert",
         .description = "serve https and wss on the client port with this certificate chain (PEM); needs --tls-key",
         .apply = [](Options& o, const OptionValue& v) { o.settings.tls_cert = std::get<std::string>(v); }},
        {.long_name = "tls-key",
         .kind = Kind::text,
         .value_name = "FILE",
         .config_key = "tls_key",
         .description = "the private key (PEM) of --tls-cert",
         .apply = [](Options& o, const OptionValue& v) { o.settings.tls_key = std::get<std::string>(v); }},
        {.long_name = "redis",
         .kind = Kind::text,
         .value_name = "URL",
         .config_key = "redis",
         .environment = "REDIS_URL",
         .default_value = defaults.settings.redis_url,
         .description = "the redis server: redis://[user:pass@]host[:port][/db], a master found through "
                        "Sentinel: redis-sentinel://[user:pass@]host[:port][,host[:port]...][/db]#master-name, or a "
                        "cluster: redis-cluster://[user:pass@]host[:port][,host[:port]...]",
         .apply = [](Options& o, const OptionValue& v) { o.settings.redis_url = std::get<std::string>(v); }},
        {.long_name = "plugins",
         .kind = Kind::plugin_list,
         .value_name = "LIST",
         .config_key = "plugins",
         .default_value = joined(defaults.plugins),
         .description = "the whole set of plugins to load, by name or path: comma-separated on the command "
                        "line, an array in the config file",
         .apply = [](Options& o, const OptionValue& v) { o.plugins = std::get<std::vector<std::string>>(v); }},
        {.long_name = "plugin-dir",
         .kind = Kind::text,
         .value_name = "DIR",
         .config_key = "plugin_dir",
         .default_value = YUNITY_PLUGIN_RELDIR,
         .description = "where plugins named without a path are found; the default is relative to the "
                        "executable's directory",
         .apply = [](Options& o, const OptionValue& v) { o.plugin_dir = std::get<std::string>(v); }},
        {.long_name = "config",
         .kind = Kind::text,
         .value_name = "FILE",
         .description = "a JSON config file (comments and trailing commas allowed): these options by their "
                        "config-file names, and each plugin's settings in the member named after it"},
        {.long_name = "log-level",
         .kind = Kind::text,
         .value_name = "LEVEL",
         .config_key = "log_level",
         .default_value = defaults.log_level,
         .description = "trace, debug, info, warn, error, critical or off",
         .apply = [](Options& o, const OptionValue& v) { o.log_level = std::get<std::string>(v); }},
        {.long_name = "shutdown-timeout",
         .kind = Kind::milliseconds,
         .value_name = "MS",
         .config_key = "shutdown_timeout_ms",
         .default_value = std::to_string(defaults.shutdown_timeout.count()),
         .description = "how long a shutdown (SIGTERM, SIGINT) lets connections close before the process exits "
                        "anyway, in milliseconds",
         .apply = [](Options& o,
                     const OptionValue& v) { o.shutdown_timeout = std::get<std::chrono::milliseconds>(v); }},
        {.long_name = "recovery-window",
         .kind = Kind::whole_number,
         .value_name = "MS",
         .config_key = "recovery_window_ms",
         .default_value = std::to_string(defaults.settings.recovery_window.count()),
         .description = "connection state recovery: how long after a connection went away its client may come back "
                        "(socket.io-client 4.6+ with its pid, any client with `authenticate` and an offset) and get "
                        "every notification it missed, in milliseconds; 0 turns recovery off",
         .apply =
             [](Options& o, const OptionValue& v) {
                 o.settings.recovery_window = std::chrono::milliseconds(std::get<std::int64_t>(v));
             }},
        {.long_name = "recovery-history",
         .kind = Kind::whole_number,
         .value_name = "N",
         .config_key = "recovery_history",
         .default_value = std::to_string(defaults.settings.recovery_history),
         .description = "how many of the latest notifications the core keeps in memory to replay to recovering "
                        "clients (about 100 bytes each beside the payload, which the deliveries share); 0 keeps none",
         .apply =
             [](Options& o, const OptionValue& v) {
                 o.settings.recovery_history = static_cast<std::size_t>(std::get<std::int64_t>(v));
             }},
    };
    return table;
}

}  // namespace yunity::core
