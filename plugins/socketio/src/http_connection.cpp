#include "http_connection.hpp"

#include "client_address.hpp"
#include "engine.hpp"
#include "handshake_query.hpp"
#include "listener.hpp"
#include "plain_websocket.hpp"
#include "websocket_accept.hpp"
#include "websocket_connection.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

namespace yunity::socketio {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Engine.IO's error codes, as its HTTP error bodies carry them.
enum class EioError { transport_unknown = 0, session_unknown = 1, bad_handshake_method = 2, bad_request = 3,
                      forbidden = 4, unsupported_version = 5 };

const char* message_of(EioError e) {
    switch (e) {
        case EioError::transport_unknown: return "Transport unknown";
        case EioError::session_unknown: return "Session ID unknown";
        case EioError::bad_handshake_method: return "Bad handshake method";
        case EioError::bad_request: return "Bad request";
        case EioError::forbidden: return "Forbidden";
        case EioError::unsupported_version: return "Unsupported protocol version";
    }
    return "Bad request";
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Over plain TCP (beast::tcp_stream) or TLS (TlsStream).
template <class Stream>
class HttpConnection : public std::enable_shared_from_this<HttpConnection<Stream>>, public PollWaiter, public Closable {
    static constexpr bool tls = std::is_same_v<Stream, TlsStream>;
    using std::enable_shared_from_this<HttpConnection<Stream>>::shared_from_this;

public:
    HttpConnection(Engine& engine, Listener& listener, Stream stream, const TrustedProxies& trusted)
        : engine_(engine), listener_(listener), trusted_(trusted), stream_(std::move(stream)) {
        live_ = listener_.track(this);
    }
    ~HttpConnection() override { live_->erase(this); }

    void run() {
        if constexpr (tls) {
            // The TLS handshake counts against the request timeout, as the request head does.
            lowest().expires_after(engine_.config().request_timeout);
            stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
                if (ec) {
                    self->engine_.log().debug("TLS handshake failed: {}", ec.message());
                    return self->shutdown();
                }
                self->do_read();
            });
        } else {
            do_read();
        }
    }

    void shutdown() override {
        if (shut_) return;  // closed already, or handed to a websocket
        // A response being written (a poll answered with the close packet at shutdown) goes out first.
        if (writing_) {
            close_after_ = true;
            return;
        }
        shut_ = true;
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().close();
    }

    // The session answers a held GET.
    void respond(std::string body, bool binary_body) override {
        if (shut_ || !waiting_) return;
        waiting_ = false;
        beast::error_code ec;
        lowest().socket().cancel(ec);  // ends the watch for a client that goes away
        auto res = make_response(http::status::ok, std::move(body),
                                 binary_body ? "application/octet-stream"
                                 : jsonp_  ? "text/javascript; charset=UTF-8"
                                           : "text/plain; charset=UTF-8");
        write(std::move(res));
    }

private:
    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

    void do_read() {
        if (shut_) return;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(engine_.config().max_header_bytes));
        parser_->body_limit(engine_.config().max_payload);
        // The whole request must arrive within the limit: a client sending its headers slowly is cut off.
        lowest().expires_after(engine_.config().request_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (shut_) return;
        if (ec == http::error::body_limit) {
            request_ = parser_->release();
            close_after_ = true;
            return error(http::status::payload_too_large, EioError::bad_request, "Payload too large");
        }
        if (ec == http::error::header_limit) {
            close_after_ = true;
            request_ = {};
            return write(make_response(http::status::request_header_fields_too_large, "", "text/plain"));
        }
        if (ec) return shutdown();  // closed, timed out, or not HTTP: nothing useful to answer
        lowest().expires_never();
        request_ = parser_->release();
        close_after_ = !request_.keep_alive();
        handle();
    }

    void handle() {
        auto query = eio::parse_handshake_query(request_.target());
        if (!query) return error(http::status::bad_request, EioError::bad_request);
        std::string raw_path;
        if (!engine_.route(query->path, raw_path))
            return write(make_response(http::status::not_found, "Not found", "text/plain"));

        const auto& jsonp = query->j;
        if (const char* refusal = origin_refusal(!jsonp.empty())) {
            engine_.log().debug("refused a request: {}", refusal);
            return error(http::status::forbidden, EioError::forbidden);
        }
        if (request_.method() == http::verb::options) {
            auto res = make_response(http::status::ok, "", "text/plain");
            res.set(http::field::access_control_allow_headers, "Content-Type");
            res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
            return write(std::move(res));
        }

        const auto& transport = query->transport;
        const auto& sid = query->sid;
        const bool b64 = query->b64;
        auto hs = std::make_shared<Handshake>();
        const int version = query->eio == "4" ? 4 : query->eio == "3" ? 3 : 0;
        if (version == 0) return error(http::status::bad_request, EioError::unsupported_version);
        if (transport != "polling" && transport != "websocket")
            return error(http::status::bad_request, EioError::transport_unknown);
        if (!jsonp.empty() && (!engine_.config().jsonp || version != 3 || jsonp.size() > 8 ||
                               jsonp.find_first_not_of("0123456789") != std::string::npos))
            return error(http::status::bad_request, EioError::bad_request);
        jsonp_ = !jsonp.empty();

        std::shared_ptr<Session> session;
        if (!sid.empty()) {
            session = engine_.find(sid);
            // A sid is only known on the path that opened it (Socket.IO, or a plugin's plain Engine.IO path).
            if (!session || session->raw_path() != raw_path)
                return error(http::status::bad_request, EioError::session_unknown);
            if (session->version() != version) return error(http::status::bad_request, EioError::bad_request);
        }

        const bool upgrade = beast::websocket::is_upgrade(request_);
        std::string group;
        if (!session && (transport == "websocket" ? upgrade : request_.method() == http::verb::get)) {
            hs->query = std::move(query->query);
            group = fill_handshake(*hs);
            // A Socket.IO 5 session owes a CONNECT: until it comes, it counts against the pending limit too.
            if (engine_.admit(group, version == 4 && raw_path.empty())) return unavailable();
        }
        if (transport == "websocket") {
            if (!upgrade) return error(http::status::bad_request, EioError::bad_request);
            if constexpr (tls) {
                shut_ = true;  // the stream is the websocket's now
                start_websocket(engine_, listener_, std::move(stream_), std::move(request_), std::move(session),
                                version, std::move(hs), std::move(raw_path), std::move(group));
            } else {
                if (request_[http::field::sec_websocket_version] != "13") {
                    auto res = make_response(http::status::upgrade_required, "", "text/plain");
                    res.set(http::field::sec_websocket_version, "13");
                    return write(std::move(res));
                }
                auto accept = websocket_accept(request_[http::field::sec_websocket_key]);
                if (!accept) return error(http::status::bad_request, EioError::bad_request);
                std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                       "Connection: Upgrade\r\nSec-WebSocket-Accept: " + *accept + "\r\n\r\n";
                shut_ = true;  // the socket is the websocket's now
                lowest().expires_never();
                start_plain_websocket(engine_, listener_, lowest().release_socket(), std::move(response),
                                      std::move(session), version, std::move(hs), std::move(raw_path),
                                      std::move(group));
            }
            return;
        }
        if (upgrade) return error(http::status::bad_request, EioError::bad_request);
        // After the upgrade the polling transport is gone, for POSTs as for GETs (engine.io: "Bad request").
        if (session && session->transport() == Session::Transport::websocket)
            return error(http::status::bad_request, EioError::bad_request);

        if (!session) {
            if (request_.method() != http::verb::get)
                return error(http::status::bad_request, EioError::bad_handshake_method);
            auto s = engine_.create(version, Session::Transport::polling, std::move(hs), std::move(raw_path),
                                    std::move(group));
            s->set_base64(b64);
            const auto open = s->open_packet();
            const eio::OutPacket out{open, false};
            auto body = eio::encode_payload(version == 3 ? eio::PayloadFormat::v3_text : eio::PayloadFormat::v4,
                                            std::span(&out, 1));
            if (jsonp_) body = eio::encode_jsonp(jsonp, body);
            auto res = make_response(http::status::ok, std::move(body),
                                     jsonp_ ? "text/javascript; charset=UTF-8" : "text/plain; charset=UTF-8");
            if (engine_.config().cookie) res.set(http::field::set_cookie, "io=" + s->sid() + "; Path=/; HttpOnly; SameSite=Lax");
            write(std::move(res));
            s->start();
            return;
        }

        if (request_.method() == http::verb::get) {
            waiting_ = true;
            if (auto refused = session->on_poll(shared_from_this(), jsonp)) {
                waiting_ = false;
                engine_.log().debug("connection #{}: poll refused: {}", session->id(), *refused);
                return error(http::status::bad_request, EioError::bad_request);
            }
            if (waiting_) watch_for_close(session);
            return;
        }
        if (request_.method() == http::verb::post) {
            std::string_view body = request_.body();
            std::optional<std::string> form;
            if (jsonp_) {
                form = eio::decode_jsonp_body(body);
                if (!form) return error(http::status::bad_request, EioError::bad_request);
                body = *form;
            }
            const auto type = request_.find(http::field::content_type);
            const bool binary = type != request_.end() && type->value().starts_with("application/octet-stream");
            std::string why;
            auto packets = eio::decode_payload(version, body, binary, &why);
            if (!packets) {
                engine_.log().info("connection #{}: malformed polling payload ({}); closing", session->id(), why);
                session->close(CloseReason::protocol_error);
                return error(http::status::bad_request, EioError::bad_request);
            }
            session->on_post(std::move(*packets));
            return write(make_response(http::status::ok, "ok", "text/html"));
        }
        return error(http::status::bad_request, EioError::bad_request);
    }

    // While a GET waits, a client that goes away is noticed at once (engine.io: "poll connection closed
    // prematurely"), instead of lingering until the heartbeat gives up.
    void watch_for_close(const std::shared_ptr<Session>& session) {
        lowest().socket().async_wait(
            tcp::socket::wait_read, [self = shared_from_this(), weak = std::weak_ptr(session)](beast::error_code ec) {
                if (ec || self->shut_ || !self->waiting_) return;
                beast::error_code avail_ec;
                // A pipelined request (or, over TLS, any record): the client is there.
                if (self->lowest().socket().available(avail_ec) > 0 && !avail_ec) return;
                self->waiting_ = false;
                if (auto s = weak.lock()) s->close(CloseReason::transport_error);
                self->shutdown();
            });
    }

    // Browsers name the page's origin; where it is not allowed, nothing is served. Without an Origin (GETs of older
    // browsers, script tags) the Referer names the page, and a JSONP request, which a script tag on any site can
    // make, must carry one. Clients that are not browsers send neither and are let through: a browser cannot be
    // made to send a request with neither, so cross-site websocket hijacking is not among them.
    const char* origin_refusal(bool jsonp) const {
        const auto& c = engine_.config();
        const auto origin = request_.find(http::field::origin);
        if (origin != request_.end()) return c.origin_allowed(origin->value()) ? nullptr : "origin not allowed";
        if (c.allowed_origins.empty()) return nullptr;
        const auto referer = request_.find(http::field::referer);
        if (referer == request_.end()) return jsonp ? "a JSONP request without a Referer" : nullptr;
        return c.referer_allowed(referer->value()) ? nullptr : "referer not allowed";
    }

    // Fills in what the application sees of the handshake; returns the client's address group.
    std::string fill_handshake(Handshake& hs) {
        for (const auto& field : request_) {
            std::string name(field.name_string());
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            hs.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        std::string group;
        beast::error_code ec;
        auto remote = lowest().socket().remote_endpoint(ec);
        if (!ec) {
            std::vector<std::string_view> forwarded;
            if (!trusted_.empty())
                for (auto [it, end] = request_.equal_range("X-Forwarded-For"); it != end; ++it)
                    forwarded.push_back(it->value());
            const auto address = client_address(remote.address(), forwarded, trusted_);
            hs.address = address.to_string();
            group = address_group(address);
        }
        hs.url = std::string(request_.target());
        hs.issued_ms = now_ms();
        hs.xdomain = request_.find(http::field::origin) != request_.end();
        hs.secure = tls;
        return group;
    }

    http::response<http::string_body> make_response(http::status status, std::string body,
                                                     std::string_view content_type) {
        http::response<http::string_body> res{status, request_.version()};
        res.set(http::field::content_type, content_type);
        res.set(http::field::cache_control, "no-store");
        const auto origin = request_.find(http::field::origin);
        if (origin != request_.end()) {
            // Version 2 browser clients send credentials: `*` would be refused, so the origin is echoed.
            res.set(http::field::access_control_allow_origin, origin->value());
            res.set(http::field::access_control_allow_credentials, "true");
        } else {
            res.set(http::field::access_control_allow_origin, "*");
        }
        res.keep_alive(!close_after_);
        res.body() = std::move(body);
        res.prepare_payload();
        return res;
    }

    // Over a connection limit: 503 tells clients and proxies to come back later (clients retry with backoff).
    void unavailable() {
        engine_.bad_requests.fetch_add(1, std::memory_order_relaxed);
        auto res = make_response(http::status::service_unavailable, "{\"code\":3,\"message\":\"Server full\"}",
                                 "application/json");
        res.set(http::field::retry_after, "5");
        write(std::move(res));
    }

    void error(http::status status, EioError code, const char* message = nullptr) {
        engine_.bad_requests.fetch_add(1, std::memory_order_relaxed);
        std::string body = "{\"code\":" + std::to_string(static_cast<int>(code)) + ",\"message\":\"" +
                           (message ? message : message_of(code)) + "\"}";
        write(make_response(status, std::move(body), "application/json"));
    }

    void write(http::response<http::string_body> res) {
        auto shared = std::make_shared<http::response<http::string_body>>(std::move(res));
        lowest().expires_after(engine_.config().request_timeout);
        writing_ = true;
        http::async_write(stream_, *shared, [self = shared_from_this(), shared](beast::error_code ec, std::size_t n) {
            self->writing_ = false;
            self->engine_.bytes_sent.fetch_add(n, std::memory_order_relaxed);
            if (ec || self->close_after_ || !shared->keep_alive()) return self->shutdown();
            self->do_read();
        });
    }

    Engine& engine_;
    Listener& listener_;
    const TrustedProxies& trusted_;
    std::shared_ptr<Listener::LiveSet> live_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
    bool close_after_ = false;
    bool waiting_ = false;
    bool writing_ = false;
    bool jsonp_ = false;
    bool shut_ = false;
};

}  // namespace

void start_http_connection(Engine& engine, Listener& listener, tcp::socket socket, asio::ssl::context* tls) {
    const auto& trusted = engine.trusted_proxies();
    if (tls)
        std::make_shared<HttpConnection<TlsStream>>(engine, listener, TlsStream(std::move(socket), *tls), trusted)->run();
    else
        std::make_shared<HttpConnection<beast::tcp_stream>>(engine, listener, beast::tcp_stream(std::move(socket)),
                                                            trusted)
            ->run();
}

}  // namespace yunity::socketio
