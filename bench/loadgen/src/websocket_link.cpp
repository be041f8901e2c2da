#include "link.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <netinet/in.h>

#include <vector>

namespace yunity::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

boost::system::error_code open_from(tcp::socket& socket, const asio::ip::address& source) {
    boost::system::error_code ec;
    socket.open(source.is_v4() ? tcp::v4() : tcp::v6(), ec);
    if (ec) return ec;
#ifdef IP_BIND_ADDRESS_NO_PORT
    const int one = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    socket.bind(tcp::endpoint(source, 0), ec);
    return ec;
}

namespace {

class WebsocketLink final : public Link, public std::enable_shared_from_this<WebsocketLink> {
public:
    WebsocketLink(asio::io_context& io, const LinkSettings& settings, LinkEvents& events)
        : settings_(settings), events_(&events), ws_(io) {}

    void start() override {
        if (auto ec = open_from(ws_.next_layer(), settings_.source)) return fail("bind", ec);
        ws_.next_layer().async_connect(settings_.server,
                                       [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
    }

    void send(std::string packet) override {
        if (dead_) return;
        out_.push_back(std::move(packet));
        if (open_ && !writing_) do_write();
    }

    void abort() override {
        events_ = nullptr;
        dead_ = true;
        beast::error_code ignored;
        ws_.next_layer().close(ignored);
    }

private:
    void on_connect(beast::error_code ec) {
        if (dead_) return;
        if (ec) return fail("connect", ec);
        ws_.next_layer().set_option(tcp::no_delay(true), ec);
        // Engine.IO's heartbeat judges liveness; Beast's own timers would only cost memory and wakeups.
        ws_.set_option(websocket::stream_base::timeout{websocket::stream_base::none(),
                                                       websocket::stream_base::none(), false});
        // Clients send a few short packets (authenticate, pongs): a small masking buffer instead of 4 KB each.
        ws_.write_buffer_bytes(256);
        ws_.auto_fragment(false);
        ws_.read_message_max(1 << 20);
        ws_.async_handshake(settings_.host_header, settings_.websocket_target,
                            [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
    }

    void on_handshake(beast::error_code ec) {
        if (dead_) return;
        if (ec) return fail("websocket handshake", ec);
        open_ = true;
        if (!out_.empty()) do_write();
        do_read();
    }

    void do_read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (dead_) return;
        if (ec) return fail("websocket read", ec);
        const auto data = buffer_.cdata();
        const std::string_view frame(static_cast<const char*>(data.data()), data.size());
        if (!frame.empty() && ws_.got_text()) events_->on_packet(frame.front(), frame.substr(1));
        buffer_.consume(buffer_.size());
        if (!dead_) do_read();
    }

    void do_write() {
        writing_ = true;
        ws_.text(true);
        ws_.async_write(asio::buffer(out_.front()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        if (dead_) return;
        if (ec) return fail("websocket write", ec);
        out_.erase(out_.begin());
        if (!out_.empty()) do_write();
    }

    void fail(std::string_view what, beast::error_code ec) {
        auto* events = events_;
        abort();
        if (events) events->on_link_error(what, ec);
    }

    const LinkSettings& settings_;
    LinkEvents* events_;
    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer buffer_;
    std::vector<std::string> out_;  // rarely more than one packet: no deque and its 512-byte block
    bool open_ = false;
    bool writing_ = false;
    bool dead_ = false;
};

}  // namespace

std::shared_ptr<Link> make_websocket_link(asio::io_context& io, const LinkSettings& settings, LinkEvents& events) {
    return std::make_shared<WebsocketLink>(io, settings, events);
}

}  // namespace yunity::bench
