#include "lock/queued_lock.h"

#include <bit>

#include "lock/spin_word.h"
#include "lock/wait_observer.h"
#include "lock/park.h"
#include "platform/clock.h"
#include "platform/cpu.h"

namespace ndislock::lock {

static_assert(std::endian::native == std::endian::little, "the parking word is the low half of entry.Lock");

// Pauses a waiter spins before sleeping, wherever it is in the queue: a waiter granted within them
// knows its successor (which joined later, with as many) still spins, and does not look at it to
// wake it ahead. Only the waiter next in line (its predecessor owns the lock, so the grant is one
// critical section away) spins on for a time budget; one further back would spin on a grant that
// needs several hand-overs, and its spinning takes the core from the threads it waits for, so it
// sleeps after its pauses and is woken ahead of its turn (wake_ahead).
static constexpr int kSpinPauses = 64;
// The waiter next in line spins on, past its pauses, until this much time has passed: the grant is
// one critical section and one line transfer away (hundreds of ns in this guest's slow state, where
// 64 pauses are spent first), and a park costs the granter a wake-up and the waiter a scheduling
// delay. 5 us, not more: with threads outnumbering cores a spinning waiter keeps the core from the
// owner it waits for (20 us cost S3 x8 about a third against 5 us, in alternated runs).
static constexpr std::uint64_t kSpinNextNs = 5'000;
// Behind an owner that is still waking (kQueueParked set: granted or woken while asleep), the
// grant is a wake-up away: on this 2-core guest a futex wake reaches an idle core's thread in
// 17/23/35/64 us (10th/50th/90th/99th percentile of 2,000). A waiter that slept through it would
// need a wake-up of its own at the next hand-off, and so on for every later one; spinning through
// it ends the chain at the first hand-off.
static constexpr std::uint64_t kSpinBehindWakingOwnerNs = 100'000;
static constexpr int kPausesPerClockRead = 32;

static const void *park_word(PKSPIN_LOCK_QUEUE entry) noexcept { return const_cast<PKSPIN_LOCK *>(&entry->Lock); }
static std::uint32_t low_half(PKSPIN_LOCK value) noexcept {
    return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(value));
}
static bool granted(PKSPIN_LOCK value) noexcept { return (tag_bits(value) & kQueueGrantMask) == kQueueOwner; }

// How long a waiter spins before it parks: pauses, then, if spin_ns, on until that much time has
// passed.
struct SpinBudget {
    int pauses;
    std::uint64_t spin_ns;
};

// What the joiner read in its predecessor's entry decides its budget.
static SpinBudget budget_behind(PKSPIN_LOCK predecessor_state) noexcept {
    if (lock::controlled()) return {1, 0}; // an exploration runs one thread at a time: one look, then park
    switch (tag_bits(predecessor_state)) {
    case kQueueOwner:
        return {kSpinPauses, kSpinNextNs};
    case kQueueOwner | kQueueParked:
        return {kSpinPauses, kSpinBehindWakingOwnerNs};
    default:
        return {kSpinPauses, 0};
    }
}

// The two parts of a spin for the grant: `pauses` pauses, then on until spin_ns have passed (the
// clock read every kPausesPerClockRead pauses). True if granted; a spinning waiter is running, so
// the grant it sees is exactly address | OWNER.
static bool spin_pauses(std::atomic_ref<PKSPIN_LOCK> state, int pauses) noexcept {
    for (int i = 0;; ++i) {
        if (tag_bits(state.load(std::memory_order_acquire)) == kQueueOwner) return true;
        if (i >= pauses) return false;
        platform::cpu_relax();
    }
}
static bool spin_for(std::atomic_ref<PKSPIN_LOCK> state, std::uint64_t spin_ns) noexcept {
    if (spin_ns == 0) return false;
    const std::uint64_t until_ns = platform::monotonic_ns() + spin_ns;
    for (int i = 1;; ++i) {
        if (tag_bits(state.load(std::memory_order_acquire)) == kQueueOwner) return true;
        if (i % kPausesPerClockRead == 0 && platform::monotonic_ns() >= until_ns) return false;
        platform::cpu_relax();
    }
}

// Back from a park: clears kQueueParked (the thread runs again). True if the lock was granted
// meanwhile (the entry then reads exactly address | OWNER, as an owner's does).
static bool back_from_park(PKSPIN_LOCK lock, std::atomic_ref<PKSPIN_LOCK> state) noexcept {
    PKSPIN_LOCK seen = state.load(std::memory_order_acquire);
    for (;;) {
        if (granted(seen)) {
            // Only the owner writes its own entry: nobody races this store.
            if (tag_bits(seen) != kQueueOwner) state.store(tagged(lock, kQueueOwner), std::memory_order_relaxed);
            return true;
        }
        // Still waiting (a spurious wake, a bound's timeout, or woken ahead): running again. Fails
        // only if the grant, or the owner's wake_ahead, changed the entry meanwhile.
        if (state.compare_exchange_weak(seen, tagged(lock, kQueueWait), std::memory_order_acquire,
                                        std::memory_order_acquire))
            return false;
    }
}

// How long a wait for the grant lasted: within the waiter's first pauses, or past them.
enum class Waited { Short, Long };

static Waited wait_until_owner(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry, SpinBudget budget) noexcept {
    auto state = entry_lock(entry);
    // The pauses are not announced (WaitScope: the watchdog, the verifier's untimed holds, the
    // trace): most grants arrive within them, and the announcement's clock read and observer calls
    // cost as much as the hand-over itself. A wait that lasts is announced from then on.
    if (spin_pauses(state, budget.pauses)) return Waited::Short;
    const WaitScope wait(WaitKind::QueuedSpinLock, lock);
    for (;;) {
        if (spin_for(state, budget.spin_ns)) return Waited::Long;
        // Announce the sleep; fails only if the grant arrived (a running waiter's entry reads WAIT
        // until then, and only its owner's grant changes that).
        PKSPIN_LOCK waiting = tagged(lock, kQueueWait);
        const PKSPIN_LOCK parked = tagged(lock, kQueueWait | kQueueParked);
        if (!state.compare_exchange_strong(waiting, parked, std::memory_order_acq_rel, std::memory_order_acquire)) {
            if (tag_bits(waiting) == kQueueOwner) return Waited::Long;
            continue;
        }
        park(park_word(entry), low_half(parked), kParkBoundNs);
        if (back_from_park(lock, state)) return Waited::Long;
        // Woken ahead (we are next in line now) or spuriously.
        budget = lock::controlled() ? SpinBudget{1, 0} : SpinBudget{kSpinPauses, kSpinNextNs};
        if (spin_pauses(state, budget.pauses)) return Waited::Long;
    }
}

// The new owner wakes its successor if it sleeps, so that the successor is running, spinning on
// its own entry, by the time this owner releases: the hand-over then needs no system call and no
// scheduling delay on the critical path. The successor's entry is alive: it waits for our grant.
static void wake_ahead(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry) noexcept {
    const PKSPIN_LOCK_QUEUE successor = entry_next(entry).load(std::memory_order_acquire);
    if (successor == nullptr) return;
    PKSPIN_LOCK parked = tagged(lock, kQueueWait | kQueueParked);
    // Look before the compare-exchange: a successor that spins (the usual case with as many
    // threads as cores) keeps its line shared with us, where a failing compare-exchange would
    // take it away from the spinner in the middle of our critical section.
    if (entry_lock(successor).load(std::memory_order_relaxed) != parked) return;
    // Woken, not back yet: the new value changes the parking word, so a successor about to sleep
    // does not, and keeps kQueueParked, so the grant knows the successor is not running yet.
    if (entry_lock(successor).compare_exchange_strong(parked, tagged(lock, kQueueWait | kQueueOwner | kQueueParked),
                                                      std::memory_order_relaxed, std::memory_order_relaxed)) {
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
    return queued_wait_behind(lock, entry, previous);
}

QueueJoin queued_wait_behind(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry, KSPIN_LOCK previous) noexcept {
    if ((previous & kQueueBits) != 0) return QueueJoin::WordHeldByOrdinaryAcquire;
    // A waiter (the inline exchange published the entry as an owner's: one that joins behind us
    // before this store only misjudges its spin budget).
    entry_lock(entry).store(tagged(lock, kQueueWait), std::memory_order_relaxed);
    const auto predecessor = reinterpret_cast<PKSPIN_LOCK_QUEUE>(previous);
    // Read before linking: until we link, the predecessor waits for us and its entry is alive.
    const PKSPIN_LOCK predecessor_state = entry_lock(predecessor).load(std::memory_order_relaxed);
    const SpinBudget budget = budget_behind(predecessor_state);
    entry_next(predecessor).store(entry, std::memory_order_release);
    // (An exploration's threads can be held back between any two steps: there the argument for
    // skipping the look does not hold, and every new owner looks.)
    if (wait_until_owner(lock, entry, budget) == Waited::Long || lock::controlled()) wake_ahead(lock, entry);
    return QueueJoin::Waited;
}

static PKSPIN_LOCK_QUEUE wait_for_successor_link(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry) noexcept {
    auto next = entry_next(entry);
    for (int i = 0; i < kSpinPauses; ++i) {
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
    // The grant keeps kQueueParked: a successor that is not running yet (asleep, or woken ahead)
    // still has a wake-up to go through, which whoever joins behind it reads.
    auto successor_state = entry_lock(successor);
    PKSPIN_LOCK before = tagged(lock, kQueueWait);
    while (!successor_state.compare_exchange_weak(before, tagged(lock, kQueueOwner | (tag_bits(before) & kQueueParked)),
                                                  std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
    // The successor may run, release and reuse its stack from here on; a wake on that address
    // is at worst spurious for whoever sleeps there next, and every parked thread re-checks. One
    // woken ahead (WAIT | OWNER | PARKED) was unparked already.
    if (tag_bits(before) == (kQueueWait | kQueueParked)) {
        note_slow_path();
        unpark_one(park_word(successor));
    }
}

} // namespace ndislock::lock
