#include "transport.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <vector>

namespace yunity::client {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto user_agent = "yunity-sockets-client/" YUNITY_VERSION;

using Response = http::response<http::string_body>;

// One keep-alive HTTP connection, one request at a time. Its handlers hold `this` only: the owner's handler,
// passed along, keeps the owner (and so the channel) alive.
class HttpChannel {
public:
    using Handler = std::function<void(beast::error_code, Response)>;

    explicit HttpChannel(asio::io_context& io) : stream_(io) {}

    void request(const tcp::resolver::results_type& endpoints, http::request<http::string_body> req, Handler handler) {
        request_ = std::move(req);
        handler_ = std::move(handler);
        endpoints_ = endpoints;
        if (connected_) return send(true);
        connect();
    }

    void close() {
        connected_ = false;
        stream_.close();
    }

private:
    void connect() {
        stream_.async_connect(endpoints_, [this](beast::error_code ec, const tcp::endpoint&) {
            if (ec) return complete(ec);
            connected_ = true;
            stream_.socket().set_option(tcp::no_delay(true), ec);
            send(false);
        });
    }

    void send(bool reused) {
        parser_.reset();
        http::async_write(stream_, request_, [this, reused](beast::error_code ec, std::size_t) {
            if (ec) return retry_or_complete(ec, reused);
            parser_.emplace();
            parser_->body_limit(64 * 1024 * 1024);
            http::async_read(stream_, buffer_, *parser_, [this, reused](beast::error_code ec, std::size_t) {
                if (ec) return retry_or_complete(ec, reused);
                auto res = parser_->release();
                if (!res.keep_alive()) close();
                complete({}, std::move(res));
            });
        });
    }

    // The server closes a keep-alive connection that stays idle (yunity-sockets after its request timeout), and
    // a request sent just then meets a closed socket. Nothing was answered, so nothing was done: send it again on
    // a new connection.
    void retry_or_complete(beast::error_code ec, bool reused) {
        close();
        if (reused && ec != asio::error::operation_aborted && (!parser_ || !parser_->got_some())) {
            buffer_.clear();
            return connect();
        }
        complete(ec);
    }

    void complete(beast::error_code ec, Response res = {}) {
        if (ec) close();
        auto handler = std::exchange(handler_, nullptr);
        if (handler) handler(ec, std::move(res));
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    tcp::resolver::results_type endpoints_;
    http::request<http::string_body> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
    Handler handler_;
    bool connected_ = false;
};

// Engine.IO long-polling: a GET always pending for what the server sends, POSTs for what the client sends, each
// on its own connection since a POST must not wait behind a poll the server holds for up to pingInterval.
class PollingTransport : public Transport, public std::enable_shared_from_this<PollingTransport> {
public:
    PollingTransport(asio::io_context& io, const TransportSettings& settings, TransportEvents& events)
        : settings_(settings), events_(&events), resolver_(io), get_(io), post_(io) {}

    void start() override {
        resolver_.async_resolve(settings_.server.host, settings_.server.port,
                                [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                                    if (self->dead_) return;
                                    if (ec) return self->fail("cannot resolve " + self->settings_.server.host + ": " +
                                                              ec.message());
                                    self->endpoints_ = std::move(r);
                                    self->poll();
                                });
    }

    void send(std::string packet) override {
        if (closing_ || dead_) return;
        queue_.push_back(std::move(packet));
        if (!sid_.empty() && !posting_) flush();
    }

    void close(std::function<void()> done) override {
        if (closing_ || dead_) return;
        events_ = nullptr;
        closing_ = true;
        if (sid_.empty()) {
            abort();
            if (done) done();
            return;
        }
        done_ = std::move(done);
        // Tells the server at once instead of letting the session time out; the close packet goes last.
        queue_.emplace_back(1, eio::type_char(eio::PacketType::close));
        if (!posting_) flush();
    }

    void abort() override {
        events_ = nullptr;
        dead_ = true;
        resolver_.cancel();
        get_.close();
        post_.close();
    }

private:
    http::request<http::string_body> make_request(http::verb verb) const {
        http::request<http::string_body> req{verb, request_target(settings_.server, settings_.protocol, "polling", sid_),
                                             11};
        req.set(http::field::host, settings_.server.host_header);
        req.set(http::field::user_agent, user_agent);
        req.keep_alive(true);
        return req;
    }

    void poll() {
        get_.request(endpoints_, make_request(http::verb::get),
                     [self = shared_from_this()](beast::error_code ec, Response res) {
                         self->on_poll(ec, std::move(res));
                     });
    }

    void on_poll(beast::error_code ec, Response res) {
        if (dead_ || closing_) return;
        if (ec) return fail("poll failed: " + ec.message());
        if (res.result() != http::status::ok) return fail("poll refused: " + describe(res));
        const auto content_type = res[http::field::content_type];
        const bool binary = content_type.starts_with("application/octet-stream");
        std::string why;
        auto packets = eio::decode_payload(settings_.protocol, res.body(), binary, &why);
        if (!packets) return fail("malformed polling payload from the server: " + why);
        if (sid_.empty()) {
            // The handshake: the open packet comes first and carries the sid every later request names.
            const auto open = packets->empty() || packets->front().type != eio::PacketType::open
                                  ? std::nullopt
                                  : parse_open(packets->front().data);
            if (!open) return fail("the handshake response has no valid open packet");
            sid_ = open->sid;
        }
        for (auto& packet : *packets) {
            if (!events_) return;  // the Client closed or aborted this transport while handling a packet
            events_->on_packet(std::move(packet));
        }
        if (dead_ || closing_) return;
        if (!queue_.empty() && !posting_) flush();
        poll();
    }

    void flush() {
        posting_ = true;
        std::vector<eio::OutPacket> packets;
        packets.reserve(queue_.size());
        for (const auto& p : queue_) packets.push_back({p, false});
        const auto format = eio::choose_payload_format(settings_.protocol, false, packets);
        auto req = make_request(http::verb::post);
        req.set(http::field::content_type, "text/plain;charset=UTF-8");
        req.body() = eio::encode_payload(format, packets);
        req.prepare_payload();
        queue_.clear();
        post_.request(endpoints_, std::move(req), [self = shared_from_this()](beast::error_code ec, Response res) {
            self->on_posted(ec, std::move(res));
        });
    }

    void on_posted(beast::error_code ec, Response res) {
        posting_ = false;
        if (dead_) return;
        const bool ok = !ec && res.result() == http::status::ok;
        if (!ok && closing_) return finish_close();
        if (ec) return fail("sending failed: " + ec.message());
        if (!ok) return fail("sending refused: " + describe(res));
        if (!queue_.empty()) return flush();  // when closing, this holds the close packet
        if (closing_) finish_close();
    }

    void finish_close() {
        abort();
        if (auto d = std::exchange(done_, nullptr)) d();
    }

    static std::string describe(const Response& res) {
        auto body = res.body();
        if (body.size() > 200) body = body.substr(0, 200) + "...";
        return "HTTP " + std::to_string(res.result_int()) + (body.empty() ? "" : " " + body);
    }

    void fail(std::string reason) {
        auto* events = events_;
        abort();
        if (events) events->on_transport_error(std::move(reason));
    }

    TransportSettings settings_;
    TransportEvents* events_;
    tcp::resolver resolver_;
    tcp::resolver::results_type endpoints_;
    HttpChannel get_;
    HttpChannel post_;
    std::string sid_;
    std::vector<std::string> queue_;
    std::function<void()> done_;
    bool posting_ = false;
    bool closing_ = false;
    bool dead_ = false;
};

}  // namespace

std::shared_ptr<Transport> make_polling_transport(asio::io_context& io, const TransportSettings& settings,
                                                  TransportEvents& events) {
    return std::make_shared<PollingTransport>(io, settings, events);
}

}  // namespace yunity::client
