#include "redis_pipe.hpp"

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace yunity::bench {

RedisPipe::RedisPipe(const std::string& host, const std::string& port) {
    c_ = redisConnect(host.c_str(), std::stoi(port));
    if (c_ == nullptr || c_->err) {
        const std::string why = c_ ? c_->errstr : "out of memory";
        if (c_) redisFree(c_);
        throw std::runtime_error("cannot connect to redis at " + host + ":" + port + ": " + why);
    }
}

RedisPipe::~RedisPipe() { redisFree(c_); }

int RedisPipe::fd() const { return c_->fd; }

void RedisPipe::append(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (auto a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(c_, static_cast<int>(args.size()), argv.data(), lens.data()) != REDIS_OK)
        throw std::runtime_error(std::string("redis: ") + c_->errstr);
    ++pending_;
}

void RedisPipe::flush() {
    int done = 0;
    while (!done)
        if (redisBufferWrite(c_, &done) != REDIS_OK) throw std::runtime_error(std::string("redis: ") + c_->errstr);
}

std::size_t RedisPipe::read_available(std::size_t& errors) {
    if (redisBufferRead(c_) != REDIS_OK) throw std::runtime_error(std::string("redis: ") + c_->errstr);
    std::size_t n = 0;
    void* reply = nullptr;
    while (pending_ > 0) {
        if (redisGetReplyFromReader(c_, &reply) != REDIS_OK)
            throw std::runtime_error(std::string("redis: ") + c_->errstr);
        if (reply == nullptr) break;
        if (static_cast<redisReply*>(reply)->type == REDIS_REPLY_ERROR) ++errors;
        freeReplyObject(reply);
        --pending_;
        ++n;
    }
    return n;
}

void RedisPipe::wait_replies(std::size_t n, std::size_t& errors) {
    flush();
    for (; n > 0 && pending_ > 0; --n) {
        void* reply = nullptr;
        if (redisGetReply(c_, &reply) != REDIS_OK) throw std::runtime_error(std::string("redis: ") + c_->errstr);
        if (static_cast<redisReply*>(reply)->type == REDIS_REPLY_ERROR) ++errors;
        freeReplyObject(reply);
        --pending_;
    }
}

}  // namespace yunity::bench
