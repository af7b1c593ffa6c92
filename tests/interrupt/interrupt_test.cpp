// The interrupt side's semantics (ndislock/ndis_interrupt.h, ndislock/device.h): the IRQL and
// processor inside every callback, pending interrupts, DPC queueing, events, registration.
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "interrupt/processor_context.h"
#include "interrupt_support.h"
#include "ndislock/verifier.h"
#include "model/processors.h"
#include "model/thread_state.h"
#include "platform/membarrier.h"

using namespace ndislock_test;

namespace {

constexpr std::chrono::seconds kLimit{60};

// Whether Linux reports thread tid of this process asleep (state S in /proc/self/task/TID/stat).
// An NDIS event wait is a futex wait with no model state a test could read, so this is how a test
// knows the waiter blocked.
bool asleep(pid_t tid) {
    std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const std::size_t name_end = line.rfind(')'); // the state follows the command name, ") S ..."
    return name_end != std::string::npos && name_end + 2 < line.size() && line[name_end + 2] == 'S';
}

TEST(Interrupt, TheIsrRunsAtDirqlOnTheAssertedProcessorAndItsDpcAtDispatchThere) {
    Watchdog dog("isr irql", kLimit);
    ASSERT_EQ(set_processor_count(4), NDISLOCK_OK);
    TestDevice d;
    std::atomic<int> isr_irql{-1}, isr_cpu{-1}, dpc_irql{-1}, dpc_cpu{-1};
    d.isr = [&](TestDevice &, PBOOLEAN queue, PULONG) {
        isr_irql = KeGetCurrentIrql();
        isr_cpu = static_cast<int>(KeGetCurrentProcessorNumber());
        *queue = TRUE;
        return TRUE;
    };
    d.dpc = [&](TestDevice &, PVOID) {
        dpc_irql = KeGetCurrentIrql();
        dpc_cpu = static_cast<int>(KeGetCurrentProcessorNumber());
    };
    d.start();
    for (ULONG p = 0; p < 4; ++p) {
        const int before = d.dpc_runs.load();
        ASSERT_EQ(NdislockAssertInterrupt(d.interrupt, p), NDISLOCK_OK);
        ASSERT_TRUE(eventually([&] { return d.dpc_runs.load() > before; }));
        EXPECT_EQ(isr_irql.load(), NDISLOCK_DEVICE_IRQL);
        EXPECT_EQ(isr_cpu.load(), static_cast<int>(p));
        EXPECT_EQ(dpc_irql.load(), DISPATCH_LEVEL);
        EXPECT_EQ(dpc_cpu.load(), static_cast<int>(p));
    }
}

// NDIS queues its interrupt DPCs at medium importance, as Windows does: the code the ISR
// interrupted at DISPATCH_LEVEL runs the ISR's DPC itself when it lowers, before KeLowerIrql
// returns (not later, on the processor's DPC thread).
TEST(Interrupt, TheIsrsDpcRunsWhenTheInterruptedCodeLowers) {
    Watchdog dog("interrupt dpc at the drop", kLimit);
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    TestDevice d;
    std::atomic<pid_t> dpc_tid{0};
    d.dpc = [&](TestDevice &, PVOID) { dpc_tid = gettid(); };
    d.start();
    on_processor(1, [&] {
        for (int i = 0; i < 20; ++i) {
            KIRQL old = 0;
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            const int before = d.dpc_runs.load();
            ASSERT_EQ(NdislockAssertInterrupt(d.interrupt, 1), NDISLOCK_OK); // the ISR runs over us
            EXPECT_EQ(d.dpc_runs.load(), before) << "no DPC runs while the processor is at DISPATCH_LEVEL";
            KeLowerIrql(old);
            EXPECT_EQ(d.dpc_runs.load(), before + 1) << "round " << i;
            EXPECT_EQ(dpc_tid.load(), gettid()) << "run by the thread that lowered, round " << i;
        }
    });
}

TEST(Interrupt, AssertingTowardTheCallersOwnProcessorRunsTheIsrBeforeReturning) {
    Watchdog dog("self assert", kLimit);
    ASSERT_EQ(set_processor_count(2), NDISLOCK_OK);
    TestDevice d;
    d.start();
    on_processor(1, [&] {
        for (int i = 0; i < 100; ++i) {
            const int before = d.isr_runs.load();
            ASSERT_EQ(NdislockAssertInterrupt(d.interrupt, 1), NDISLOCK_OK);
            EXPECT_EQ(d.isr_runs.load(), before + 1) << "at PASSIVE_LEVEL, round " << i;
        }
        // At DISPATCH_LEVEL the caller itself is what the interrupt preempts.
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        const int before = d.isr_runs.load();
        ASSERT_EQ(NdislockAssertInterrupt(d.interrupt, 1), NDISLOCK_OK);
        EXPECT_EQ(d.isr_runs.load(), before + 1) << "at DISPATCH_LEVEL";
        KeLowerIrql(old);
    });
    EXPECT_GE(d.stats().Preempted, 1u);
}

// A processor biased to a thread (a run of raises by it alone, model/processors.h) before its
// interrupt threads exist: its DPC thread's first raise claims the owner word and waits for the
// bias holder. If the holder is at DISPATCH_LEVEL then, the first interrupt must stop the holder,
// the code that really runs there, not the DPC thread, which only waits for the processor.
TEST(Interrupt, TheFirstInterruptToAProcessorBiasedBeforeItsThreadsStartedStopsTheBiasHolder) {
    if (!ndislock::platform::asymmetric())
        GTEST_SKIP() << "no asymmetric fences (a ThreadSanitizer build or an old kernel): no processor is ever biased";
    Watchdog dog("first interrupt after a bias", kLimit);
    ASSERT_EQ(set_processor_count(NDISLOCK_MAX_PROCESSORS), NDISLOCK_OK);
    ULONG fresh = NDISLOCK_MAX_PROCESSORS; // a processor whose interrupt threads have not started
    for (ULONG p = NDISLOCK_MAX_PROCESSORS; p-- > 1;)
        if (ndislock::interrupt::g_contexts[p].started.load() == 0) {
            fresh = p;
            break;
        }
    ASSERT_LT(fresh, ULONG{NDISLOCK_MAX_PROCESSORS}) << "every processor already has interrupt threads";
    TestDevice d;
    std::atomic<std::uint32_t> interrupted{0};
    d.isr = [&](TestDevice &, PBOOLEAN queue, PULONG) {
        interrupted = ndislock::model::tls_thread->preemption.interrupting.load();
        *queue = FALSE;
        return TRUE;
    };
    d.start();
    bool biased = false;
    on_processor(fresh, [&] {
        const std::uint32_t me = ndislock::model::tls_thread->id();
        NDIS_SPIN_LOCK lock;
        NdisAllocateSpinLock(&lock);
        for (int i = 0; i < 200; ++i) { // well past the bias threshold (where fences allow a bias)
            NdisAcquireSpinLock(&lock);
            NdisReleaseSpinLock(&lock);
        }
        NdisAcquireSpinLock(&lock); // at DISPATCH_LEVEL on `fresh`, through its bias
        biased = ndislock::model::g_processors[fresh].owner().load() == (me | ndislock::model::kBiased);
        std::thread device([&] {
            EXPECT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
            EXPECT_EQ(NdislockAssertInterrupt(d.interrupt, fresh), NDISLOCK_OK); // starts its threads
        });
        // Spinning at DISPATCH_LEVEL: the interrupt stops this thread here and runs the ISR. The
        // lock is held meanwhile for as long as the device thread takes to start, far over the
        // hold budget, on purpose: that is no finding of this test's.
        NdislockVerifierSetHoldBudget(10'000'000'000ull);
        while (d.isr_runs.load() == 0)
            std::this_thread::yield();
        NdisReleaseSpinLock(&lock);
        NdislockVerifierSetHoldBudget(0);
        device.join();
        NdisFreeSpinLock(&lock);
        EXPECT_EQ(interrupted.load(), me) << "the ISR ran over another thread, not over the one at DISPATCH_LEVEL";
    });
    EXPECT_TRUE(biased) << "the processor was not biased to the thread: the case under test did not happen";
    EXPECT_EQ(d.stats().Preempted, 1u);
    d.halt();
    // The new processor's DPC thread may still be on its first trip to DISPATCH_LEVEL (the one
    // that revoked the bias): the count can change once it is back.
    EXPECT_TRUE(eventually([] { return NdislockSetProcessorCount(2) == NDISLOCK_OK; }));
}

TEST(Interrupt, APendingInterruptIsTakenWhenTheIrqlDropsBelowDirql) {
    Watchdog dog("pending", kLimit);
    ASSERT_EQ(set_processor_count(2), NDISLOCK_OK);
    TestDevice d;
    d.start();
    on_processor(0, [&] {
        KIRQL old = 0;
        KeRaiseIrql(HIGH_LEVEL, &old);
        ASSERT_EQ(NdislockAssertInterrupt(d.interrupt, 0), NDISLOCK_OK); // masked: returns at once
        ndislock::model::ThreadState *self = ndislock::model::tls_thread;
        // The ISR thread has asked this thread to stop and waits: the interrupt is pending here.
        ASSERT_TRUE(eventually([&] { return self->preemption.request.load() != self->preemption.ack.load(); }));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_EQ(d.isr_runs.load(), 0) << "an ISR ran while its processor was at HIGH_LEVEL";
        KeLowerIrql(old);
        EXPECT_EQ(d.isr_runs.load(), 1) << "the pending interrupt was not taken as the IRQL dropped";
    });
    EXPECT_EQ(d.stats().HeldPending, 1u);
}

TEST(Interrupt, TheInterruptsSpinLockSerializesSynchronizeFunctionsWithTheIsr) {
    Watchdog dog("sync irql", kLimit);
    TestDevice d;
    d.start();
    struct Seen {
        KIRQL irql = 0;
        int calls = 0;
    } seen;
    auto fn = [](NDIS_HANDLE c) -> BOOLEAN {
        auto &s = *static_cast<Seen *>(c);
        s.irql = KeGetCurrentIrql();
        ++s.calls;
        return static_cast<BOOLEAN>(s.calls == 1 ? TRUE : FALSE);
    };
    EXPECT_EQ(NdisMSynchronizeWithInterruptEx(d.interrupt, 0, fn, &seen), TRUE);
    EXPECT_EQ(seen.irql, NDISLOCK_DEVICE_IRQL);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(NdisMSynchronizeWithInterruptEx(d.interrupt, 0, fn, &seen), FALSE); // returns the function's result
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
    EXPECT_EQ(d.stats().Synchronized, 2u);
}

TEST(Interrupt, EnableAndDisableRunAtDirql) {
    TestDevice d;
    std::atomic<int> irql{-1};
    std::atomic<int> enables{0}, disables{0};
    d.enable_disable = [&](TestDevice &, bool enable) {
        irql = KeGetCurrentIrql();
        (enable ? enables : disables).fetch_add(1);
    };
    d.start();
    EXPECT_EQ(NdislockDisableInterrupt(d.interrupt), NDISLOCK_OK);
    EXPECT_EQ(irql.load(), NDISLOCK_DEVICE_IRQL);
    EXPECT_EQ(NdislockEnableInterrupt(d.interrupt), NDISLOCK_OK);
    EXPECT_EQ(enables.load(), 1);
    EXPECT_EQ(disables.load(), 1);
}

struct DpcProbe {
    KDPC dpc;
    std::atomic<int> runs{0};
    std::atomic<int> irql{-1}, cpu{-1};
    std::atomic<void *> arg1{nullptr};
    static VOID Routine(PKDPC, PVOID context, PVOID a1, PVOID) {
        auto &p = *static_cast<DpcProbe *>(context);
        p.irql = KeGetCurrentIrql();
        p.cpu = static_cast<int>(KeGetCurrentProcessorNumber());
        p.arg1 = a1;
        p.runs.fetch_add(1);
    }
    DpcProbe() { KeInitializeDpc(&dpc, Routine, this); }
};

TEST(Dpc, ADpcQueuedTwiceRunsOnce) {
    Watchdog dog("dpc twice", kLimit);
    ASSERT_EQ(set_processor_count(2), NDISLOCK_OK);
    DpcProbe probe;
    KeSetTargetProcessorDpc(&probe.dpc, 1);
    on_processor(1, [&] {
        // Holding processor 1 at DISPATCH_LEVEL: its DPCs cannot run until we drop.
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        int marker = 0;
        EXPECT_EQ(KeInsertQueueDpc(&probe.dpc, &marker, nullptr), TRUE);
        EXPECT_EQ(KeInsertQueueDpc(&probe.dpc, nullptr, nullptr), FALSE);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(probe.runs.load(), 0) << "a DPC ran while its processor was at DISPATCH_LEVEL";
        KeLowerIrql(old);
        ASSERT_TRUE(eventually([&] { return probe.runs.load() == 1; }));
        EXPECT_EQ(probe.arg1.load(), &marker); // the first insert's arguments
    });
    KeFlushQueuedDpcs();
    EXPECT_EQ(probe.runs.load(), 1);
}

TEST(Dpc, DpcsRunAtDispatchOnTheirTargetProcessor) {
    Watchdog dog("dpc targets", kLimit);
    ASSERT_EQ(set_processor_count(4), NDISLOCK_OK);
    for (CCHAR p = 0; p < 4; ++p) {
        DpcProbe probe;
        KeSetTargetProcessorDpc(&probe.dpc, p);
        EXPECT_EQ(KeInsertQueueDpc(&probe.dpc, nullptr, nullptr), TRUE);
        KeFlushQueuedDpcs();
        EXPECT_EQ(probe.runs.load(), 1);
        EXPECT_EQ(probe.cpu.load(), p);
        EXPECT_EQ(probe.irql.load(), DISPATCH_LEVEL);
    }
    // Untargeted: the processor that queues it.
    on_processor(3, [] {
        DpcProbe probe;
        EXPECT_EQ(KeInsertQueueDpc(&probe.dpc, nullptr, nullptr), TRUE);
        KeFlushQueuedDpcs();
        EXPECT_EQ(probe.cpu.load(), 3);
    });
}

TEST(Dpc, ARemovedDpcNeverRuns) {
    Watchdog dog("dpc remove", kLimit);
    ASSERT_EQ(set_processor_count(2), NDISLOCK_OK);
    DpcProbe probe;
    KeSetTargetProcessorDpc(&probe.dpc, 0);
    on_processor(0, [&] {
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        EXPECT_EQ(KeInsertQueueDpc(&probe.dpc, nullptr, nullptr), TRUE);
        EXPECT_EQ(KeRemoveQueueDpc(&probe.dpc), TRUE);
        EXPECT_EQ(KeRemoveQueueDpc(&probe.dpc), FALSE);
        KeLowerIrql(old);
    });
    KeFlushQueuedDpcs();
    EXPECT_EQ(probe.runs.load(), 0);
    EXPECT_EQ(KeInsertQueueDpc(&probe.dpc, nullptr, nullptr), TRUE); // queueable again
    KeFlushQueuedDpcs();
    EXPECT_EQ(probe.runs.load(), 1);
}

TEST(Dpc, NdisMQueueDpcExQueuesOnEachTargetOnce) {
    Watchdog dog("queue dpc ex", kLimit);
    ASSERT_EQ(set_processor_count(4), NDISLOCK_OK);
    TestDevice d;
    std::atomic<unsigned> cpus{0};
    d.dpc = [&](TestDevice &, PVOID) { cpus.fetch_or(1u << KeGetCurrentProcessorNumber()); };
    d.start();
    on_processor(2, [&] {
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old); // processor 2's DPC cannot run yet
        GROUP_AFFINITY targets{};
        targets.Mask = 0b0110;
        int context = 0;
        EXPECT_EQ(NdisMQueueDpcEx(d.interrupt, 0, &targets, &context), KAFFINITY{0b0110});
        EXPECT_EQ(NdisMQueueDpcEx(d.interrupt, 0, &targets, &context) & 0b0100, 0u) << "queued twice on processor 2";
        KeLowerIrql(old);
    });
    KeFlushQueuedDpcs();
    EXPECT_EQ(cpus.load() & 0b0110u, 0b0110u);
    EXPECT_EQ(cpus.load() & 0b1001u, 0u);
}

// The interrupt's DPC is medium importance: queued toward the caller's own processor from
// PASSIVE_LEVEL, it has run when NdisMQueueDpcEx returns, as a KeInsertQueueDpc's would.
TEST(Dpc, NdisMQueueDpcExTowardThisProcessorFromPassiveHasRunOnReturn) {
    Watchdog dog("queue dpc ex here", kLimit);
    ASSERT_EQ(set_processor_count(4), NDISLOCK_OK);
    TestDevice d;
    std::atomic<int> runs{0};
    std::atomic<unsigned> where{~0u};
    d.dpc = [&](TestDevice &, PVOID) {
        where.store(KeGetCurrentProcessorNumber());
        runs.fetch_add(1);
    };
    d.start();
    on_processor(1, [&] {
        GROUP_AFFINITY targets{};
        targets.Mask = 0b0010;
        int context = 0;
        EXPECT_EQ(NdisMQueueDpcEx(d.interrupt, 0, &targets, &context), KAFFINITY{0b0010});
        EXPECT_EQ(runs.load(), 1) << "the DPC has not run when NdisMQueueDpcEx returned";
        EXPECT_EQ(where.load(), 1u);
        EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    });
    KeFlushQueuedDpcs();
    EXPECT_EQ(runs.load(), 1);
}

TEST(Event, SetWakesWaitersAndStaysSetUntilReset) {
    Watchdog dog("event", kLimit);
    NDIS_EVENT e;
    NdisInitializeEvent(&e);
    EXPECT_EQ(NdisWaitEvent(&e, 1), FALSE);
    std::atomic<pid_t> waiter_tid{0};
    std::thread waiter([&] {
        (void)KeGetCurrentIrql(); // registered first: from here on, the only sleep is the wait
        waiter_tid.store(gettid());
        EXPECT_EQ(NdisWaitEvent(&e, 0), TRUE);
    });
    // Set once the waiter sleeps in its wait, so that the set really wakes a sleeper.
    EXPECT_TRUE(eventually([&] { return waiter_tid.load() != 0 && asleep(waiter_tid.load()); }))
        << "the waiter never blocked in NdisWaitEvent";
    NdisSetEvent(&e);
    waiter.join();
    EXPECT_EQ(NdisWaitEvent(&e, 1), TRUE);
    NdisResetEvent(&e);
    EXPECT_EQ(NdisWaitEvent(&e, 1), FALSE);
}

TEST(Event, ADpcSetsAnEventAPassiveThreadWaitsOn) {
    Watchdog dog("event from dpc", kLimit);
    struct Ctx {
        KDPC dpc;
        NDIS_EVENT done;
    } ctx;
    NdisInitializeEvent(&ctx.done);
    KeInitializeDpc(
        &ctx.dpc, [](PKDPC, PVOID c, PVOID, PVOID) { NdisSetEvent(&static_cast<Ctx *>(c)->done); }, &ctx);
    EXPECT_EQ(KeInsertQueueDpc(&ctx.dpc, nullptr, nullptr), TRUE);
    EXPECT_EQ(NdisWaitEvent(&ctx.done, 10'000), TRUE);
}

TEST(Registration, BadCharacteristicsAreRefused) {
    NDIS_HANDLE adapter = nullptr;
    ASSERT_EQ(NdislockMiniportInitialize(nullptr, nullptr, &adapter), NDIS_STATUS_SUCCESS);
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c{};
    NDIS_HANDLE h = nullptr;
    EXPECT_EQ(NdisMRegisterInterruptEx(adapter, nullptr, &c, &h), NDIS_STATUS_INVALID_PARAMETER); // no header
    c.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
    c.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
    c.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
    EXPECT_EQ(NdisMRegisterInterruptEx(adapter, nullptr, &c, &h), NDIS_STATUS_INVALID_PARAMETER); // no handlers
    c.InterruptHandler = TestDevice::Isr;
    c.InterruptDpcHandler = TestDevice::Dpc;
    c.MsiSupported = TRUE; // without the message handlers
    EXPECT_EQ(NdisMRegisterInterruptEx(adapter, nullptr, &c, &h), NDIS_STATUS_INVALID_PARAMETER);
    NdislockMiniportHalt(adapter, nullptr, nullptr);
}

TEST(Registration, ADeregisteredHandleAssertsNothing) {
    TestDevice d;
    d.start();
    NDIS_HANDLE h = d.interrupt;
    d.halt();
    EXPECT_EQ(NdislockAssertInterrupt(h, 0), NDISLOCK_INVALID_ARGUMENT);
    NDISLOCK_INTERRUPT_STATS s{};
    EXPECT_EQ(NdislockGetInterruptStats(h, &s), NDISLOCK_INVALID_ARGUMENT);
}

TEST(Registration, DeregisterWaitsForQueuedAndRunningDpcs) {
    Watchdog dog("deregister", kLimit);
    TestDevice d;
    std::atomic<bool> in_dpc{false};
    d.dpc = [&](TestDevice &, PVOID) {
        in_dpc = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        in_dpc = false;
    };
    d.start();
    ASSERT_EQ(NdislockAssertInterrupt(d.interrupt, 0), NDISLOCK_OK);
    ASSERT_TRUE(eventually([&] { return in_dpc.load(); }));
    d.halt();
    EXPECT_FALSE(in_dpc.load()) << "NdisMDeregisterInterruptEx returned while the DPC ran";
}

} // namespace
