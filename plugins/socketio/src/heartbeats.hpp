#pragma once

// The sessions' heartbeat deadlines on one timer. A steady_timer per session, with its wait always pending, was
// about 0.3 KB of every idle connection (the timer, and the wait's operation in Asio's handler memory); here a
// session costs one 16-byte entry in a heap, usually one at a time (see Session::arm_heartbeat).

#include <yunity/events.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <queue>
#include <vector>

namespace yunity::socketio {

class Heartbeats {
public:
    using Clock = std::chrono::steady_clock;
    // Called for each entry that came due, with the deadline it was added with. An entry is never withdrawn: the
    // callee tells a stale one (the connection is gone, or armed another deadline) by that deadline.
    using Due = std::function<void(ConnectionId, Clock::time_point)>;

    Heartbeats(boost::asio::io_context& io, Due due);

    void add(ConnectionId id, Clock::time_point deadline);
    void stop();  // drops every entry; nothing is called after this
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        Clock::time_point deadline;
        ConnectionId id;
        bool operator>(const Entry& other) const { return deadline > other.deadline; }
    };

    void wait();
    void run();

    boost::asio::steady_timer timer_;
    Due due_;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> entries_;
    Clock::time_point waiting_for_ = Clock::time_point::max();  // what the timer waits for, max when it does not
};

}  // namespace yunity::socketio
