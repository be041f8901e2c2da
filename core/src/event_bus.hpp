#pragma once

#include <yunity/bus.hpp>

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace yunity::core {

// The core's Bus. Published events wait in one queue that a single posted drain empties, so handlers never
// run inside the publisher, order is FIFO across all publishers, and a burst costs one post, not one per event.
class EventBus final : public Bus {
public:
    EventBus(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> logger);

    void publish_raw(EventKind kind, std::shared_ptr<const void> event) override;
    void subscribe_raw(EventKind kind, std::string owner, RawHandler handler) override;
    void subscribe_all(std::string owner, RawHandler handler) override;
    std::size_t queue_depth() const override { return depth_.load(std::memory_order_relaxed); }

    std::uint64_t handler_failures() const { return failures_.load(std::memory_order_relaxed); }

    // Forgets every handler (at shutdown, before the plugins that registered them are destroyed).
    void clear();

private:
    struct Subscriber {
        std::string owner;
        RawHandler handler;
    };
    struct Queued {
        EventKind kind;
        std::shared_ptr<const void> event;
    };

    void drain();
    void dispatch(EventKind kind, const void* event, std::vector<Subscriber>& subscribers);

    boost::asio::io_context& io_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unordered_map<EventKind, std::vector<Subscriber>> by_kind_;
    std::vector<Subscriber> all_;

    std::mutex mutex_;
    std::vector<Queued> queue_;  // guarded by mutex_
    std::vector<Queued> spare_;  // the storage of the last batch, for the next; the loop's thread only
    bool drain_posted_ = false;  // guarded by mutex_
    std::atomic<std::size_t> depth_{0};
    std::atomic<std::uint64_t> failures_{0};
};

}  // namespace yunity::core
