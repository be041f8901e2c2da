#include "redis_link.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asio_adapter.hpp"

namespace yunity::redis {
namespace {

using Clock = std::chrono::steady_clock;

// Failed reconnect attempts are logged at warning level at most this often; the others at debug level.
constexpr std::chrono::seconds retry_warning_interval{30};

Reply convert(const redisReply& r) {
    Reply out;
    switch (r.type) {
        case REDIS_REPLY_STRING:
            out.type = Reply::Type::string;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = Reply::Type::status;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = Reply::Type::error;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = Reply::Type::integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = Reply::Type::array;
            out.elements.reserve(r.elements);
            for (std::size_t i = 0; i < r.elements; ++i) {
                out.elements.push_back(r.element[i] ? convert(*r.element[i]) : Reply{});
            }
            break;
        default:
            break;  // nil
    }
    return out;
}

std::string_view string_element(const redisReply& r, std::size_t i) {
    if (i >= r.elements || !r.element[i]) return {};
    const redisReply& e = *r.element[i];
    if (e.type != REDIS_REPLY_STRING && e.type != REDIS_REPLY_STATUS) return {};
    return {e.str, e.len};
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Commands that would put the connection into a mode where hiredis 0.14 routes replies by something else than
// their order (it matches them after dropping a leading 'p', as in PSUBSCRIBE).
bool changes_reply_routing(std::string_view name) {
    if (!name.empty() && (name.front() == 'p' || name.front() == 'P')) name.remove_prefix(1);
    return iequals(name, "subscribe") || iequals(name, "unsubscribe") || iequals(name, "monitor");
}

long long ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

// hiredis 0.14 writes with write(2), so a connection reset by redis would kill the process with SIGPIPE.
// Linux has no per-socket way out, so the process ignores it unless someone already chose a handler.
void ignore_sigpipe(spdlog::logger& log) {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
        std::signal(SIGPIPE, SIG_IGN);
        log.debug("SIGPIPE is now ignored (hiredis writes to sockets with write(2))");
    }
}

}  // namespace

class RedisLink::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(boost::asio::io_context& io, LinkOptions options, std::shared_ptr<spdlog::logger> logger)
        : io_(io),
          options_(std::move(options)),
          log_(logger ? std::move(logger) : spdlog::default_logger()),
          label_(options_.name.empty() ? std::string("redis link") : "redis link '" + options_.name + "'"),
          rng_(std::random_device{}()) {}

    const LinkOptions& options() const { return options_; }
    bool connected() const { return phase_ == Phase::ready; }
    std::uint64_t reconnects() const { return reconnects_; }
    void set_on_connected(std::function<void()> f) { on_connected_ = std::move(f); }
    void set_on_disconnected(std::function<void(const std::string&)> f) { on_disconnected_ = std::move(f); }

    void start() {
        if (running_) return;
        running_ = true;
        resolver_.emplace(io_);
        for (Timer* t : {&connect_timer_, &backoff_timer_, &command_timer_, &health_timer_}) t->timer.emplace(io_);
        ignore_sigpipe(*log_);
        failures_ = 0;
        begin_attempt();
    }

    void stop() {
        auto self = shared_from_this();
        running_ = false;
        ++attempt_;
        disarm_all();
        if (auto conn = std::move(current_)) {
            abandon(conn, "redis link stopped");
        }
        phase_ = Phase::idle;
        // A plugin's link may outlive the io_context (plugins are destroyed after it): a stopped link keeps no
        // asio object whose destructor would reach into the destroyed context.
        resolver_.reset();
        for (Timer* t : {&connect_timer_, &backoff_timer_, &command_timer_, &health_timer_}) t->timer.reset();
        flush_failures();
    }

    void retarget(const std::string& host, std::uint16_t port) {
        if (host == options_.url.host && port == options_.url.port) return;
        const std::string from = redact(options_.url);
        options_.url.host = host;
        options_.url.port = port;
        if (!running_) return;
        log_->info("{}: moving from {} to {}", label_, from, redact(options_.url));
        failures_ = 0;
        if (phase_ == Phase::ready) return drop("moved to " + redact(options_.url), std::chrono::milliseconds(0));
        auto self = shared_from_this();
        ++attempt_;
        disarm_all();
        if (auto conn = std::move(current_)) abandon(conn, "redis link moved to another server");
        flush_failures();
        begin_attempt();
    }

    // A link still connecting is making a new connection anyway.
    void reconnect(const std::string& why) {
        if (running_ && phase_ == Phase::ready) drop(why);
    }

    void command(std::vector<std::string> argv, CommandCallback callback) {
        if (!callback) callback = [](const Reply*, const std::string&) {};
        if (argv.empty()) return fail_later(std::move(callback), "redis command is empty");
        if (changes_reply_routing(argv.front())) {
            return fail_later(
                std::move(callback),
                "redis command " + argv.front() + " is not allowed through command(): use subscribe()/psubscribe()");
        }
        if (!channels_.empty() || !patterns_.empty()) {
            return fail_later(std::move(callback), label_ + " is a subscription link: it takes no commands");
        }
        if (phase_ != Phase::ready || !current_) {
            return fail_later(std::move(callback), label_ + " is not connected");
        }
        if (current_->pending.size() >= options_.max_pending) {
            return fail_later(std::move(callback), label_ + " has too many commands awaiting a reply (" +
                                                       std::to_string(options_.max_pending) + ")");
        }
        if (!send(*current_, argv, callback, Clock::now() + options_.command_timeout)) {
            return fail_later(std::move(callback), label_ + " could not send the command");
        }
    }

    void subscribe(std::string channel, MessageHandler handler) {
        auto h = std::make_shared<const MessageHandler>(std::move(handler));
        if (!channels_.insert_or_assign(channel, std::move(h)).second) return;
        if (subscriptions_live()) send_subscribe(*current_, "SUBSCRIBE", {channel});
    }

    void psubscribe(std::string pattern, PatternMessageHandler handler) {
        auto h = std::make_shared<const PatternMessageHandler>(std::move(handler));
        if (!patterns_.insert_or_assign(pattern, std::move(h)).second) return;
        if (subscriptions_live()) send_subscribe(*current_, "PSUBSCRIBE", {pattern});
    }

private:
    enum class Phase { idle, resolving, connecting, handshaking, ready, waiting };

    struct Pending {
        CommandCallback callback;
        Clock::time_point deadline;  // max(): covered by the connect timeout instead (handshake)
    };

    // One hiredis connection. hiredis keeps a raw pointer to it (ac->data, callbacks' privdata) until it frees the
    // context; the adapter's cleanup hook holds the owning reference till then, so it outlives the link if need be.
    struct Conn {
        Impl* link = nullptr;             // null once the link let go: later hiredis callbacks are ignored
        redisAsyncContext* ac = nullptr;  // null once hiredis freed the context
        std::deque<Pending> pending;      // in hiredis' reply order
        Clock::time_point last_read;
        Clock::time_point ping_sent;
        std::size_t subs_unconfirmed = 0;
        bool subs_sent = false;
        bool in_connect_callback = false;  // hiredis sets no "in callback" flag there, so it cannot defer a free
    };

    // A generation per timer: cancel() cannot stop a completion that is already queued, and a stale one must
    // not act on a later arming. The asio timer exists only between start() and stop(); this struct, which
    // completions refer to, as long as the link.
    struct Timer {
        std::optional<boost::asio::steady_timer> timer;
        std::uint64_t generation = 0;
    };

    // ---- timers -------------------------------------------------------------------------------------------

    void arm(Timer& t, Clock::time_point at, void (Impl::*action)()) {
        const auto generation = ++t.generation;
        if (!t.timer) return;
        t.timer->expires_at(at);
        t.timer->async_wait([weak = weak_from_this(), &t, generation, action](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self || ec == boost::asio::error::operation_aborted || t.generation != generation) return;
            ((*self).*action)();
        });
    }

    void disarm(Timer& t) {
        ++t.generation;
        if (t.timer) t.timer->cancel();
    }

    void disarm_all() {
        disarm(connect_timer_);
        disarm(backoff_timer_);
        disarm(command_timer_);
        disarm(health_timer_);
        command_timer_armed_ = false;
        ping_outstanding_ = false;
        if (resolver_) resolver_->cancel();
    }

    // ---- connecting ---------------------------------------------------------------------------------------

    void begin_attempt() {
        if (!running_) return;
        if (!options_.alternatives.empty()) {
            // Slot 0 is the url's own address, kept in first_address_ since url now names the one in use.
            if (!first_address_) first_address_.emplace(options_.url.host, options_.url.port);
            const std::size_t n = options_.alternatives.size() + 1;
            const auto& next = rotation_ % n == 0 ? *first_address_ : options_.alternatives[rotation_ % n - 1];
            options_.url.host = next.first;
            options_.url.port = next.second;
        }
        phase_ = Phase::resolving;
        const auto attempt = ++attempt_;
        arm(connect_timer_, Clock::now() + options_.connect_timeout, &Impl::on_connect_timeout);

        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(options_.url.host, ec);
        if (!ec) return connect_to(address.to_string());

        // hiredis would resolve with a blocking getaddrinfo on the loop thread; asio does it on its own thread.
        if (!resolver_) return;
        resolver_->async_resolve(
            options_.url.host, std::to_string(options_.url.port),
            [weak = weak_from_this(), attempt](const boost::system::error_code& error,
                                               const boost::asio::ip::tcp::resolver::results_type& results) {
                auto self = weak.lock();
                if (!self || self->attempt_ != attempt || self->phase_ != Phase::resolving) return;
                if (error || results.empty()) {
                    return self->drop("cannot resolve " + self->options_.url.host + ": " +
                                      (error ? error.message() : std::string("no address")));
                }
                // IPv4 first, as hiredis itself would; successive failed attempts go through every address, so
                // that a name with an address redis does not listen on (often ::1) still gets to the right one.
                std::vector<boost::asio::ip::address> addresses;
                for (const auto& entry : results) addresses.push_back(entry.endpoint().address());
                std::stable_partition(addresses.begin(), addresses.end(), [](const auto& a) { return a.is_v4(); });
                addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
                self->connect_to(addresses[self->failures_ % addresses.size()].to_string());
            });
    }

    void connect_to(const std::string& ip) {
        phase_ = Phase::connecting;
        redisAsyncContext* ac = redisAsyncConnect(ip.c_str(), options_.url.port);
        if (!ac) return drop("cannot allocate a redis context");
        if (ac->err) {
            std::string why = ac->c.errstr;
            redisAsyncFree(ac);
            return drop(why);
        }

        auto conn = std::make_shared<Conn>();
        conn->link = this;
        conn->ac = ac;
        conn->last_read = Clock::now();
        AdapterHooks hooks;
        hooks.on_readable = [raw = conn.get()] { raw->last_read = Clock::now(); };
        hooks.on_cleanup = [conn] {
            std::string why = conn->ac && conn->ac->c.err ? conn->ac->c.errstr : "connection closed";
            conn->ac = nullptr;
            if (conn->link) conn->link->on_context_freed(*conn, why);
        };
        std::string error;
        if (!attach_to_asio(io_, ac, std::move(hooks), &error)) {
            redisAsyncFree(ac);
            return drop(error);
        }
        ac->data = conn.get();
        current_ = std::move(conn);
        redisAsyncSetConnectCallback(ac, &Impl::on_connect_trampoline);
    }

    static void on_connect_trampoline(const redisAsyncContext* ac, int status) {
        auto* conn = static_cast<Conn*>(ac->data);
        // A failed connect is reported by the cleanup hook that follows, with hiredis' reason.
        if (!conn || !conn->link || status != REDIS_OK) return;
        conn->in_connect_callback = true;
        conn->link->start_handshake(*conn);
        conn->in_connect_callback = false;
    }

    // AUTH and SELECT, then a PING so that a server wanting a password we do not have is found here (NOAUTH)
    // rather than by the first real command. All pipelined; the connect timer bounds the whole handshake.
    void start_handshake(Conn& conn) {
        phase_ = Phase::handshaking;
        std::vector<std::vector<std::string>> steps;
        const RedisUrl& url = options_.url;
        if (!url.password.empty()) {
            steps.push_back(url.user.empty() ? std::vector<std::string>{"AUTH", url.password}
                                             : std::vector<std::string>{"AUTH", url.user, url.password});
        }
        if (url.db != 0) steps.push_back({"SELECT", std::to_string(url.db)});
        if (options_.require_master) steps.push_back({"ROLE"});
        steps.push_back({"PING"});

        const auto attempt = attempt_;
        for (std::size_t i = 0; i < steps.size(); ++i) {
            const bool last = i + 1 == steps.size();
            auto on_reply = [weak = weak_from_this(), attempt, what = steps[i][0], last](const Reply* reply,
                                                                                         const std::string& error) {
                auto self = weak.lock();
                if (!self || self->attempt_ != attempt || self->phase_ != Phase::handshaking) return;
                if (!error.empty()) return self->drop(what + " failed: " + error);
                if (what == "ROLE") {
                    // ["master", offset, replicas] on a master; "slave" (a replica) or "sentinel" otherwise.
                    const std::string role = reply && reply->is_array() && !reply->elements.empty()
                                                 ? reply->elements[0].str
                                                 : std::string("unknown");
                    if (role != "master") return self->drop("the server is not a master (ROLE " + role + ")");
                }
                if (last) self->handshake_done();
            };
            CommandCallback callback = std::move(on_reply);
            if (!send(conn, steps[i], callback, Clock::time_point::max())) {
                // Freeing the context from inside its connect callback would pull it from under hiredis.
                boost::asio::post(io_, [weak = weak_from_this(), attempt] {
                    auto self = weak.lock();
                    if (self && self->attempt_ == attempt) self->drop("cannot send the handshake");
                });
                return;
            }
        }
    }

    void handshake_done() {
        Conn& conn = *current_;
        conn.subs_sent = true;
        if (channels_.empty() && patterns_.empty()) return become_ready();
        std::vector<std::string> names;
        for (const auto& entry : channels_) names.push_back(entry.first);
        if (!names.empty()) send_subscribe(conn, "SUBSCRIBE", names);
        names.clear();
        for (const auto& entry : patterns_) names.push_back(entry.first);
        if (!names.empty()) send_subscribe(conn, "PSUBSCRIBE", names);
        // become_ready() when redis has confirmed every one of them (handle_subscription_reply).
    }

    void become_ready() {
        auto self = shared_from_this();
        phase_ = Phase::ready;
        disarm(connect_timer_);
        if (ready_before_) ++reconnects_;
        if (failures_ > 0) {
            log_->info("{}: connected to {} after {} failed attempts", label_, redact(options_.url), failures_);
        } else {
            log_->info("{}: connected to {}", label_, redact(options_.url));
        }
        ready_before_ = true;
        failures_ = 0;
        ping_outstanding_ = false;
        if (options_.health_check_interval.count() > 0) {
            arm(health_timer_, Clock::now() + options_.health_check_interval, &Impl::on_health_timer);
        }
        if (on_connected_) invoke("on_connected", on_connected_);
    }

    void on_connect_timeout() { drop("no connection within " + std::to_string(ms(options_.connect_timeout)) + " ms"); }

    // The one way a connection (or an attempt at one) ends short of stop(): fail what waited on it, tell the
    // owner if it had been usable, and schedule the next attempt.
    void drop(const std::string& why, std::optional<std::chrono::milliseconds> delay = std::nullopt) {
        if (!running_) return;
        auto self = shared_from_this();
        const bool was_ready = phase_ == Phase::ready;
        ++attempt_;
        disarm_all();
        if (auto conn = std::move(current_)) abandon(conn, "redis connection lost: " + why);

        const auto now = Clock::now();
        if (was_ready) {
            log_->warn("{}: connection to {} lost: {}; reconnecting", label_, redact(options_.url), why);
            last_warning_ = now;
        } else if (failures_ == 0) {
            log_->warn("{}: cannot connect to {}: {}; retrying (backoff up to {} ms)", label_, redact(options_.url),
                       why, ms(options_.backoff_max));
            last_warning_ = now;
        } else if (now - last_warning_ >= retry_warning_interval) {
            log_->warn("{}: still cannot connect to {} after {} attempts: {}", label_, redact(options_.url),
                       failures_ + 1, why);
            last_warning_ = now;
        } else {
            log_->debug("{}: attempt {} failed: {}", label_, failures_ + 1, why);
        }

        phase_ = Phase::waiting;
        ++rotation_;
        arm(backoff_timer_, now + (delay ? *delay : backoff_delay()), &Impl::begin_attempt);
        if (!was_ready) ++failures_;

        flush_failures();
        if (was_ready && running_ && on_disconnected_) {
            invoke("on_disconnected", [&] { on_disconnected_(why); });
        }
    }

    // Lets go of a connection the link no longer wants: its pending callbacks are queued to fail and every
    // later hiredis callback for it is ignored.
    void abandon(const std::shared_ptr<Conn>& conn, const std::string& error) {
        conn->link = nullptr;
        for (auto& p : conn->pending) to_fail_.emplace_back(std::move(p.callback), error);
        conn->pending.clear();
        if (!conn->ac) return;  // hiredis is freeing it already (we are in its cleanup hook)
        if (conn->in_connect_callback) {
            boost::asio::post(io_, [conn] {
                if (conn->ac) redisAsyncFree(conn->ac);
            });
            return;
        }
        // Inside a reply callback hiredis defers the free until the callback returns.
        redisAsyncFree(conn->ac);
    }

    void on_context_freed(Conn& conn, const std::string& why) {
        if (current_.get() == &conn) drop(why);
    }

    std::chrono::milliseconds backoff_delay() {
        const auto initial = std::max<long long>(1, ms(options_.backoff_initial));
        const auto cap = std::max<long long>(initial, ms(options_.backoff_max));
        long long delay = initial;
        for (std::uint64_t i = 0; i < failures_ && delay < cap; ++i) delay *= 2;
        delay = std::min(delay, cap);
        // Jitter only downwards, so that the cap holds.
        std::uniform_real_distribution<double> jitter(0.8, 1.0);
        return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(delay) * jitter(rng_)));
    }

    // ---- commands -----------------------------------------------------------------------------------------

    // Takes the callback only on success, so that the caller can still fail it.
    bool send(Conn& conn, const std::vector<std::string>& argv, CommandCallback& callback, Clock::time_point deadline) {
        std::vector<const char*> args;
        std::vector<std::size_t> lengths;
        args.reserve(argv.size());
        lengths.reserve(argv.size());
        for (const auto& a : argv) {
            args.push_back(a.data());
            lengths.push_back(a.size());
        }
        if (redisAsyncCommandArgv(conn.ac, &Impl::on_reply_trampoline, &conn, static_cast<int>(args.size()),
                                  args.data(), lengths.data()) != REDIS_OK) {
            return false;
        }
        conn.pending.push_back({std::move(callback), deadline});
        arm_command_timer();
        return true;
    }

    static void on_reply_trampoline(redisAsyncContext*, void* reply, void* privdata) {
        auto* conn = static_cast<Conn*>(privdata);
        // A null reply means hiredis is freeing the context; the cleanup hook fails what is left, with the reason.
        if (!reply || !conn->link) return;
        conn->link->handle_reply(*conn, *static_cast<const redisReply*>(reply));
    }

    void handle_reply(Conn& conn, const redisReply& r) {
        if (conn.pending.empty()) return;
        auto self = shared_from_this();
        Pending p = std::move(conn.pending.front());
        conn.pending.pop_front();
        if (r.type == REDIS_REPLY_ERROR) {
            invoke_callback(p.callback, nullptr, std::string(r.str, r.len));
        } else {
            const Reply reply = convert(r);
            invoke_callback(p.callback, &reply, std::string());
        }
    }

    // One timer for the oldest command: commands are answered in order and all get the same timeout, so the
    // oldest one is always the first to expire.
    void arm_command_timer() {
        if (command_timer_armed_ || !current_ || current_->pending.empty()) return;
        const auto deadline = current_->pending.front().deadline;
        if (deadline == Clock::time_point::max()) return;
        command_timer_armed_ = true;
        arm(command_timer_, deadline, &Impl::on_command_timer);
    }

    void on_command_timer() {
        command_timer_armed_ = false;
        if (!current_ || current_->pending.empty()) return;
        Pending& oldest = current_->pending.front();
        if (oldest.deadline > Clock::now()) return arm_command_timer();
        to_fail_.emplace_back(std::move(oldest.callback),
                              "redis command timed out after " + std::to_string(ms(options_.command_timeout)) + " ms");
        current_->pending.pop_front();
        drop("a command got no reply within " + std::to_string(ms(options_.command_timeout)) + " ms");
    }

    void fail_later(CommandCallback callback, std::string error) {
        to_fail_.emplace_back(std::move(callback), std::move(error));
        if (flush_posted_) return;
        flush_posted_ = true;
        boost::asio::post(io_, [weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                self->flush_posted_ = false;
                self->flush_failures();
            }
        });
    }

    // Pops one at a time, so that a callback calling stop() (which flushes too) leaves nothing twice.
    void flush_failures() {
        while (!to_fail_.empty()) {
            auto [callback, error] = std::move(to_fail_.front());
            to_fail_.pop_front();
            invoke_callback(callback, nullptr, error);
        }
    }

    // ---- subscriptions ------------------------------------------------------------------------------------

    bool subscriptions_live() const {
        return current_ && (phase_ == Phase::ready || (phase_ == Phase::handshaking && current_->subs_sent));
    }

    void send_subscribe(Conn& conn, const char* command, const std::vector<std::string>& names) {
        std::vector<const char*> args{command};
        std::vector<std::size_t> lengths{std::char_traits<char>::length(command)};
        for (const auto& n : names) {
            args.push_back(n.data());
            lengths.push_back(n.size());
        }
        // hiredis keeps one callback per channel and calls it for the confirmation and for every message.
        if (redisAsyncCommandArgv(conn.ac, &Impl::on_subscription_trampoline, &conn, static_cast<int>(args.size()),
                                  args.data(), lengths.data()) == REDIS_OK) {
            conn.subs_unconfirmed += names.size();
        }
    }

    static void on_subscription_trampoline(redisAsyncContext*, void* reply, void* privdata) {
        auto* conn = static_cast<Conn*>(privdata);
        if (!reply || !conn->link) return;
        conn->link->handle_subscription_reply(*conn, *static_cast<const redisReply*>(reply));
    }

    void handle_subscription_reply(Conn& conn, const redisReply& r) {
        // Also gets the answer to a health PING (["pong", ""]) when hiredis hands it to the last callback it ran.
        if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return;
        auto self = shared_from_this();
        const std::string_view kind = string_element(r, 0);
        if (kind == "message") {
            const auto channel = string_element(r, 1);
            auto it = channels_.find(channel);
            if (it == channels_.end()) return;
            auto handler = it->second;  // the handler may replace itself
            invoke("message handler", [&] { (*handler)(channel, string_element(r, 2)); });
        } else if (kind == "pmessage" && r.elements >= 4) {
            const auto pattern = string_element(r, 1);
            auto it = patterns_.find(pattern);
            if (it == patterns_.end()) return;
            auto handler = it->second;
            invoke("pattern message handler", [&] { (*handler)(pattern, string_element(r, 2), string_element(r, 3)); });
        } else if (kind == "subscribe" || kind == "psubscribe") {
            if (conn.subs_unconfirmed > 0) --conn.subs_unconfirmed;
            if (conn.subs_unconfirmed == 0 && phase_ == Phase::handshaking && current_.get() == &conn) become_ready();
        }
    }

    // ---- health -------------------------------------------------------------------------------------------

    void on_health_timer() {
        if (phase_ != Phase::ready || !current_ || !current_->ac) return;
        Conn& conn = *current_;
        const auto now = Clock::now();
        const auto interval = options_.health_check_interval;
        if (ping_outstanding_) {
            ping_outstanding_ = false;
            if (conn.last_read <= conn.ping_sent) {
                return drop("no answer to PING within " + std::to_string(ms(options_.command_timeout)) + " ms");
            }
            return arm(health_timer_, conn.last_read + interval, &Impl::on_health_timer);
        }
        if (now - conn.last_read < interval)
            return arm(health_timer_, conn.last_read + interval, &Impl::on_health_timer);

        redisAsyncContext* ac = conn.ac;
        if (ac->c.flags & REDIS_SUBSCRIBED) {
            // A subscribed hiredis 0.14 connection cannot take a PING with a callback (the reply would never be
            // matched and the callback would leak), so the PING goes raw into the output buffer and any byte read
            // afterwards counts as the answer. Only when no plain reply is still due, which could otherwise take
            // the pong for itself.
            if (ac->replies.head != nullptr) return arm(health_timer_, now + interval, &Impl::on_health_timer);
            static constexpr char ping_command[] = "*1\r\n$4\r\nPING\r\n";
            if (redisAppendFormattedCommand(&ac->c, ping_command, sizeof(ping_command) - 1) != REDIS_OK)
                return drop("cannot send PING");
            if (ac->ev.addWrite) ac->ev.addWrite(ac->ev.data);
            conn.ping_sent = now;
            ping_outstanding_ = true;
            return arm(health_timer_, now + options_.command_timeout, &Impl::on_health_timer);
        }
        // A plain PING is a command like any other: the command timeout watches it.
        CommandCallback ignore = [](const Reply*, const std::string&) {};
        send(conn, {"PING"}, ignore, now + options_.command_timeout);
        arm(health_timer_, now + interval, &Impl::on_health_timer);
    }

    // ---- calling out --------------------------------------------------------------------------------------

    // User code runs inside hiredis' C frames: an exception must not unwind through them.
    template <typename F>
    void invoke(const char* what, F&& f) {
        try {
            f();
        } catch (const std::exception& e) {
            log_->error("{}: {} threw: {}", label_, what, e.what());
        } catch (...) {
            log_->error("{}: {} threw a non-standard exception", label_, what);
        }
    }

    void invoke_callback(CommandCallback& callback, const Reply* reply, const std::string& error) {
        invoke("command callback", [&] { callback(reply, error); });
    }

    boost::asio::io_context& io_;
    LinkOptions options_;  // only the address changes (retarget)
    std::shared_ptr<spdlog::logger> log_;
    const std::string label_;

    std::optional<boost::asio::ip::tcp::resolver> resolver_;
    Timer connect_timer_;
    Timer backoff_timer_;
    Timer command_timer_;
    Timer health_timer_;
    bool command_timer_armed_ = false;
    bool ping_outstanding_ = false;

    bool running_ = false;
    Phase phase_ = Phase::idle;
    std::uint64_t attempt_ = 0;  // bumped whenever an attempt ends: stale async steps compare it
    std::shared_ptr<Conn> current_;

    std::map<std::string, std::shared_ptr<const MessageHandler>, std::less<>> channels_;
    std::map<std::string, std::shared_ptr<const PatternMessageHandler>, std::less<>> patterns_;

    std::function<void()> on_connected_;
    std::function<void(const std::string&)> on_disconnected_;

    std::deque<std::pair<CommandCallback, std::string>> to_fail_;
    bool flush_posted_ = false;

    bool ready_before_ = false;
    std::uint64_t reconnects_ = 0;
    std::uint64_t failures_ = 0;  // failed attempts since the link was last usable
    Clock::time_point last_warning_{};
    std::minstd_rand rng_;
    std::uint64_t rotation_ = 0;  // which of url and alternatives the next attempt uses
    std::optional<std::pair<std::string, std::uint16_t>> first_address_;
};

RedisLink::RedisLink(boost::asio::io_context& io, LinkOptions options, std::shared_ptr<spdlog::logger> logger)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(logger))) {}

RedisLink::~RedisLink() { impl_->stop(); }

void RedisLink::start() { impl_->start(); }
void RedisLink::stop() { impl_->stop(); }
void RedisLink::on_connected(std::function<void()> callback) { impl_->set_on_connected(std::move(callback)); }
void RedisLink::on_disconnected(std::function<void(const std::string& why)> callback) {
    impl_->set_on_disconnected(std::move(callback));
}
void RedisLink::retarget(const std::string& host, std::uint16_t port) { impl_->retarget(host, port); }
void RedisLink::reconnect(const std::string& why) { impl_->reconnect(why); }
bool RedisLink::connected() const { return impl_->connected(); }
std::uint64_t RedisLink::reconnects() const { return impl_->reconnects(); }
const LinkOptions& RedisLink::options() const { return impl_->options(); }
void RedisLink::command(std::vector<std::string> argv, CommandCallback callback) {
    impl_->command(std::move(argv), std::move(callback));
}
void RedisLink::subscribe(std::string channel, MessageHandler handler) {
    impl_->subscribe(std::move(channel), std::move(handler));
}
void RedisLink::psubscribe(std::string pattern, PatternMessageHandler handler) {
    impl_->psubscribe(std::move(pattern), std::move(handler));
}

}  // namespace yunity::redis
