#include "admin_server.hpp"

#include "admin_config.hpp"
#include "admin_router.hpp"
#include "report.hpp"

#include <spdlog/logger.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <optional>
#include <stdexcept>
#include <unordered_set>

namespace yunity::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
class Connection;
}

class AdminServer::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(asio::io_context& io, const AdminRouter& router, const AdminConfig& config,
         std::shared_ptr<spdlog::logger> log)
        : router(router), config(config), log(std::move(log)), acceptor(io), retry(io) {}

    void listen(const std::string& address, std::uint16_t port) {
        boost::system::error_code ec;
        auto ip = asio::ip::make_address(address, ec);
        if (ec) throw std::runtime_error("--admin-bind " + address + ": not an IP address");
        tcp::endpoint endpoint(ip, port);
        acceptor.open(endpoint.protocol(), ec);
        if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(endpoint, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) +
                                     " for admin requests: " + ec.message());
        local = acceptor.local_endpoint();
    }

    void do_accept();
    void stop();

    const AdminRouter& router;
    const AdminConfig config;  // a copy: connections may outlive the plugin's own during shutdown
    std::shared_ptr<spdlog::logger> log;
    tcp::acceptor acceptor;
    asio::steady_timer retry;
    tcp::endpoint local;
    bool stopped = false;
    std::unordered_set<Connection*> live;
};

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

// One admin client's TCP connection: reads a request, hands it to the router, writes the answer (at once or
// streamed), and reads the next if the client keeps the connection alive. Lives as long as its pending I/O
// or an unanswered responder.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(std::shared_ptr<AdminServer::Impl> server, tcp::socket socket)
        : server_(std::move(server)), stream_(std::move(socket)) {
        server_->live.insert(this);
    }
    ~Connection() { server_->live.erase(this); }

    void run() { do_read(); }

    void shutdown() {
        if (lingering_) {  // the server stops: no more waiting for the client's end
            lingering_ = false;
            return stream_.close();
        }
        if (shut_) return;
        shut_ = true;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

private:
    const AdminConfig& config() const { return server_->config; }

    void do_read() {
        if (shut_) return;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(config().max_header_bytes));
        parser_->body_limit(config().max_body_bytes);
        // The whole request, and for a kept-alive connection the wait for it, must fit in the timeout.
        stream_.expires_after(config().request_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (shut_) return;
        if (ec == http::error::body_limit || ec == http::error::header_limit) {
            // The rest of the request is unread: answer and close.
            version_ = parser_->get().version();
            head_ = false;
            keep_alive_ = false;
            awaiting_ = true;
            return send(request_no_, error_response(ec == http::error::body_limit ? 413 : 431,
                                                    ec == http::error::body_limit ? "payload too large"
                                                                                  : "request header too large"));
        }
        if (ec) return shutdown();  // closed, timed out, or not HTTP: nothing useful to answer
        stream_.expires_never();

        auto req = parser_->release();
        version_ = req.version();
        keep_alive_ = req.keep_alive();
        head_ = req.method() == http::verb::head;
        ++request_no_;
        awaiting_ = true;

        AdminRequest request;
        request.method = std::string(req.method_string());
        request.target = std::string(req.target());
        if (!parse_target(request.target, request.path, request.query)) {
            keep_alive_ = false;
            return send(request_no_, error_response(400, "bad request target"));
        }
        request.headers.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
        for (const auto& field : req)
            request.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
        request.body = std::move(req.body());
        beast::error_code addr_ec;
        const auto remote = stream_.socket().remote_endpoint(addr_ec);
        if (!addr_ec) request.remote_address = remote.address().to_string();

        // The answer may come later, from another plugin's work: it is posted back to this connection, and
        // the number keeps a late or repeated answer from reaching the wrong request.
        AdminResponder respond = [self = shared_from_this(), n = request_no_](AdminResponse res) {
            asio::post(self->stream_.get_executor(),
                       [self, n, res = std::move(res)]() mutable { self->send(n, std::move(res)); });
        };
        server_->router.dispatch(std::move(request), respond);
    }

    template <class Response>
    void set_common(Response& res, const AdminResponse& from) {
        res.version(version_);
        res.result(from.status >= 100 && from.status <= 999 ? static_cast<unsigned>(from.status) : 500u);
        res.set(http::field::server, "yunity-sockets");
        res.set(http::field::content_type, from.content_type);
        res.set(http::field::cache_control, "no-store");
        for (const auto& [name, value] : from.headers) res.set(name, value);
        res.keep_alive(keep_alive_);
    }

    void send(std::uint64_t n, AdminResponse res) {
        if (shut_ || n != request_no_ || !awaiting_) return;
        awaiting_ = false;
        stream_.expires_after(config().request_timeout);
        if (res.stream) return send_stream(std::move(res));

        response_.emplace();
        set_common(*response_, res);
        response_->body() = std::move(res.body);
        response_->prepare_payload();
        serializer_.emplace(*response_);
        auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_sent(ec); };
        if (head_) http::async_write_header(stream_, *serializer_, std::move(done));
        else http::async_write(stream_, *serializer_, std::move(done));
    }

    // Chunked: the header, then one chunk per call of the producer, each written before the next is made.
    void send_stream(AdminResponse res) {
        stream_response_.emplace();
        set_common(*stream_response_, res);
        stream_response_->chunked(true);
        stream_serializer_.emplace(*stream_response_);
        producer_ = std::move(res.stream);
        http::async_write_header(stream_, *stream_serializer_,
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec) return self->shutdown();
                                     if (self->head_) return self->on_sent(ec);
                                     self->next_chunk();
                                 });
    }

    void next_chunk() {
        if (shut_) return;
        chunk_.clear();
        bool more = false;
        try {
            more = producer_(chunk_);
        } catch (const std::exception& e) {
            // Mid-body there is no status left to change: cut the response short.
            server_->log->error("streamed response failed: {}", e.what());
            return shutdown();
        }
        if (chunk_.empty()) {
            if (!more) return last_chunk();
            asio::post(stream_.get_executor(), [self = shared_from_this()] { self->next_chunk(); });
            return;
        }
        stream_.expires_after(config().request_timeout);
        asio::async_write(stream_, http::make_chunk(asio::buffer(chunk_)),
                          [self = shared_from_this(), more](beast::error_code ec, std::size_t) {
                              if (ec) return self->shutdown();
                              if (more) self->next_chunk();
                              else self->last_chunk();
                          });
    }

    void last_chunk() {
        chunk_.clear();
        chunk_.shrink_to_fit();
        asio::async_write(stream_, http::make_chunk_last(),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_sent(ec); });
    }

    void on_sent(beast::error_code ec) {
        producer_ = nullptr;
        response_.reset();
        serializer_.reset();
        stream_serializer_.reset();
        stream_response_.reset();
        if (ec) return shutdown();
        if (!keep_alive_) return linger();
        do_read();
    }

    // Half-close so the client reads the whole answer before it sees the end, then read and discard what it
    // still sends (the rest of a refused body) until it closes or the timeout: closing with unread input
    // would reset the connection, and a client still uploading could lose the answer (nginx's lingering close).
    void linger() {
        shut_ = true;
        lingering_ = true;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return stream_.close();
        stream_.expires_after(config().request_timeout);  // one deadline for the whole discard
        discard();
    }

    void discard() {
        buffer_.clear();
        stream_.async_read_some(buffer_.prepare(16 * 1024),
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    if (!self->lingering_) return;  // closed by the server's stop
                                    if (ec) {                       // the client is done, or out of time
                                        self->lingering_ = false;
                                        return self->stream_.close();
                                    }
                                    self->discard();
                                });
    }

    std::shared_ptr<AdminServer::Impl> server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;  // no limit of its own (a flat_buffer's argument is one): the parser's bound it
    std::optional<http::request_parser<http::string_body>> parser_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool head_ = false;
    bool awaiting_ = false;  // a request is waiting for its answer
    bool shut_ = false;
    bool lingering_ = false;  // answered with a close: discarding the client's input until it ends
    std::uint64_t request_no_ = 0;
    std::optional<http::response<http::string_body>> response_;
    std::optional<http::response_serializer<http::string_body>> serializer_;
    std::optional<http::response<http::empty_body>> stream_response_;
    std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
    std::function<bool(std::string&)> producer_;
    std::string chunk_;
};

}  // namespace

void AdminServer::Impl::do_accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (self->stopped) return;
        if (!ec) {
            std::make_shared<Connection>(self, std::move(socket))->run();
        } else if (ec != asio::error::operation_aborted) {
            // Out of file descriptors, most likely: pause instead of spinning, and keep accepting afterwards.
            self->log->warn("accept failed: {}", ec.message());
            self->retry.expires_after(std::chrono::milliseconds(100));
            self->retry.async_wait([self](boost::system::error_code wait_ec) {
                if (!wait_ec && !self->stopped) self->do_accept();
            });
            return;
        }
        self->do_accept();
    });
}

void AdminServer::Impl::stop() {
    if (stopped) return;
    stopped = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    retry.cancel();
    const auto open = std::vector<Connection*>(live.begin(), live.end());  // shutdown() may end one
    for (auto* c : open) c->shutdown();
}

AdminServer::AdminServer(asio::io_context& io, const AdminRouter& router, const AdminConfig& config,
                         std::shared_ptr<spdlog::logger> log, const std::string& address, std::uint16_t port)
    : impl_(std::make_shared<Impl>(io, router, config, std::move(log))) {
    impl_->listen(address, port);
}

AdminServer::~AdminServer() { impl_->stop(); }

void AdminServer::start() {
    impl_->log->info("listening on {}:{} for admin requests", impl_->local.address().to_string(), impl_->local.port());
    impl_->do_accept();
}

void AdminServer::stop() { impl_->stop(); }

std::string AdminServer::address() const { return impl_->local.address().to_string(); }
std::uint16_t AdminServer::port() const { return impl_->local.port(); }
std::size_t AdminServer::open_connections() const { return impl_->live.size(); }

}  // namespace yunity::admin
