#include "worker.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <istream>
#include <sstream>

namespace yunity::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto tick_period = std::chrono::milliseconds(5);
constexpr std::int64_t retry_delay_ns = 200'000'000;
constexpr std::size_t users_per_probe = 500;   // keeps each probe's JSON small for the server to parse
constexpr std::size_t targets_cache_size = 1024;
constexpr std::int64_t max_probe_gap_ns = 160'000'000;

}  // namespace

Worker::Worker(const Options& options, const Plan& plan, std::size_t index, std::size_t first, std::size_t last,
               int control_fd)
    : options_(options), plan_(plan), index_(index), first_(first), last_(last), control_(io_, control_fd),
      tick_timer_(io_), targets_cache_(targets_cache_size) {
    std::vector<tcp::endpoint> servers;
    tcp::resolver resolver(io_);
    for (const auto& t : options_.targets) servers.push_back(*resolver.resolve(tcp::v4(), t.host, t.port).begin());
    // One LinkSettings per (server, source address, version), in that order of nesting.
    for (std::size_t t = 0; t < options_.targets.size(); ++t)
        for (std::size_t s = 0; s < options_.source_addresses; ++s)
            for (int eio : {3, 4}) {
                LinkSettings ls;
                ls.server = servers[t];
                ls.source = asio::ip::make_address_v4(0x7F000001U + static_cast<unsigned>(s));
                ls.host_header = options_.targets[t].host_header;
                ls.websocket_target = options_.path + "?EIO=" + std::to_string(eio) + "&transport=websocket";
                ls.polling_target = options_.path + "?EIO=" + std::to_string(eio) + "&transport=polling" +
                                    (eio == 3 ? "&b64=1" : "");
                ls.eio = eio;
                settings_.push_back(std::move(ls));
            }
    clients_.reserve(last_ - first_);
    next_probe_ns_.assign((last_ - first_) / plan_.per_user(), 0);
    probe_gap_ns_.assign(next_probe_ns_.size(), 0);
    ClientObserver& observer = *this;
    for (std::size_t conn = first_; conn < last_; ++conn) {
        const auto s = (plan_.target_of(conn) * options_.source_addresses + plan_.source_of(conn)) * 2 +
                       (plan_.eio_of(conn) == 3 ? 0 : 1);
        clients_.push_back(
            std::make_unique<Client>(static_cast<std::uint32_t>(conn), plan_.polling(conn), settings_[s], observer));
    }
    redis_ = std::make_unique<RedisPipe>(options_.redis_host, options_.redis_port);
    epoch_ns_ = now_ns();
}

std::int64_t Worker::now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int Worker::run() {
    read_control();
    tick();
    io_.run();
    return 0;
}

// ---- control channel ----

void Worker::read_control() {
    asio::async_read_until(control_, control_in_, '\n', [this](boost::system::error_code ec, std::size_t) {
        if (ec) {  // the coordinator is gone: nothing left to do
            quit_ = true;
            io_.stop();
            return;
        }
        std::istream in(&control_in_);
        std::string line;
        std::getline(in, line);
        on_command(line);
        if (!quit_) read_control();
    });
}

void Worker::reply(const std::string& line) {
    std::string out = line + "\n";
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
        const auto n = ::write(control_.native_handle(), p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

void Worker::on_command(const std::string& line) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "setup") {
        setup_sessions();
        reply("ok");
    } else if (command == "connect") {
        start_connecting(false);
    } else if (command == "storm") {
        start_connecting(true);
    } else if (command == "phase") {
        in >> phase_first_seq_;
        received_ = reported_ = duplicated_ = unexpected_ = disconnects_ = late_ = 0;
        first_error_.clear();
        for (auto& c : clients_) c->received = 0;
        histogram_.clear();
        reply("ok");
    } else if (command == "verify") {
        std::uint64_t s0 = 0, s1 = 0;
        in >> s0 >> s1;
        verify(s0, s1);
    } else if (command == "quit") {
        quit_ = true;
        for (auto& c : clients_) c->drop();
        io_.stop();
    }
}

// ---- setting up and connecting ----

void Worker::setup_sessions() {
    // An hour is far longer than any run and spares redis from our leftovers.
    std::size_t errors = 0;
    for (std::size_t conn = first_; conn < last_; ++conn) {
        const auto key = options_.session_prefix + plan_.session_id(conn);
        const auto user = std::to_string(plan_.user_id(plan_.user_of(conn)));
        redis_->append({"SET", key, user, "EX", "3600"});
        if (redis_->pending() >= 1000) redis_->wait_replies(redis_->pending(), errors);
    }
    redis_->wait_replies(redis_->pending(), errors);
    if (errors) std::fprintf(stderr, "[worker %zu] %zu SET commands failed\n", index_, errors);
}

void Worker::start_connecting(bool storm) {
    started_ns_ = now_ns();
    all_authenticating_ns_ = all_confirmed_ns_ = 0;
    last_probe_ns_ = 0;
    failures_ = 0;
    first_error_.clear();
    pending_.clear();
    retry_.clear();
    in_flight_ = 0;
    authenticating_ = confirmed_ = 0;
    claiming_ = storm && options_.storm_recovery != Options::StormRecovery::none;
    // Every client goes at once: drop them all first, then reconnect them all, as after a network failure.
    for (auto& c : clients_) c->drop();
    for (std::uint32_t i = 0; i < clients_.size(); ++i) pending_.push_back(i);
    concurrency_ = storm ? options_.storm_concurrency : options_.connect_concurrency;
    awaiting_ = true;
    pump();
}

void Worker::pump() {
    while (!pending_.empty() && (concurrency_ == 0 || in_flight_ < concurrency_)) {
        const auto i = pending_.front();
        pending_.pop_front();
        ++in_flight_;
        auto& c = *clients_[i];
        c.connect(io_, plan_.session_id(c.conn()), claiming_);
    }
}

void Worker::on_authenticating(Client& client) {
    if (in_flight_ > 0) --in_flight_;
    client.next_ping_ms = static_cast<std::uint32_t>((now_ns() - epoch_ns_) / 1'000'000) + client.ping_interval_ms();
    if (++authenticating_ == clients_.size() && awaiting_) all_authenticating_ns_ = now_ns();
    pump();
}

void Worker::on_confirmed(Client&) {
    if (++confirmed_ == clients_.size() && awaiting_) finish_connecting(now_ns());
}

void Worker::on_lost(Client& client, int was, std::string why) {
    const auto state = static_cast<Client::State>(was);
    if (state == Client::State::connecting || state == Client::State::open) {
        if (in_flight_ > 0) --in_flight_;
    }
    if (state >= Client::State::authenticating && authenticating_ > 0) --authenticating_;
    if (state == Client::State::confirmed && confirmed_ > 0) --confirmed_;
    if (awaiting_) ++failures_;
    else ++disconnects_;
    if (first_error_.empty()) first_error_ = std::move(why);
    const auto i = static_cast<std::uint32_t>(client.conn() - first_);
    // Retried from tick(), never from here: a failure can be reported from inside connect() (no file descriptor
    // left, say), and pumping again there would recurse through every pending client.
    retry_.emplace_back(now_ns() + retry_delay_ns, i);
}

void Worker::finish_connecting(std::int64_t now) {
    awaiting_ = false;
    all_confirmed_ns_ = now;
    if (all_authenticating_ns_ == 0) all_authenticating_ns_ = now;
    // The claims on the links that made it. The server answers a claim before anything else reaches its client
    // (the CONNECT reply; `resumed` before any notification), so a confirmed client's claim has its answer.
    std::uint64_t claims = 0, recovered = 0, not_recovered = 0;
    for (const auto& c : clients_) {
        if (c->claim() == Client::Claim::none) continue;
        ++claims;
        recovered += c->claim() == Client::Claim::recovered;
        not_recovered += c->claim() == Client::Claim::not_recovered;
    }
    std::string error = first_error_.empty() ? "-" : first_error_;
    std::replace(error.begin(), error.end(), '\n', ' ');
    reply("connected " + std::to_string(started_ns_) + " " + std::to_string(all_authenticating_ns_) + " " +
          std::to_string(all_confirmed_ns_) + " " + std::to_string(confirmed_) + " " +
          std::to_string(clients_.size()) + " " + std::to_string(failures_) + " " + std::to_string(claims) + " " +
          std::to_string(recovered) + " " + std::to_string(not_recovered) + " " + error);
}

// ---- the periodic work: retries, probes, heartbeats, progress, timeouts ----

void Worker::tick() {
    const auto now = now_ns();
    if (!retry_.empty()) {
        auto due = std::partition(retry_.begin(), retry_.end(), [now](const auto& r) { return r.first > now; });
        for (auto it = due; it != retry_.end(); ++it) pending_.push_back(it->second);
        retry_.erase(due, retry_.end());
        pump();
    }
    if (awaiting_) {
        if (now - last_probe_ns_ >= static_cast<std::int64_t>(options_.probe_interval_ms * 1e6)) publish_probes(now);
        if (now - started_ns_ > static_cast<std::int64_t>(options_.connect_timeout_s * 1e9)) {
            if (first_error_.empty()) first_error_ = "timed out";
            finish_connecting(now);
        }
    }
    // Each client pings its own interval after it connected, as socket.io-client 2.x's timer does; a coarser
    // sweep would send the pings of every client connected within one sweep together, a burst real clients
    // never make.
    if (now - last_heartbeat_sweep_ns_ >= 20'000'000) {
        last_heartbeat_sweep_ns_ = now;
        send_heartbeats();
    }
    if (received_ != reported_) {
        reported_ = received_;
        reply("p " + std::to_string(received_));
    }
    tick_timer_.expires_after(tick_period);
    tick_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !quit_) tick();
    });
}

// No server says when `authenticate` took effect, so the loadgen asks: it publishes a probe to the users whose
// clients all sent authenticate and some have heard nothing since; a client counts as confirmed at its first
// message. A probe reaches every authenticated connection of the user, so a user is named only once all its clients
// sent authenticate, and again after a gap that doubles up to 160 ms: a server slow to process authenticate is
// asked again without its quicker clients being flooded with probes (a load a real storm does not have). The
// price: the time until all are authenticated is known to within that gap.
void Worker::publish_probes(std::int64_t now) {
    last_probe_ns_ = now;
    std::vector<std::uint64_t> users;
    const auto k = plan_.per_user();
    const auto interval = static_cast<std::int64_t>(options_.probe_interval_ms * 1e6);
    for (std::size_t i = 0, u = 0; i + k <= clients_.size(); i += k, ++u) {
        bool waiting = false, all_sent = true;
        for (std::size_t j = i; j < i + k; ++j) {
            const auto state = clients_[j]->state();
            waiting |= state == Client::State::authenticating;
            all_sent &= state >= Client::State::authenticating;
        }
        if (!waiting || !all_sent) {
            probe_gap_ns_[u] = 0;
            continue;
        }
        if (now < next_probe_ns_[u]) continue;
        probe_gap_ns_[u] = probe_gap_ns_[u] == 0 ? interval : std::min(2 * probe_gap_ns_[u], max_probe_gap_ns);
        next_probe_ns_[u] = now + probe_gap_ns_[u];
        users.push_back(plan_.user_id(plan_.user_of(clients_[i]->conn())));
    }
    for (std::size_t i = 0; i < users.size(); i += users_per_probe) {
        std::string json = "{\"users\":[";
        for (std::size_t j = i; j < std::min(users.size(), i + users_per_probe); ++j) {
            if (j != i) json += ',';
            json += std::to_string(users[j]);
        }
        json += "],\"data\":{\"k\":0}}";
        redis_->append(publish_command(options_, json));
    }
    std::size_t errors = 0;
    redis_->wait_replies(redis_->pending(), errors);
}

void Worker::send_heartbeats() {
    const auto now_ms = static_cast<std::uint32_t>((now_ns() - epoch_ns_) / 1'000'000);
    for (auto& c : clients_) {
        if (c->eio() != 3 || c->state() < Client::State::authenticating || c->next_ping_ms > now_ms) continue;
        c->ping();
        c->next_ping_ms = now_ms + std::max<std::uint32_t>(1000, c->ping_interval_ms());
    }
}

// ---- deliveries ----

bool Worker::targeted(std::uint64_t seq, std::uint32_t user) {
    auto& entry = targets_cache_[seq % targets_cache_.size()];
    if (entry.seq != seq) {
        plan_.users_of(seq, entry.users);
        entry.seq = seq;
    }
    return std::find(entry.users.begin(), entry.users.end(), user) != entry.users.end();
}

void Worker::on_delivery(Client& client, std::uint64_t seq, std::int64_t sent_ns) {
    const auto now = now_ns();
    // One connection's messages arrive in publishing order (one redis channel, FIFO queues, TCP): anything not
    // newer than the last one is a copy.
    if (static_cast<std::int64_t>(seq) <= client.last_seq) {
        ++duplicated_;
        return;
    }
    client.last_seq = static_cast<std::int64_t>(seq);
    if (seq < phase_first_seq_) {
        ++late_;
        return;
    }
    if (!targeted(seq, static_cast<std::uint32_t>(plan_.user_of(client.conn())))) {
        ++unexpected_;
        return;
    }
    ++client.received;
    ++received_;
    histogram_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - sent_ns)));
}

void Worker::verify(std::uint64_t s0, std::uint64_t s1) {
    // Replays the plan: what each of this worker's users was due, against what each of its clients got. With
    // order checked on arrival, equal counts mean exactly the due messages arrived.
    const auto first_user = plan_.user_of(first_);
    const auto last_user = plan_.user_of(last_ - 1);
    std::vector<std::uint64_t> due(last_user - first_user + 1, 0);
    std::vector<std::uint32_t> users;
    for (std::uint64_t seq = s0; seq < s1; ++seq) {
        plan_.users_of(seq, users);
        for (auto u : users)
            if (u >= first_user && u <= last_user) ++due[u - first_user];
    }
    std::uint64_t expected = 0, received = 0, lost = 0;
    for (const auto& c : clients_) {
        const auto d = due[plan_.user_of(c->conn()) - first_user];
        expected += d;
        received += c->received;
        if (c->received < d) lost += d - c->received;
    }
    std::string error = disconnects_ && !first_error_.empty() ? first_error_ : "-";
    std::replace(error.begin(), error.end(), '\n', ' ');
    reply("verified " + std::to_string(expected) + " " + std::to_string(received) + " " + std::to_string(lost) + " " +
          std::to_string(duplicated_) + " " + std::to_string(unexpected_) + " " + std::to_string(disconnects_) + " " +
          std::to_string(late_) + " " + error);
    reply("histogram " + histogram_.serialize());
}

}  // namespace yunity::bench
