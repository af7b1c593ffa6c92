// The seed rule, for real: state shared with MiniportInterrupt guarded by an NDIS spin lock.
// On Windows the interrupt lands on the processor holding the lock, the ISR spins on it, and the
// holder never runs again: the machine hangs. Here the same happens to a virtual processor; the
// verifier names the broken rule at the ISR's acquire, and the watchdog ends the run (verifier on
// or off) naming the interrupted holder. The same driver written with
// NdisMSynchronizeWithInterruptEx runs clean.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "interrupt_support.h"
#include "ndislock/verifier.h"

using namespace ndislock_test;

namespace {

// ---- The broken driver: a spin lock guards what the ISR shares with the send path ----------

struct BrokenNic {
    NDIS_SPIN_LOCK lock; // WRONG: guards state the ISR touches
    std::uint64_t interrupt_mask = 0;
    std::atomic<bool> holding{false};
    std::atomic<bool> release{false};
};
BrokenNic g_broken;

constexpr int kIsrAcquireLine = __LINE__ + 2; // the acquire below
BOOLEAN broken_isr(NDIS_HANDLE, PBOOLEAN queue_dpc, PULONG) {
    NdisDprAcquireSpinLock(&g_broken.lock); // the bug: a spin lock at DIRQL
    g_broken.interrupt_mask |= 1;
    NdisDprReleaseSpinLock(&g_broken.lock);
    *queue_dpc = FALSE;
    return TRUE;
}
VOID no_dpc(NDIS_HANDLE, PVOID, PVOID, PVOID) {}

NDIS_STATUS broken_initialize(NDIS_HANDLE adapter, NDIS_HANDLE context, PNDIS_MINIPORT_INIT_PARAMETERS) {
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c{};
    c.Header = {NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT, NDIS_MINIPORT_INTERRUPT_REVISION_1,
                NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1};
    c.InterruptHandler = broken_isr;
    c.InterruptDpcHandler = no_dpc;
    c.InterruptType = NDIS_CONNECT_LINE_BASED;
    return NdisMRegisterInterruptEx(adapter, nullptr, &c, static_cast<PNDIS_HANDLE>(context));
}

// The send path: takes the lock and works under it until told to stop. noinline, so the
// watchdog's stack of the interrupted thread shows this frame.
constexpr int kHolderAcquireLine = __LINE__ + 2; // the acquire below
[[gnu::noinline]] void send_path_holding_the_lock() {
    NdisAcquireSpinLock(&g_broken.lock);
    g_broken.holding = true;
    while (!g_broken.release.load(std::memory_order_relaxed)) {
        g_broken.interrupt_mask ^= 2; // "working"; an interrupt may stop us anywhere here
    }
    NdisReleaseSpinLock(&g_broken.lock);
}

// Runs the hazard: the holder on processor 1, the interrupt toward processor 1. Never returns
// normally: the ISR spins on the lock the stopped holder owns until the process is ended.
[[noreturn]] void run_the_hazard() {
    if (NdislockSetProcessorCount(2) != NDISLOCK_OK) std::abort();
    NdisAllocateSpinLock(&g_broken.lock);
    NdislockSetLockName(&g_broken.lock, "nic.interrupt_mask_lock");
    NDIS_HANDLE adapter = nullptr, interrupt = nullptr;
    if (NdislockMiniportInitialize(broken_initialize, &interrupt, &adapter) != NDIS_STATUS_SUCCESS) std::abort();
    std::thread holder([] {
        NdislockBindCurrentThread(1);
        send_path_holding_the_lock();
    });
    while (!g_broken.holding.load())
        std::this_thread::yield();
    NdislockAssertInterrupt(interrupt, 1); // lands on the holder's processor
    std::this_thread::sleep_for(std::chrono::seconds(30));
    std::fprintf(stderr, "the hazard did not end the process\n");
    std::_Exit(0); // EXPECT_DEATH then fails: exit code 0 is no death
}

TEST(Hazard, VerifierOnReportsAcquireAboveDispatchAtTheIsrsAcquire) {
    // The ISR runs while nobody holds the lock: no hang, but the rule is broken all the same.
    Watchdog dog("hazard, verifier on", std::chrono::seconds(60));
    ASSERT_NE(NdislockVerifierGetMode(), NDISLOCK_VERIFIER_OFF) << "registered with NDISLOCK_VERIFIER=on";
    ASSERT_EQ(set_processor_count(2), NDISLOCK_OK);
    NdisAllocateSpinLock(&g_broken.lock);
    NDIS_HANDLE adapter = nullptr, interrupt = nullptr;
    ASSERT_EQ(NdislockMiniportInitialize(broken_initialize, &interrupt, &adapter), NDIS_STATUS_SUCCESS);
    ASSERT_EQ(NdislockAssertInterrupt(interrupt, 1), NDISLOCK_OK);
    ASSERT_TRUE(eventually([&] { return NdislockVerifierFindingCount() != 0; }));
    NdislockMiniportHalt(adapter, nullptr, nullptr); // also reports the interrupt left registered
    std::vector<NDISLOCK_FINDING> findings(16);
    findings.resize(NdislockVerifierGetFindings(findings.data(), 16));
    ASSERT_FALSE(findings.empty());
    // First the acquire (the release at DIRQL is ReleaseNotAtDispatch, also true, reported after).
    EXPECT_STREQ(findings[0].RuleId, "AcquireAboveDispatch");
    EXPECT_EQ(findings[0].Line, kIsrAcquireLine);
    EXPECT_EQ(findings[0].Irql, NDISLOCK_DEVICE_IRQL);
    EXPECT_NE(std::string(findings[0].Message).find("NdisMSynchronizeWithInterruptEx"), std::string::npos)
        << findings[0].Message;
    for (const NDISLOCK_FINDING &f : findings)
        EXPECT_TRUE(std::string(f.RuleId) == "AcquireAboveDispatch" ||
                    std::string(f.RuleId) == "ReleaseNotAtDispatch" ||
                    std::string(f.RuleId) == "InterruptRegistrationMisuse")
            << f.Message;
    NdislockVerifierResetFindings(); // the strings above live until here
}

TEST(HazardDeathTest, VerifierOffTheInterruptedHolderDeadlocksAndTheWatchdogEndsTheRun) {
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
            NdislockVerifierSetWatchdog(300);
            run_the_hazard();
        },
        "Deadlock: MiniportInterrupt on processor 1 has not returned.*spins on lock 0x[0-9a-f]+ "
        "\"nic.interrupt_mask_lock\".*interrupted thread [0-9]+ at IRQL 2.*stack.*hazard_test.cpp:[0-9]+");
}

TEST(HazardDeathTest, VerifierOnTheSameHazardIsADeadlockNamingTheHoldersAcquire) {
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
            NdislockVerifierSetWatchdog(300);
            run_the_hazard();
        },
        "AcquireAboveDispatch.*hazard_test.cpp:" + std::to_string(kIsrAcquireLine) +
            ".*Deadlock.*hazard_test.cpp:" + std::to_string(kHolderAcquireLine));
}

// ---- Two DPCs on two processors taking two locks in opposite orders -------------------------
// Each takes its first lock, waits for the other to hold its own, then spins on the other's lock
// forever. With the verifier on, the Deadlock report is the wait's (the holder, the acquire and
// the cycle), not the routine-hang report that knows only the routine: the routine began before
// its wait, and its report waits for the wait's.

KSPIN_LOCK g_lock_a, g_lock_b;
std::atomic<int> g_dpcs_holding{0};
struct LockPair {
    PKSPIN_LOCK first, second;
};
// Takes pair->first, waits for the other DPC to hold its own first lock, then takes pair->second.
VOID dpc_taking_in_order(PKDPC, PVOID context, PVOID, PVOID) {
    const auto *pair = static_cast<const LockPair *>(context);
    KeAcquireSpinLockAtDpcLevel(pair->first);
    g_dpcs_holding.fetch_add(1);
    while (g_dpcs_holding.load() < 2) {
    }
    KeAcquireSpinLockAtDpcLevel(pair->second);
    KeReleaseSpinLockFromDpcLevel(pair->second);
    KeReleaseSpinLockFromDpcLevel(pair->first);
}

[[noreturn]] void run_two_dpcs_in_opposite_orders() {
    // Processors 1 and 2 for the DPCs: each runs on its processor's DPC thread, not inline on
    // this one (processor 0), which queues them both.
    if (NdislockSetProcessorCount(3) != NDISLOCK_OK) std::abort();
    KeInitializeSpinLock(&g_lock_a);
    KeInitializeSpinLock(&g_lock_b);
    static KDPC first, second;
    static const LockPair a_then_b{&g_lock_a, &g_lock_b}, b_then_a{&g_lock_b, &g_lock_a};
    KeInitializeDpc(&first, dpc_taking_in_order, const_cast<LockPair *>(&a_then_b));
    KeInitializeDpc(&second, dpc_taking_in_order, const_cast<LockPair *>(&b_then_a));
    KeSetTargetProcessorDpc(&first, 1);
    KeSetTargetProcessorDpc(&second, 2);
    KeInsertQueueDpc(&first, nullptr, nullptr);
    KeInsertQueueDpc(&second, nullptr, nullptr);
    std::this_thread::sleep_for(std::chrono::seconds(30));
    std::fprintf(stderr, "the deadlock did not end the process\n");
    std::_Exit(0); // EXPECT_DEATH then fails: exit code 0 is no death
}

TEST(HazardDeathTest, VerifierOnTwoDpcsDeadlockedAreTheirWaitsDeadlockNotARoutineHang) {
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
            NdislockVerifierSetWatchdog(300);
            run_two_dpcs_in_opposite_orders();
        },
        "error: Deadlock \\(terminal\\)\\s+thread [0-9]+ has waited [0-9]+ ms .*the cycle: .*hazard_test.cpp:[0-9]+");
}

// The hazard itself, to watch its report: --gtest_also_run_disabled_tests
// --gtest_filter='*DISABLED_ShowTheHazard*' (NDISLOCK_VERIFIER=on or off).
TEST(Hazard, DISABLED_ShowTheHazard) {
    NdislockVerifierSetWatchdog(300);
    run_the_hazard();
}

// ---- The same driver, done right: the ISR's state is touched only at DIRQL under the ---------
// ---- interrupt's lock, through NdisMSynchronizeWithInterruptEx on the send path  ---------

struct GoodNic {
    std::uint64_t interrupt_mask = 0; // touched by the ISR and synchronize functions only
    std::uint64_t isr_updates = 0;
    std::uint64_t send_updates = 0;
};

BOOLEAN set_send_bit(NDIS_HANDLE context) {
    auto &nic = *static_cast<GoodNic *>(context);
    nic.interrupt_mask ^= 2;
    ++nic.send_updates;
    return TRUE;
}

TEST(Hazard, TheSameDriverWithNdisMSynchronizeWithInterruptExRunsClean) {
    Watchdog dog("hazard, fixed", std::chrono::seconds(120));
    ASSERT_EQ(set_processor_count(2), NDISLOCK_OK);
    GoodNic nic;
    TestDevice d;
    d.isr = [&](TestDevice &, PBOOLEAN queue, PULONG) {
        nic.interrupt_mask |= 1;
        ++nic.isr_updates;
        *queue = FALSE;
        return TRUE;
    };
    d.start();
    NDIS_SPIN_LOCK send_lock; // a spin lock for what only the send path shares: fine
    NdisAllocateSpinLock(&send_lock);
    std::atomic<bool> stop{false};
    std::uint64_t sends = 0;
    std::thread sender([&] {
        NdislockBindCurrentThread(1);
        while (!stop.load(std::memory_order_relaxed)) {
            NdisAcquireSpinLock(&send_lock);
            NdisMSynchronizeWithInterruptEx(d.interrupt, 0, set_send_bit, &nic);
            ++sends;
            NdisReleaseSpinLock(&send_lock);
        }
    });
    for (int i = 0; i < 5'000; ++i)
        NdislockAssertInterrupt(d.interrupt, 1);
    ASSERT_TRUE(eventually([&] {
        const NDISLOCK_INTERRUPT_STATS s = d.stats();
        return s.Delivered == s.Asserted - s.Coalesced;
    }));
    stop = true;
    sender.join();
    const NDISLOCK_INTERRUPT_STATS s = d.stats();
    d.halt();
    EXPECT_EQ(nic.isr_updates, s.Delivered);
    EXPECT_EQ(nic.send_updates, sends);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u);
}

} // namespace
