#include "plain_websocket.hpp"
#include "sockets.hpp"

#include "engine.hpp"
#include "exact_allocator.hpp"

#include <boost/asio/bind_allocator.hpp>

#include <array>
#include <cstring>
#include <span>

namespace yunity::socketio {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Reads of the shared buffer one connection may do per readiness event: a client that sends without pause gets
// 256 KB handled per turn of the loop, then waits its turn behind every other connection and timer.
constexpr int max_reads_per_turn = 4;

// Every connection of the thread reads into this one buffer; a connection keeps only the unfinished end of a
// frame, which is empty almost always.
std::span<char> read_buffer() {
    thread_local std::array<char, 65536> buffer;
    return buffer;
}

// Small frames are copied into this buffer and written as one piece: the kernel's copy from a gathered write
// costs per piece (two per frame, tens of bytes each under fan-out), more than copying them here does.
std::span<char> write_buffer() {
    thread_local std::array<char, 65536> buffer;
    return buffer;
}

bool would_block(const error_code& ec) { return ec == asio::error::would_block || ec == asio::error::try_again; }

class PlainWebsocket final : public WebsocketConnection {
public:
    PlainWebsocket(Engine& engine, Listener& listener, Socket socket, Protocol protocol)
        : WebsocketConnection(engine, listener, protocol), socket_(std::move(socket)) {
        // The listener made it non-blocking, and it inherited TCP_NODELAY from the listening socket: asking the
        // kernel again would cost two system calls per connection.
        error_code ec;
        if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    }

private:
    std::shared_ptr<PlainWebsocket> self() { return std::static_pointer_cast<PlainWebsocket>(shared_from_this()); }

    // As much as the socket takes now; a wait for room for the rest.
    void write() override {
        while (!write_waiting_ && !frames_.empty() && socket_.is_open()) {
            std::array<std::span<const char>, max_buffers> pieces;
            std::array<ws::Header, max_buffers / 2> headers;
            const std::size_t n = frames_.gather(pieces, headers);
            // The leading pieces that fit go out as one copy (all of them, under fan-out's small frames); a large
            // payload goes from where it is, gathered.
            const auto joined = write_buffer();
            std::size_t copied = 0, at = 0;
            for (; copied < n && at + pieces[copied].size() <= joined.size(); ++copied) {
                std::memcpy(joined.data() + at, pieces[copied].data(), pieces[copied].size());
                at += pieces[copied].size();
            }
            error_code ec;
            std::size_t wanted = at, written = 0;
            if (copied >= 2 || copied == n) {
                written = socket_.write_some(asio::buffer(joined.data(), at), ec);
            } else {
                std::array<asio::const_buffer, max_buffers> buffers;
                wanted = 0;
                for (std::size_t i = 0; i < n; ++i) {
                    buffers[i] = asio::buffer(pieces[i].data(), pieces[i].size());
                    wanted += pieces[i].size();
                }
                written = socket_.write_some(std::span(buffers.data(), n), ec);
            }
            if (ec && !would_block(ec)) return lost(CloseReason::transport_error);
            engine_.bytes_sent.fetch_add(written, std::memory_order_relaxed);
            frames_.consume(written);
            if (would_block(ec) || written < wanted) wait_write();
        }
        if (frames_.empty() && !write_waiting_) drained();
    }

    void wait_write() {
        write_waiting_ = true;
        socket_.async_wait(tcp::socket::wait_write, [self = self()](const error_code& ec) {
            self->write_waiting_ = false;
            if (ec) {
                if (ec != asio::error::operation_aborted) self->lost(CloseReason::transport_error);
                return;
            }
            self->write();
        });
    }

    void wait_read() override {
        if (reading_ || !socket_.is_open()) return;
        reading_ = true;
        socket_.async_wait(tcp::socket::wait_read,
                           asio::bind_allocator(ExactAllocator<void>{}, [self = self()](const error_code& ec) {
                               self->reading_ = false;
                               if (ec) {
                                   if (ec != asio::error::operation_aborted) self->read_failed(false);
                                   return;
                               }
                               self->on_readable();
                           }));
    }

    void on_readable() {
        const auto buffer = read_buffer();
        for (int reads = 0; reads < max_reads_per_turn; ++reads) {
            error_code ec;
            const std::size_t n = socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
            if (would_block(ec)) break;
            if (ec) return read_failed(ec == asio::error::eof);
            if (!received(std::span(buffer.data(), n))) return;
            // A read that did not fill the buffer emptied the socket. What came with it in the same readiness
            // event (the peer's FIN behind its last frame) is not lost: Asio re-arms the wait with
            // EPOLL_CTL_MOD, which reports a socket still readable at once (tests/integration/websocket.test.mjs).
            if (n < buffer.size()) break;
        }
        wait_read();
    }

    void shutdown_send() override {
        error_code ec;
        socket_.shutdown(tcp::socket::shutdown_send, ec);
    }

    // The descriptor is this connection's alone: closing it ends the connection as a shutdown would (a FIN, or
    // a reset when unread bytes remain), and a shutdown first cost a system call per connection in a storm.
    void close_stream() override {
        error_code ec;
        socket_.close(ec);
    }

    asio::any_io_executor executor() override { return socket_.get_executor(); }

    Socket socket_;
    bool reading_ = false;
};

}  // namespace

void start_plain_websocket(Engine& engine, Listener& listener, Socket socket, WebsocketStart start) {
    const Protocol protocol = start.protocol;
    std::make_shared<PlainWebsocket>(engine, listener, std::move(socket), protocol)->run(std::move(start));
}

}  // namespace yunity::socketio
