#include "engine.hpp"

#include "plugin_packets.hpp"
#include "socketio_codec.hpp"

#include <sys/random.h>
#include <sys/resource.h>

#include <array>
#include <stdexcept>

namespace yunity::socketio {

Engine::Engine(PluginContext& context, TransportConfig config)
    : bytes_sent(context.metrics().counter("yunity_socketio_bytes_sent_total",
                                           "Bytes of Engine.IO payloads handed to client sockets")),
      deliveries(
          context.metrics().counter("yunity_socketio_deliveries_total", "Notifications written to client connections")),
      bad_requests(context.metrics().counter("yunity_socketio_bad_requests_total",
                                             "HTTP requests refused with an Engine.IO error")),
      context_(context),
      config_(std::move(config)),
      trusted_proxies_(config_.trusted_proxies),
      max_connections_(config_.max_connections),
      refused_total_(refused_counter(context, "max_connections")),
      refused_per_address_(refused_counter(context, "max_connections_per_address")),
      refused_pending_(refused_counter(context, "max_pending_per_address")),
      refused_unbound_(refused_counter(context, "max_unbound_per_address")),
      heartbeats_(context.io(), [this](ConnectionId id, Heartbeats::Clock::time_point entry) {
          if (auto it = by_id_.find(id); it != by_id_.end()) it->second->heartbeat_due(entry);
      }) {
    if (max_connections_ == 0) {
        rlimit limit{};
        getrlimit(RLIMIT_NOFILE, &limit);
        // Each session holds one socket (two while a poll and a POST overlap); the reserve covers redis, logs,
        // plugin files and admin requests.
        max_connections_ = limit.rlim_cur > 512 ? static_cast<std::size_t>(limit.rlim_cur) - 256 : 256;
    }
    if (config_.max_queue_bytes <= config_.max_payload)
        context_.logger()->warn(
            "max_queue_bytes ({}) is not above max_payload ({}): a message counts against max_queue_bytes while it "
            "arrives, so one near max_payload cuts its connection as too slow",
            config_.max_queue_bytes, config_.max_payload);
    context_.logger()->info(
        "at most {} sessions at once; per client address: {}, {} before CONNECT, {} connections without one{}",
        max_connections_, config_.max_connections_per_address, config_.max_pending_per_address,
        config_.max_unbound_per_address,
        config_.trusted_proxies.empty() ? "" : "; X-Forwarded-For believed from trusted proxies");
}

std::atomic<std::uint64_t>& Engine::refused_counter(PluginContext& context, const char* limit) {
    return context.metrics().counter(
        "yunity_socketio_refused_total",
        "Handshakes refused with 503, and connections closed at once (max_unbound_per_address), by the limit reached",
        std::string("limit=\"") + limit + "\"");
}

void Engine::log_refusal(std::chrono::steady_clock::time_point& last, const char* what, const std::string& why) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last <= std::chrono::seconds(10)) return;
    last = now;
    log().warn("{}: {}", what, why);
}

std::optional<AddressSlots::Slot> Engine::admit_connection(const boost::asio::ip::address& peer) {
    if (trusted_proxies_.contains(peer)) return AddressSlots::Slot{};
    const auto group = address_group(peer);
    auto slot = unbound_->take(group, config_.max_unbound_per_address);
    if (!slot) {
        refused_unbound_.fetch_add(1, std::memory_order_relaxed);
        log_refusal(last_unbound_log_, "closing new connections at once",
                    "max_unbound_per_address (" + std::to_string(config_.max_unbound_per_address) +
                        " connections without a session) reached for " + group);
    }
    return slot;
}

std::optional<std::string> Engine::admit(const std::string& group, bool pending) {
    std::optional<std::string> refusal;
    const auto it = per_address_.find(group);
    const AddressCount count = it == per_address_.end() ? AddressCount{} : it->second;
    if (by_sid_.size() >= max_connections_) {
        refusal = "max_connections (" + std::to_string(max_connections_) + ") reached";
        refused_total_.fetch_add(1, std::memory_order_relaxed);
    } else if (config_.max_connections_per_address && count.sessions >= config_.max_connections_per_address) {
        refusal = "max_connections_per_address (" + std::to_string(config_.max_connections_per_address) +
                  ") reached for " + group;
        refused_per_address_.fetch_add(1, std::memory_order_relaxed);
    } else if (pending && config_.max_pending_per_address && count.pending >= config_.max_pending_per_address) {
        refusal = "max_pending_per_address (" + std::to_string(config_.max_pending_per_address) +
                  " sessions without a CONNECT) reached for " + group;
        refused_pending_.fetch_add(1, std::memory_order_relaxed);
    }
    if (refusal) log_refusal(last_refusal_log_, "refusing new sessions with 503", *refusal);
    return refusal;
}

std::string Engine::random_id() {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Ids come from the kernel's CSPRNG, drawn in blocks: a guessable sid would let anyone read another
    // client's polling session.
    static std::array<unsigned char, 4096> pool;
    static std::size_t used = pool.size();
    constexpr std::size_t length = id_length;
    if (used + length > pool.size()) {
        std::size_t filled = 0;
        while (filled < pool.size()) {
            auto n = getrandom(pool.data() + filled, pool.size() - filled, 0);
            if (n > 0) filled += static_cast<std::size_t>(n);
        }
        used = 0;
    }
    std::string id(length, '\0');
    for (std::size_t i = 0; i < length; ++i) id[i] = alphabet[pool[used++] & 63];
    return id;
}

std::shared_ptr<Session> Engine::create(Protocol protocol, Session::Transport transport,
                                        std::shared_ptr<const Handshake> handshake, std::string raw_path,
                                        std::string group) {
    auto session = std::make_shared<Session>(*this, random_id(), protocol, next_id_++, transport, std::move(handshake),
                                             std::move(raw_path), std::move(group));
    by_sid_.emplace(std::string_view(session->sid()), session);
    by_id_.emplace(session->id(), session.get());
    auto& count = per_address_[session->address_group()];
    ++count.sessions;
    if (session->pending()) {
        ++count.pending;
        ++pending_total_;
    }
    return session;
}

void Engine::left_pending(Session& s) {
    auto it = per_address_.find(s.address_group());
    if (it != per_address_.end() && it->second.pending > 0) --it->second.pending;
    if (pending_total_ > 0) --pending_total_;
}

std::shared_ptr<Session> Engine::find(std::string_view sid) const {
    auto it = by_sid_.find(sid);
    return it == by_sid_.end() ? nullptr : it->second;
}

void Engine::announce(Session& s) {
    context_.bus().publish(events::ConnectionOpened{
        s.id(), std::string(s.socket_id()), s.transport() == Session::Transport::websocket ? "websocket" : "polling",
        s.protocol(), s.handshake(), std::string(s.pid())});
}

void Engine::authenticate(Session& s, std::string session_id) {
    context_.bus().publish(events::Authenticate{s.id(), std::move(session_id)});
}

void Engine::resume(Session& s, std::string pid, std::string offset) {
    context_.bus().publish(events::Resume{s.id(), std::move(pid), std::move(offset)});
}

void Engine::resumed(const events::Resumed& answer) {
    auto it = by_id_.find(answer.connection);
    if (it != by_id_.end()) it->second->on_resumed(answer);
}

void Engine::await_drain(const events::AwaitDrain& request) {
    auto it = by_id_.find(request.connection);
    if (it != by_id_.end()) it->second->await_drain();
}

void Engine::close_connection(const events::CloseConnection& request) {
    auto it = by_id_.find(request.connection);
    if (it == by_id_.end()) return;
    const auto session = it->second->shared_from_this();  // closing erases the entries that hold it
    session->close(request.reason);
}

void Engine::drained(Session& s) { context_.bus().publish(events::Drained{s.id()}); }

void Engine::transport_changed(Session& s) { context_.bus().publish(events::TransportChanged{s.id(), "websocket"}); }

void Engine::closed(Session& s, CloseReason reason) {
    // A client cut off for not reading is an operator's business (a slow network, a stuck app); the rest is routine.
    if (reason == CloseReason::too_slow)
        log().warn("connection #{} closed: too slow (over {} bytes queued or partly read)", s.id(),
                   config_.max_queue_bytes);
    else log().debug("connection #{} closed: {}", s.id(), to_string(reason));
    context_.metrics()
        .counter("yunity_socketio_disconnects_total", "Closed client connections by reason",
                 std::string("reason=\"") + to_string(reason) + "\"")
        .fetch_add(1, std::memory_order_relaxed);
    if (s.announced()) context_.bus().publish(events::ConnectionClosed{s.id(), reason});
    by_id_.erase(s.id());
    if (auto it = per_address_.find(s.address_group()); it != per_address_.end() && --it->second.sessions == 0)
        per_address_.erase(it);
    // The last reference may be this entry's, and the key is a view of the session's sid: the entry goes first,
    // the session (if nothing else holds it) after. Touch nothing of `s` after this.
    if (auto it = by_sid_.find(std::string_view(s.sid())); it != by_sid_.end()) {
        auto keep = std::move(it->second);
        by_sid_.erase(it);
    }
}

void Engine::NamespaceTable::declare(std::string nsp, AuthHook hook) {
    if (nsp.empty() || nsp[0] != '/' || nsp.find_first_of(",?") != std::string::npos)
        throw std::invalid_argument("namespace \"" + nsp + "\": it must start with '/' and hold no ',' or '?'");
    if (!hooks.emplace(nsp, std::move(hook)).second)
        throw std::invalid_argument("namespace \"" + nsp + "\" declared twice");
}

void Engine::client_event(events::ClientEvent event) { context_.bus().publish(std::move(event)); }

void Engine::client_ack(events::ClientAck ack) { context_.bus().publish(std::move(ack)); }

void Engine::engine_message(Session& s, std::string data, bool binary) {
    context_.bus().publish(events::EngineMessage{s.id(), s.raw_path(), std::move(data), binary});
}

namespace {

bool under(std::string_view path, std::string_view served) {
    return path.starts_with(served) || (path.size() + 1 == served.size() && served.starts_with(path));
}

bool overlap(std::string_view a, std::string_view b) { return a.starts_with(b) || b.starts_with(a); }

}  // namespace

std::optional<SessionTable::Facts> Engine::session(std::string_view sid) const {
    auto s = find(sid);
    if (!s) return std::nullopt;
    return Facts{s->raw_path(), s->protocol(), s->transport() == Session::Transport::websocket};
}

bool Engine::serves(std::string_view path, std::string& raw_path) const {
    for (const auto& p : config_.paths)
        if (under(path, p)) return true;
    for (const auto& p : engine_paths_.paths)
        if (under(path, p)) {
            raw_path = p;
            return true;
        }
    return false;
}

void Engine::EnginePathTable::serve(std::string path) {
    if (path.size() < 2 || path.front() != '/' || path.back() != '/' || path.find_first_of("?#") != std::string::npos)
        throw std::invalid_argument("Engine.IO path \"" + path + "\": it must start and end with '/'");
    for (const auto& p : config.paths)
        if (overlap(path, p))
            throw std::invalid_argument("Engine.IO path \"" + path + "\" overlaps the Socket.IO path " + p);
    for (const auto& p : paths)
        if (overlap(path, p)) throw std::invalid_argument("Engine.IO path \"" + path + "\" overlaps " + p);
    paths.push_back(std::move(path));
}

void Engine::ack(const events::Ack& a) {
    auto it = by_id_.find(a.connection);
    if (it == by_id_.end() || !it->second->joined(a.nsp)) return;
    if (!it->second->take_pending_ack(a.nsp, a.ack_id)) {
        log().warn("dropped an ack: connection {} did not ask for ack {} on {} (or it was answered already)",
                   a.connection, a.ack_id, a.nsp);
        return;
    }
    std::string error;
    auto encoded = sio::encode_ack(a.nsp, a.ack_id, a.args, a.attachments, &error);
    if (!encoded) return log().warn("dropped an ack for connection {}: {}", a.connection, error);
    it->second->send_packet(encoded->text, encoded->attachments);
}

void Engine::emit(const events::Emit& e) {
    using Target = events::Emit::Target;
    if (e.target == Target::user) return;  // the core turns it into connections
    if (e.ack_id && e.target == Target::everyone) {
        log().warn("dropped an emit of \"{}\": an ack id needs connections or a user as its target", e.event);
        return;
    }
    std::string error;
    auto encoded = sio::encode_emit(e.nsp, e.event, e.ack_id, e.args, e.attachments, &error);
    if (!encoded) return log().warn("dropped an emit of \"{}\": {}", e.event, error);
    const auto send = [&](Session& s) {
        if (s.joined(e.nsp)) s.send_packet(encoded->text, encoded->attachments);
    };
    if (e.target == Target::everyone) {
        std::vector<std::shared_ptr<Session>> all;
        all.reserve(by_sid_.size());
        for (auto& [sid, s] : by_sid_) all.push_back(s);
        for (auto& s : all) send(*s);
        return;
    }
    for (auto id : e.connections) {
        auto it = by_id_.find(id);
        if (it != by_id_.end()) send(*it->second);
    }
}

void Engine::engine_send(const events::EngineSend& e) {
    std::shared_ptr<const std::string> bytes;
    for (auto id : e.connections) {
        auto it = by_id_.find(id);
        if (it == by_id_.end() || !it->second->raw()) continue;
        if (!bytes) bytes = std::make_shared<const std::string>(e.binary ? e.data : "4" + e.data);
        it->second->send({bytes, e.binary});
    }
}

void Engine::deliver(const events::Deliver& d) {
    if (!d.payload) return;
    // One encoding for every recipient: `42["event",payload,"offset"]` is the same bytes for both protocol
    // versions (the offset, when the source gives one, is the last argument: what socket.io-client 4.6+ recovers
    // from). Plain Engine.IO clients get the payload alone, also encoded once.
    std::shared_ptr<const std::string> bytes, raw_bytes;
    std::uint64_t n = 0;
    for (auto id : d.connections) {
        auto it = by_id_.find(id);
        if (it == by_id_.end()) continue;
        auto& s = *it->second;
        if (s.raw()) {
            if (!raw_bytes) raw_bytes = std::make_shared<const std::string>("4" + *d.payload);
            s.send({raw_bytes, false});
        } else {
            // A client that left "/" (DISCONNECT) keeps its Engine.IO session but gets nothing on "/".
            if (!s.joined("/")) continue;
            if (!bytes)
                bytes = std::make_shared<const std::string>(sio::encode_event("/", d.event, *d.payload, d.offset));
            s.send({bytes, false});
        }
        ++n;
    }
    deliveries.fetch_add(n, std::memory_order_relaxed);
}

void Engine::close_all(CloseReason reason) {
    std::vector<std::shared_ptr<Session>> all;
    all.reserve(by_sid_.size());
    for (auto& [sid, s] : by_sid_) all.push_back(s);
    for (auto& s : all) s->close(reason);
    heartbeats_.stop();  // the closed sessions' entries would keep the loop running until they came due
}

}  // namespace yunity::socketio
