// Where threads sleep while waiting for an ordinary spin lock, without a bit of the lock word.
//
// The KSPIN_LOCK word must read 0 (free) or 1 (held) as on Windows, so "somebody sleeps on this
// lock" lives here instead: a fixed table of buckets keyed by the lock's address. A bucket holds
// the number of sleepers of all locks that hash to it and a word (epoch) they park on
// (lock/park.h). The table is a fixed 32 KiB whatever the number of locks: it grows with nothing.
//
// Protocol (a store-buffer handshake, hence seq_cst on both sides):
//   sleeper: waiters += 1; e = epoch; re-check the lock; park(epoch, e); waiters -= 1
//   waker:   free the lock; if (waiters != 0) { epoch += 1; unpark_all(epoch) }
// Either the waker sees the sleeper's count, or the sleeper's re-check sees the lock free. The
// wake is for all sleepers of the bucket, as locks sharing a bucket share its epoch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ndislock/detail/fast_layout.h" // the bucket head, count and hash, shared with the inline release
#include "ndislock/export.h"

namespace ndislock::lock::parking {

struct alignas(NDISLOCK_FAST_LINE) Bucket {
    // What the inline release reads (ndislock/detail/fast_layout.h: the sleeper count), first, so
    // that ndislock_fast_buckets, this table, indexes the same words; reached through waiters().
    // Mutable, so that the const accessor can form the std::atomic_ref (C++20 has none for const T).
    mutable NDISLOCK_FAST_BUCKET fast{};
    std::atomic_ref<std::uint32_t> waiters() const noexcept { return std::atomic_ref<std::uint32_t>(fast.Waiters); }
    std::atomic<std::uint32_t> epoch{0};
    // Bounded unfairness (spin_word.cpp): the address of a lock one of whose sleepers has waited
    // too long (at most one per bucket), with bit 0 set once a release handed the lock to it.
    std::atomic<std::uintptr_t> starving{0};
};

static_assert(sizeof(Bucket) == NDISLOCK_FAST_LINE && offsetof(Bucket, fast) == 0,
              "a bucket is one line of ndislock_fast_buckets, its sleeper count first");

inline constexpr std::size_t kBucketBits = NDISLOCK_FAST_BUCKET_BITS;
// Exported as ndislock_fast_buckets for the inline release of ndislock/fast_path.h, which finds a
// lock's bucket with the same hash (ndislock_fast_bucket_index) and reads its first member
// (Bucket::fast) at the same stride.
extern Bucket g_buckets[std::size_t{1} << kBucketBits] __asm__("ndislock_fast_buckets") NDISLOCK_API;

inline Bucket &bucket_for(const void *address) noexcept { return g_buckets[ndislock_fast_bucket_index(address)]; }

inline bool has_sleepers(const void *address) noexcept {
    return bucket_for(address).waiters().load(std::memory_order_seq_cst) != 0;
}

// Wakes every thread sleeping on address's bucket.
void wake_all(const void *address) noexcept;

// A waker's half of the handshake, after its state change (a seq_cst store or read-modify-write):
// wakes the bucket only if someone sleeps there.
inline void wake_if_sleepers(const void *address) noexcept {
    if (__builtin_expect(has_sleepers(address), 0)) wake_all(address);
}

// One sleep of a waiter whose condition lives in lock state other than a spin-lock word (the
// reader/writer locks): registers in address's bucket, re-checks done() (seq_cst, after the
// registration), and sleeps on the bucket's epoch unless done() already holds or a wake came in
// between, for at most timeout_ns. Returns done()'s last value if it was seen true, else false:
// the caller loops (its wait also ticks its WaitScope between sleeps). Waker side:
// wake_if_sleepers after the state change.
bool sleep_unless(const void *address, bool (*done)(const void *context), const void *context,
                  std::uint64_t timeout_ns) noexcept;

} // namespace ndislock::lock::parking
