// Many threads on few cores through every lock family: exact totals. 8 and 16 threads on a
// 2-core machine are oversubscribed, the case user-mode spin locks get wrong.
#include <mutex>

#include "ndislock/ndislock.hpp"
#include "test_support.h"

using namespace ndislock_test;

namespace {

constexpr int kIterations = 20000;

enum class Family { Ndis, NdisDpr, Ke, KeAtDpc, KeTry, Queued, QueuedAtDpc, CppNdis, CppKe, CppQueued, Mixed };

const char *name(Family f) {
    switch (f) {
    case Family::Ndis:
        return "Ndis";
    case Family::NdisDpr:
        return "NdisDpr";
    case Family::Ke:
        return "Ke";
    case Family::KeAtDpc:
        return "KeAtDpc";
    case Family::KeTry:
        return "KeTry";
    case Family::Queued:
        return "Queued";
    case Family::QueuedAtDpc:
        return "QueuedAtDpc";
    case Family::CppNdis:
        return "CppNdis";
    case Family::CppKe:
        return "CppKe";
    case Family::CppQueued:
        return "CppQueued";
    case Family::Mixed:
        return "Mixed";
    }
    return "?";
}

struct Shared {
    NDIS_SPIN_LOCK ndis;
    KSPIN_LOCK ke;
    ndislock::NdisSpinLock cpp_ndis{"stress cpp ndis"};
    ndislock::KSpinLock cpp_ke{"stress cpp ke"};
    long counter = 0; // plain: the lock under test is its only protection
};

// One increment of the shared counter under the family's lock, the way a driver would write it.
void increment(Shared &s, Family f, int i) {
    switch (f) {
    case Family::Ndis:
        NdisAcquireSpinLock(&s.ndis);
        ++s.counter;
        NdisReleaseSpinLock(&s.ndis);
        break;
    case Family::NdisDpr: {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        NdisDprAcquireSpinLock(&s.ndis);
        ++s.counter;
        NdisDprReleaseSpinLock(&s.ndis);
        KeLowerIrql(old);
        break;
    }
    case Family::Ke: {
        KIRQL old;
        KeAcquireSpinLock(&s.ndis.SpinLock, &old);
        ++s.counter;
        KeReleaseSpinLock(&s.ndis.SpinLock, old);
        break;
    }
    case Family::KeAtDpc: {
        const KIRQL old = KeRaiseIrqlToDpcLevel();
        KeAcquireSpinLockAtDpcLevel(&s.ndis.SpinLock);
        ++s.counter;
        KeReleaseSpinLockFromDpcLevel(&s.ndis.SpinLock);
        KeLowerIrql(old);
        break;
    }
    case Family::KeTry: {
        KIRQL old = KeRaiseIrqlToDpcLevel();
        while (!KeTryToAcquireSpinLockAtDpcLevel(&s.ndis.SpinLock)) {
            // Wait below DISPATCH_LEVEL on the cheap test, as KeTestSpinLock's docs suggest, so
            // other threads of this processor can run meanwhile.
            KeLowerIrql(old);
            while (!KeTestSpinLock(&s.ndis.SpinLock))
                std::this_thread::yield();
            old = KeRaiseIrqlToDpcLevel();
        }
        ++s.counter;
        KeReleaseSpinLockFromDpcLevel(&s.ndis.SpinLock);
        KeLowerIrql(old);
        break;
    }
    case Family::Queued: {
        KLOCK_QUEUE_HANDLE h;
        KeAcquireInStackQueuedSpinLock(&s.ke, &h);
        ++s.counter;
        KeReleaseInStackQueuedSpinLock(&h);
        break;
    }
    case Family::QueuedAtDpc: {
        const KIRQL old = KeRaiseIrqlToDpcLevel();
        KLOCK_QUEUE_HANDLE h;
        KeAcquireInStackQueuedSpinLockAtDpcLevel(&s.ke, &h);
        ++s.counter;
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
        KeLowerIrql(old);
        break;
    }
    case Family::CppNdis: {
        std::lock_guard<ndislock::NdisSpinLock> guard(s.cpp_ndis);
        ++s.counter;
        break;
    }
    case Family::CppKe: {
        std::unique_lock<ndislock::KSpinLock> guard(s.cpp_ke);
        ++s.counter;
        break;
    }
    case Family::CppQueued: {
        ndislock::InStackQueuedGuard guard(s.cpp_ke);
        ++s.counter;
        break;
    }
    case Family::Mixed: {
        // Every ordinary form on one NDIS lock (legal: they share one word and one algorithm).
        static constexpr Family kForms[] = {Family::Ndis, Family::NdisDpr, Family::Ke, Family::KeAtDpc, Family::KeTry};
        increment(s, kForms[i % 5], i);
        break;
    }
    }
}

struct StressCase {
    Family family;
    int threads;
    ULONG processors;
};

std::string case_name(const testing::TestParamInfo<StressCase> &info) {
    return std::string(name(info.param.family)) + "_" + std::to_string(info.param.threads) + "threads_" +
           std::to_string(info.param.processors) + "processors";
}

} // namespace

class Stress : public ModelTest, public testing::WithParamInterface<StressCase> {};

TEST_P(Stress, EveryIncrementIsCountedExactlyOnce) {
    const StressCase c = GetParam();
    ASSERT_EQ(NdislockSetProcessorCount(c.processors), NDISLOCK_OK);
    Shared s;
    NdisAllocateSpinLock(&s.ndis);
    KeInitializeSpinLock(&s.ke);
    run_threads(
        c.threads,
        [&](int t) {
            for (int i = 0; i < kIterations; ++i)
                increment(s, c.family, i + t);
        },
        name(c.family));
    EXPECT_EQ(s.counter, long{c.threads} * kIterations);
    EXPECT_EQ(word(s.ndis.SpinLock), 0u);
    EXPECT_EQ(word(s.ke), 0u);
}

INSTANTIATE_TEST_SUITE_P(AllFamilies, Stress,
                         testing::Values(StressCase{Family::Ndis, 8, 2}, StressCase{Family::NdisDpr, 8, 2},
                                         StressCase{Family::Ke, 8, 2}, StressCase{Family::KeAtDpc, 8, 2},
                                         StressCase{Family::KeTry, 8, 2}, StressCase{Family::Queued, 8, 2},
                                         StressCase{Family::QueuedAtDpc, 8, 2}, StressCase{Family::CppNdis, 8, 2},
                                         StressCase{Family::CppKe, 8, 2}, StressCase{Family::CppQueued, 8, 2},
                                         StressCase{Family::Mixed, 8, 2},
                                         // More virtual processors than cores: more threads at DISPATCH_LEVEL at once.
                                         StressCase{Family::Ndis, 16, 8}, StressCase{Family::Queued, 16, 8},
                                         StressCase{Family::Mixed, 16, 8}, StressCase{Family::Ke, 8, 1}),
                         case_name);

TEST_F(ModelTest, NestedLocksInOneOrderUnderOversubscription) {
    // Two NDIS locks always taken A then B, and per-processor counters at DISPATCH_LEVEL.
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    NDIS_SPIN_LOCK a, b;
    NdisAllocateSpinLock(&a);
    NdisAllocateSpinLock(&b);
    long in_a = 0, in_both = 0;
    long per_processor[2] = {0, 0};
    constexpr int kThreads = 8, kRounds = 10000;
    run_threads(
        kThreads,
        [&](int t) {
            for (int i = 0; i < kRounds; ++i) {
                NdisAcquireSpinLock(&a);
                ++in_a;
                ++per_processor[KeGetCurrentProcessorNumberEx(nullptr)];
                if ((i + t) % 2 == 0) {
                    NdisAcquireSpinLock(&b);
                    ++in_both;
                    NdisReleaseSpinLock(&b);
                }
                NdisReleaseSpinLock(&a);
            }
        },
        "NestedLocksInOneOrderUnderOversubscription");
    EXPECT_EQ(in_a, long{kThreads} * kRounds);
    EXPECT_EQ(in_both, long{kThreads} * kRounds / 2);
    EXPECT_EQ(per_processor[0] + per_processor[1], long{kThreads} * kRounds);
}
