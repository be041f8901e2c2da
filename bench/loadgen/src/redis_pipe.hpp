#pragma once

// A blocking hiredis connection used as a pipeline: commands are appended and written in batches, replies read
// when they are there. Blocking is right for the loadgen: a worker only talks to redis to write its sessions and
// publish its probes, and the coordinator waits for the socket to be readable before it reads.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace yunity::bench {

class RedisPipe {
public:
    RedisPipe(const std::string& host, const std::string& port);  // throws std::runtime_error
    ~RedisPipe();
    RedisPipe(const RedisPipe&) = delete;
    RedisPipe& operator=(const RedisPipe&) = delete;

    void append(const std::vector<std::string_view>& args);
    // Writes everything appended (blocking until the kernel took it).
    void flush();
    // Reads the replies that have arrived without waiting for more (call when fd() is readable); returns how many,
    // and counts error replies in `errors`.
    std::size_t read_available(std::size_t& errors);
    // Waits for `n` replies.
    void wait_replies(std::size_t n, std::size_t& errors);
    std::size_t pending() const { return pending_; }
    int fd() const;

private:
    redisContext* c_;
    std::size_t pending_ = 0;
};

}  // namespace yunity::bench
