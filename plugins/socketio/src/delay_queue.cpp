#include "delay_queue.hpp"

namespace yunity::socketio {

void DelayQueue::add(std::weak_ptr<Delayed> d) {
    queue_.emplace_back(std::chrono::steady_clock::now() + delay_, std::move(d));
    if (!armed_) arm();
}

void DelayQueue::arm() {
    armed_ = true;
    timer_.expires_at(queue_.front().first);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        self->armed_ = false;
        if (ec == boost::asio::error::operation_aborted) return;
        self->run();  // on any other error too: what is due goes out now rather than wait for the next add()
    });
}

void DelayQueue::run() {
    const auto now = std::chrono::steady_clock::now();
    // Only what was due when this began: anything a due() adds waits its full delay.
    auto count = queue_.size();
    while (count-- > 0 && queue_.front().first <= now) {
        auto d = std::move(queue_.front().second).lock();
        queue_.pop_front();
        if (d) d->due();
    }
    if (!queue_.empty() && !armed_) arm();
}

}  // namespace yunity::socketio
