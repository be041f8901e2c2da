#include "flush_queue.hpp"

#include <boost/asio/post.hpp>

namespace yunity::socketio {

void FlushQueue::add(std::shared_ptr<Flushable> f) {
    pending_.push_back(std::move(f));
    if (posted_) return;
    posted_ = true;
    boost::asio::post(executor_, [self = shared_from_this()] { self->run(); });
}

void FlushQueue::run() {
    posted_ = false;
    running_.swap(pending_);
    // A flush may add connections again (a write error closing a session that then writes elsewhere): those
    // land in pending_ and a new post.
    for (auto& f : running_) f->flush();
    running_.clear();
}

}  // namespace yunity::socketio
