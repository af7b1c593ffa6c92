#include "model/processors.h"

#include <climits>
#include <cstdlib>
#include <mutex>
#include <sched.h>
#include <thread>

#include "lock/park.h"
#include "lock/wait_observer.h"
#include "platform/diagnostics.h"
#include "platform/clock.h"
#include "platform/cpu.h"

namespace ndislock::model {

Processor g_processors[NDISLOCK_MAX_PROCESSORS];
std::atomic<DpcDrain> g_dpc_drain{nullptr};

namespace {

std::atomic<std::uint32_t> g_count{0};
std::atomic<std::uint32_t> g_round_robin{0};

std::uint32_t initial_count() noexcept {
    if (const char *env = std::getenv("NDISLOCK_PROCESSORS"); env != nullptr && *env != '\0') {
        char *end = nullptr;
        const long n = std::strtol(env, &end, 10);
        if (*end == '\0' && n >= 1 && n <= NDISLOCK_MAX_PROCESSORS) return static_cast<std::uint32_t>(n);
        platform::diagnostic("NDISLOCK_PROCESSORS=\"%s\" is not a number from 1 to %d; using the hardware count", env,
                             NDISLOCK_MAX_PROCESSORS);
    }
    cpu_set_t set;
    unsigned n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = static_cast<unsigned>(CPU_COUNT(&set));
    if (n == 0) n = std::thread::hardware_concurrency();
    if (n == 0) n = 1;
    return n > NDISLOCK_MAX_PROCESSORS ? NDISLOCK_MAX_PROCESSORS : n;
}

// Spin before sleeping on a processor: an owner at DISPATCH_LEVEL should be brief.
constexpr std::uint32_t kSpinPauses = 256;
constexpr std::uint32_t kMinSpinPauses = 8;
// Wait after which a sleeper asks for a direct hand-over (see processors.h).
constexpr std::uint64_t kStarveNs = 200'000;

} // namespace

std::uint32_t processor_count() noexcept {
    std::uint32_t n = g_count.load(std::memory_order_acquire);
    if (__builtin_expect(n != 0, 1)) return n;
    std::uint32_t expected = 0;
    const std::uint32_t fresh = initial_count();
    g_count.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel);
    return g_count.load(std::memory_order_acquire);
}

std::uint32_t assign_processor() noexcept {
    return g_round_robin.fetch_add(1, std::memory_order_relaxed) % processor_count();
}

namespace {

// Takes processor p from its bias holder (owner was `seen`, with kBiased): claim the owner word
// in shared mode, make the holder's free fences count (heavy_fence), then wait until the holder
// is not at DISPATCH_LEVEL through this processor's bias. Returns false if the owner word changed
// first.
bool revoke_bias(ThreadState &t, Processor &p, std::uint32_t seen, std::uint32_t take_as) noexcept {
    const std::uint32_t holder = seen & ~kBiased;
    // Named before the claim (released by it): whoever reads our id in the owner word with
    // acquire ordering also finds whom we are still waiting for (owner_at_dispatch).
    t.revoking.store(holder, std::memory_order_relaxed);
    if (!p.owner().compare_exchange_strong(seen, take_as, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        t.revoking.store(0, std::memory_order_relaxed);
        return false;
    }
    platform::heavy_fence();
    // From here on the holder either saw our claim (its entry fails and gives its IRQL back) or
    // its IRQL store is visible to us; its leave stores the lower IRQL with release ordering and,
    // seeing our claim, bumps revocations and wakes us.
    const std::uint32_t index = static_cast<std::uint32_t>(&p - g_processors);
    for (std::uint32_t i = 0;; ++i) {
        const std::uint32_t wakes = p.revocations.load(std::memory_order_acquire); // before the check
        if (!holds_through_bias(holder, index)) break;
        if (i < kSpinPauses && !lock::controlled()) // an exploration: no spin (lock/park.h)
            platform::cpu_relax();
        else
            lock::park(&p.revocations, wakes, lock::kParkBoundNs);
    }
    // The holder has left (and cannot come back through the bias): the processor is ours. Release:
    // whoever reads 0 here also sees the holder gone (owner_at_dispatch).
    t.revoking.store(0, std::memory_order_release);
    count_shared_take(t, p);
    return true;
}

} // namespace

void enter_dispatch_slow(ThreadState &t, Processor &p, bool priority) noexcept {
    const lock::WaitScope wait(lock::WaitKind::Processor, &p);
    // Once this thread has slept, other sleepers may remain whose wake-up it consumed or raced
    // with: it then always takes the processor with kParked set, so that its leave wakes the next.
    std::uint32_t take_as = t.id();
    std::uint64_t since = 0; // first wake-up: the clock is read only once sleeping has begun
    bool starving = false;   // this thread is p.starving
    if (priority) {          // a DPC thread: the next leave hands the processor to it
        std::uint32_t none = 0;
        starving =
            p.starving.compare_exchange_strong(none, t.id(), std::memory_order_relaxed, std::memory_order_relaxed);
    }
    struct Withdraw { // on every return, with the processor held: no leave can hand it over now
        Processor &p;
        const bool &starving;
        ~Withdraw() {
            if (starving) p.starving.store(0, std::memory_order_relaxed);
        }
    } withdraw{p, starving};
    // An exploration runs one thread at a time: no spin, no clock, no budget learned from it
    // (lock/park.h), so a schedule depends on the scheduler's choices only.
    const bool controlled = lock::controlled();
    const std::uint32_t budget = controlled ? 0 : p.spin_pauses.load(std::memory_order_relaxed);
    bool first_spin = !controlled;
    for (;;) {
        for (std::uint32_t i = 0; i < budget; ++i) {
            std::uint32_t seen = p.owner().load(std::memory_order_relaxed);
            if (seen == 0) {
                if (p.owner().compare_exchange_strong(seen, take_as, std::memory_order_acquire,
                                                      std::memory_order_relaxed)) {
                    count_shared_take(t, p);
                    // Spinning paid off: let the next waiters spin longer.
                    if (first_spin && budget < kSpinPauses)
                        p.spin_pauses.store(budget * 2 > kSpinPauses ? kSpinPauses : budget * 2,
                                            std::memory_order_relaxed);
                    return;
                }
            } else if ((seen & kBiased) != 0) {
                if (revoke_bias(t, p, seen, take_as)) return;
                continue;
            }
            platform::cpu_relax();
        }
        if (first_spin) {
            // Spinning did not pay off: the next waiters sleep sooner.
            first_spin = false;
            if (budget > kMinSpinPauses) p.spin_pauses.store(budget / 2, std::memory_order_relaxed);
        }
        std::uint32_t seen = p.owner().load(std::memory_order_acquire);
        if (starving && (seen & ~kParked) == t.id()) {
            // Handed over by the last leave (with kParked set, so our leave wakes the others).
            count_shared_take(t, p);
            return;
        }
        if (seen == 0) {
            if (p.owner().compare_exchange_strong(seen, t.id() | kParked, std::memory_order_acquire,
                                                  std::memory_order_relaxed)) {
                count_shared_take(t, p);
                return;
            }
            continue;
        }
        if ((seen & kBiased) != 0) {
            if (revoke_bias(t, p, seen, t.id() | kParked)) return;
            continue;
        }
        if ((seen & kParked) == 0 && !p.owner().compare_exchange_strong(seen, seen | kParked, std::memory_order_relaxed,
                                                                        std::memory_order_relaxed))
            continue;
        lock::park(p.owner_word(), seen | kParked, lock::kParkBoundNs);
        take_as = t.id() | kParked;
        if (!starving && !controlled) {
            const std::uint64_t now = platform::monotonic_ns();
            if (since == 0) {
                since = now;
            } else if (now - since > kStarveNs) {
                std::uint32_t none = 0;
                starving = p.starving.compare_exchange_strong(none, t.id(), std::memory_order_relaxed,
                                                              std::memory_order_relaxed);
            }
        }
    }
}

void leave_shared(ThreadState &t, Processor &p) noexcept {
    if (const std::uint32_t starving = p.starving.load(std::memory_order_relaxed);
        __builtin_expect(starving != 0, 0) && starving != t.id()) {
        // Hand the processor to the sleeper that waited too long. Only the owner changes the
        // word from a non-zero value, bar kParked, so this fails only when kParked was just set.
        std::uint32_t mine = p.owner().load(std::memory_order_relaxed);
        if (p.owner().compare_exchange_strong(mine, starving | kParked, std::memory_order_release,
                                              std::memory_order_relaxed)) {
            lock::note_slow_path();
            lock::unpark_all(p.owner_word()); // all sleepers: only it will find itself the owner
            return;
        }
    }
    // Never biased under an exploration: a bias left by one schedule would change the next's waits.
    if (platform::asymmetric() && !lock::controlled() && p.last == t.id() && p.streak >= kBiasAfter &&
        !p.no_bias.load(std::memory_order_relaxed)) {
        // A run of re-entries by this thread: let the processor stick to it. Fails (and falls
        // back to the plain hand-back) if others sleep waiting for it.
        std::uint32_t expected = t.id();
        if (p.owner().compare_exchange_strong(expected, t.id() | kBiased, std::memory_order_release,
                                              std::memory_order_relaxed))
            return;
    }
    if (p.owner().exchange(0, std::memory_order_release) != t.id()) wake_processor_waiters(p);
}

void wake_processor_waiters(Processor &p) noexcept {
    lock::note_slow_path();
    lock::unpark_one(p.owner_word());
}

void wake_revoker(Processor &p) noexcept {
    lock::note_slow_path();
    p.revocations.fetch_add(1, std::memory_order_release);
    lock::unpark_one(&p.revocations);
}

void lower_with_attention(ThreadState &t, Processor &p, KIRQL old, KIRQL new_irql) noexcept {
    // Interrupts held pending above DISPATCH_LEVEL are taken first, as the plain drop takes them.
    if (old > DISPATCH_LEVEL) {
        t.irql().store(DISPATCH_LEVEL, std::memory_order_relaxed);
        preemption_point(t);
        old = DISPATCH_LEVEL;
    }
    const auto index = static_cast<std::uint32_t>(&p - g_processors);
    // The processor's DPCs, on this thread, still at DISPATCH_LEVEL and owning the processor, as
    // Windows runs them when the IRQL drops. Not on an interrupt or DPC thread (the DPC thread
    // drains its own queue; an ISR thread must stay free to preempt), nor inside ndislock's own
    // bookkeeping (NoPreempt): the DPC thread runs those, as before.
    if ((p.attention.load(std::memory_order_acquire) & kDpcsPending) != 0 && !t.system &&
        t.preemption.no_preempt.load(std::memory_order_relaxed) == 0)
        if (const DpcDrain drain = g_dpc_drain.load(std::memory_order_acquire); drain != nullptr) drain(t, index);
    std::uint32_t move_to = kAnyProcessor;
    if ((p.attention.load(std::memory_order_relaxed) & kMoveDeferred) != 0 && p.deferred_mover == t.id()) {
        move_to = p.deferred_move_to;
        p.deferred_mover = 0;
        p.attention.fetch_and(~kMoveDeferred, std::memory_order_relaxed);
    }
    lower_irql_now(t, old, new_irql);
    if (move_to != kAnyProcessor && move_to < processor_count()) {
        t.processor().store(move_to, std::memory_order_relaxed);
        t.bound = true;
    }
}

void defer_move(ThreadState &t, std::uint32_t to) noexcept {
    Processor &p = g_processors[dispatch_index(t)];
    p.deferred_mover = t.id();
    p.deferred_move_to = to;
    p.attention.fetch_or(kMoveDeferred, std::memory_order_relaxed);
    note_attention(t, dispatch_index(t)); // a drop through the bias would skip the move
}

NDISLOCK_STATUS set_processor_count(std::uint32_t count) noexcept {
    if (count < 1 || count > NDISLOCK_MAX_PROCESSORS) return NDISLOCK_INVALID_ARGUMENT;
    if (current_thread().irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL) return NDISLOCK_WRONG_IRQL;
    const std::uint32_t old = processor_count();
    for (std::uint32_t i = 0; i < old; ++i)
        if (processor_owner(i) != 0) return NDISLOCK_BUSY;
    g_count.store(count, std::memory_order_release);
    for_each_thread(
        [](ThreadState &t, void *n) {
            const std::uint32_t c = *static_cast<std::uint32_t *>(n);
            if (t.system) return; // an interrupt thread keeps its processor index
            t.processor().store(t.processor().load(std::memory_order_relaxed) % c, std::memory_order_relaxed);
        },
        &count);
    return NDISLOCK_OK;
}

NDISLOCK_STATUS bind_current_thread(std::uint32_t index) noexcept {
    ThreadState &t = current_thread();
    if (index >= processor_count()) return NDISLOCK_INVALID_ARGUMENT;
    if (t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL) return NDISLOCK_WRONG_IRQL;
    t.processor().store(index, std::memory_order_relaxed);
    t.bound = true;
    return NDISLOCK_OK;
}

} // namespace ndislock::model
