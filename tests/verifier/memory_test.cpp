// The verifier's memory is bounded: 10^6 NDIS locks allocated, taken once and freed, three rounds
// over; the resident set must not grow round over round (freed locks' state is reclaimed), and a
// reused address is a new lock. The figures (RSS per round, bytes per live lock) are printed for
// the docs.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "verifier/shadow.h"
#include "verifier_support.h"

using namespace vt;

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr std::size_t kLocks = 200'000; // TSan: the same shape, smaller (its own shadow dwarfs ours)
#else
constexpr std::size_t kLocks = 1'000'000;
#endif
constexpr long long kSlackBytes = 8ll << 20;

long long rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return -1;
}

double mib(long long bytes) { return static_cast<double>(bytes) / (1 << 20); }

// Few live locks: the shadow table (2^21 slots of 32 bytes, reserved, touched as used) spreads them
// by hash, so each of the first locks touches a page of its own. Meaningful first in a process
// (ctest runs each test alone).
TEST_F(VerifierTest, A_FewLiveLocks) {
    for (std::size_t n : {std::size_t{1'000}, std::size_t{10'000}}) {
        auto locks = std::make_unique<NDIS_SPIN_LOCK[]>(n);
        const long long before = rss_bytes();
        for (std::size_t i = 0; i < n; ++i) NdisAllocateSpinLock(&locks[i]);
        const long long live = rss_bytes();
        for (std::size_t i = 0; i < n; ++i) NdisFreeSpinLock(&locks[i]);
        std::printf("[ memory ] %zu live locks: RSS +%.1f MiB, %.0f bytes per live lock (shadow table pages first "
                    "touched)\n",
                    n, mib(live - before), static_cast<double>(live - before) / static_cast<double>(n));
    }
    EXPECT_LE(rss_bytes(), 512ll << 20);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    std::fflush(stdout);
}

TEST_F(VerifierTest, MemoryStaysFlatOverRoundsOfAMillionLocks) {
    NdislockVerifierSetHoldBudget(1'000'000'000); // hold times are not under test here
    const std::uint64_t live_before = ndislock::verifier::shadow_live();
    long long end_of_round[3] = {}, live_of_round[3] = {};
    // One heap array for all rounds (zeroed: every page touched before the first figure), so the
    // figures are the verifier's and not the C library's (glibc moves a freed 16 MB block from
    // mmap to the heap on the next allocation and keeps it resident).
    auto locks = std::make_unique<NDIS_SPIN_LOCK[]>(kLocks);
    for (int round = 0; round < 3; ++round) {
        const auto start = std::chrono::steady_clock::now();
        std::memset(static_cast<void *>(locks.get()), 0, kLocks * sizeof(NDIS_SPIN_LOCK));
        const long long before = rss_bytes();
        for (std::size_t i = 0; i < kLocks; ++i) NdisAllocateSpinLock(&locks[i]);
        for (std::size_t i = 0; i < kLocks; ++i) {
            NdisAcquireSpinLock(&locks[i]);
            NdisReleaseSpinLock(&locks[i]);
        }
        const long long live = rss_bytes();
        EXPECT_EQ(ndislock::verifier::shadow_live(), live_before + kLocks);
        for (std::size_t i = 0; i < kLocks; ++i) NdisFreeSpinLock(&locks[i]);
        EXPECT_EQ(ndislock::verifier::shadow_live(), live_before) << "freed locks' state is reclaimed";
        const long long after = rss_bytes();
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        end_of_round[round] = after;
        live_of_round[round] = live;
        std::printf("[ memory ] round %d: %zu locks: RSS %.1f MiB before, %.1f MiB with all live (+%.1f MiB, "
                    "%.1f bytes per live lock beyond the locks themselves), %.1f MiB after freeing; %lld ms\n",
                    round + 1, kLocks, mib(before), mib(live), mib(live - before),
                    static_cast<double>(live - before) / static_cast<double>(kLocks), mib(after),
                    static_cast<long long>(ms));
        EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    }
    for (int round = 1; round < 3; ++round) {
        EXPECT_LE(end_of_round[round], end_of_round[0] + kSlackBytes) << "round " << round + 1;
        EXPECT_LE(live_of_round[round], live_of_round[0] + kSlackBytes) << "round " << round + 1;
    }
    std::fflush(stdout);
}

TEST_F(VerifierTest, AReusedAddressIsANewLock) {
    alignas(16) static unsigned char memory[sizeof(NDIS_SPIN_LOCK)];
    auto *l = reinterpret_cast<NDIS_SPIN_LOCK *>(memory);
    for (int i = 0; i < 100; ++i) {
        NdisAllocateSpinLock(l);
        NdisAcquireSpinLock(l);
        NdisReleaseSpinLock(l);
        NdisFreeSpinLock(l);
    }
    NdisAllocateSpinLock(l); // allocate, free, allocate again at the same address, use
    NdisAcquireSpinLock(l);
    NdisReleaseSpinLock(l);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    // Heap memory handed back by the allocator for the next lock.
    for (int i = 0; i < 1000; ++i) {
        auto p = std::make_unique<NDIS_SPIN_LOCK>();
        NdisAllocateSpinLock(p.get());
        NdisAcquireSpinLock(p.get());
        NdisReleaseSpinLock(p.get());
        NdisFreeSpinLock(p.get());
    }
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    // And still a use after free when it is one.
    NdisFreeSpinLock(l);
    const int line = AT(NdisAcquireSpinLock(l));
    const std::vector<Got> got = take();
    NdisReleaseSpinLock(l);
    expect_exactly(got, "LockUsedAfterFree", __FILE__, line);
}

} // namespace
