// The admin port's HTTP server (Boost.Beast, on the core's loop). Only admin_server.cpp includes Beast.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace yunity::admin {

struct AdminConfig;
class AdminRouter;

// Accepts admin clients and serves each connection's requests one at a time (keep-alive), through `router`.
// Header and body size limits (431, 413) and the request timeout come from `config`; responses with a
// `stream` are sent with chunked transfer encoding, one part at a time.
class AdminServer {
public:
    // Binds and listens; throws std::runtime_error when it cannot. `router` must outlive the loop's work.
    AdminServer(boost::asio::io_context& io, const AdminRouter& router, const AdminConfig& config,
                std::shared_ptr<spdlog::logger> log, const std::string& address, std::uint16_t port);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    void start();
    // Closes the acceptor and every open admin connection, so the loop can drain.
    void stop();

    std::string address() const;
    std::uint16_t port() const;
    std::size_t open_connections() const;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace yunity::admin
