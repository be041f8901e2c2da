// The offsets of redis-pubsub and http-publish: `<run id>-<sequence>`, a run id per start that is never a stream
// entry id, and a sequence from 1 without holes.
#include <doctest/doctest.h>

#include "run_offsets.hpp"

#include <cctype>
#include <set>

using yunity::notifications::RunOffsets;

TEST_CASE("run offsets: 16 hex digits the first a letter, then the sequence from 1") {
    RunOffsets offsets;
    const auto& run = offsets.run_id();
    REQUIRE(run.size() == 16);
    CHECK(run[0] >= 'a');
    CHECK(run[0] <= 'f');
    for (char ch : run) CHECK(std::isxdigit(static_cast<unsigned char>(ch)));
    for (char ch : run) CHECK(!std::isupper(static_cast<unsigned char>(ch)));
    CHECK(offsets.next() == run + "-1");
    CHECK(offsets.next() == run + "-2");
    CHECK(offsets.next() == run + "-3");
    CHECK(offsets.run_id() == run);
}

TEST_CASE("run offsets: each start draws its own run id") {
    std::set<std::string> runs;
    for (int i = 0; i < 100; ++i) runs.insert(RunOffsets().run_id());
    CHECK(runs.size() == 100);
}
