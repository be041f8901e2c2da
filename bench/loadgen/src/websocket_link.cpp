#include "link.hpp"

#include <boost/asio/write.hpp>

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace yunity::bench {

namespace asio = boost::asio;
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

// The client side of RFC 6455 written for the load generator's one job: take in, at the lowest cost per message,
// the unfragmented text frames a server pushes (a fan-out run delivers hundreds of thousands a second to one
// process), and send the few short packets a client sends, masked. Beast's websocket stream cost several
// microseconds per message here (a composed operation, executor copies, a timer update): more than the servers
// it measured spent per delivery. It is also an implementation independent of the server's, so that the two do
// not share a misreading of the RFC.

constexpr std::size_t max_message = 1 << 20;

// Every link of the (single-threaded) worker reads through this buffer; a link keeps only an unfinished frame.
std::array<char, 64 * 1024>& read_buffer() {
    thread_local std::array<char, 64 * 1024> buffer;
    return buffer;
}

std::uint32_t mask_key() {
    thread_local std::minstd_rand random{std::random_device{}()};
    return static_cast<std::uint32_t>(random());
}

// A whole masked frame (FIN set) carrying `payload`, appended to `out`.
void append_frame(std::string& out, std::uint8_t opcode, std::string_view payload) {
    out.push_back(static_cast<char>(0x80 | opcode));
    const auto size = payload.size();
    if (size < 126) {
        out.push_back(static_cast<char>(0x80 | size));
    } else if (size <= 0xffff) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(size >> 8));
        out.push_back(static_cast<char>(size & 0xff));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((size >> shift) & 0xff));
    }
    const auto key = mask_key();
    const char mask[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16), static_cast<char>(key >> 8),
                          static_cast<char>(key)};
    out.append(mask, 4);
    for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
}

class WebsocketLink final : public Link, public std::enable_shared_from_this<WebsocketLink> {
public:
    WebsocketLink(asio::io_context& io, const LinkSettings& settings, LinkEvents& events)
        : settings_(settings), events_(&events), socket_(io) {}

    void start() override {
        if (auto ec = open_from(socket_, settings_.source)) return fail("bind", ec);
        socket_.async_connect(settings_.server,
                              [self = shared_from_this()](boost::system::error_code ec) { self->on_connect(ec); });
    }

    void send(std::string packet) override {
        if (dead_) return;
        append_frame(out_, 0x1, packet);
        if (open_ && !writing_) do_write();
    }

    void abort() override {
        events_ = nullptr;
        dead_ = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

private:
    void on_connect(boost::system::error_code ec) {
        if (dead_) return;
        if (ec) return fail("connect", ec);
        socket_.set_option(tcp::no_delay(true), ec);
        socket_.non_blocking(true, ec);
        // The key only has to be 16 random bytes in base64; the answer's Sec-WebSocket-Accept is not checked
        // (a server that answers 101 to this request and then speaks frames is what is being measured).
        request_ = "GET " + settings_.websocket_target + " HTTP/1.1\r\nHost: " + settings_.host_header +
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n";
        asio::async_write(socket_, asio::buffer(request_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              if (self->dead_) return;
                              if (ec) return self->fail("websocket handshake", ec);
                              std::string().swap(self->request_);
                              self->wait_readable();
                          });
    }

    void wait_readable() {
        socket_.async_wait(tcp::socket::wait_read,
                           [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
    }

    // Reads what is there. A read shorter than the buffer emptied the socket; whatever arrived with it (a FIN)
    // is reported again, as Asio re-arms the wait with EPOLL_CTL_MOD, which reports a readable socket at once.
    void on_readable(boost::system::error_code ec) {
        if (dead_) return;
        if (ec) return fail("websocket read", ec);
        auto& buffer = read_buffer();
        for (;;) {
            const auto n = socket_.read_some(asio::buffer(buffer), ec);
            if (ec == asio::error::would_block) break;
            if (ec) return fail("websocket read", ec);
            if (!consume(std::string_view(buffer.data(), n))) return;
            if (dead_) return;
            if (n < buffer.size()) break;
        }
        wait_readable();
    }

    // Parses `data` (after what was kept of an unfinished frame); false when the link failed.
    bool consume(std::string_view data) {
        std::string_view rest = data;
        if (!pending_.empty()) {
            pending_.append(data);
            rest = pending_;
        }
        std::size_t used = 0;
        if (!open_ && !handshake(rest, used)) return false;
        if (open_ && !frames(rest.substr(used), used)) return false;
        if (pending_.empty()) {
            if (used < rest.size()) pending_.assign(rest.substr(used));
        } else {
            pending_.erase(0, used);
            if (pending_.empty()) std::string().swap(pending_);
        }
        return true;
    }

    bool handshake(std::string_view data, std::size_t& used) {
        const auto end = data.find("\r\n\r\n");
        if (end == std::string_view::npos) {
            if (data.size() > 16 * 1024) return failed("websocket handshake", asio::error::message_size);
            return true;
        }
        if (!data.starts_with("HTTP/1.1 101")) return failed("websocket handshake", asio::error::connection_refused);
        used = end + 4;
        open_ = true;
        if (!out_.empty() && !writing_) do_write();
        return true;
    }

    // Reads the whole frames of data, adding the bytes they take to `used`.
    bool frames(std::string_view data, std::size_t& used) {
        std::size_t at = 0;
        while (data.size() - at >= 2) {
            const auto b0 = static_cast<std::uint8_t>(data[at]);
            const auto b1 = static_cast<std::uint8_t>(data[at + 1]);
            if (b1 & 0x80) return failed("websocket read: a masked frame from the server", asio::error::invalid_argument);
            std::size_t header = 2;
            std::uint64_t size = b1 & 0x7f;
            if (size == 126 || size == 127) {
                const std::size_t bytes = size == 126 ? 2 : 8;
                if (data.size() - at < 2 + bytes) break;
                size = 0;
                for (std::size_t i = 0; i < bytes; ++i) size = size << 8 | static_cast<std::uint8_t>(data[at + 2 + i]);
                header += bytes;
            }
            if (size > max_message) return failed("websocket read: frame too big", asio::error::message_size);
            if (data.size() - at - header < size) break;
            const auto payload = data.substr(at + header, static_cast<std::size_t>(size));
            at += header + static_cast<std::size_t>(size);
            if (!frame(b0, payload)) return false;
            if (dead_) return false;
        }
        used += at;
        return true;
    }

    // The server's side of RFC 6455 checked as strictly as a client should: this is also a test of the server.
    bool frame(std::uint8_t b0, std::string_view payload) {
        const bool fin = b0 & 0x80;
        const std::uint8_t opcode = b0 & 0x0f;
        if (b0 & 0x70) return failed("websocket read: reserved bits set, no extension agreed", asio::error::invalid_argument);
        if (opcode >= 0x8) {
            if (!fin || payload.size() > 125)
                return failed("websocket read: a fragmented or oversized control frame", asio::error::invalid_argument);
            switch (opcode) {
                case 0x8:
                    return failed("websocket closed by the server", asio::error::eof);
                case 0x9:
                    append_frame(out_, 0xa, payload);
                    if (!writing_) do_write();
                    return true;
                case 0xa:
                    return true;
                default:
                    return failed("websocket read: unknown opcode", asio::error::invalid_argument);
            }
        }
        switch (opcode) {
            case 0x1:  // text
            case 0x2:  // binary: no packet of these runs is binary, but it must not break the stream
                if (fragmented_)
                    return failed("websocket read: a new message inside a fragmented one", asio::error::invalid_argument);
                message_text_ = opcode == 0x1;
                if (fin) {
                    deliver(payload);
                } else {
                    fragmented_ = true;
                    message_.assign(payload);
                }
                return true;
            case 0x0:  // continuation
                if (!fragmented_)
                    return failed("websocket read: a continuation with nothing to continue", asio::error::invalid_argument);
                message_.append(payload);
                if (message_.size() > max_message)
                    return failed("websocket read: message too big", asio::error::message_size);
                if (fin) {
                    fragmented_ = false;
                    deliver(message_);
                    std::string().swap(message_);
                }
                return true;
            default:
                return failed("websocket read: unknown opcode", asio::error::invalid_argument);
        }
    }

    void deliver(std::string_view message) {
        if (message_text_ && !message.empty() && events_) events_->on_packet(message.front(), message.substr(1));
    }

    void do_write() {
        writing_ = true;
        writing_buffer_.swap(out_);
        out_.clear();
        asio::async_write(socket_, asio::buffer(writing_buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(boost::system::error_code ec) {
        writing_ = false;
        if (dead_) return;
        if (ec) return fail("websocket write", ec);
        writing_buffer_.clear();
        if (!out_.empty()) do_write();
    }

    void fail(std::string_view what, boost::system::error_code ec) {
        auto* events = events_;
        abort();
        if (events) events->on_link_error(what, ec);
    }

    bool failed(std::string_view what, boost::system::error_code ec) {
        fail(what, ec);
        return false;
    }

    const LinkSettings& settings_;
    LinkEvents* events_;
    tcp::socket socket_;
    std::string request_;
    std::string pending_;         // an unfinished frame (or handshake response)
    std::string message_;         // the fragments so far of a fragmented message
    std::string out_;             // frames waiting for the write in flight
    std::string writing_buffer_;  // the frames of the write in flight
    bool message_text_ = true;
    bool fragmented_ = false;
    bool open_ = false;
    bool writing_ = false;
    bool dead_ = false;
};

}  // namespace

std::shared_ptr<Link> make_websocket_link(asio::io_context& io, const LinkSettings& settings, LinkEvents& events) {
    return std::make_shared<WebsocketLink>(io, settings, events);
}

}  // namespace yunity::bench
