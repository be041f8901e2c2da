#include "heartbeats.hpp"

namespace yunity::socketio {

Heartbeats::Heartbeats(boost::asio::io_context& io, Due due) : timer_(io), due_(std::move(due)) {}

void Heartbeats::add(ConnectionId id, Clock::time_point deadline) {
    entries_.push({deadline, id});
    // Most deadlines come after the earliest one (every session of a kind arms the same delay): the timer is
    // moved only when this one is sooner, so that arming costs no system call.
    if (deadline < waiting_for_) wait();
}

void Heartbeats::stop() {
    entries_ = {};
    waiting_for_ = Clock::time_point::max();
    timer_.cancel();
}

void Heartbeats::wait() {
    waiting_for_ = entries_.top().deadline;
    timer_.expires_at(waiting_for_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;  // moved to a sooner deadline (a new wait is pending), or stopped
        waiting_for_ = Clock::time_point::max();
        run();
    });
}

void Heartbeats::run() {
    const auto now = Clock::now();
    // Entries added by the callee (a re-armed session) go into the heap at once; those due now run in this turn.
    while (!entries_.empty() && entries_.top().deadline <= now) {
        const auto entry = entries_.top();
        entries_.pop();
        due_(entry.id, entry.deadline);
    }
    if (!entries_.empty() && entries_.top().deadline < waiting_for_) wait();
}

}  // namespace yunity::socketio
