// The WDK face's interlocked operations, ordered accesses and memory barriers
// (ndislock/wdk_interlocked.h) are scheduling points inside an exploration, and nothing outside
// one: a read-then-write of a counter through ReadNoFence / WriteNoFence (each access atomic, the
// pair not) loses an update in some interleaving that the search finds with no
// NDISLOCK_SHARED_ACCESS annotation, while InterlockedIncrement never does.
#include <gtest/gtest.h>

#include <memory>

#include "explore_support.h"
#include "ndislock/explore.h"
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"
#include "ndislock/wdk.h"

namespace ex = ndislock::explore;

namespace {

class ExploreInterlocked : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK); }
};

ex::Options options(NDISLOCK_EXPLORE_STRATEGY strategy, unsigned depth, unsigned schedules) {
    return explore_support::options(strategy, depth, 7, schedules);
}

// Two threads each add one to the counter by reading it and writing the sum back: the two
// accesses are points, so the other thread's whole addition can land between them.
void read_then_write(ex::Run &run) {
    auto counter = std::make_shared<LONG>(0);
    for (int i = 0; i < 2; ++i)
        run.spawn([counter] { WriteNoFence(counter.get(), ReadNoFence(counter.get()) + 1); });
    run.check([counter] { return *counter == 2; });
}

void interlocked_increments(ex::Run &run) {
    auto counter = std::make_shared<LONG>(0);
    for (int i = 0; i < 2; ++i)
        run.spawn([counter] {
            InterlockedIncrement(counter.get());
            KeMemoryBarrier();
            InterlockedExchangeAdd(counter.get(), 0);
        });
    run.check([counter] { return *counter == 2; });
}

TEST_F(ExploreInterlocked, ALostUpdateThroughOrderedAccessesIsFoundByEachStrategyAndReplayed) {
    for (const auto &[strategy, depth] :
         {std::pair{NDISLOCK_EXPLORE_RANDOM, 0u}, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 1000), read_then_write);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": no lost update in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "AssertionFailed");
        ex::Options replay = options(strategy, depth, 1);
        replay.replay = r.token;
        for (int i = 0; i < 20; ++i) {
            const ex::Result again = ex::explore(replay, read_then_write);
            ASSERT_TRUE(again.found) << "replay " << i << " of " << r.token;
            EXPECT_EQ(again.message, r.message);
        }
    }
}

TEST_F(ExploreInterlocked, InterlockedIncrementsNeverLoseAnUpdateAndEachOperationIsAPoint) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 300), interlocked_increments);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 300u);
    // Three points a thread (the increment, the barrier, the exchange-add), two threads: at least
    // six a schedule, the operations' own; without them a schedule of these threads has none.
    EXPECT_GE(r.steps, 300u * 6u);
}

// Message passing through an interlocked flag: the writer publishes the datum, then sets the flag;
// the reader reads the datum only once it saw the flag. The flag's operations are happens-before
// edges, so no race; a reader that does not look at the flag races with the writer.
struct Mailbox {
    LONG flag = 0;
    int datum = 0;
};
Mailbox g_mailbox; // the same addresses in every schedule: a replayed report is the same text

void publish_then_read(ex::Run &run, bool reader_checks_the_flag) {
    g_mailbox = Mailbox{};
    run.spawn([] {
        NDISLOCK_SHARED_WRITE(g_mailbox.datum, 42);
        InterlockedExchange(&g_mailbox.flag, 1);
    });
    run.spawn([reader_checks_the_flag] {
        if (!reader_checks_the_flag || InterlockedCompareExchange(&g_mailbox.flag, 0, 0) == 1)
            NdislockExploreAssert(NDISLOCK_SHARED_READ(g_mailbox.datum) == 42 || !reader_checks_the_flag,
                                  "the flag was set before the datum");
    });
}

TEST_F(ExploreInterlocked, DataPublishedThroughAnInterlockedFlagIsNoRace) {
    for (const auto &[strategy, depth] :
         {std::pair{NDISLOCK_EXPLORE_RANDOM, 0u}, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r =
            ex::explore(options(strategy, depth, 500), [](ex::Run &run) { publish_then_read(run, true); });
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << r.message;
        EXPECT_EQ(r.schedules, 500u);
    }
}

TEST_F(ExploreInterlocked, AReaderThatIgnoresTheFlagRacesWithTheWriter) {
    const ex::Result r =
        ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1000), [](ex::Run &run) { publish_then_read(run, false); });
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "DataRace") << r.message;
}

// The same through a sequenced list: the writer fills a buffer and pushes it, the reader pops it
// and reads it. The push and the pop are happens-before edges on the header: no race.
struct Packet {
    SLIST_ENTRY link;
    int datum;
};
SLIST_HEADER g_packets;
Packet g_packet;

TEST_F(ExploreInterlocked, DataPublishedThroughAnSListIsNoRace) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 500), [](ex::Run &run) {
        InitializeSListHead(&g_packets);
        g_packet = Packet{};
        run.spawn([] {
            NDISLOCK_SHARED_WRITE(g_packet.datum, 42);
            InterlockedPushEntrySList(&g_packets, &g_packet.link);
        });
        run.spawn([] {
            if (PSLIST_ENTRY e = InterlockedPopEntrySList(&g_packets))
                NdislockExploreAssert(NDISLOCK_SHARED_READ(CONTAINING_RECORD(e, Packet, link)->datum) == 42,
                                      "the packet was pushed before it was filled");
        });
    });
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 500u);
    EXPECT_GE(r.steps, 500u * 2u) << "the push and the pop are scheduling points";
}

TEST_F(ExploreInterlocked, OutsideAnExplorationNothingListensToTheOperations) {
    EXPECT_EQ(__atomic_load_n(&ndislock_interlocked_observers, __ATOMIC_RELAXED), 0u);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON); // the verifier does not make them calls
    EXPECT_EQ(__atomic_load_n(&ndislock_interlocked_observers, __ATOMIC_RELAXED), 0u);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    LONG value = 0;
    EXPECT_EQ(InterlockedIncrement(&value), 1);
    EXPECT_EQ(InterlockedCompareExchange(&value, 5, 1), 1);
    EXPECT_EQ(ReadAcquire(&value), 5);
}

} // namespace
