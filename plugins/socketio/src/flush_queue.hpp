// Connections with frames queued during one turn of the loop, written once that turn's handlers are done: a
// notification batch, or a client's burst, goes out in one system call per connection instead of one per frame.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <vector>

namespace yunity::socketio {

class Flushable {
public:
    virtual ~Flushable() = default;
    virtual void flush() = 0;
};

class FlushQueue : public std::enable_shared_from_this<FlushQueue> {
public:
    explicit FlushQueue(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
    // `f` is flushed once, after the handlers that run now; one post serves every connection added meanwhile.
    void add(std::shared_ptr<Flushable> f);

private:
    void run();

    boost::asio::any_io_executor executor_;
    std::vector<std::shared_ptr<Flushable>> pending_;
    std::vector<std::shared_ptr<Flushable>> running_;
    bool posted_ = false;
};

}  // namespace yunity::socketio
