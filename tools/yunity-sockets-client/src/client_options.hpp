#pragma once

#include <yunity/events.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace yunity::client {

// A command line that cannot be run: the message is one line, shown with exit status 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Where the server is, taken apart once so that every request can be built from it.
struct ServerAddress {
    std::string host;            // what the resolver gets: a name or an IP address, IPv6 without brackets
    std::string port = "80";     // decimal
    std::string host_header;     // the Host header: host (bracketed if IPv6), with ":port" unless it is 80
    std::string path = "/socket.io/";
    std::string encoded_query;   // the URL's own query, percent-encoded, sent with every request; may be empty
    std::string display;         // http://host:port/path, for logs
};

enum class TransportKind { websocket, polling };

struct Options {
    enum class Action { run, help, version };
    Action action = Action::run;
    std::string help_text;

    ServerAddress server;
    Protocol protocol = Protocol::eio4_sio5;  // --eio 3 or 4
    TransportKind transport = TransportKind::websocket;
    std::string session_id;
    std::optional<std::uint64_t> once;  // exit after this many messages
    std::chrono::milliseconds reconnect_delay{1000};
    std::chrono::milliseconds reconnect_delay_max{5000};
    std::optional<std::uint64_t> reconnect_attempts;  // none: never give up
    std::chrono::milliseconds connect_timeout{20000};
    std::string log_level = "info";
};

// Throws UsageError.
Options parse_options(int argc, const char* const argv[]);

// The target of one Engine.IO request: path?EIO=<eio>&transport=<transport>[&sid=<sid>], then the URL's own query.
std::string request_target(const ServerAddress& server, Protocol protocol, std::string_view transport, std::string_view sid);

}  // namespace yunity::client
