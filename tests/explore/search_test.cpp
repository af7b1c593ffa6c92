// The searches beside one strategy's seeds (docs/explore.md): the choice token, the preemption-
// bounded exhaustive search and its state-space count, the portfolio, the shrinker and its trace,
// and sharding. Bounded: every search has a schedule budget and a step bound, the shrinker a
// replay budget, ctest a timeout. No test asserts a timing.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "explore/search.h"
#include "explore/token.h"
#include "explore_support.h"
#include "ndislock/explore.h"
#include "ndislock/explore_gtest.h"
#include "ndislock/ndis.h"
#include "platform/sanitizer.h"

namespace ex = ndislock::explore;

namespace {

class ExploreSearch : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK); }
};

ex::Options options(NDISLOCK_EXPLORE_STRATEGY strategy, unsigned schedules = 1000, unsigned bound = 1) {
    ex::Options o;
    o.strategy = strategy;
    o.bound = bound;
    o.seed = 3;
    o.schedules = schedules;
    return o;
}

using explore_support::ab_ba;
using explore_support::expect_replays;
using explore_support::finding_of;

// The lost update: two threads read then write a counter, each access a scheduling point.
void lost_update(ex::Run &run) {
    auto value = std::make_shared<int>(0);
    for (int i = 0; i < 2; ++i)
        run.spawn([value] {
            const int seen = NDISLOCK_SHARED_ACCESS(*value);
            NdislockExploreYield();
            *value = seen + 1;
        });
    run.check([value] { return *value == 2; });
}

// A found bug: the shrunk token replays it, with at most one preemption, and the trace shows
// both threads.
void expect_shrunk(const std::function<void(ex::Run &)> &scenario, const ex::Result &r) {
    EXPECT_EQ(r.shrunk_token.rfind("x1.choices.", 0), 0u) << r.shrunk_token;
    EXPECT_LE(r.preemptions, 1u) << r.trace;
    EXPECT_GE(r.shrink_replays, 1u);
    EXPECT_LE(r.shrink_replays, 500u);
    EXPECT_NE(r.trace.find("thread 0"), std::string::npos) << r.trace;
    EXPECT_NE(r.trace.find("thread 1"), std::string::npos) << r.trace;
    expect_replays(scenario, r.shrunk_token, r);
    expect_replays(scenario, r.token, r);
}

TEST(ChoiceToken, RoundTripsAndRefusesWhatIsNotOne) {
    ex::ScheduleKey key;
    key.kind = ex::StrategyKind::Choices;
    key.choices = std::make_shared<const ex::ChoiceList>(ex::ChoiceList{0, 0, 0, 1, 0, 2, 7});
    char text[NDISLOCK_EXPLORE_TOKEN_SIZE];
    ASSERT_TRUE(ex::format_token(key, text, sizeof text));
    EXPECT_STREQ(text, "x1.choices.3a1b0g");
    ex::ScheduleKey back;
    ASSERT_TRUE(ex::parse_token(text, back));
    EXPECT_EQ(back.kind, ex::StrategyKind::Choices);
    EXPECT_EQ(*back.choices, *key.choices);

    key.choices = std::make_shared<const ex::ChoiceList>();
    ASSERT_TRUE(ex::format_token(key, text, sizeof text));
    EXPECT_STREQ(text, "x1.choices.-");
    ASSERT_TRUE(ex::parse_token(text, back));
    EXPECT_TRUE(back.choices->empty());

    char small[14];
    key.choices = std::make_shared<const ex::ChoiceList>(ex::ChoiceList{1, 1, 1, 1});
    EXPECT_FALSE(ex::format_token(key, small, sizeof small)); // never a truncated token
    EXPECT_STREQ(small, "");

    for (const char *bad : {"x1.choices.", "x1.choices.3", "x1.choices.a3", "x1.choices.3h", "x1.choices.3a-"})
        EXPECT_FALSE(ex::parse_token(bad, back)) << bad;
}

TEST_F(ExploreSearch, AbBaFoundByExhaustiveAtBound1ShrunkAndReplayed) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_EXHAUSTIVE, 1000, 1), ab_ba);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "no deadlock in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "Deadlock");
    EXPECT_EQ(r.token.rfind("x1.choices.", 0), 0u) << r.token;
    EXPECT_FALSE(r.exhausted);
    EXPECT_EQ(r.state_space, r.schedules);
    EXPECT_EQ(r.preemptions, 1u) << r.trace; // AB/BA needs one: thread 0 holds A when thread 1 runs
    EXPECT_NE(r.trace.find("NdisAcquireSpinLock"), std::string::npos) << r.trace;
    EXPECT_NE(r.trace.find("preempts 0"), std::string::npos) << r.trace;
    EXPECT_NE(r.trace.find("blocks in NdisAcquireSpinLock"), std::string::npos) << r.trace;
    expect_shrunk(ab_ba, r);
}

TEST_F(ExploreSearch, AbBaNeedsAPreemption) {
    // Bound 0: only the first choice is free (which thread starts; two), then each thread runs to
    // its end and the other follows: 2 schedules, neither deadlocks.
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_EXHAUSTIVE, 1000, 0), ab_ba);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_TRUE(r.exhausted);
    EXPECT_EQ(r.state_space, 2u);
    EXPECT_EQ(r.schedules, 2u);
}

TEST_F(ExploreSearch, LostUpdateFoundByExhaustiveAtBound1ShrunkAndReplayed) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_EXHAUSTIVE, 1000, 1), lost_update);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "no lost update in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "AssertionFailed");
    EXPECT_EQ(r.preemptions, 1u) << r.trace;
    expect_shrunk(lost_update, r);
}

TEST_F(ExploreSearch, PortfolioFindsBothAndNamesTheStrategy) {
    for (const auto &scenario : {std::function<void(ex::Run &)>(ab_ba), std::function<void(ex::Run &)>(lost_update)}) {
        const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_PORTFOLIO), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "nothing in " << r.schedules << " schedules";
        EXPECT_LE(r.schedules, 1000u);
        // Schedule i ran by random, PCT 1, 2, 3, exhaustive at bound 1 in turn: its token says which.
        const unsigned turn = (r.schedules - 1) % 5;
        const std::string named = turn == 0   ? "x1.random."
                                  : turn == 4 ? "x1.choices."
                                              : "x1.pct" + std::to_string(turn) + ".";
        EXPECT_EQ(r.token.rfind(named, 0), 0u) << r.token << " at schedule " << r.schedules;
        expect_shrunk(scenario, r);
    }
}

TEST_F(ExploreSearch, RandomFindingShrinksToOnePreemption) {
    ex::Options o = options(NDISLOCK_EXPLORE_RANDOM);
    const ex::Result r = ex::explore(o, ab_ba);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.preemptions, 1u) << r.trace;
    expect_shrunk(ab_ba, r);
    o.shrink_replays = 0; // off
    const ex::Result plain = ex::explore(o, ab_ba);
    ASSERT_TRUE(plain.found);
    EXPECT_EQ(plain.shrink_replays, 0u);
    EXPECT_EQ(plain.shrunk_token, "");
    EXPECT_NE(plain.trace.find("thread 1"), std::string::npos) << plain.trace; // the found schedule's
}

// The tiny correct scenario: two threads, each one NdislockExploreYield (one point inside it) and
// an atomic increment.
void two_yields(ex::Run &run) {
    auto count = std::make_shared<std::atomic<int>>(0);
    for (int i = 0; i < 2; ++i)
        run.spawn([count] {
            NdislockExploreYield();
            count->fetch_add(1);
        });
    run.check([count] { return count->load() == 2; });
}

TEST_F(ExploreSearch, ExhaustiveCountsTheBoundedStateSpace) {
    // Each thread is two segments, before and after its yield: a0 a1 and b0 b1. A schedule is an
    // interleaving of the two pairs keeping each pair's order: C(4, 2) = 6 in all. By preemptions
    // (a switch at a yield while that thread could go on):
    //   0: a0 a1 b0 b1, b0 b1 a0 a1                           (the first choice only) = 2
    //   1: a0 b0 b1 a1, b0 a0 a1 b1                           (one switch at a yield) = 2
    //   2: a0 b0 a1 b1, b0 a0 b1 a1                           (a switch at each yield) = 2
    // so bound 0 holds 2 schedules, bound 1 holds 4, bound 2 all 6. (Switches when a thread
    // returns are free: the thread cannot go on.)
    const unsigned expected[] = {2, 4, 6};
    for (unsigned bound = 0; bound <= 2; ++bound) {
        const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_EXHAUSTIVE, 1000, bound), two_yields);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << r.message;
        EXPECT_TRUE(r.exhausted) << "bound " << bound;
        EXPECT_EQ(r.state_space, expected[bound]) << "bound " << bound;
        EXPECT_EQ(r.schedules, expected[bound]) << "bound " << bound;
        EXPECT_EQ(ex::describe_state_space(r), std::to_string(expected[bound]) + " schedules within the bound");
    }
    // A budget below the space: at least that many, not exhausted.
    const ex::Result cut = ex::explore(options(NDISLOCK_EXPLORE_EXHAUSTIVE, 3, 2), two_yields);
    EXPECT_FALSE(cut.found);
    EXPECT_FALSE(cut.exhausted);
    EXPECT_EQ(cut.state_space, 3u);
    EXPECT_EQ(ex::describe_state_space(cut), "at least 3 schedules within the bound");
}

TEST(SearchShare, TwoShardsCoverTheSearchOnceEach) {
    ex::ScheduleKey first;
    first.seed = 77;
    auto seeds_of = [&first](ex::SearchShare share) {
        ex::SeedDriver driver(first, false, 101, share);
        std::vector<std::uint64_t> seeds;
        ex::ScheduleKey key;
        while (driver.next(key))
            seeds.push_back(key.seed);
        return seeds;
    };
    const std::vector<std::uint64_t> all = seeds_of(ex::SearchShare{});
    const std::vector<std::uint64_t> zero = seeds_of(ex::SearchShare{2, 0}), one = seeds_of(ex::SearchShare{2, 1});
    ASSERT_EQ(all.size(), 101u);
    EXPECT_EQ(zero.size(), 51u);
    EXPECT_EQ(one.size(), 50u);
    std::set<std::uint64_t> both(zero.begin(), zero.end());
    for (std::uint64_t s : one)
        EXPECT_TRUE(both.insert(s).second) << "seed in both shards";
    EXPECT_EQ(both, std::set<std::uint64_t>(all.begin(), all.end()));
    // Schedule i is the whole search's schedule i.
    for (std::size_t i = 0; i < zero.size(); ++i)
        EXPECT_EQ(zero[i], all[2 * i]);
}

TEST(SearchShare, PortfolioRotatesAndItsExhaustiveTurnsFollowTheTree) {
    ex::ScheduleKey first;
    first.seed = 5;
    ex::SeedDriver driver(first, true, 10, ex::SearchShare{});
    ex::ScheduleKey key;
    ex::Finding none;
    // A schedule of one free choice between two threads (the first), then one thread alone.
    std::vector<ex::ChoiceRecord> two_ways(2);
    two_ways[0].count = 2;
    two_ways[1].count = 1;
    std::vector<std::string> kinds;
    for (unsigned i = 0; i < 10; ++i) {
        ASSERT_TRUE(driver.next(key));
        char token[NDISLOCK_EXPLORE_TOKEN_SIZE];
        ASSERT_TRUE(ex::format_token(key, token, sizeof token));
        kinds.push_back(token);
        std::vector<ex::ChoiceRecord> ran = two_ways;
        if (key.kind == ex::StrategyKind::Choices && !key.choices->empty()) ran[0].rank = (*key.choices)[0];
        EXPECT_TRUE(driver.after(key, ex::ScheduleOutcome{none, 2, ran}));
    }
    EXPECT_FALSE(driver.next(key));
    EXPECT_EQ(kinds[0].rfind("x1.random.", 0), 0u);
    EXPECT_EQ(kinds[1].rfind("x1.pct1.", 0), 0u);
    EXPECT_EQ(kinds[2].rfind("x1.pct2.", 0), 0u);
    EXPECT_EQ(kinds[3].rfind("x1.pct3.", 0), 0u);
    EXPECT_EQ(kinds[4], "x1.choices.-");  // the exhaustive search's first schedule: all defaults
    EXPECT_EQ(kinds[9], "x1.choices.0a"); // its second: the other thread first; then its tree ended
    // Shard 1 of 2 runs indices 1, 3, 5, 7, 9; index 9's exhaustive turn is random there.
    ex::SeedDriver other(first, true, 10, ex::SearchShare{2, 1});
    for (unsigned i = 0; i < 5; ++i) {
        ASSERT_TRUE(other.next(key));
        EXPECT_TRUE(other.after(key, ex::ScheduleOutcome{none, 2, two_ways}));
    }
    EXPECT_EQ(key.kind, ex::StrategyKind::Random);
    EXPECT_EQ(key.seed, ex::schedule_seed(5, 9));
}

TEST_F(ExploreSearch, ShardFindsTheWholeSearchsSchedule) {
    ex::Options o = options(NDISLOCK_EXPLORE_RANDOM);
    o.shrink_replays = 0;
    const ex::Result whole = ex::explore(o, ab_ba);
    ASSERT_TRUE(whole.found);
    // The whole search failed first at index schedules - 1: the shard owning it fails there too,
    // as its first failure (no earlier index failed).
    o.shard_count = 2;
    o.shard_index = (whole.schedules - 1) % 2;
    const ex::Result shard = ex::explore(o, ab_ba);
    ASSERT_TRUE(shard.found);
    EXPECT_EQ(shard.token, whole.token);
    EXPECT_EQ(shard.schedules, (whole.schedules - 1) / 2 + 1);
}

// Fails in its first run only: it depends on more than the choices (what a scenario must not).
std::atomic<int> g_runs{0};
void fails_once(ex::Run &run) {
    const bool first = g_runs.fetch_add(1) == 0;
    run.spawn([first] { NdislockExploreAssert(!first, "the first run"); });
}

TEST_F(ExploreSearch, AFindingThatDoesNotReplayIsNotShrunk) {
    g_runs = 0;
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 10), fails_once);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.schedules, 1u);
    EXPECT_EQ(r.shrink_replays, 1u); // the replay of its own choices, which did not fail
    EXPECT_EQ(r.shrunk_token, "");
    EXPECT_NE(r.trace.find("thread 0"), std::string::npos) << r.trace; // the found schedule's
}

TEST_F(ExploreSearch, BadSearchOptionsAreRefused) {
    ex::Options o = options(NDISLOCK_EXPLORE_EXHAUSTIVE, 10, 3);
    EXPECT_EQ(ex::explore(o, ab_ba).status, NDISLOCK_INVALID_ARGUMENT);
    o = options(NDISLOCK_EXPLORE_RANDOM, 10);
    o.shard_count = 2;
    o.shard_index = 2;
    EXPECT_EQ(ex::explore(o, ab_ba).status, NDISLOCK_INVALID_ARGUMENT);
    o = options(NDISLOCK_EXPLORE_RANDOM, 10);
    o.jobs = 65;
    EXPECT_EQ(ex::explore(o, ab_ba).status, NDISLOCK_INVALID_ARGUMENT);
    o = options(NDISLOCK_EXPLORE_RANDOM, 10);
    o.replay = "x1.choices.3";
    EXPECT_EQ(ex::explore(o, ab_ba).status, NDISLOCK_INVALID_ARGUMENT);
}

TEST_F(ExploreSearch, ShardFromTheEnvironment) {
    ASSERT_EQ(setenv("NDISLOCK_EXPLORE_SHARD", "1/2", 1), 0);
    const ex::Result half = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 101), two_yields);
    ASSERT_EQ(setenv("NDISLOCK_EXPLORE_SHARD", "2/2", 1), 0);
    const ex::Result bad = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 101), two_yields);
    ex::Options explicit_none = options(NDISLOCK_EXPLORE_RANDOM, 101);
    explicit_none.shard_count = 1; // wins over the environment
    const ex::Result all = ex::explore(explicit_none, two_yields);
    unsetenv("NDISLOCK_EXPLORE_SHARD");
    ASSERT_EQ(half.status, NDISLOCK_OK);
    EXPECT_EQ(half.schedules, 50u); // the odd indices of 0..100
    EXPECT_EQ(bad.status, NDISLOCK_INVALID_ARGUMENT);
    EXPECT_EQ(all.schedules, 101u);
}

TEST_F(ExploreSearch, JobsSplitTheSearchAndReportTheFinding) {
#if NDISLOCK_TSAN
    GTEST_SKIP() << "ThreadSanitizer does not support threads started after a fork";
#endif
#if defined(__SANITIZE_ADDRESS__)
    // GCC 12's AddressSanitizer takes no lock around fork: a child whose parent had a thread inside
    // the sanitizer's allocator at the fork waits for that allocator lock forever (seen in 2 of 4
    // runs: the child blocked in SizeClassAllocator64::GetFromAllocator under calloc).
    GTEST_SKIP() << "AddressSanitizer's allocator lock can be inherited held by a forked job";
#endif
    ex::Options o = options(NDISLOCK_EXPLORE_RANDOM, 200);
    o.jobs = 2;
    const ex::Result clean = ex::explore(o, two_yields);
    ASSERT_EQ(clean.status, NDISLOCK_OK);
    EXPECT_FALSE(clean.found) << clean.message;
    EXPECT_EQ(clean.schedules, 200u); // 100 in each child
    o.schedules = 1000;
    const ex::Result r = ex::explore(o, ab_ba);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "no deadlock in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "Deadlock");
    EXPECT_EQ(r.preemptions, 1u) << r.trace; // shrunk in the child
    expect_replays(ab_ba, r.token, r);       // the child's token replays here
}

TEST_F(ExploreSearch, GoogleTestHelperPassesACleanScenario) {
    NDISLOCK_EXPECT_EXPLORE_CLEAN(options(NDISLOCK_EXPLORE_EXHAUSTIVE, 100, 2), two_yields);
    NDISLOCK_EXPECT_EXPLORE_CLEAN(options(NDISLOCK_EXPLORE_PORTFOLIO, 100), [](ex::Run &run) { two_yields(run); });
}

TEST_F(ExploreSearch, GoogleTestHelperFailsWithTheTokensAndTheTrace) {
    EXPECT_NONFATAL_FAILURE(NDISLOCK_EXPECT_EXPLORE_CLEAN(options(NDISLOCK_EXPLORE_EXHAUSTIVE, 1000, 1), ab_ba),
                            "shrunk to 1 preemption(s): NDISLOCK_EXPLORE_REPLAY=x1.choices.");
    EXPECT_NONFATAL_FAILURE(NDISLOCK_EXPECT_EXPLORE_CLEAN(options(NDISLOCK_EXPLORE_PORTFOLIO), lost_update),
                            "| thread 1");
    ex::Options bad = options(NDISLOCK_EXPLORE_EXHAUSTIVE, 10, 3);
    EXPECT_EQ(ex::describe_failure(ex::explore(bad, ab_ba)), "ndislock explore: the search did not run: status 1");
}

} // namespace
