#include "client_options.hpp"

#include "engineio_codec.hpp"

#include <boost/program_options.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>
#include <spdlog/common.h>

#include <cctype>
#include <charconv>
#include <sstream>
#include <vector>

namespace po = boost::program_options;

namespace yunity::client {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// from_chars alone would accept a prefix ("12abc") and program_options would wrap a negative number around.
std::optional<std::uint64_t> whole_number(std::string_view text) {
    std::uint64_t value = 0;
    if (text.empty()) return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::uint64_t number_option(const po::variables_map& vm, const char* name, std::uint64_t min, std::uint64_t max) {
    const auto& text = vm[name].as<std::string>();
    const auto value = whole_number(text);
    if (!value || *value < min || *value > max)
        throw UsageError("--" + std::string(name) + " '" + text + "': expected a whole number " +
                         (max == UINT64_MAX ? "of at least " + std::to_string(min)
                                            : "from " + std::to_string(min) + " to " + std::to_string(max)));
    return *value;
}

ServerAddress parse_url(const std::string& text) {
    const auto bad = [&](const std::string& why) { return UsageError("--url '" + text + "': " + why); };
    if (text.find("://") == std::string::npos) throw bad("expected http://host[:port]");
    auto parsed = boost::urls::parse_uri(boost::urls::string_view(text.data(), text.size()));
    if (!parsed) throw bad("not a URL (expected http://host[:port])");
    const boost::urls::url_view& u = *parsed;

    // socket.io-client takes ws:// as a synonym of http://; TLS would need a TLS stream this client does not have.
    const auto scheme = lowercase(std::string_view(u.scheme().data(), u.scheme().size()));
    if (scheme == "https" || scheme == "wss") throw bad("TLS (https://, wss://) is not supported");
    if (scheme != "http" && scheme != "ws") throw bad("unsupported scheme '" + scheme + "' (expected http://)");
    if (u.has_userinfo()) throw bad("user names and passwords are not supported");
    if (u.has_fragment()) throw bad("a fragment (#...) has no meaning here");

    ServerAddress server;
    switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name: server.host = u.host_address(); break;
    case boost::urls::host_type::ipv6: server.host = u.host_ipv6_address().to_string(); break;
    default: break;
    }
    if (server.host.empty()) throw bad("no host (expected http://host[:port])");

    if (u.has_port()) {
        const auto port = whole_number(std::string_view(u.port().data(), u.port().size()));
        if (!port || *port == 0 || *port > 65535) throw bad("invalid port '" + std::string(u.port()) + "'");
        server.port = std::to_string(*port);
    }

    // In socket.io-client a URL path names a namespace; yunity-sockets serves only the default one, so a path here
    // is almost certainly the socket.io path given in the wrong place.
    const auto path = u.encoded_path();
    if (!path.empty() && path != "/")
        throw bad("the path '" + std::string(path) +
                  "' would name a socket.io namespace, which yunity-sockets does not have; give the socket.io path "
                  "with --path");

    if (u.has_query()) {
        for (const auto param : u.params()) {
            const auto key = std::string(param.key);
            if (key == "EIO" || key == "transport" || key == "sid")
                throw bad("the query must not set '" + key + "': use --eio and --transport");
        }
        server.encoded_query = u.encoded_query();
    }

    const bool ipv6 = u.host_type() == boost::urls::host_type::ipv6;
    server.host_header = ipv6 ? "[" + server.host + "]" : server.host;
    if (server.port != "80") server.host_header += ":" + server.port;
    server.display = "http://" + server.host_header;
    return server;
}

// engine.io-client makes "/socket.io" and "/socket.io/" the same request path; so does this client.
std::string normalize_path(std::string path) {
    if (path.find_first_of("?#") != std::string::npos)
        throw UsageError("--path '" + path + "': must be a path alone, without '?' or '#'");
    if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
    if (path.back() != '/') path.push_back('/');
    return path;
}

}  // namespace

Options parse_options(int argc, const char* const argv[]) {
    po::options_description desc(
        "yunity-sockets-client: connects to a yunity-sockets server, authenticates with a session id and prints\n"
        "every message pushed to it as one JSON line on stdout\n\n"
        "Usage: yunity-sockets-client [options] SESSION_ID\n\nOptions");
    // Numbers are taken as strings: program_options would read "-1" into an unsigned as a huge number.
    // clang-format off
    desc.add_options()
        ("help,h", "print this help and exit")
        ("version,V", "print the version and exit")
        ("url", po::value<std::string>()->default_value("http://127.0.0.1:5000"),
            "the server, http://host[:port] (ws:// is the same; the URL's query is sent with every request)")
        ("path", po::value<std::string>()->default_value("/socket.io/"), "the socket.io path on the server")
        ("eio", po::value<std::string>()->default_value("4"),
            "Engine.IO protocol: 3 (as socket.io-client 2.x, Socket.IO protocol 4) or 4 (as 3.x/4.x, protocol 5)")
        ("transport", po::value<std::string>()->default_value("websocket"), "websocket or polling")
        ("once", po::value<std::string>(), "exit (status 0) after printing N messages")
        ("reconnect-delay", po::value<std::string>()->default_value("1000"),
            "milliseconds before the first reconnection; doubles with each failure, with jitter")
        ("reconnect-delay-max", po::value<std::string>()->default_value("5000"),
            "upper bound of the reconnection delay, in milliseconds")
        ("reconnect-attempts", po::value<std::string>(),
            "give up (status 1) after N reconnections in a row that fail (default: never; 0: no reconnection)")
        ("connect-timeout", po::value<std::string>()->default_value("20000"),
            "milliseconds to get a socket.io connection before the attempt counts as failed")
        ("log-level", po::value<std::string>()->default_value("info"),
            "stderr logging: trace, debug, info, warn, error, critical or off");
    // clang-format on
    po::options_description hidden;
    hidden.add_options()("session-id", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description positional;
    positional.add("session-id", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }

    Options o;
    if (vm.count("help")) {
        std::ostringstream text;
        text << desc;
        o.action = Options::Action::help;
        o.help_text = text.str();
        return o;
    }
    if (vm.count("version")) {
        o.action = Options::Action::version;
        return o;
    }

    o.server = parse_url(vm["url"].as<std::string>());
    o.server.path = normalize_path(vm["path"].as<std::string>());
    o.server.display += o.server.path;

    const auto& eio = vm["eio"].as<std::string>();
    if (eio != "3" && eio != "4") throw UsageError("--eio '" + eio + "': expected 3 or 4");
    o.protocol = eio == "3" ? Protocol::eio3_sio4 : Protocol::eio4_sio5;

    const auto& transport = vm["transport"].as<std::string>();
    if (transport == "websocket")
        o.transport = TransportKind::websocket;
    else if (transport == "polling")
        o.transport = TransportKind::polling;
    else
        throw UsageError("--transport '" + transport + "': expected websocket or polling");

    constexpr std::uint64_t day_ms = 24ull * 3600 * 1000;
    if (vm.count("once")) o.once = number_option(vm, "once", 1, UINT64_MAX);
    o.reconnect_delay = std::chrono::milliseconds(number_option(vm, "reconnect-delay", 1, day_ms));
    o.reconnect_delay_max = std::chrono::milliseconds(number_option(vm, "reconnect-delay-max", 1, day_ms));
    if (o.reconnect_delay_max < o.reconnect_delay)
        throw UsageError("--reconnect-delay-max must not be less than --reconnect-delay");
    if (vm.count("reconnect-attempts")) o.reconnect_attempts = number_option(vm, "reconnect-attempts", 0, UINT64_MAX);
    o.connect_timeout = std::chrono::milliseconds(number_option(vm, "connect-timeout", 1, day_ms));

    o.log_level = vm["log-level"].as<std::string>();
    if (spdlog::level::from_str(o.log_level) == spdlog::level::off && o.log_level != "off")
        throw UsageError("--log-level '" + o.log_level +
                         "': expected trace, debug, info, warn, error, critical or off");

    if (!vm.count("session-id")) throw UsageError("missing SESSION_ID");
    const auto& ids = vm["session-id"].as<std::vector<std::string>>();
    if (ids.size() > 1) throw UsageError("unexpected argument '" + ids[1] + "': give one SESSION_ID");
    o.session_id = ids.front();
    if (o.session_id.empty()) throw UsageError("SESSION_ID must not be empty");
    // It goes out inside a JSON string, which must be valid UTF-8.
    if (!eio::is_valid_utf8(o.session_id)) throw UsageError("SESSION_ID is not valid UTF-8");
    return o;
}

std::string request_target(const ServerAddress& server, Protocol protocol, std::string_view transport, std::string_view sid) {
    boost::urls::url u;
    u.set_path(server.path);
    auto params = u.params();
    params.append({"EIO", protocol == Protocol::eio3_sio4 ? "3" : "4"});
    params.append({"transport", boost::urls::string_view(transport.data(), transport.size())});
    if (!sid.empty()) params.append({"sid", boost::urls::string_view(sid.data(), sid.size())});
    std::string target(u.encoded_target());
    if (!server.encoded_query.empty()) {
        target += '&';
        target += server.encoded_query;
    }
    return target;
}

}  // namespace yunity::client
