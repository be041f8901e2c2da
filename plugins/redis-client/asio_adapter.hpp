#pragma once

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace yunity::redis {

// What the owner of a context hears from the adapter. Both run on the io_context's thread.
struct AdapterHooks {
    // The socket became readable and hiredis is about to read it. A subscribed connection can get replies that
    // hiredis hands to no callback (a PING answer), so this is the only reliable sign that the server is alive.
    std::function<void()> on_readable;
    // hiredis is freeing the context, for whatever reason (error, EOF, redisAsyncFree): called exactly once, from
    // inside hiredis, after every reply callback of the context has run and before its fd is closed. `ac->errstr`
    // still tells why. The context must not be touched after this returns.
    std::function<void()> on_cleanup;
};

// Drives `ac` (fresh from redisAsyncConnect without error, nothing attached yet) from `io`: hiredis' read and
// write interest becomes async_wait on the context's fd, which stays owned and closed by hiredis. Call it before
// redisAsyncSetConnectCallback, which asks for the first write event. Returns false, with a reason in `error`,
// if the fd cannot be registered; the context is then left as it was and the caller frees it.
//
// Not thread-safe: the context must only be used from the thread running `io`.
bool attach_to_asio(boost::asio::io_context& io, redisAsyncContext* ac, AdapterHooks hooks, std::string* error);

}  // namespace yunity::redis
