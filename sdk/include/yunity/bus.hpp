// The event bus: publish from any thread; handlers run on the core's executor in FIFO order, never inline in
// the publisher. A handler that throws is logged with its plugin's name and dispatch goes on.
#pragma once

#include <yunity/events.hpp>

#include <boost/config.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace yunity {

class BOOST_SYMBOL_VISIBLE Bus {
public:
    using RawHandler = std::function<void(EventKind, const void*)>;

    virtual ~Bus() = default;

    // Queues an event for dispatch. Thread-safe. The event is shared, not copied, among its handlers.
    virtual void publish_raw(EventKind kind, std::shared_ptr<const void> event) = 0;

    // Registers a handler for one kind; `owner` names the plugin in logs. Subscribe before or during start(),
    // on the core's executor.
    virtual void subscribe_raw(EventKind kind, std::string owner, RawHandler handler) = 0;

    // Registers a handler that sees every event, whatever its kind.
    virtual void subscribe_all(std::string owner, RawHandler handler) = 0;

    // Events queued and not yet dispatched.
    virtual std::size_t queue_depth() const = 0;

    template <class Event>
    void publish(Event event) {
        publish_raw(Event::kind, std::make_shared<const Event>(std::move(event)));
    }

    template <class Event, class Handler>
    void subscribe(std::string owner, Handler handler) {
        subscribe_raw(Event::kind, std::move(owner),
                      [h = std::move(handler)](EventKind, const void* e) { h(*static_cast<const Event*>(e)); });
    }
};

}  // namespace yunity
