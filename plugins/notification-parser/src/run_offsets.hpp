// The offsets of a source that keeps nothing to replay from (redis-pubsub's channel, http-publish): each
// notification's place in this run of the process.
#pragma once

#include <cstdint>
#include <string>

namespace yunity::notifications {

// `<run id>-<sequence>`: the run id is 16 hex digits drawn at random when the source starts, the first a letter,
// so that an offset of another run (a restart, another instance) is recognised as one and is never taken for a
// redis stream entry id (digits, '-', digits); the sequence counts this run's notifications from 1.
class RunOffsets {
public:
    RunOffsets();
    const std::string& run_id() const { return run_id_; }
    // The next notification's offset.
    std::string next();

private:
    std::string run_id_;
    std::uint64_t sequence_ = 0;
};

}  // namespace yunity::notifications
