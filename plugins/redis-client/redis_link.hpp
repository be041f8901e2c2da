#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "redis_url.hpp"

namespace spdlog {
class logger;
}

namespace yunity::redis {

// A redis reply as an owning value, so that callers never see hiredis types. Strings are binary-safe.
struct Reply {
    enum class Type { nil, integer, string, status, error, array };

    Type type = Type::nil;
    long long integer = 0;        // Type::integer
    std::string str;              // Type::string, Type::status, Type::error (e.g. inside an EXEC result)
    std::vector<Reply> elements;  // Type::array

    bool is_nil() const { return type == Type::nil; }
    bool is_integer() const { return type == Type::integer; }
    bool is_string() const { return type == Type::string; }
    bool is_status() const { return type == Type::status; }
    bool is_error() const { return type == Type::error; }
    bool is_array() const { return type == Type::array; }
};

// Every duration must be positive, except health_check_interval (0 disables it).
struct LinkOptions {
    RedisUrl url;
    // Resolve + TCP connect + AUTH/SELECT (+ re-subscribing) must finish within this, else the attempt counts as
    // failed: hiredis 0.14 has no connect timeout of its own in async mode.
    std::chrono::milliseconds connect_timeout{2000};
    // A command without a reply after this fails, and the connection is dropped and made again: a stalled
    // server (SIGSTOP, a dead host without RST) would otherwise hold every later reply forever.
    std::chrono::milliseconds command_timeout{5000};
    // Delay before reconnect attempt n is backoff_initial * 2^n, capped at backoff_max, +-20% jitter so that
    // many servers do not reconnect in step after a redis restart.
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{5000};
    // After this long without anything read from redis the link sends a PING (and drops the connection if no
    // answer comes within command_timeout). It is what notices a dead server on a subscription link, where no
    // command would time out; 0 disables it.
    std::chrono::milliseconds health_check_interval{15000};
    // Commands awaiting a reply beyond this fail at once instead of queueing without bound behind a slow redis.
    std::size_t max_pending = 100000;
    // Other servers any of which will do as well as url's (a cluster's nodes, for a subscription that only needs
    // one of them): after each failed attempt or lost connection the link tries the next, in turn.
    std::vector<std::pair<std::string, std::uint16_t>> alternatives;
    // Checks ROLE after AUTH/SELECT and refuses (drops and retries) a server that is not a master: behind
    // Sentinel a link must never serve from a replica, whatever address it was given.
    bool require_master = false;
    std::string name;  // for logs: "session-commands", "pubsub", ...
};

// One logical connection to redis that keeps itself connected (see LinkOptions for the timeouts and backoff).
//
// Threading: not thread-safe. Construct it, call every member and destroy it on the thread that runs the
// io_context (or before that thread runs it); every callback runs on that thread.
//
// A link is either a command link (command()) or a subscription link (subscribe()/psubscribe()), never both:
// hiredis 0.14 cannot match replies to commands on a subscribed connection.
class RedisLink {
public:
    // Exactly one of `reply` and `error` is set. Redis error replies come as `error` with redis' own text
    // ("WRONGTYPE Operation against ..."); link failures as "redis ..." text (not connected, timed out,
    // connection lost, link stopped). `reply` is only valid during the call.
    using CommandCallback = std::function<void(const Reply* reply, const std::string& error)>;
    using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;
    using PatternMessageHandler =
        std::function<void(std::string_view pattern, std::string_view channel, std::string_view message)>;

    // `logger` may be null (then spdlog's default logger is used).
    RedisLink(boost::asio::io_context& io, LinkOptions options, std::shared_ptr<spdlog::logger> logger);
    // Stops the link. A running link holds asio objects: destroy it before its io_context. A link stopped while
    // its io_context existed holds none and may be destroyed after it (plugins: stop, drain and destroy the
    // io_context, then destroy the plugin objects).
    ~RedisLink();
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    // Starts connecting; later disconnects are followed by reconnects until stop(). No-op when started.
    void start();
    // No reconnect any more; the connection is closed, and every pending command callback is called with an
    // error before stop() returns. After stop() returns no callback given to this link runs again (except those
    // of commands issued after it, which fail later), nothing of the link is left pending on the io_context, and
    // the link may be destroyed or started again. on_disconnected is not called for it. Safe to call from any
    // of the link's callbacks, and more than once.
    void stop();

    // Called each time the link becomes usable: connected, AUTH and SELECT done and, on a subscription link,
    // every subscription confirmed by redis, so that a message published after this callback is delivered. After
    // a reconnect this is the place to resync whatever may have been missed while the link was down.
    void on_connected(std::function<void()> callback);
    // Called once when a usable link is lost (not for each failed reconnect attempt, not for stop()). Pending
    // command callbacks have already been failed by then.
    void on_disconnected(std::function<void(const std::string& why)> callback);

    // Points the link at another server (a new master). A link connected, or connecting, elsewhere drops that
    // connection and connects to the new address at once, without backoff; the same address changes nothing. A
    // link not started only records it.
    void retarget(const std::string& host, std::uint16_t port);
    // Drops the connection (if any) and makes it again after the first backoff step: for an owner that found the
    // link useless although it is open (a subscription that no longer delivers). on_disconnected is called if it
    // was usable.
    void reconnect(const std::string& why);

    bool connected() const;
    // How many times the link became usable again after having been usable once.
    std::uint64_t reconnects() const;
    const LinkOptions& options() const;

    // Sends one command (argv form, binary-safe). The callback is never called from inside command(), always
    // later from the io_context; callbacks of one link run in the order of their commands (only a command
    // refused outright, over max_pending or not allowed, fails ahead of replies still due). While the link is not
    // connected the command fails (later) at once: there is no queue of commands waiting for a connection.
    // SUBSCRIBE, PSUBSCRIBE, (P)UNSUBSCRIBE and MONITOR are refused: they change how hiredis routes replies.
    void command(std::vector<std::string> argv, CommandCallback callback);

    // Subscriptions live in the link, not in the connection: they are made again after every reconnect. A
    // second handler for the same channel (or pattern) replaces the first. Handlers get views valid only during
    // the call. There is no unsubscribe: a subscription link is meant to hold a fixed set (use a pattern for a
    // changing one).
    void subscribe(std::string channel, MessageHandler handler);
    void psubscribe(std::string pattern, PatternMessageHandler handler);

private:
    class Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace yunity::redis
