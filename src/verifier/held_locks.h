// Each thread's held-lock table: the locks it holds, in acquisition order, with where and how
// each was taken. Fixed size, so acquiring and releasing never allocate; a thread that nests
// deeper than kMaxHeld has its checking turned off (said once) until it holds none again.
//
// Entries are written by their thread only; the fields reports read from other threads (the
// watchdog's deadlock report) are relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/thread_state.h"
#include "observe/hooks.h"
#include "platform/own_time.h"
#include "verifier/lock_order.h"
#include "verifier/long_holds.h"

namespace ndislock::verifier {

struct Shadow;

inline constexpr unsigned kMaxHeld = 48;

struct HeldLock {
    std::atomic<const void *> lock{nullptr};
    std::atomic<const char *> file{nullptr}; // the acquire's site, field by field for other readers
    std::atomic<int> line{0};
    std::atomic<const char *> function{nullptr};
    std::atomic<const void *> return_address{nullptr};
    PKLOCK_QUEUE_HANDLE handle = nullptr;
    const void *state = nullptr; // reader/writer locks: the LOCK_STATE[_EX] the acquire filled
    std::uint32_t lock_class = 0;
    observe::Variant variant = observe::Variant::NdisAcquire;
    KIRQL irql_at_acquire = 0; // what a raising acquire saved, so what its release must restore
    bool timed = false;        // sampled for its hold time (start is set: settings.h)
    bool untimed = false;      // this thread waited for another lock or wrote a report meanwhile
    std::uint64_t seq = 0;     // the thread's acquisition count when taken (VerifierThread::next_seq)
    std::uint64_t chain = 0;   // lock_order.h chain key of the held locks up to this one
    Shadow *shadow = nullptr;  // the lock's entry when taken (check with shadow_is before use)
    platform::OwnTimeStamp start{};

    observe::Site site() const noexcept {
        return observe::Site{file.load(std::memory_order_relaxed), line.load(std::memory_order_relaxed),
                             function.load(std::memory_order_relaxed), return_address.load(std::memory_order_relaxed)};
    }
};

// A driver routine ndislock is running on this thread (observe::CallbackEvent), innermost last:
// callbacks nest (a synchronize function inside a DPC, MiniportInitializeEx registering an
// interrupt whose enable routine runs). Written by the thread only; routine and kind are read by
// deadlock reports on other threads.
inline constexpr unsigned kMaxCallbackNesting = 8;

struct CallbackFrame {
    std::atomic<const void *> routine{nullptr};
    std::atomic<std::uint8_t> kind{0}; // observe::Callback
    const void *object = nullptr;
    // Acquisitions numbered from first_seq on were made inside the routine: a lock of those still
    // held when it returns is a LockHeldAtCallbackReturn (locks held on entry are the caller's).
    std::uint64_t first_seq = 0;
    std::uint64_t run = 0; // the thread's routine-entry count when entered (VerifierThread::next_run)
    bool untimed = false;  // it waited, made a wake-up system call or wrote a report meanwhile
    // What the thread held as the routine was entered: its mutexes, fast mutexes and resources
    // (VerifierThread::wait_depth). More at its return were taken inside it and never given back.
    unsigned wait_depth_at_entry = 0;
};

// A mutex, fast mutex or executive resource this thread holds (wait_order.h), beside its spin
// locks: taken by sleeping, so none of the spin-lock rules (IRQL, hold budgets, callbacks
// returning) apply to it, only the lock order and the deadlock reports. Written by the thread
// only; the fields deadlock reports read from other threads are relaxed atomics.
inline constexpr unsigned kMaxWaitHeld = 16;

struct WaitHeld {
    std::atomic<const void *> object{nullptr};
    std::atomic<const char *> file{nullptr}; // where it was taken first (the outermost acquisition)
    std::atomic<int> line{0};
    std::atomic<const char *> function{nullptr};
    std::atomic<const void *> return_address{nullptr};
    std::atomic<std::uint8_t> kind{0}; // observe::WaitLockKind of the outermost acquisition
    std::uint32_t lock_class = 0;
    std::uint32_t count = 0; // acquisitions held: mutexes and resources are recursive for their owner

    observe::Site site() const noexcept {
        return observe::Site{file.load(std::memory_order_relaxed), line.load(std::memory_order_relaxed),
                             function.load(std::memory_order_relaxed), return_address.load(std::memory_order_relaxed)};
    }
};

// The shadow entries of the locks this thread used last, direct-mapped by address: a lock in
// use costs one compare and one load of its entry's key, however large the table has grown.
// Entries are checked with shadow_is (the memory stays valid; the key says whose it is now).
inline constexpr unsigned kShadowCacheSlots = 64;
inline constexpr unsigned kClassLowCacheSlots = 8;
struct ShadowCacheSlot {
    const void *lock = nullptr;
    Shadow *entry = nullptr;
};

struct VerifierThread {
    std::atomic<unsigned> depth{0};
    HeldLock held[kMaxHeld];
    bool overflowed = false;
    std::uint64_t next_seq = 0; // acquisitions so far (numbers HeldLock::seq)
    // Hold-time sampling (settings.h): acquisitions until the next timed hold, drawn for the
    // period in gap_period; a generator of its own so that gaps are not periodic.
    std::uint32_t until_timed = 0;
    std::uint32_t gap_period = 0;
    std::uint32_t gap_random = 0;
    // Callbacks running now; past kMaxCallbackNesting they are counted but not checked.
    std::atomic<unsigned> callbacks{0};
    CallbackFrame callback[kMaxCallbackNesting];
    // The lock this thread released last, with its acquire's site: the verifier forgets a hold
    // before the lock word is freed, so a thread an interrupt stopped inside a release still holds
    // the word (the ISR's deadlock check in watchdog.cpp).
    HeldLock last_released;
    // Hand-over-hand with the Ke forms: a raising acquire released with the non-raising form while
    // a lock taken after it is still held leaves the IRQL it saved for a later release to restore
    // (checks_release.cpp). That IRQL, kNoOwedIrql when none; forgotten once the IRQL drops below
    // DISPATCH_LEVEL.
    static constexpr KIRQL kNoOwedIrql = 0xFF;
    KIRQL owed_irql = kNoOwedIrql;
    // Where KeRaiseIrql last took the thread up from PASSIVE_LEVEL (file nullptr: not since it was
    // last there): a thread that ends above PASSIVE_LEVEL holding no lock is reported there.
    observe::Site raised_from_passive{};
    // The lock this thread is acquiring (between acquiring and acquired), for deadlock reports.
    std::atomic<const void *> wanting{nullptr};
    observe::Site wanting_site{};
    Shadow *wanting_shadow = nullptr; // its shadow entry, looked up once per acquire
    ShadowCacheSlot shadow_cache[kShadowCacheSlots];
    // Lock classes this thread has seen noted as held at or below DISPATCH_LEVEL (class_irql.h),
    // direct-mapped by class: an acquire there teaches such a class nothing new, so its check is
    // this compare (class_irql's own table only for a class new to the slot). Emptied with the
    // table (a new epoch): an exploration takes back what a schedule taught the classes, then
    // starts one. 0 (kOverflowClass) is never noted anyway.
    std::uint16_t class_low_known[kClassLowCacheSlots] = {};
    // The mutexes, fast mutexes and resources it holds, oldest first, and the lock-order chain key
    // (lock_order.h) of them: the spin locks' chain keys start from it (kChainStart when none).
    std::atomic<unsigned> wait_depth{0};
    WaitHeld wait_held[kMaxWaitHeld];
    bool wait_overflowed = false; // past kMaxWaitHeld: not in the order graph until it holds none
    std::uint64_t wait_chain = kChainStart;
    // The KeWaitFor*, fast mutex or resource call it waits in now, for deadlock reports: the
    // object, the call's site (field by field, read by the watchdog's thread) and its name.
    std::atomic<const void *> wait_wanting{nullptr};
    std::atomic<const char *> wait_wanting_file{nullptr};
    std::atomic<int> wait_wanting_line{0};
    std::atomic<const char *> wait_wanting_function{nullptr};
    std::atomic<const void *> wait_wanting_return{nullptr};
    std::atomic<const char *> wait_wanting_call{nullptr};
    VerifierThread *next_free = nullptr;
    // The verifier's on-period this table describes (g_table_epoch): calls made while the
    // verifier was off were not seen, so a table from an earlier period is stale. Written last
    // when the table is emptied (release), read by other threads before its entries (acquire).
    std::atomic<std::uint32_t> epoch{0};
    // For the long-hold sentinel (long_holds.h), on lines of their own so that its looks do not
    // disturb the table. Written by the thread: the seq of the first-taken lock it holds now and
    // the run of the first-entered routine it runs now (kNoSeq: none).
    alignas(64) std::atomic<std::uint64_t> outer_hold{kNoSeq};
    std::atomic<std::uint64_t> outer_run{kNoSeq};
    std::uint64_t next_run = 0;
    // The verifier's own time on this thread, for the heartbeat (long_holds.h): how many of its
    // hooks are under way now (nested in an emulated interrupt's), and the wall time its hooks took
    // while the sentinel counted a hold or run of this thread (checks_internal.h, SlowWork).
    std::atomic<std::uint32_t> in_verifier{0};
    std::atomic<std::uint64_t> verifier_ns{0};
    // Set by the sentinel when it starts counting a hold or run of this thread, cleared by the
    // thread when its outermost hold or run ends: hooks look no further while it is clear.
    std::atomic<bool> beat_counted{false};
    // The heartbeat counts of the outermost hold and run (long_holds.h), and what the sentinel saw
    // at its last look (its own, unshared).
    alignas(64) BeatClock hold_beat;
    BeatClock run_beat;
    std::atomic<std::uint32_t> beats_sent{0}, beats_seen{0}; // by the sentinel, by the handler
    // Written by the sentinel before it sends a beat: when, and whether its pass was on time.
    std::atomic<std::uint64_t> beat_sent_ns{0};
    std::atomic<bool> beat_on_time{false};
    SentinelSight sentinel_saw_hold, sentinel_saw_run;
};

// The verifier's entry in ThreadState::observer_data. Fixed, not its observer slot: the slot may
// change when the verifier is switched off and on (another observer took it meanwhile), and a
// table stored under the old slot would be lost.
inline constexpr unsigned kVerifierData = 0;

// Counts the times the verifier was switched on: 1 for the first. A lock acquired or released
// while it was off was not seen, so every thread's table starts afresh in a new period (its
// thread renews it at its next observed call; readers on other threads skip it until then).
extern std::atomic<std::uint32_t> g_table_epoch;
void start_table_epoch() noexcept; // the verifier was just switched on again

// Thread t's table as stored, stale or not (nullptr if none yet).
inline VerifierThread *verifier_table_of(model::ThreadState &t) noexcept {
    return static_cast<VerifierThread *>(t.observer_data[kVerifierData].load(std::memory_order_acquire));
}
// Thread t's table, if it describes the verifier's current on-period (else nullptr).
inline VerifierThread *verifier_thread_of(model::ThreadState &t) noexcept {
    VerifierThread *v = verifier_table_of(t);
    return v != nullptr && v->epoch.load(std::memory_order_acquire) == g_table_epoch.load(std::memory_order_relaxed)
               ? v
               : nullptr;
}
// The calling thread's table: attached on its first observed call, emptied on its first call of
// a new on-period, kept for reuse when the thread ends.
VerifierThread &attach_verifier_thread(model::ThreadState &t) noexcept;
inline VerifierThread &verifier_thread(model::ThreadState &t) noexcept {
    if (VerifierThread *v = verifier_thread_of(t); __builtin_expect(v != nullptr, 1)) return *v;
    return attach_verifier_thread(t);
}
void release_verifier_thread(model::ThreadState &t) noexcept;
// Tables of ended threads waiting for reuse (tests).
unsigned pooled_verifier_tables() noexcept;

// Index of lock in the table, or -1. The innermost first: releases are usually in reverse order.
inline int find_held(const VerifierThread &v, const void *lock) noexcept {
    for (unsigned i = v.depth.load(std::memory_order_relaxed); i-- > 0;)
        if (v.held[i].lock.load(std::memory_order_relaxed) == lock) return static_cast<int>(i);
    return -1;
}

// The thread that holds lock according to its shadow entry s, if that thread's current table
// holds it too (else nullptr): an entry's holder may date from before the verifier was switched
// off and on (the holder released it unseen), or be read in the instant of a release. For reports
// and lifecycle checks, not for the lock path. *id (if given) gets the holder's id as the entry
// gave it (another thread's ThreadState::id is rewritten when its state is recycled).
model::ThreadState *live_holder(const Shadow *s, const void *lock, std::uint32_t *id = nullptr) noexcept;

} // namespace ndislock::verifier
