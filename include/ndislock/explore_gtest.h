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
// every schedule once between them. With GoogleTest's own sharding (GTEST_TOTAL_SHARDS /
// GTEST_SHARD_INDEX), which gives each test to one shard only, spread a search over several tests:
// NDISLOCK_EXPLORE_SHARDED_TEST below.
#ifndef NDISLOCK_EXPLORE_GTEST_H
#define NDISLOCK_EXPLORE_GTEST_H

#include <gtest/gtest.h>

#include <cstdio>
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

// One search spread over GoogleTest's own shards: registers Shares tests,
// Suite/Suite_Name.Name/0 .. /Shares-1, test i searching share i of Shares (the schedules j with
// j % Shares == i, each with the seed the whole search gives it; Options.shard_count/shard_index).
// GoogleTest's sharding (GTEST_TOTAL_SHARDS, GTEST_SHARD_INDEX, as Bazel or a CI matrix sets them)
// hands the tests to its shards, so the machines search every schedule once between them.
// MakeOptions is a callable returning the Options of the whole search; each test prints its share
// and the schedules it ran. Random, PCT and portfolio searches (an exhaustive search is not split).
//
//   NDISLOCK_EXPLORE_SHARDED_TEST(Adapter, SendIsClean, 8, [] {
//       ndislock::explore::Options o;
//       o.strategy = NDISLOCK_EXPLORE_PORTFOLIO;
//       o.schedules = 80000;
//       return o;
//   }, [](ndislock::explore::Run &run) { /* spawn the threads */ });
#define NDISLOCK_EXPLORE_SHARDED_TEST(Suite, Name, Shares, MakeOptions, ...)                                           \
    class Suite##_##Name : public ::testing::TestWithParam<unsigned> {};                                               \
    TEST_P(Suite##_##Name, Name) {                                                                                     \
        ::ndislock::explore::Options ndislock_options_ = (MakeOptions)();                                              \
        ndislock_options_.shard_count = (Shares);                                                                      \
        ndislock_options_.shard_index = GetParam();                                                                    \
        const ::ndislock::explore::Result ndislock_result_ =                                                           \
            ::ndislock::explore::explore(ndislock_options_, __VA_ARGS__);                                              \
        std::printf("ndislock explore: share %u of %u: %u schedules\n", GetParam(), static_cast<unsigned>(Shares),     \
                    ndislock_result_.schedules);                                                                       \
        const std::string ndislock_failure_ = ::ndislock::explore::describe_failure(ndislock_result_);                 \
        EXPECT_TRUE(ndislock_failure_.empty()) << ndislock_failure_;                                                   \
    }                                                                                                                  \
    INSTANTIATE_TEST_SUITE_P(Suite, Suite##_##Name, ::testing::Range(0u, static_cast<unsigned>(Shares)))

// Runs the search; a finding (or a search that could not run) fails the test and goes on
// (EXPECT) or returns from the test (ASSERT).
#define NDISLOCK_EXPECT_EXPLORE_CLEAN(options, ...)                                                                    \
    EXPECT_TRUE(::ndislock::explore::explored_clean((options), __VA_ARGS__))
#define NDISLOCK_ASSERT_EXPLORE_CLEAN(options, ...)                                                                    \
    ASSERT_TRUE(::ndislock::explore::explored_clean((options), __VA_ARGS__))

#endif /* NDISLOCK_EXPLORE_GTEST_H */
