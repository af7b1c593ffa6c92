// Interrupts and DPCs inside an exploration (docs/explore.md, "Interrupts and DPCs"): an assert
// makes the interrupt pending, and the scheduler delivers it where its strategy chooses, inline on
// the code running the processor or on the processor's delivery context; DPCs run at the drops
// and on the delivery context. Each bug is found within 1000 schedules by each strategy and
// replayed from its token 100 times out of 100; the correct scenario reports nothing in 1000.
// Bounded: every exploration has a schedule count and a step bound, and ctest a timeout.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "explore_device.h"
#include "explore_support.h"
#include "ndislock/device.h"
#include "ndislock/explore.h"
#include "ndislock/ndis.h"

namespace ex = ndislock::explore;

namespace {

using explore_support::Device;

Device g_device;

class ExploreIsr : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
        g_device = Device{};
        NDIS_HANDLE adapter = nullptr;
        ASSERT_EQ(NdislockMiniportInitialize(Device::Initialize, &g_device, &adapter), NDIS_STATUS_SUCCESS);
    }
    void TearDown() override {
        if (g_device.adapter != nullptr) NdislockMiniportHalt(g_device.adapter, Device::Halt, &g_device);
    }
};

ex::Options options(NDISLOCK_EXPLORE_STRATEGY strategy, unsigned depth, unsigned long long seed,
                    unsigned schedules = 1000) {
    ex::Options o = explore_support::options(strategy, depth, seed, schedules);
    o.max_steps = 2000;
    return o;
}

using explore_support::expect_replays;

const std::pair<NDISLOCK_EXPLORE_STRATEGY, unsigned> kRandom{NDISLOCK_EXPLORE_RANDOM, 0u};

// ---- (a) The ISR takes a spin lock the code it interrupted holds on the same processor ----------

// Static: the same address in every schedule, so a replayed finding is the same text.
NDIS_SPIN_LOCK g_lock;

void isr_takes_held_lock(ex::Run &run) {
    NdisAllocateSpinLock(&g_lock);
    g_device.isr = [](PBOOLEAN queue_dpc) {
        *queue_dpc = FALSE;
        NdisDprAcquireSpinLock(&g_lock); // the bug: a DISPATCH_LEVEL lock in the ISR
        NdisDprReleaseSpinLock(&g_lock);
    };
    run.spawn([] { // processor 0
        NdisAcquireSpinLock(&g_lock);
        NdislockExploreYield(); // the work done under the lock
        NdisReleaseSpinLock(&g_lock);
    });
    run.spawn([] { NdislockAssertInterrupt(g_device.interrupt, 0); }); // processor 1: the device fires
}

TEST_F(ExploreIsr, IsrTakingTheLockItInterruptedIsADeadlockFoundAndReplayed) {
    for (auto [strategy, depth] : {kRandom, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 3), isr_takes_held_lock);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": no deadlock in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "Deadlock") << r.message;
        EXPECT_LE(r.schedules, 1000u);
        // The ISR, on processor 0, waits for the lock its interrupted thread holds there.
        EXPECT_NE(r.message.find("in MiniportInterrupt on processor 0"), std::string::npos) << r.message;
        EXPECT_NE(r.message.find("waits for spin lock"), std::string::npos) << r.message;
        expect_replays(isr_takes_held_lock, r);
    }
}

// The interrupt's arrival is a recorded choice: the exhaustive search finds the ISR deadlock by
// enumerating it (a delivery counts as a preemption), the shrunk choice token replays it, and the
// trace shows the row where the interrupt came in.
TEST_F(ExploreIsr, IsrDeadlockFoundByTheExhaustiveSearchAndReplayedFromItsChoiceToken) {
    ex::Options o = options(NDISLOCK_EXPLORE_EXHAUSTIVE, 0, 1);
    o.bound = 1;
    const ex::Result r = ex::explore(o, isr_takes_held_lock);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "no deadlock in " << r.schedules << " schedules at bound 1";
    EXPECT_EQ(r.rule, "Deadlock") << r.message;
    EXPECT_NE(r.message.find("in MiniportInterrupt on processor 0"), std::string::npos) << r.message;
    EXPECT_NE(r.trace.find("an interrupt comes in here"), std::string::npos) << r.trace;
    ASSERT_FALSE(r.shrunk_token.empty()) << r.message;
    EXPECT_LE(r.preemptions, 1u);
    expect_replays(isr_takes_held_lock, r.shrunk_token, r);
}

// ---- (b) Use after release: a list hand-off between a thread and a DPC -------------------------

struct Entry {
    bool freed = false;
};
Entry g_entry;
Entry *g_list = nullptr; // a one-entry list, under g_lock

// The thread pushes the entry under the lock and, after releasing it, still touches the entry; the
// interrupt's DPC pops it under the lock and frees it. The touch must not come after the free.
void hand_off(ex::Run &run) {
    NdisAllocateSpinLock(&g_lock);
    g_entry = Entry{};
    g_list = nullptr;
    g_device.isr = nullptr; // claims it and queues the DPC on its processor
    g_device.dpc = [] {
        NdisDprAcquireSpinLock(&g_lock);
        Entry *e = g_list;
        g_list = nullptr;
        NdisDprReleaseSpinLock(&g_lock);
        if (e != nullptr) NDISLOCK_SHARED_ACCESS(e->freed = true); // the free
    };
    run.spawn([] { // processor 0
        NdisAcquireSpinLock(&g_lock);
        g_list = &g_entry;
        NdisReleaseSpinLock(&g_lock);
        NdislockExploreAssert(!NDISLOCK_SHARED_ACCESS(g_entry.freed), "the entry was touched after the DPC freed it");
    });
    run.spawn([] { NdislockAssertInterrupt(g_device.interrupt, 1); }); // processor 1
}

TEST_F(ExploreIsr, UseAfterReleaseInADpcHandOffFoundAndReplayed) {
    for (auto [strategy, depth] : {kRandom, std::pair{NDISLOCK_EXPLORE_PCT, 3u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 5), hand_off);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": no use after release in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "AssertionFailed") << r.message;
        EXPECT_NE(r.message.find("touched after the DPC freed it"), std::string::npos) << r.message;
        expect_replays(hand_off, r);
    }
}

// The same exploration in a process whose processor already has its ISR and DPC threads (the
// device ran before the exploration): they stay out of the schedules.
TEST_F(ExploreIsr, ProcessorThreadsStartedBeforeTheExplorationStayOut) {
    static std::atomic<int> outside{0};
    g_device.isr = nullptr;
    g_device.dpc = [] { outside.fetch_add(1); };
    ASSERT_EQ(NdislockAssertInterrupt(g_device.interrupt, 1), NDISLOCK_OK); // starts processor 1's threads
    for (int i = 0; i < 5000 && outside.load() == 0; ++i)                   // bounded: 5 s at most
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(outside.load(), 1) << "the DPC outside the exploration did not run";
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 5), hand_off);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "no use after release in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "AssertionFailed") << r.message;
    expect_replays(hand_off, r);
}

// An interrupt still reaches a processor whose thread waits, below the DIRQL, for a spin lock
// (on Windows it spins and takes interrupts): the holder, on another processor, waits under the
// lock for what the ISR does, which is correct code, and must never be reported.
TEST_F(ExploreIsr, InterruptReachesAProcessorWaitingForALock) {
    static int isr_ran = 0;
    auto scenario = [](ex::Run &run) {
        NdisAllocateSpinLock(&g_lock);
        isr_ran = 0;
        g_device.isr = [](PBOOLEAN queue_dpc) {
            *queue_dpc = FALSE;
            isr_ran = 1;
        };
        g_device.dpc = nullptr;
        run.spawn([] { // processor 0: waits for the lock, at DISPATCH_LEVEL
            NdisAcquireSpinLock(&g_lock);
            NdisReleaseSpinLock(&g_lock);
        });
        run.spawn([] { // processor 1: holds the lock until processor 0's ISR ran
            NdisAcquireSpinLock(&g_lock);
            NdislockAssertInterrupt(g_device.interrupt, 0);
            for (int i = 0; i < 100 && NDISLOCK_SHARED_ACCESS(isr_ran) == 0; ++i) {
            }
            NdislockExploreAssert(isr_ran == 1, "the ISR never came in on the waiting processor");
            NdisReleaseSpinLock(&g_lock);
        });
    };
    // Random only: the holder spins (annotated) for the ISR, and PCT runs a higher-priority spinner
    // to its bound (docs/explore.md, "Limits": fairness).
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 8, 500), scenario);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 500u);
}

// ---- (c) ISR-shared state: under NdisMSynchronizeWithInterruptEx, and without it ----------------

struct Shared {
    int counter = 0;
    int dpcs = 0;
};
Shared g_shared;

void increment(int &value) {
    const int seen = NDISLOCK_SHARED_ACCESS(value);
    NdislockExploreYield(); // the write is a shared access too
    value = seen + 1;
}

BOOLEAN synchronized_increment(PVOID) {
    increment(g_shared.counter);
    return TRUE;
}

// The thread and the ISR each add 1 to the counter the ISR shares; the DPC counts its run under
// the lock. synchronized: the thread's update runs as a synchronize function (correct); else it
// is a plain update, which the ISR can interrupt (a lost update).
void isr_shared(ex::Run &run, bool synchronized) {
    NdisAllocateSpinLock(&g_lock);
    g_shared = Shared{};
    g_device.isr = [](PBOOLEAN) { increment(g_shared.counter); };
    g_device.dpc = [] {
        NdisDprAcquireSpinLock(&g_lock);
        ++g_shared.dpcs;
        NdisDprReleaseSpinLock(&g_lock);
    };
    run.spawn([synchronized] { // processor 0
        if (synchronized)
            NdisMSynchronizeWithInterruptEx(g_device.interrupt, 0, synchronized_increment, nullptr);
        else
            increment(g_shared.counter);
    });
    run.spawn([] { NdislockAssertInterrupt(g_device.interrupt, 0); }); // processor 1, toward 0
    run.check([] { return g_shared.counter == 2 && g_shared.dpcs == 1; });
}

TEST_F(ExploreIsr, SynchronizedIsrSharedStateReportsNothing) {
    auto scenario = [](ex::Run &run) { isr_shared(run, true); };
    for (auto [strategy, depth] : {kRandom, std::pair{NDISLOCK_EXPLORE_PCT, 2u}, std::pair{NDISLOCK_EXPLORE_PCT, 3u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 9), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << r.message;
        EXPECT_EQ(r.schedules, 1000u);
    }
}

TEST_F(ExploreIsr, UnsynchronizedIsrSharedStateIsALostUpdateFoundAndReplayed) {
    auto scenario = [](ex::Run &run) { isr_shared(run, false); };
    for (auto [strategy, depth] : {kRandom, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 9), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": no lost update in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "AssertionFailed") << r.message;
        EXPECT_NE(r.message.find("check returned FALSE"), std::string::npos) << r.message;
        expect_replays(scenario, r);
    }
}

// ---- Every strategy, each bug: found within 1000 schedules, shrunk within its depth ---------------

// The three bugs above with their depth (the ordering constraints that must hold for each to show:
// at most that many preemptions, interrupt arrivals included, once shrunk), under each strategy
// of the issue: random, PCT at the bug's depth, the exhaustive search at bound 2 and the
// portfolio. Each must find its bug within 1000 schedules, and the shrunk choice token must
// replay it 100 times out of 100.
TEST_F(ExploreIsr, EachBugFoundByEveryStrategyAndShrunkWithinItsDepth) {
    struct Bug {
        const char *name;
        std::function<void(ex::Run &)> scenario;
        unsigned depth;
        const char *rule;
    };
    const Bug bugs[] = {
        {"ISR takes the lock it interrupted", isr_takes_held_lock, 2, "Deadlock"},
        {"use after release in a DPC hand-off", hand_off, 3, "AssertionFailed"},
        {"lost update on ISR-shared state", [](ex::Run &run) { isr_shared(run, false); }, 2, "AssertionFailed"},
    };
    for (const Bug &bug : bugs)
        for (const NDISLOCK_EXPLORE_STRATEGY strategy :
             {NDISLOCK_EXPLORE_RANDOM, NDISLOCK_EXPLORE_PCT, NDISLOCK_EXPLORE_EXHAUSTIVE, NDISLOCK_EXPLORE_PORTFOLIO}) {
            ex::Options o = options(strategy, bug.depth, 17);
            o.bound = 2;
            const ex::Result r = ex::explore(o, bug.scenario);
            ASSERT_EQ(r.status, NDISLOCK_OK) << bug.name << ", strategy " << strategy;
            ASSERT_TRUE(r.found) << bug.name << ", strategy " << strategy << ": nothing in " << r.schedules
                                 << " schedules";
            EXPECT_EQ(r.rule, bug.rule) << bug.name << ", strategy " << strategy << ": " << r.message;
            EXPECT_LE(r.schedules, 1000u) << bug.name << ", strategy " << strategy;
            ASSERT_FALSE(r.shrunk_token.empty()) << bug.name << ", strategy " << strategy << ": not shrunk";
            EXPECT_LE(r.preemptions, bug.depth) << bug.name << ", strategy " << strategy << ": " << r.trace;
            SCOPED_TRACE(std::string(bug.name) + ", strategy " + std::to_string(strategy));
            expect_replays(bug.scenario, r.shrunk_token, r);
        }
}

// ---- Where deliveries happen ------------------------------------------------------------------

// Every asserted interrupt is delivered and its DPC run before the schedule ends, whichever way
// the schedule goes, and on the processor it was asserted toward.
TEST_F(ExploreIsr, EveryAssertIsDeliveredOnItsProcessor) {
    static int isrs = 0, dpcs = 0, wrong_processor = 0;
    auto scenario = [](ex::Run &run) {
        isrs = dpcs = wrong_processor = 0;
        g_device.isr = [](PBOOLEAN) {
            ++isrs;
            if (KeGetCurrentIrql() <= DISPATCH_LEVEL || KeGetCurrentProcessorNumber() != 2) ++wrong_processor;
        };
        g_device.dpc = [] {
            ++dpcs;
            if (KeGetCurrentIrql() != DISPATCH_LEVEL || KeGetCurrentProcessorNumber() != 2) ++wrong_processor;
        };
        for (int i = 0; i < 2; ++i)
            run.spawn([] { NdislockAssertInterrupt(g_device.interrupt, 2); });
        run.spawn([] { // processor 2: its points are where the interrupt may come in
            for (int j = 0; j < 3; ++j)
                NdislockExploreYield();
        });
        run.check([] { return isrs >= 1 && isrs <= 2 && dpcs >= 1 && dpcs <= isrs && wrong_processor == 0; });
    };
    for (auto [strategy, depth] : {kRandom, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 1, 300), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << r.message;
    }
}

// KeInsertQueueDpc toward the caller's own processor from PASSIVE_LEVEL: the DPC has run, on the
// caller, when the insert returns (as on Windows); toward another processor, by the end.
TEST_F(ExploreIsr, KernelDpcsRunInsideTheSchedule) {
    static KDPC own, other;
    static int ran_own = 0, ran_other = 0, own_before_return = 0;
    auto scenario = [](ex::Run &run) {
        ran_own = ran_other = own_before_return = 0;
        KeInitializeDpc(
            &own, [](PKDPC, PVOID, PVOID, PVOID) { ++ran_own; }, nullptr);
        KeInitializeDpc(
            &other, [](PKDPC, PVOID, PVOID, PVOID) { ++ran_other; }, nullptr);
        KeSetTargetProcessorDpc(&other, 3);
        run.spawn([] {
            KeInsertQueueDpc(&own, nullptr, nullptr);
            own_before_return = ran_own;
            KeInsertQueueDpc(&other, nullptr, nullptr);
        });
        run.check([] { return ran_own == 1 && own_before_return == 1 && ran_other == 1; });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 200), scenario);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 200u);
}

// Data prepared before KeInsertQueueDpc and read by the DPC is no race: the insert happens before
// the DPC's run, here on processor 3's delivery context, already running (started for an earlier
// DPC, before the data was written). Data the DPC writes while the thread goes on reading it is a
// race.
TEST_F(ExploreIsr, DataHandedToADpcThroughItsQueueIsNoRace) {
    static KDPC earlier, handed;
    static int datum = 0;
    auto scenario = [](ex::Run &run, bool dpc_writes) {
        datum = 0;
        KeInitializeDpc(
            &earlier, [](PKDPC, PVOID, PVOID, PVOID) { NdislockExploreYield(); }, nullptr);
        KeInitializeDpc(
            &handed,
            [](PKDPC, PVOID dpc_writes, PVOID, PVOID) {
                if (dpc_writes != nullptr)
                    NDISLOCK_SHARED_WRITE(datum, 2);
                else
                    (void)NDISLOCK_SHARED_READ(datum);
            },
            dpc_writes ? &datum : nullptr);
        KeSetTargetProcessorDpc(&earlier, 3);
        KeSetTargetProcessorDpc(&handed, 3);
        run.spawn([dpc_writes] {
            KeInsertQueueDpc(&earlier, nullptr, nullptr); // processor 3's delivery context starts
            if (!dpc_writes) NDISLOCK_SHARED_WRITE(datum, 1);
            KeInsertQueueDpc(&handed, nullptr, nullptr);
            if (dpc_writes) (void)NDISLOCK_SHARED_READ(datum); // the DPC may be writing it
        });
    };
    for (const bool dpc_writes : {false, true}) {
        const ex::Result r =
            ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 300), [&](ex::Run &run) { scenario(run, dpc_writes); });
        ASSERT_EQ(r.status, NDISLOCK_OK);
        if (!dpc_writes) {
            EXPECT_FALSE(r.found) << r.message;
        } else {
            ASSERT_TRUE(r.found);
            EXPECT_EQ(r.rule, "DataRace") << r.message;
        }
    }
}

// State the ISR shares, annotated: touched in a synchronize function it is ordered with the ISR by
// the interrupt's lock (no race, whichever comes first); touched outside one, a DataRace.
int g_isr_datum = 0;
BOOLEAN synchronized_write(PVOID) {
    NDISLOCK_SHARED_WRITE(g_isr_datum, NDISLOCK_SHARED_READ(g_isr_datum) + 1);
    return TRUE;
}

TEST_F(ExploreIsr, StateSharedWithTheIsrThroughTheSynchronizeFunctionIsNoRace) {
    auto scenario = [](ex::Run &run, bool synchronized) {
        g_isr_datum = 0;
        g_device.isr = [](PBOOLEAN) { NDISLOCK_SHARED_WRITE(g_isr_datum, NDISLOCK_SHARED_READ(g_isr_datum) + 1); };
        run.spawn([synchronized] { // processor 0
            if (synchronized)
                NdisMSynchronizeWithInterruptEx(g_device.interrupt, 0, synchronized_write, nullptr);
            else
                synchronized_write(nullptr);
        });
        run.spawn([] { NdislockAssertInterrupt(g_device.interrupt, 0); }); // processor 1, toward 0
    };
    for (const bool synchronized : {true, false}) {
        const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 5, 500),
                                         [&](ex::Run &run) { scenario(run, synchronized); });
        ASSERT_EQ(r.status, NDISLOCK_OK);
        if (synchronized) {
            EXPECT_FALSE(r.found) << r.message;
        } else {
            ASSERT_TRUE(r.found);
            EXPECT_EQ(r.rule, "DataRace") << r.message;
        }
    }
}

// A thread the exploration does not run cannot make work for its schedule: an interrupt it asserts
// would be delivered by no one it is ordered with.
TEST_F(ExploreIsr, AssertFromAPlainThreadIsRefused) {
    // Re-executed, not forked: an earlier test of this process may have left ISR and DPC threads.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            auto scenario = [](ex::Run &run) {
                run.spawn([] {
                    std::thread plain([] { NdislockAssertInterrupt(g_device.interrupt, 3); });
                    plain.join();
                });
            };
            ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 1), scenario);
        },
        "ExploreUncontrolled: an interrupt or DPC is pending toward processor 3");
}

// Message-signalled interrupts go the same way: each assert of a message is a delivery of its own
// (edge-like), of that message's ISR with its MessageId, on the processor it was asserted toward.
struct MsiDevice {
    NDIS_HANDLE adapter = nullptr;
    NDIS_HANDLE interrupt = nullptr;
    static inline int isrs = 0, dpcs = 0, wrong = 0;

    static BOOLEAN Isr(NDIS_HANDLE, ULONG message, PBOOLEAN queue_dpc, PULONG) {
        ++isrs;
        if (message != 1 || KeGetCurrentIrql() <= DISPATCH_LEVEL || KeGetCurrentProcessorNumber() != 2) ++wrong;
        *queue_dpc = TRUE;
        return TRUE;
    }
    static VOID Dpc(NDIS_HANDLE, ULONG message, PVOID, PVOID, PVOID) {
        ++dpcs;
        if (message != 1 || KeGetCurrentProcessorNumber() != 2) ++wrong;
    }
    static BOOLEAN LineIsr(NDIS_HANDLE, PBOOLEAN, PULONG) { return FALSE; }
    static VOID LineDpc(NDIS_HANDLE, PVOID, PVOID, PVOID) {}
    static NDIS_STATUS Initialize(NDIS_HANDLE adapter, NDIS_HANDLE driver_context, PNDIS_MINIPORT_INIT_PARAMETERS) {
        auto &d = *static_cast<MsiDevice *>(driver_context);
        if (NdislockSetAdapterMessageCount(adapter, 2) != NDISLOCK_OK) return NDIS_STATUS_FAILURE;
        NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c{};
        c.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
        c.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
        c.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
        c.InterruptHandler = LineIsr;
        c.InterruptDpcHandler = LineDpc;
        c.MsiSupported = TRUE;
        c.MessageInterruptHandler = Isr;
        c.MessageInterruptDpcHandler = Dpc;
        d.adapter = adapter;
        return NdisMRegisterInterruptEx(adapter, &d, &c, &d.interrupt);
    }
    static VOID Halt(NDIS_HANDLE context, NDIS_HALT_ACTION) {
        NdisMDeregisterInterruptEx(static_cast<MsiDevice *>(context)->interrupt);
    }
};

TEST_F(ExploreIsr, MessageInterruptsAreDeliveredOneByOne) {
    static MsiDevice device;
    NDIS_HANDLE adapter = nullptr;
    ASSERT_EQ(NdislockMiniportInitialize(MsiDevice::Initialize, &device, &adapter), NDIS_STATUS_SUCCESS);
    auto scenario = [](ex::Run &run) {
        MsiDevice::isrs = MsiDevice::dpcs = MsiDevice::wrong = 0;
        run.spawn([] {
            NdislockAssertInterruptMessage(device.interrupt, 1, 2);
            NdislockAssertInterruptMessage(device.interrupt, 1, 2);
        });
        run.spawn([] {}); // processor 1
        run.spawn([] {    // processor 2: where the messages may come in
            NdislockExploreYield();
            NdislockExploreYield();
        });
        run.check([] {
            return MsiDevice::isrs == 2 && MsiDevice::dpcs >= 1 && MsiDevice::dpcs <= 2 && MsiDevice::wrong == 0;
        });
    };
    for (auto [strategy, depth] : {kRandom, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 2, 300), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << r.message;
        EXPECT_EQ(r.schedules, 300u);
    }
    NdislockMiniportHalt(device.adapter, MsiDevice::Halt, &device);
}

} // namespace
