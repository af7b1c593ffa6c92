#include "lock/queued_lock.h"

#include <bit>

#include "lock/spin_word.h"
#include "lock/wait_observer.h"
#include "lock/park.h"
#include "platform/clock.h"
#include "platform/cpu.h"

namespace ndislock::lock {

static_assert(std::endian::native == std::endian::little, "the parking word is the low half of entry.Lock");

// Pauses a waiter spins before sleeping. Only the waiter next in line (its predecessor owns the
// lock, so the grant is one critical section away) spins the long budget; one further back would
// spin on a grant that needs several hand-overs, and its spinning takes the core from the threads
// it waits for, so it sleeps almost at once and is woken ahead of its turn (wake_ahead).
static constexpr int kSpinPausesNext = 64;
static constexpr int kSpinPausesBehind = 8;
// The waiter next in line spins on, past its pauses, until this much time has passed: the grant is
// one critical section and one line transfer away (hundreds of ns in this guest's slow state, where
// 64 pauses are spent first), and a park costs the granter a wake-up and the waiter a scheduling
// delay on every later hand-off, since the granter then finds it parked each time. 5 us, not more:
// with threads outnumbering cores a spinning waiter keeps the core from the owner it waits for
// (20 us cost S3 x8 about a third against 5 us, in alternated runs).
static constexpr std::uint64_t kSpinNextNs = 5'000;
static constexpr int kPausesPerClockRead = 32;

static const void *park_word(PKSPIN_LOCK_QUEUE entry) noexcept { return const_cast<PKSPIN_LOCK *>(&entry->Lock); }
static std::uint32_t low_half(PKSPIN_LOCK value) noexcept {
    return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(value));
}

// Spins until granted: `pauses` pauses, then, for the waiter next in line (`spin_on`), on until
// kSpinNextNs have passed since (the clock read every kPausesPerClockRead pauses, and only once the
// pauses are spent: a grant that comes within them costs no clock read). True if granted.
static bool spin_for_grant(std::atomic_ref<PKSPIN_LOCK> state, int pauses, bool spin_on) noexcept {
    std::uint64_t until_ns = 0;
    for (int i = 0;; ++i) {
        if (tag_bits(state.load(std::memory_order_acquire)) == kQueueOwner) return true;
        if (i >= pauses) {
            if (!spin_on) return false;
            if ((i - pauses) % kPausesPerClockRead == 0) {
                const std::uint64_t now = platform::monotonic_ns();
                if (until_ns == 0)
                    until_ns = now + kSpinNextNs;
                else if (now >= until_ns)
                    return false;
            }
        }
        platform::cpu_relax();
    }
}

static void wait_until_owner(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry, bool next_in_line) noexcept {
    auto state = entry_lock(entry);
    const WaitScope wait(WaitKind::QueuedSpinLock, lock);
    // An exploration runs one thread at a time: one look, no spin, then the park (lock/park.h).
    const bool controlled = lock::controlled();
    int pauses = controlled ? 1 : next_in_line ? kSpinPausesNext : kSpinPausesBehind;
    bool next = next_in_line && !controlled;
    for (;;) {
        if (spin_for_grant(state, pauses, next)) return;
        PKSPIN_LOCK waiting = tagged(lock, kQueueWait);
        const PKSPIN_LOCK parked = tagged(lock, kQueueWait | kQueueParked);
        // Announce the sleep; fails only if the grant arrived (or we had announced already).
        if (!state.compare_exchange_strong(waiting, parked, std::memory_order_acq_rel, std::memory_order_acquire) &&
            waiting != parked)
            continue;
        park(park_word(entry), low_half(parked), kParkBoundNs);
        // Woken: granted, or woken ahead (we are next in line now).
        pauses = controlled ? 1 : kSpinPausesNext;
        next = !controlled;
    }
}

// The new owner wakes its successor if it sleeps, so that the successor is running, spinning on
// its own entry, by the time this owner releases: the hand-over then needs no system call and no
// scheduling delay on the critical path. The successor's entry is alive: it waits for our grant.
static void wake_ahead(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry) noexcept {
    PKSPIN_LOCK_QUEUE successor = entry_next(entry).load(std::memory_order_acquire);
    if (successor == nullptr) return;
    PKSPIN_LOCK parked = tagged(lock, kQueueWait | kQueueParked);
    // Look before the compare-exchange: a successor that spins (the usual case with as many
    // threads as cores) keeps its line shared with us, where a failing compare-exchange would
    // take it away from the spinner in the middle of our critical section.
    if (entry_lock(successor).load(std::memory_order_relaxed) != parked) return;
    // Clearing the parked bit changes the parking word, so a successor about to sleep does not.
    if (entry_lock(successor).compare_exchange_strong(parked, tagged(lock, kQueueWait), std::memory_order_relaxed,
                                                      std::memory_order_relaxed)) {
        note_slow_path();
        unpark_one(park_word(successor));
    }
}

QueueJoin queued_acquire(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry) noexcept {
    entry_next(entry).store(nullptr, std::memory_order_relaxed);
    entry_lock(entry).store(tagged(lock, kQueueWait), std::memory_order_relaxed);
    const KSPIN_LOCK previous =
        spin_word(lock).exchange(reinterpret_cast<KSPIN_LOCK>(entry), std::memory_order_acq_rel);
    if (previous == 0) {
        entry_lock(entry).store(tagged(lock, kQueueOwner), std::memory_order_relaxed);
        return QueueJoin::Owner;
    }
    if ((previous & kQueueBits) != 0) return QueueJoin::WordHeldByOrdinaryAcquire;
    const auto predecessor = reinterpret_cast<PKSPIN_LOCK_QUEUE>(previous);
    // Read before linking: until we link, the predecessor waits for us and its entry is alive.
    const bool next_in_line = tag_bits(entry_lock(predecessor).load(std::memory_order_relaxed)) == kQueueOwner;
    entry_next(predecessor).store(entry, std::memory_order_release);
    wait_until_owner(lock, entry, next_in_line);
    wake_ahead(lock, entry);
    return QueueJoin::Waited;
}

static PKSPIN_LOCK_QUEUE wait_for_successor_link(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry) noexcept {
    auto next = entry_next(entry);
    for (int i = 0; i < kSpinPausesNext; ++i) {
        if (PKSPIN_LOCK_QUEUE n = next.load(std::memory_order_acquire)) return n;
        platform::cpu_relax();
    }
    // The successor was preempted between joining and linking: give it the core.
    const WaitScope wait(WaitKind::QueueSuccessorLink, lock);
    for (;;) {
        if (PKSPIN_LOCK_QUEUE n = next.load(std::memory_order_acquire)) return n;
        platform::yield_core();
    }
}

void queued_release(PKSPIN_LOCK_QUEUE entry) noexcept {
    const PKSPIN_LOCK lock = untagged(entry_lock(entry).load(std::memory_order_relaxed));
    entry_lock(entry).store(lock, std::memory_order_relaxed);
    PKSPIN_LOCK_QUEUE successor = entry_next(entry).load(std::memory_order_acquire);
    if (successor == nullptr) {
        KSPIN_LOCK expected = reinterpret_cast<KSPIN_LOCK>(entry);
        if (spin_word(lock).compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed))
            return;
        successor = wait_for_successor_link(lock, entry);
    }
    const PKSPIN_LOCK before = entry_lock(successor).exchange(tagged(lock, kQueueOwner), std::memory_order_acq_rel);
    // The successor may run, release and reuse its stack from here on; a wake on that address
    // is at worst spurious for whoever sleeps there next, and every parked thread re-checks.
    if ((tag_bits(before) & kQueueParked) != 0) {
        note_slow_path();
        unpark_one(park_word(successor));
    }
}

} // namespace ndislock::lock
