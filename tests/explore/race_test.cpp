// Data races on annotated data (ndislock/explore.h: NDISLOCK_SHARED_READ / NDISLOCK_SHARED_WRITE,
// docs/explore.md, "Races on annotated data"): an unordered pair of conflicting accesses is a
// DataRace naming both lines, found by each strategy and replayed from its token 100 times out of
// 100; the same accesses ordered by a lock (each family), a reader/writer lock's modes, a fast mutex
// or a spawn report nothing. Bounded: every exploration has a schedule count and the default step
// bound, and ctest a timeout. State is static (the same addresses in every schedule and replay).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ndislock/explore.h"
#include "ndislock/ndis.h"
#include "ndislock/rw_lock.h"
#include "ndislock/wdk_dispatcher.h"
#include "observe/hooks.h"
#include "explore_support.h"
#include "race_c_scenarios.h"

namespace ex = ndislock::explore;

namespace {

class Race : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK); }
};

using explore_support::expect_replays;
using explore_support::options;

const std::pair<NDISLOCK_EXPLORE_STRATEGY, unsigned> kStrategies[] = {{NDISLOCK_EXPLORE_RANDOM, 0u},
                                                                      {NDISLOCK_EXPLORE_PCT, 2u}};
// PCT depth 1 too: it never preempts, yet happens-before sees a race in a schedule that ran the
// threads one after the other (an assertion on the result would need the interleaving).
const std::pair<NDISLOCK_EXPLORE_STRATEGY, unsigned> kFindingStrategies[] = {
    {NDISLOCK_EXPLORE_RANDOM, 0u}, {NDISLOCK_EXPLORE_PCT, 1u}, {NDISLOCK_EXPLORE_PCT, 2u}};

// Whether the report names file:line (as "at file:line," or "written at file:line by ...").
bool names(const std::string &message, const std::string &file, int line) {
    const std::string site = file + ":" + std::to_string(line);
    return message.find(site + ",") != std::string::npos || message.find(site + " ") != std::string::npos;
}
bool names(const std::string &message, int line) { return names(message, "race_test.cpp", line); }

void expect_nothing(const std::function<void(ex::Run &)> &scenario, unsigned schedules = 1000) {
    for (auto [strategy, depth] : kStrategies) {
        const ex::Result r = ex::explore(options(strategy, depth, 17, schedules), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << "strategy " << strategy << ": " << r.message;
        EXPECT_EQ(r.schedules, schedules);
        EXPECT_GE(r.steps, schedules * 2ull) << "every schedule ran its threads (two points at least)";
    }
}

// ---- A counter incremented by two threads: read, then write --------------------------------------

NDIS_SPIN_LOCK g_lock_a, g_lock_b;
KSPIN_LOCK g_ke_lock;
EX_SPIN_LOCK g_ex_lock;
int g_counter;

enum class Guard { None, SameLock, DifferentLocks, Ke, Queued, ExExclusive };

const int kReadLine = __LINE__ + 3;
const int kWriteLine = __LINE__ + 3;
void read_then_write() {
    const int seen = NDISLOCK_SHARED_READ(g_counter);
    NDISLOCK_SHARED_WRITE(g_counter, seen + 1);
}

void increment(Guard guard, int thread) {
    switch (guard) {
    case Guard::None:
        return read_then_write();
    case Guard::SameLock:
    case Guard::DifferentLocks: {
        NDIS_SPIN_LOCK *lock = guard == Guard::DifferentLocks && thread == 1 ? &g_lock_b : &g_lock_a;
        NdisAcquireSpinLock(lock);
        read_then_write();
        return NdisReleaseSpinLock(lock);
    }
    case Guard::Ke: {
        KIRQL old;
        KeAcquireSpinLock(&g_ke_lock, &old);
        read_then_write();
        return KeReleaseSpinLock(&g_ke_lock, old);
    }
    case Guard::Queued: {
        KLOCK_QUEUE_HANDLE handle;
        KeAcquireInStackQueuedSpinLock(&g_ke_lock, &handle);
        read_then_write();
        return KeReleaseInStackQueuedSpinLock(&handle);
    }
    case Guard::ExExclusive: {
        const KIRQL old = ExAcquireSpinLockExclusive(&g_ex_lock);
        read_then_write();
        return ExReleaseSpinLockExclusive(&g_ex_lock, old);
    }
    }
}

std::function<void(ex::Run &)> increments(Guard guard) {
    return [guard](ex::Run &run) {
        NdisAllocateSpinLock(&g_lock_a);
        NdisAllocateSpinLock(&g_lock_b);
        KeInitializeSpinLock(&g_ke_lock);
        g_ex_lock = 0;
        g_counter = 0;
        for (int i = 0; i < 2; ++i)
            run.spawn([guard, i] { increment(guard, i); });
    };
}

TEST_F(Race, LostUpdateIsADataRaceNamingBothLinesAndReplayed) {
    for (auto [strategy, depth] : kFindingStrategies) {
        const ex::Result r = ex::explore(options(strategy, depth, 5), increments(Guard::None));
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": no race in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "DataRace") << r.message;
        // No order at all between the threads: happens-before sees the race in every interleaving,
        // the first schedule's included (an assertion would need the one that loses the update).
        EXPECT_EQ(r.schedules, 1u);
        EXPECT_TRUE(names(r.message, kReadLine)) << r.message;
        EXPECT_TRUE(names(r.message, kWriteLine)) << r.message;
        EXPECT_NE(r.message.find("4 bytes at"), std::string::npos) << r.message;
        EXPECT_NE(r.message.find("NDISLOCK_EXPLORE_REPLAY=x1."), std::string::npos) << r.message;
        expect_replays(increments(Guard::None), r);
    }
}

TEST_F(Race, CounterUnderOneNdisSpinLockReportsNothing) { expect_nothing(increments(Guard::SameLock)); }

TEST_F(Race, CounterUnderEachLockFamilyReportsNothing) {
    for (Guard guard : {Guard::Ke, Guard::Queued, Guard::ExExclusive}) {
        SCOPED_TRACE(static_cast<int>(guard));
        expect_nothing(increments(guard), 300);
    }
}

// Three threads on one in-stack queued lock, twice each: under the scheduler a waiter sleeps at
// its first look, so its entry passes through every state of the hand-over in some schedule
// (asleep, woken ahead by the owner in front of it, granted while asleep or while woken), with a
// third thread joining behind each. The count is exact and no schedule reports or hangs.
TEST_F(Race, ThreeThreadsTakingOneQueuedLockCountExactlyInEverySchedule) {
    const auto scenario = [](ex::Run &run) {
        KeInitializeSpinLock(&g_ke_lock);
        g_counter = 0;
        for (int i = 0; i < 3; ++i)
            run.spawn([i] {
                increment(Guard::Queued, i);
                increment(Guard::Queued, i);
            });
        run.check([] { return g_counter == 6; }); // every increment counted once
    };
    expect_nothing(scenario, 300);
}

TEST_F(Race, CounterUnderTwoDifferentLocksIsADataRace) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 3), increments(Guard::DifferentLocks));
    ASSERT_TRUE(r.found) << "no race in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "DataRace") << r.message;
    EXPECT_TRUE(names(r.message, kReadLine)) << r.message;
    EXPECT_TRUE(names(r.message, kWriteLine)) << r.message;
}

// ---- Reader/writer locks ----------------------------------------------------------------------

// NDIS 6's NDIS_RW_LOCK_EX (allocated per schedule, freed by the check: a failing schedule
// abandons its holders), NDIS 5's NDIS_RW_LOCK or an EX_SPIN_LOCK (both reset per schedule).
enum class RwFamily { NdisEx, Ndis5, ExSpin };
constexpr RwFamily kRwFamilies[] = {RwFamily::NdisEx, RwFamily::Ndis5, RwFamily::ExSpin};
PNDIS_RW_LOCK_EX g_rw;
NDIS_RW_LOCK g_ndis5_rw;
EX_SPIN_LOCK g_ex_rw;
int g_table;

struct RwHold {
    RwFamily family;
    bool exclusive;
    LOCK_STATE_EX state{};
    LOCK_STATE ndis5_state{};
    KIRQL old = PASSIVE_LEVEL;
    RwHold(RwFamily f, bool x) : family(f), exclusive(x) {
        if (family == RwFamily::NdisEx)
            exclusive ? NdisAcquireRWLockWrite(g_rw, &state, 0) : NdisAcquireRWLockRead(g_rw, &state, 0);
        else if (family == RwFamily::Ndis5)
            NdisAcquireReadWriteLock(&g_ndis5_rw, exclusive ? TRUE : FALSE, &ndis5_state);
        else
            old = exclusive ? ExAcquireSpinLockExclusive(&g_ex_rw) : ExAcquireSpinLockShared(&g_ex_rw);
    }
    ~RwHold() {
        if (family == RwFamily::NdisEx)
            NdisReleaseRWLock(g_rw, &state);
        else if (family == RwFamily::Ndis5)
            NdisReleaseReadWriteLock(&g_ndis5_rw, &ndis5_state);
        else
            exclusive ? ExReleaseSpinLockExclusive(&g_ex_rw, old) : ExReleaseSpinLockShared(&g_ex_rw, old);
    }
};

const int kSharedWriteLine = __LINE__ + 3;
void write_table(RwFamily family, bool exclusive) { // not exclusive: the bug, a write under a read hold
    RwHold hold(family, exclusive);
    NDISLOCK_SHARED_WRITE(g_table, 1);
}

const int kSharedReadLine = __LINE__ + 3;
void read_table(RwFamily family) {
    RwHold hold(family, false);
    (void)NDISLOCK_SHARED_READ(g_table);
}

// A writer (exclusive, or wrongly shared) and two readers.
std::function<void(ex::Run &)> readers_and_writer(RwFamily family, bool writer_exclusive) {
    return [family, writer_exclusive](ex::Run &run) {
        g_rw = NdisAllocateRWLock(nullptr);
        NdisInitializeReadWriteLock(&g_ndis5_rw);
        g_ex_rw = 0;
        g_table = 0;
        run.spawn([family, writer_exclusive] { write_table(family, writer_exclusive); });
        for (int i = 0; i < 2; ++i)
            run.spawn([family] { read_table(family); });
        run.check([] {
            NdisFreeRWLock(g_rw);
            return true;
        });
    };
}

TEST_F(Race, ReadersUnderSharedHoldsAndAWriterUnderExclusiveReportNothing) {
    // A reader after the writer sees its exclusive release; the writer after a reader sees every
    // release; the readers do not order each other, and need not.
    for (RwFamily family : kRwFamilies) {
        SCOPED_TRACE(static_cast<int>(family));
        expect_nothing(readers_and_writer(family, true));
    }
}

TEST_F(Race, WriterUnderASharedHoldIsADataRace) {
    // PCT depth 1 runs the threads one after the other: the race is still there, as a reader's
    // release orders nothing for the next reader.
    for (RwFamily family : kRwFamilies)
        for (auto [strategy, depth] : kFindingStrategies) {
            const ex::Result r = ex::explore(options(strategy, depth, 9), readers_and_writer(family, false));
            ASSERT_TRUE(r.found) << "strategy " << strategy << ": no race in " << r.schedules << " schedules";
            EXPECT_EQ(r.rule, "DataRace") << r.message;
            EXPECT_EQ(r.schedules, 1u) << "happens-before sees it in every interleaving";
            EXPECT_TRUE(names(r.message, kSharedWriteLine)) << r.message;
            EXPECT_TRUE(names(r.message, kSharedReadLine)) << r.message;
        }
}

// ---- Data only read, bytes apart, spawn, fast mutex ---------------------------------------------

int g_config = 42;

TEST_F(Race, ReadOnlyDataNeverRaces) {
    expect_nothing([](ex::Run &run) {
        for (int i = 0; i < 3; ++i)
            run.spawn([] {
                for (int j = 0; j < 3; ++j)
                    (void)NDISLOCK_SHARED_READ(g_config);
            });
    });
}

struct Bytes {
    unsigned char first, second;
    unsigned short both_halves;
};
Bytes g_bytes;

TEST_F(Race, ConflictsAreByOverlappingBytes) {
    // Two adjacent bytes written by two threads: no byte in common, no race.
    expect_nothing([](ex::Run &run) {
        run.spawn([] { NDISLOCK_SHARED_WRITE(g_bytes.first, 1); });
        run.spawn([] { NDISLOCK_SHARED_WRITE(g_bytes.second, 2); });
    });
    // A one-byte read inside a two-byte write: a race.
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1), [](ex::Run &run) {
        run.spawn([] { NDISLOCK_SHARED_WRITE(g_bytes.both_halves, 0x102); });
        run.spawn([] {
            const auto *half = reinterpret_cast<const volatile unsigned char *>(&g_bytes.both_halves) + 1;
            NdislockExploreRead(half, 1, __FILE__, __LINE__);
        });
    });
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "DataRace") << r.message;
    EXPECT_NE(r.message.find("1 bytes at"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("2 bytes at"), std::string::npos) << r.message;
}

int g_handed_over;

TEST_F(Race, SpawnOrdersTheParentsPastOnly) {
    // A thread writes, then spawns a reader (ordered); or spawns it, then writes (a race).
    auto scenario = [](bool write_after) {
        return [write_after](ex::Run &run) {
            g_handed_over = 0;
            run.spawn([&run, write_after] {
                if (!write_after) NDISLOCK_SHARED_WRITE(g_handed_over, 1);
                run.spawn([] { (void)NDISLOCK_SHARED_READ(g_handed_over); });
                if (write_after) NDISLOCK_SHARED_WRITE(g_handed_over, 2);
            });
        };
    };
    expect_nothing(scenario(false), 300);
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 4), scenario(true));
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "DataRace") << r.message;
}

// ---- Events --------------------------------------------------------------------------------------

KEVENT g_ready;
NDIS_EVENT g_ndis_ready;
int g_payload;

// A producer fills the payload and sets the event; the consumer waits for it (or, wrongly, does
// not), then reads the payload.
enum class Hand { KeWait, NdisWait, WaitForMultiple, NoWait };

std::function<void(ex::Run &)> hand_over(Hand hand) {
    return [hand](ex::Run &run) {
        KeInitializeEvent(&g_ready, NotificationEvent, FALSE);
        NdisInitializeEvent(&g_ndis_ready);
        g_payload = 0;
        run.spawn([hand] {
            NDISLOCK_SHARED_WRITE(g_payload, 7);
            hand == Hand::NdisWait ? NdisSetEvent(&g_ndis_ready) : (void)KeSetEvent(&g_ready, 0, FALSE);
        });
        run.spawn([hand] {
            if (hand == Hand::KeWait) KeWaitForSingleObject(&g_ready, Executive, KernelMode, FALSE, nullptr);
            if (hand == Hand::NdisWait) NdisWaitEvent(&g_ndis_ready, 0);
            if (hand == Hand::WaitForMultiple) {
                PVOID objects[1] = {&g_ready};
                KWAIT_BLOCK blocks[THREAD_WAIT_OBJECTS];
                KeWaitForMultipleObjects(1, objects, WaitAll, Executive, KernelMode, FALSE, nullptr, blocks);
            }
            (void)NDISLOCK_SHARED_READ(g_payload);
        });
    };
}

TEST_F(Race, EventSetBeforeTheWaitItSatisfiesReportsNothing) {
    for (Hand hand : {Hand::KeWait, Hand::NdisWait, Hand::WaitForMultiple}) {
        SCOPED_TRACE(static_cast<int>(hand));
        expect_nothing(hand_over(hand), 300);
    }
}

TEST_F(Race, ReadWithoutWaitingForTheEventIsADataRace) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 2), hand_over(Hand::NoWait));
    ASSERT_TRUE(r.found) << "no race in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "DataRace") << r.message;
}

FAST_MUTEX g_mutex;

TEST_F(Race, CounterUnderAFastMutexReportsNothing) {
    expect_nothing(
        [](ex::Run &run) {
            ExInitializeFastMutex(&g_mutex);
            g_counter = 0;
            for (int i = 0; i < 2; ++i)
                run.spawn([] {
                    ExAcquireFastMutex(&g_mutex);
                    read_then_write();
                    ExReleaseFastMutex(&g_mutex);
                });
        },
        300);
}

// ---- From C -----------------------------------------------------------------------------------

TEST_F(Race, CMacrosReportTheLostUpdateAndReplayIt) {
    NDISLOCK_EXPLORE_RESULT r;
    ASSERT_EQ(c_race_explore(0, NDISLOCK_EXPLORE_PCT, 2, 3, nullptr, &r), NDISLOCK_OK);
    ASSERT_TRUE(r.Found);
    EXPECT_STREQ(r.Rule, "DataRace");
    const std::string message = r.Message, token = r.Token;
    EXPECT_TRUE(names(message, "race_c_scenarios.c", c_race_read_line)) << message;
    EXPECT_TRUE(names(message, "race_c_scenarios.c", c_race_write_line)) << message;
    for (int i = 0; i < 100; ++i) {
        NDISLOCK_EXPLORE_RESULT again;
        ASSERT_EQ(c_race_explore(0, NDISLOCK_EXPLORE_RANDOM, 0, 0, token.c_str(), &again), NDISLOCK_OK);
        ASSERT_TRUE(again.Found);
        ASSERT_EQ(message, again.Message);
    }
    NDISLOCK_EXPLORE_RESULT locked;
    ASSERT_EQ(c_race_explore(1, NDISLOCK_EXPLORE_RANDOM, 0, 3, nullptr, &locked), NDISLOCK_OK);
    EXPECT_FALSE(locked.Found) << locked.Message;
    EXPECT_EQ(locked.Schedules, 1000u);
}

// ---- No observer slot for race detection ------------------------------------------------------

TEST_F(Race, WithoutAnObserverSlotRaceDetectionIsOffNotWrong) {
    // Fill the observer slots but one (the scheduler's): race detection gets none, and reports
    // nothing rather than races invented without the lock edges.
    static const ndislock::observe::Observer fillers[ndislock::observe::kMaxObservers] = {};
    unsigned taken = 0;
    while (taken < ndislock::observe::kMaxObservers && ndislock::observe::add_observer(&fillers[taken]) >= 0)
        ++taken;
    ASSERT_GT(taken, 0u);
    ndislock::observe::remove_observer(&fillers[--taken]);
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 5, 50), increments(Guard::None));
    for (unsigned i = 0; i < taken; ++i)
        ndislock::observe::remove_observer(&fillers[i]);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message; // increments(Guard::None) has no check: only a DataRace could fail it
    EXPECT_EQ(r.schedules, 50u);
    // The slot free again: the same exploration reports the race.
    EXPECT_EQ(ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 5, 50), increments(Guard::None)).rule, "DataRace");
}

// ---- Outside an exploration ----------------------------------------------------------------------

TEST_F(Race, OutsideAnExplorationTheMacrosArePlainAccesses) {
    int x = 1;
    EXPECT_EQ(NDISLOCK_SHARED_READ(x), 1);
    NDISLOCK_SHARED_WRITE(x, 5);
    EXPECT_EQ(x, 5);
    volatile int v = 0; // no C++20 deprecation from the write (-Werror=volatile: tests/explore/CMakeLists.txt)
    NDISLOCK_SHARED_WRITE(v, NDISLOCK_SHARED_READ(v) + 1);
    EXPECT_EQ(v, 1);
}

} // namespace
