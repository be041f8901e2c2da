// Things due a fixed time after they were added, on one timer: the websocket open packets, each 2 ms after its
// 101 response. A steady_timer per connection cost an allocation and a timer-queue insertion per handshake,
// thousands a second in a reconnect storm. Every delay is the same, so the queue is in due order and the timer
// waits for its front.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <utility>

namespace yunity::socketio {

class Delayed {
public:
    virtual ~Delayed() = default;
    virtual void due() = 0;
};

class DelayQueue : public std::enable_shared_from_this<DelayQueue> {
public:
    DelayQueue(boost::asio::any_io_executor executor, std::chrono::steady_clock::duration delay)
        : timer_(std::move(executor)), delay_(delay) {}
    // `d` is due after the delay, unless it is gone by then (the queue does not keep it alive).
    void add(std::weak_ptr<Delayed> d);
    std::size_t size() const { return queue_.size(); }

private:
    void arm();
    void run();

    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::duration delay_;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::weak_ptr<Delayed>>> queue_;
    bool armed_ = false;
};

}  // namespace yunity::socketio
