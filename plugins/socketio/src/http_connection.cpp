#include "http_connection.hpp"
#include "sockets.hpp"

#include "client_address.hpp"
#include "engine.hpp"
#include "listener.hpp"
#include "plain_websocket.hpp"
#include "request_route.hpp"
#include "tls_websocket.hpp"
#include "websocket_accept.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <cassert>
#include <chrono>

namespace yunity::socketio {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using TlsStream = beast::ssl_stream<TcpStream>;

// HttpConnection::State (described there), and the moves its enter() allows (checked in debug builds: the
// sanitizer builds run every test with them).
enum class HttpState { handshaking, reading, holding, writing, lingering, handed_over, closed };

[[maybe_unused]] bool allowed(HttpState from, HttpState to) {
    using S = HttpState;
    switch (from) {
        case S::handshaking:
            return to == S::reading || to == S::closed;
        case S::reading:
            return to == S::writing || to == S::holding || to == S::handed_over || to == S::closed;
        case S::holding:
            return to == S::writing || to == S::closed;
        case S::writing:
            return to == S::reading || to == S::lingering || to == S::closed;
        case S::lingering:
            return to == S::closed;
        case S::handed_over:
        case S::closed:
            return false;
    }
    return false;
}

// Over plain TCP (TcpStream) or TLS (TlsStream).
template <class Stream>
class HttpConnection : public std::enable_shared_from_this<HttpConnection<Stream>>, public PollWaiter, public Closable {
    static constexpr bool tls = std::is_same_v<Stream, TlsStream>;
    using std::enable_shared_from_this<HttpConnection<Stream>>::shared_from_this;

public:
    // A connection's life. `handshaking` (TLS only) → `reading` a request (and handling it, in the same turn) →
    // `writing` its response, or `holding` a polling GET until the session answers it (then `writing`), or
    // `handed_over` to a websocket (the stream is the websocket's: for good). After a response: `reading` the
    // next request (keep-alive), `closed`, or `lingering` (a refused request left input unread: we stop sending
    // and discard what still comes, then close). `closed` is for good. enter() is the only way from one to
    // another. The server's stop closes at once in any state but `writing` (the response goes out first) and
    // `handed_over`.
    using State = HttpState;

    HttpConnection(Engine& engine, Listener& listener, Stream stream, const tcp::endpoint& peer,
                   const TrustedProxies& trusted, AddressSlots::Slot unbound)
        : engine_(engine),
          listener_(listener),
          trusted_(trusted),
          unbound_(std::move(unbound)),
          peer_(peer.address()),
          stream_(std::move(stream)) {
        live_ = listener_.track(this);
    }
    ~HttpConnection() override { live_->erase(this); }

    void run() {
        if constexpr (tls) {
            // The TLS handshake counts against the request timeout, as the request head does.
            lowest().expires_after(engine_.config().request_timeout);
            stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
                if (self->state_ != State::handshaking) return;  // the server stopped meanwhile
                if (ec) {
                    self->engine_.log().debug("TLS handshake failed: {}", ec.message());
                    return self->close_stream();
                }
                self->enter(State::reading);
                self->do_read();
            });
        } else {
            do_read();
        }
    }

    void shutdown() override {
        switch (state_) {
            case State::handed_over:  // the websocket's now
            case State::closed:
                return;
            case State::writing:
                // A response being written (a poll answered with the close packet at shutdown) goes out first,
                // and the connection closes after it, without lingering.
                close_after_ = true;
                unread_input_ = false;
                return;
            case State::handshaking:
            case State::reading:
            case State::holding:
            case State::lingering:  // no more waiting for a refused body
                return close_stream();
        }
    }

    // The session answers a held GET.
    void respond(std::string body, bool binary_body) override {
        if (state_ != State::holding) return;
        beast::error_code ec;
        lowest().socket().cancel(ec);  // ends the watch for a client that goes away
        auto res = make_response(http::status::ok, std::move(body),
                                 binary_body ? "application/octet-stream"
                                 : jsonp_    ? "text/javascript; charset=UTF-8"
                                             : "text/plain; charset=UTF-8");
        write(std::move(res));
    }

private:
    TcpStream& lowest() { return beast::get_lowest_layer(stream_); }

    void enter(State next) {
        assert(allowed(state_, next));
        state_ = next;
    }

    // Ends the connection at once; pending operations complete with an error (and find the state `closed`).
    void close_stream() {
        enter(State::closed);
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().close();
    }

    // After refusing a request whose body (or head) was not read whole, the client is usually still sending.
    // Closing at once with unread input makes the kernel answer with a reset, and the client may lose the
    // refusal we just wrote (its upload fails first). So, as nginx's lingering close does: stop sending, read
    // and discard what still comes for at most request_timeout, then close.
    void linger() {
        enter(State::lingering);
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return close_stream();
        lowest().expires_after(engine_.config().request_timeout);  // one deadline for the whole discard
        discard();
    }

    void discard() {
        buffer_.clear();
        lowest().async_read_some(buffer_.prepare(16 * 1024),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (self->state_ != State::lingering) return;  // closed by the server's stop
                                     if (ec) return self->close_stream();  // the client is done, or out of time
                                     self->discard();
                                 });
    }

    // Reads the next request (the state is `reading` already).
    void do_read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(engine_.config().max_header_bytes));
        parser_->body_limit(engine_.config().max_payload);
        // The whole request must arrive within the limit: a client sending its headers slowly is cut off.
        lowest().expires_after(engine_.config().request_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    // Handles a request in the same turn, leaving `reading` for `writing`, `holding` or `handed_over`.
    void on_read(beast::error_code ec) {
        if (state_ != State::reading) return;  // closed by the server's stop
        if (ec == http::error::body_limit) {
            request_ = parser_->release();
            close_after_ = true;
            unread_input_ = true;
            return error(http::status::payload_too_large, EioError::bad_request, "Payload too large");
        }
        if (ec == http::error::header_limit) {
            close_after_ = true;
            unread_input_ = true;
            request_ = {};
            return write(make_response(http::status::request_header_fields_too_large, "", "text/plain"));
        }
        if (ec) return close_stream();  // closed, timed out, or not HTTP: nothing useful to answer
        lowest().expires_never();
        request_ = parser_->release();
        close_after_ = !request_.keep_alive();
        handle();
    }

    void handle() {
        RequestFacts facts;
        const auto verb = request_.method();
        facts.method = verb == http::verb::get       ? RequestFacts::Method::get
                       : verb == http::verb::post    ? RequestFacts::Method::post
                       : verb == http::verb::options ? RequestFacts::Method::options
                                                     : RequestFacts::Method::other;
        facts.target = request_.target();
        if (auto it = request_.find(http::field::origin); it != request_.end()) facts.origin = it->value();
        if (auto it = request_.find(http::field::referer); it != request_.end()) facts.referer = it->value();
        facts.websocket_upgrade = beast::websocket::is_upgrade(request_);
        facts.websocket_version = request_[http::field::sec_websocket_version];
        facts.websocket_key = request_[http::field::sec_websocket_key];
        auto decision = route(facts, engine_, engine_.config());
        std::visit([this](auto& d) { this->carry_out(d); }, decision);
    }

    void carry_out(routed::NotFound&) { write(make_response(http::status::not_found, "Not found", "text/plain")); }

    void carry_out(routed::Refuse& r) {
        if (r.why) engine_.log().debug("refused a request: {}", r.why);
        error(static_cast<http::status>(r.status), r.code);
    }

    void carry_out(routed::Preflight&) {
        auto res = make_response(http::status::ok, "", "text/plain");
        res.set(http::field::access_control_allow_headers, "Content-Type");
        res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
        write(std::move(res));
    }

    void carry_out(routed::WrongWsVersion&) {
        auto res = make_response(http::status::upgrade_required, "", "text/plain");
        res.set(http::field::sec_websocket_version, "13");
        write(std::move(res));
    }

    void carry_out(routed::Open& o) {
        auto hs = std::make_shared<Handshake>();
        auto group = fill_handshake(*hs);
        // A Socket.IO 5 session owes a CONNECT: until it comes, it counts against the pending limit too.
        if (engine_.admit(group, o.protocol == Protocol::eio4_sio5 && o.raw_path.empty())) return unavailable();
        unbound_.release();  // the connection carries a session now: the session limits count it
        if (o.websocket)
            return hand_over(nullptr, o.protocol, o.accept, std::move(hs), std::move(o.raw_path), std::move(group));
        jsonp_ = !o.jsonp.empty();
        auto s = engine_.create(o.protocol, Session::Transport::polling, std::move(hs), std::move(o.raw_path),
                                std::move(group));
        s->set_base64(o.b64);
        const auto open = s->open_packet();
        const eio::OutPacket out{open, false};
        auto body = eio::encode_payload(
            o.protocol == Protocol::eio3_sio4 ? eio::PayloadFormat::v3_text : eio::PayloadFormat::v4,
            std::span(&out, 1));
        if (jsonp_) body = eio::encode_jsonp(o.jsonp, body);
        auto res = make_response(http::status::ok, std::move(body),
                                 jsonp_ ? "text/javascript; charset=UTF-8" : "text/plain; charset=UTF-8");
        if (engine_.config().cookie)
            res.set(http::field::set_cookie, "io=" + std::string(s->sid()) + "; Path=/; HttpOnly; SameSite=Lax");
        write(std::move(res));
        s->start();
    }

    // route() found the session of a Probe, Poll or Post in this same turn of the loop: it is still there.
    void carry_out(routed::Probe& p) {
        unbound_.release();
        auto session = engine_.find(p.sid);
        hand_over(session, session->protocol(), p.accept, nullptr, {}, {});
    }

    void carry_out(routed::Poll& p) {
        unbound_.release();
        auto session = engine_.find(p.sid);
        jsonp_ = !p.jsonp.empty();
        // Holding before the session sees the GET: it may answer it at once (a noop while upgrading).
        enter(State::holding);
        if (std::string why; !session->on_poll(shared_from_this(), std::move(p.jsonp), &why)) {
            engine_.log().debug("connection #{}: poll refused: {}", session->id(), why);
            return error(http::status::bad_request, EioError::bad_request);
        }
        if (state_ == State::holding) watch_for_close(session);
    }

    void carry_out(routed::Post& p) {
        unbound_.release();
        auto session = engine_.find(p.sid);
        jsonp_ = !p.jsonp.empty();
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
        auto packets = eio::decode_payload(session->protocol(), body, binary, &why);
        if (!packets) {
            engine_.log().info("connection #{}: malformed polling payload ({}); closing", session->id(), why);
            session->close(CloseReason::protocol_error);
            return error(http::status::bad_request, EioError::bad_request);
        }
        session->on_post(std::move(*packets));
        write(make_response(http::status::ok, "ok", "text/html"));
    }

    // The connection becomes a websocket: to probe `session`, or (without one) to open a new session.
    void hand_over(std::shared_ptr<Session> session, Protocol protocol, const std::string& accept,
                   std::shared_ptr<const Handshake> hs, std::string raw_path, std::string group) {
        enter(State::handed_over);  // the stream is the websocket's now
        WebsocketStart start{
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                accept + "\r\n\r\n",
            std::move(session),
            protocol,
            std::move(hs),
            std::move(raw_path),
            std::move(group)};
        if constexpr (tls) {
            start_tls_websocket(engine_, listener_, std::move(stream_), std::move(start));
        } else {
            lowest().expires_never();
            start_plain_websocket(engine_, listener_, lowest().release_socket(), std::move(start));
        }
    }

    // While a GET waits, a client that goes away is noticed at once (engine.io: "poll connection closed
    // prematurely"), instead of lingering until the heartbeat gives up.
    void watch_for_close(const std::shared_ptr<Session>& session) {
        lowest().socket().async_wait(tcp::socket::wait_read,
                                     [self = shared_from_this(), weak = std::weak_ptr(session)](beast::error_code ec) {
                                         if (ec || self->state_ != State::holding) return;
                                         beast::error_code avail_ec;
                                         // A pipelined request (or, over TLS, any record): the client is there.
                                         if (self->lowest().socket().available(avail_ec) > 0 && !avail_ec) return;
                                         // Closed first: the session's close answers no poll here.
                                         self->close_stream();
                                         if (auto s = weak.lock()) s->close(CloseReason::transport_error);
                                     });
    }

    // Fills in what the application sees of the handshake; returns the client's address group.
    std::string fill_handshake(Handshake& hs) {
        std::size_t bytes = 0, fields = 0;
        for (const auto& field : request_) bytes += field.name_string().size() + field.value().size(), ++fields;
        hs.reserve_headers(bytes, fields);
        for (const auto& field : request_) hs.add_header(field.name_string(), field.value());
        std::vector<std::string_view> forwarded;
        if (!trusted_.empty())
            for (auto [it, end] = request_.equal_range("X-Forwarded-For"); it != end; ++it)
                forwarded.push_back(it->value());
        const auto address = client_address(peer_, forwarded, trusted_);
        hs.address = address.to_string();
        std::string group = address_group(address);
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
        enter(State::writing);
        http::async_write(stream_, *shared, [self = shared_from_this(), shared](beast::error_code ec, std::size_t n) {
            self->engine_.bytes_sent.fetch_add(n, std::memory_order_relaxed);
            if (!ec && self->unread_input_) return self->linger();
            if (ec || self->close_after_ || !shared->keep_alive()) return self->close_stream();
            self->enter(State::reading);
            self->do_read();
        });
    }

    Engine& engine_;
    Listener& listener_;
    const TrustedProxies& trusted_;
    // Held until the first request for a session (max_unbound_per_address); empty from a trusted proxy.
    AddressSlots::Slot unbound_;
    std::shared_ptr<Listener::LiveSet> live_;
    asio::ip::address peer_;  // as accept gave it
    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
    State state_ = tls ? State::handshaking : State::reading;
    // Facts of the request being answered, not states: they shape its response and say what follows it.
    bool close_after_ = false;   // Connection: close (the client's, a refusal's, or the server's stop)
    bool jsonp_ = false;         // a JSONP request: the response is a script
    bool unread_input_ = false;  // a refused request left input unread: the close after its response lingers
};

}  // namespace

void start_http_connection(Engine& engine, Listener& listener, Socket socket, const tcp::endpoint& peer,
                           asio::ssl::context* tls, AddressSlots::Slot unbound) {
    const auto& trusted = engine.trusted_proxies();
    if (tls)
        std::make_shared<HttpConnection<TlsStream>>(engine, listener, TlsStream(std::move(socket), *tls), peer, trusted,
                                                    std::move(unbound))
            ->run();
    else
        std::make_shared<HttpConnection<TcpStream>>(engine, listener, TcpStream(std::move(socket)), peer, trusted,
                                                    std::move(unbound))
            ->run();
}

}  // namespace yunity::socketio
