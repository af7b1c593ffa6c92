// The reader/writer algorithm of both NDIS read/write locks (NDIS_RW_LOCK_EX and NDIS 5's
// NDIS_RW_LOCK), over storage each lock lays out its own way (RwView).
//
// State: a writer word (0 free, else the owner's token, a nonzero thread id) with the owner's
// recursion depth beside it, and one reader count per virtual processor, each on a cache line (pair) of
// its own. Every acquirer runs at DISPATCH_LEVEL on its processor, so a processor's count is
// written by one thread at a time and a reader never writes a line another processor's reader
// writes: a read acquire + release is two atomic operations on the reader's own line and one read
// of the writer's line, which stays shared in every reader's cache while no writer comes.
//
// Reader: count[p] += 1, then look at the writer word (both seq_cst: Dekker's handshake with the
// writer, which sets its word and then reads the counts). A free word, or our own (a read inside
// our write), and the read is held. A count that was already nonzero is this processor's own
// earlier read (recursion): it is held whatever the writer does, since the writer waits for that
// count anyway; waiting behind the writer would deadlock. Otherwise the reader steps back
// (count -= 1, waking the writer if it drained the count) and waits for the word to clear.
//
// Writer: compare-exchange the word from 0 to its token (writers queue on it), then wait for
// every processor's count to drain. From the moment the word is set, new readers step back:
// writer preference, so readers never starve a writer. Waits spin briefly (lock/backoff.h), then
// sleep in the parking table (lock/parking.h) keyed by the lock's address; every state change
// that can end a wait wakes the bucket if it has sleepers.
//
// This file knows nothing of IRQL, processors or the verifier: the caller passes the processor
// index and its token.
#pragma once

#include <atomic>
#include <cstdint>

#include "ndislock/detail/fast_layout.h" // NDISLOCK_FAST_RW_STRIDE
#include "ndislock/wdk_types.h"

namespace ndislock::lock {

inline constexpr std::size_t kRwCountStride = NDISLOCK_FAST_RW_STRIDE; // shared with the inline read path

struct RwView {
    const void *lock;      // the lock's address: parking key and wait object
    KSPIN_LOCK *writer;    // 0 free, else the owner's token
    std::uintptr_t *depth; // the owner's recursive writes beyond the first (owner-only)
    unsigned char *counts; // reader counts (32-bit), located by count_offset
    std::uint32_t slots;   // processors with a count
    bool ndis5;            // NDIS_RW_LOCK's 16-byte RefCount[] spread (else 64-byte stride)

    std::atomic_ref<std::uint32_t> count(std::uint32_t processor) const noexcept {
        // A processor index is below the processor count, which slots follows (no division on the
        // read path); the clamp is for a count that shrank under a misused lock only.
        if (__builtin_expect(processor >= slots, 0)) processor %= slots;
        return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t *>(counts + count_offset(processor)));
    }
    // Counts are kRwCountStride apart: 128 bytes, not 64, because x86's adjacent-line prefetcher
    // fetches lines in 128-byte pairs, so a reader reading a neighbouring line could pull in
    // another processor's count line. A precaution: on the 2-vCPU guest of docs/performance.md
    // the locked increment was about 60% of a read acquire's samples with either stride.
    std::size_t count_offset(std::uint32_t p) const noexcept {
        // NDIS 5: 64 entries of 16 bytes; processor p's is 8 entries (128 bytes) after p-1's, so
        // the first 8 processors never share a line pair; the rest fill the gaps.
        return ndis5 ? ((p % 8) * 8 + (p / 8) % 8) * 16u : std::size_t{p} * kRwCountStride;
    }
    std::atomic_ref<KSPIN_LOCK> writer_word() const noexcept { return std::atomic_ref<KSPIN_LOCK>(*writer); }
};

// Read acquire by the thread with this token on this processor. Returns true if it waited.
bool rw_read_acquire_slow(const RwView &v, std::uint32_t processor, std::uintptr_t token) noexcept;
inline bool rw_read_acquire(const RwView &v, std::uint32_t processor, std::uintptr_t token) noexcept {
    if (v.count(processor).fetch_add(1, std::memory_order_seq_cst) != 0) return false; // our own read
    const KSPIN_LOCK w = v.writer_word().load(std::memory_order_seq_cst);
    if (__builtin_expect(w == 0 || w == token, 1)) return false;
    return rw_read_acquire_slow(v, processor, token);
}

// Read release. False (nothing done) if this processor holds no read. sole_writer: the caller is
// at DISPATCH_LEVEL on processor, so no other thread writes its count now (a plain store then).
bool rw_read_release(const RwView &v, std::uint32_t processor, bool sole_writer) noexcept;

// Write acquire. skip_own: do not wait for this processor's own readers (NDIS 5 lets a thread take
// the write lock inside its own read). Returns true if it waited.
bool rw_write_acquire(const RwView &v, std::uint32_t processor, std::uintptr_t token, bool skip_own) noexcept;

// Write release by token. False (nothing done) if token does not hold the write lock.
bool rw_write_release(const RwView &v, std::uintptr_t token) noexcept;

// True if a writer holds or waits, or any processor holds a read.
bool rw_is_busy(const RwView &v) noexcept;

} // namespace ndislock::lock
