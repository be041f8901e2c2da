#include "asio_adapter.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <memory>

#include <hiredis/async.h>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace yunity::redis {
namespace {

// 16 KB each (hiredis' read size): a turn of the loop takes at most 1 MB from one connection.
constexpr int reads_per_turn = 64;

// Shared between the hiredis context (through Handle) and every wait in flight, because hiredis may free the
// context while a wait is pending (an error found by a read, or redisAsyncFree from a timer): the completion
// then still finds this object, sees `ac == nullptr` and does nothing.
struct State : std::enable_shared_from_this<State> {
    State(boost::asio::io_context& io, int fd, redisAsyncContext* context, AdapterHooks h)
        : ac(context), descriptor(io, fd), hooks(std::move(h)) {}

    redisAsyncContext* ac;
    boost::asio::posix::stream_descriptor descriptor;
    AdapterHooks hooks;
    // hiredis' interest (the hooks are edge-like calls, the interest is a level) ...
    bool want_read = false;
    bool want_write = false;
    // ... and whether a wait for it is in flight: never two waits of one kind at once.
    bool read_waiting = false;
    bool write_waiting = false;

    void arm_read() {
        if (!ac || read_waiting || !want_read) return;
        read_waiting = true;
        descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                              [self = shared_from_this()](const boost::system::error_code& ec) { self->on_read(ec); });
    }

    void arm_write() {
        if (!ac || write_waiting || !want_write) return;
        write_waiting = true;
        descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                              [self = shared_from_this()](const boost::system::error_code& ec) { self->on_write(ec); });
    }

    // Any error other than cancellation is left for hiredis to find by reading, so that it frees the context
    // and reports the reason; returning instead would leave the connection hanging.
    void on_read(const boost::system::error_code& ec) {
        read_waiting = false;
        if (ec == boost::asio::error::operation_aborted || !ac || !want_read) return;
        if (hooks.on_readable) hooks.on_readable();
        // hiredis reads 16 KB at a time. A server that is behind finds more waiting and takes it in the same turn
        // of the loop (up to reads_per_turn reads): the notifications of one turn reach each connection in one
        // write, so the cost per delivery falls as the load rises instead of the backlog growing. A peek tells
        // whether more waits; the end of the stream or an error behind the data goes to hiredis in the same turn.
        for (int reads = 0; reads < reads_per_turn; ++reads) {
            if (!ac || !want_read) return;
            redisAsyncHandleRead(ac);
            if (!ac || !want_read) return;
            char next;
            const auto peeked = ::recv(descriptor.native_handle(), &next, 1, MSG_PEEK | MSG_DONTWAIT);
            if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // nothing waits
            // Data, the end of the stream or an error: hiredis reads it and acts on it.
        }
        if (!ac) return;
        // hiredis re-asks for reads after a successful read but not while a connect is still in progress; the
        // interest is a level, so keep waiting while it stands.
        arm_read();
    }

    void on_write(const boost::system::error_code& ec) {
        write_waiting = false;
        if (ec == boost::asio::error::operation_aborted || !ac || !want_write) return;
        redisAsyncHandleWrite(ac);
        arm_write();
    }

    void cleanup() {
        ac = nullptr;
        want_read = want_write = false;
        boost::system::error_code ignored;
        descriptor.cancel(ignored);
        // hiredis closes the fd right after this hook returns; closing it here as well would close whatever the
        // process opens next under the same number.
        descriptor.release();
    }
};

// What hiredis' ev.data points to; deleted by the cleanup hook.
struct Handle {
    std::shared_ptr<State> state;
};

State& state_of(void* privdata) { return *static_cast<Handle*>(privdata)->state; }

void hook_add_read(void* privdata) {
    State& s = state_of(privdata);
    s.want_read = true;
    s.arm_read();
}

void hook_del_read(void* privdata) {
    // A wait in flight is not cancelled (that would cancel the write wait too); it finds no interest and stops.
    state_of(privdata).want_read = false;
}

void hook_add_write(void* privdata) {
    State& s = state_of(privdata);
    s.want_write = true;
    s.arm_write();
}

void hook_del_write(void* privdata) { state_of(privdata).want_write = false; }

void hook_cleanup(void* privdata) {
    auto* handle = static_cast<Handle*>(privdata);
    redisAsyncContext* ac = handle->state->ac;
    // Taken out first: the owner's hook may drop the last reference to whatever owns it.
    std::function<void()> on_cleanup = std::move(handle->state->hooks.on_cleanup);
    handle->state->hooks = {};
    handle->state->cleanup();
    if (ac) {
        // Nothing of ours may run for this context any more, even if hiredis called a hook after this one.
        ac->ev.addRead = ac->ev.delRead = ac->ev.addWrite = ac->ev.delWrite = nullptr;
        ac->ev.cleanup = nullptr;
        ac->ev.data = nullptr;
    }
    delete handle;
    if (on_cleanup) on_cleanup();
}

}  // namespace

bool attach_to_asio(boost::asio::io_context& io, redisAsyncContext* ac, AdapterHooks hooks, std::string* error) {
    if (ac == nullptr || ac->ev.data != nullptr) {
        if (error) *error = "redis context is null or already attached to an event loop";
        return false;
    }
    std::shared_ptr<State> state;
    try {
        state = std::make_shared<State>(io, ac->c.fd, ac, std::move(hooks));
    } catch (const std::exception& e) {
        if (error) *error = std::string("cannot watch the redis socket: ") + e.what();
        return false;
    }
    ac->ev.data = new Handle{std::move(state)};
    ac->ev.addRead = hook_add_read;
    ac->ev.delRead = hook_del_read;
    ac->ev.addWrite = hook_add_write;
    ac->ev.delWrite = hook_del_write;
    ac->ev.cleanup = hook_cleanup;
    return true;
}

}  // namespace yunity::redis
