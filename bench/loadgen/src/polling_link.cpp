#include "link.hpp"

#include "engineio_codec.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <vector>

namespace yunity::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Long-polling as socket.io-client does it: one connection holds the pending GET, a second one carries the POSTs
// (a GET may be held for the whole ping interval, and HTTP/1.1 cannot send a POST behind it on the same socket).
class PollingLink final : public Link, public std::enable_shared_from_this<PollingLink> {
public:
    PollingLink(asio::io_context& io, const LinkSettings& settings, LinkEvents& events)
        : settings_(settings), events_(&events), get_socket_(io), post_socket_(io) {}

    void start() override { connect(get_socket_, [](PollingLink& self) { self.do_get(); }); }

    void send(std::string packet) override {
        if (dead_) return;
        out_.push_back(std::move(packet));
        if (!sid_.empty() && !posting_) do_post();
    }

    void abort() override {
        events_ = nullptr;
        dead_ = true;
        beast::error_code ignored;
        get_socket_.close(ignored);
        post_socket_.close(ignored);
    }

private:
    template <class Then>
    void connect(tcp::socket& socket, Then then) {
        if (auto ec = open_from(socket, settings_.source)) return fail("bind", ec);
        socket.async_connect(settings_.server, [self = shared_from_this(), then](beast::error_code ec) {
            if (self->dead_) return;
            if (ec) return self->fail("connect", ec);
            then(*self);
        });
    }

    std::string target() {
        auto t = settings_.polling_target + "&t=" + std::to_string(++requests_);
        if (!sid_.empty()) t += "&sid=" + sid_;
        return t;
    }

    void do_get() {
        get_request_ = {http::verb::get, target(), 11};
        get_request_.set(http::field::host, settings_.host_header);
        get_response_.emplace();
        get_response_->body_limit(8 << 20);
        http::async_write(get_socket_, get_request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (self->dead_) return;
            if (ec) return self->fail("polling GET write", ec);
            http::async_read(self->get_socket_, self->get_buffer_, *self->get_response_,
                             [self](beast::error_code ec, std::size_t) { self->on_get(ec); });
        });
    }

    void on_get(beast::error_code ec) {
        if (dead_) return;
        if (ec) return fail("polling GET", ec);
        auto& res = get_response_->get();
        if (res.result() != http::status::ok) return fail("polling GET status", make_error_code(beast::errc::protocol_error));
        const bool binary = res[http::field::content_type] == "application/octet-stream";
        auto packets = eio::decode_payload(settings_.eio == 3 ? Protocol::eio3_sio4 : Protocol::eio4_sio5, res.body(), binary);
        if (!packets) return fail("polling payload", make_error_code(beast::errc::bad_message));
        const bool keep_alive = res.keep_alive();
        for (auto& p : *packets) {
            if (sid_.empty() && p.type == eio::PacketType::open) sid_ = sid_of(p.data);
            if (!events_) return;
            events_->on_packet(eio::type_char(p.type), p.data);
            if (dead_) return;
        }
        if (sid_.empty()) return fail("polling open packet", make_error_code(beast::errc::bad_message));
        if (!out_.empty() && !posting_) do_post();
        if (keep_alive) return do_get();
        beast::error_code ignored;
        get_socket_.close(ignored);
        connect(get_socket_, [](PollingLink& self) { self.do_get(); });
    }

    void do_post() {
        posting_ = true;
        std::vector<eio::OutPacket> packets;
        for (const auto& p : out_) packets.push_back({p, false});
        const auto format = settings_.eio == 3 ? eio::PayloadFormat::v3_text : eio::PayloadFormat::v4;
        post_request_ = {http::verb::post, target(), 11};
        post_request_.set(http::field::host, settings_.host_header);
        post_request_.set(http::field::content_type, "text/plain;charset=UTF-8");
        post_request_.body() = eio::encode_payload(format, packets);
        post_request_.prepare_payload();
        out_.clear();
        send_post();
    }

    void send_post() {
        post_reused_ = post_socket_.is_open();
        if (!post_reused_) return connect(post_socket_, [](PollingLink& self) { self.write_post(); });
        write_post();
    }

    void write_post() {
        post_response_.emplace();
        http::async_write(post_socket_, post_request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (self->dead_) return;
            if (ec) return self->on_post(ec);
            http::async_read(self->post_socket_, self->post_buffer_, *self->post_response_,
                             [self](beast::error_code ec, std::size_t) { self->on_post(ec); });
        });
    }

    void on_post(beast::error_code ec) {
        if (dead_) return;
        if (ec && post_reused_) {
            // The server may close a keep-alive connection that sat idle between two POSTs (pongs come every
            // ping interval); a browser then sends the request again on a new connection, and so do we, once.
            beast::error_code ignored;
            post_socket_.close(ignored);
            post_buffer_.clear();
            return send_post();
        }
        if (ec) return fail("polling POST", ec);
        if (post_response_->get().result() != http::status::ok)
            return fail("polling POST status", make_error_code(beast::errc::protocol_error));
        if (!post_response_->get().keep_alive()) {
            beast::error_code ignored;
            post_socket_.close(ignored);
        }
        posting_ = false;
        if (!out_.empty()) do_post();
    }

    static std::string sid_of(std::string_view open_json) {
        constexpr std::string_view key = "\"sid\":\"";
        const auto at = open_json.find(key);
        if (at == std::string_view::npos) return {};
        const auto start = at + key.size();
        const auto end = open_json.find('"', start);
        return end == std::string_view::npos ? std::string{} : std::string(open_json.substr(start, end - start));
    }

    void fail(std::string_view what, beast::error_code ec) {
        auto* events = events_;
        abort();
        if (events) events->on_link_error(what, ec);
    }

    const LinkSettings& settings_;
    LinkEvents* events_;
    tcp::socket get_socket_, post_socket_;
    beast::flat_buffer get_buffer_, post_buffer_;
    http::request<http::empty_body> get_request_;
    http::request<http::string_body> post_request_;
    std::optional<http::response_parser<http::string_body>> get_response_, post_response_;
    std::string sid_;
    std::vector<std::string> out_;
    std::uint64_t requests_ = 0;
    bool posting_ = false;
    bool post_reused_ = false;  // the POST went out on a connection that had carried one before
    bool dead_ = false;
};

}  // namespace

std::shared_ptr<Link> make_polling_link(asio::io_context& io, const LinkSettings& settings, LinkEvents& events) {
    return std::make_shared<PollingLink>(io, settings, events);
}

}  // namespace yunity::bench
