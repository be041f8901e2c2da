#include "event_bus.hpp"

#include <boost/asio/post.hpp>

namespace yunity::core {

EventBus::EventBus(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> logger)
    : io_(io), logger_(std::move(logger)) {}

void EventBus::publish_raw(EventKind kind, std::shared_ptr<const void> event) {
    bool post = false;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({kind, std::move(event)});
        post = !drain_posted_;
        drain_posted_ = true;
    }
    depth_.fetch_add(1, std::memory_order_relaxed);
    if (post) boost::asio::post(io_, [this] { drain(); });
}

void EventBus::subscribe_raw(EventKind kind, std::string owner, RawHandler handler) {
    by_kind_[kind].push_back({std::move(owner), std::move(handler)});
}

void EventBus::subscribe_all(std::string owner, RawHandler handler) {
    all_.push_back({std::move(owner), std::move(handler)});
}

void EventBus::clear() {
    by_kind_.clear();
    all_.clear();
}

void EventBus::drain() {
    // The batch reuses the storage of the previous one: no allocation per drain once the sizes are reached.
    std::vector<Queued> batch;
    batch.swap(spare_);
    {
        std::lock_guard lock(mutex_);
        batch.swap(queue_);
        drain_posted_ = false;
    }
    // Events published by these handlers land in the fresh queue and a new drain, after this batch: FIFO.
    for (auto& q : batch) {
        auto found = by_kind_.find(q.kind);
        if (found != by_kind_.end()) dispatch(q.kind, q.event.get(), found->second);
        if (!all_.empty()) dispatch(q.kind, q.event.get(), all_);
        depth_.fetch_sub(1, std::memory_order_relaxed);
    }
    batch.clear();
    if (batch.capacity() > spare_.capacity()) spare_.swap(batch);
}

void EventBus::dispatch(EventKind kind, const void* event, std::vector<Subscriber>& subscribers) {
    // Indexing, not iterators: a handler may subscribe (and so grow the vector) while we walk it.
    for (std::size_t i = 0; i < subscribers.size(); ++i) {
        try {
            subscribers[i].handler(kind, event);
        } catch (const std::exception& e) {
            failures_.fetch_add(1, std::memory_order_relaxed);
            logger_->error("plugin {}: handler for {} threw: {}", subscribers[i].owner, describe(kind, event),
                           e.what());
        } catch (...) {
            failures_.fetch_add(1, std::memory_order_relaxed);
            logger_->error("plugin {}: handler for {} threw a non-standard exception", subscribers[i].owner,
                           describe(kind, event));
        }
    }
}

}  // namespace yunity::core
