// ndislock/explore_gtest.h: GoogleTest integration for deterministic exploration (docs/explore.md,
// "In GoogleTest"). Header-only, C++ only, opt-in: include it in a test program that links
// GoogleTest and ndislock.
//
//   TEST(Driver, ReceivePathIsClean) {
//       ndislock::explore::Options o;
//       o.strategy = NDISLOCK_EXPLORE_PORTFOLIO;
//       NDISLOCK_EXPECT_EXPLORE_CLEAN(o, [](ndislock::explore::Run &run) { ... });
//   }
//
// A search that finds something fails the running test with the finding, the replay token, the
// shrunk token and the trace; a search that could not run (a bad option, a nested exploration)
// fails it with the status. Sharding: Options' shard_count 0 (the default) takes the shard from
// NDISLOCK_EXPLORE_SHARD="index/count", so the same test binary run once per index searches
// every schedule once between them. GoogleTest's own GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX are
// not used for that: they give each test to one shard only, so splitting a test's schedules by
// them would leave the other shards' schedules to no one.
#ifndef NDISLOCK_EXPLORE_GTEST_H
#define NDISLOCK_EXPLORE_GTEST_H

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ndislock/explore.h"

namespace ndislock::explore {

// The failure text of a result: empty if the search ran and found nothing.
inline std::string describe_failure(const Result &r) {
    if (r.status != NDISLOCK_OK) return "ndislock explore: the search did not run: status " + std::to_string(r.status);
    if (!r.found) return std::string();
    std::string text = "ndislock explore found " + r.rule + " after " + std::to_string(r.schedules) +
                       " schedule(s):\n" + r.message + "\n";
    if (!r.shrunk_token.empty())
        text += "  shrunk to " + std::to_string(r.preemptions) +
                " preemption(s): NDISLOCK_EXPLORE_REPLAY=" + r.shrunk_token + "\n";
    return text + r.trace;
}

// An AssertionResult for EXPECT_TRUE / ASSERT_TRUE: success if the search ran and found nothing.
inline ::testing::AssertionResult explored_clean(const Options &options, std::function<void(Run &)> scenario) {
    const std::string failure = describe_failure(explore(options, std::move(scenario)));
    if (failure.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << failure;
}

} // namespace ndislock::explore

// Runs the search; a finding (or a search that could not run) fails the test and goes on
// (EXPECT) or returns from the test (ASSERT).
#define NDISLOCK_EXPECT_EXPLORE_CLEAN(options, ...)                                                                    \
    EXPECT_TRUE(::ndislock::explore::explored_clean((options), __VA_ARGS__))
#define NDISLOCK_ASSERT_EXPLORE_CLEAN(options, ...)                                                                    \
    ASSERT_TRUE(::ndislock::explore::explored_clean((options), __VA_ARGS__))

#endif /* NDISLOCK_EXPLORE_GTEST_H */
