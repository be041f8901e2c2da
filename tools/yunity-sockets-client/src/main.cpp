#include "client.hpp"
#include "client_options.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    using namespace yunity::client;
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "yunity-sockets-client: %s (see --help)\n", e.what());
        return 2;
    }
    if (options.action == Options::Action::help) {
        std::cout << options.help_text;
        return 0;
    }
    if (options.action == Options::Action::version) {
        std::cout << "yunity-sockets-client " YUNITY_VERSION "\n";
        return 0;
    }

    // stdout carries the messages alone, so that it can be piped into a JSON tool.
    spdlog::set_default_logger(spdlog::stderr_color_mt("client"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_level(spdlog::level::from_str(options.log_level));

    try {
        boost::asio::io_context io(1);
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        int status = 0;
        Client client(io, std::move(options), [&](int s) {
            status = s;
            io.stop();
        });
        // The first signal leaves politely; a second one while that is under way does not wait for it.
        std::function<void(const boost::system::error_code&, int)> on_signal =
            [&](const boost::system::error_code& ec, int signo) {
                if (ec) return;
                spdlog::info("received {}, exiting", signo == SIGINT ? "SIGINT" : "SIGTERM");
                client.stop();
                signals.async_wait([&](const boost::system::error_code& ec2, int) {
                    if (!ec2) io.stop();
                });
            };
        signals.async_wait(on_signal);
        client.start();
        io.run();
        return status;
    } catch (const std::exception& e) {
        spdlog::critical("fatal: {}", e.what());
        return 1;
    }
}
