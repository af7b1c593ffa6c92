// Virtual processors: how "at DISPATCH_LEVEL and above, a processor runs one thread's code at a
// time" holds in a process whose threads the OS schedules freely.
//
// Each processor has an owner word. A thread raising from below DISPATCH_LEVEL takes the
// processor (enter_dispatch) and gives it back when it drops below (lower_irql). A second
// thread of the same processor that raises waits, as it would sit descheduled on Windows: a short
// spin, then a park (lock/park.h), so a descheduled owner costs the waiter no CPU. Acquire/release
// ordering on the hand-over makes per-processor data touched at DISPATCH_LEVEL as safe as on
// Windows.
//
// Two modes, so that the common case (one thread raising again and again on its processor, as
// every NdisAcquireSpinLock does) costs no atomic read-modify-write at all:
//   owner == 0                   free
//   owner == id [| kParked]      shared mode: thread id holds the processor, taken by
//                                compare-exchange and given back by exchange; kParked while
//                                other threads sleep waiting for it
//   owner == id | kBiased        biased mode: the processor sticks to thread id between its
//                                DISPATCH_LEVEL episodes. The thread's own IRQL is its mark:
//                                it enters by plain stores (dispatch_entry = index | kBiased,
//                                then irql = DISPATCH_LEVEL) and a re-read of owner, and leaves
//                                by a plain store of its lower IRQL and a re-read of owner
//                                (Dekker's handshake with a free fence on this side).
// A thread that took the processor in shared mode kBiasAfter times in a row makes it biased
// when it leaves. Another thread that wants a biased processor revokes the bias: it takes owner
// (compare-exchange to its own id, shared mode), runs heavy_fence() (membarrier: the free fence
// on the biased side is then enough), and waits until the holder is not at DISPATCH_LEVEL through
// this processor's bias (holds_through_bias). The mark is the IRQL store every raise makes anyway,
// not a second store to the processor's line: the pair of stores before the next locked
// instruction is what S0 pays for (docs/performance.md). So a revocation costs a system
// call, paid only when the processor changes hands after a run of re-entries by one thread; the
// streak counter keeps a processor that changes hands often in shared mode.
// Shared mode is not FIFO (a running thread may take the processor again before a woken sleeper
// runs); a sleeper that has waited kStarveNs gets it handed over directly at the next leave.
// The biased mode needs asymmetric fences; without them (old kernel, ThreadSanitizer build) the
// processor stays in shared mode.
//
// The interrupt side (docs/interrupts.md): a processor with interrupt threads never becomes biased
// (no_bias), so an interrupt finds the thread to stop in the owner word (owner_at_dispatch: while a
// bias set before the interrupt threads started is being revoked, the word names the revoker, which
// names the holder it waits for in ThreadState::revoking); its DPC thread waits for
// the processor like any other thread, with priority (starving) so it runs as soon as the IRQL
// drops; an interrupt masked by a raised IRQL is taken in lower_irql.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "model/preemption.h"
#include "model/thread_state.h"
#include "ndislock/detail/fast_layout.h" // NDISLOCK_FAST_PROCESSOR, NDISLOCK_FAST_BIASED
#include "ndislock/ext.h"
#include "platform/membarrier.h"

namespace ndislock::model {

inline constexpr std::uint32_t kParked = 0x80000000u;
inline constexpr std::uint32_t kBiased = NDISLOCK_FAST_BIASED; // the inline fast path reads it too
static_assert(kMaxThreads < kBiased, "thread ids must leave the mode bits free");
// In a thread's dispatch_entry only: entered through the bias, like index | kBiased, but the drop
// must go out of line, where Processor::attention is read (note_attention). The inline leave of
// ndislock/fast_path.h takes only entries with kBiased; every library reader takes this one as
// the bias entry it is.
inline constexpr std::uint32_t kBiasedOutOfLine = 0x20000000u;
inline constexpr std::uint32_t kEntryModes = kBiased | kBiasedOutOfLine;
static_assert(NDISLOCK_MAX_PROCESSORS < kBiasedOutOfLine, "processor indexes must leave the entry bits free");

// A dispatch_entry's processor index, and whether it went through the processor's bias.
inline std::uint32_t entry_index(std::uint32_t entry) noexcept { return entry & ~kEntryModes; }
inline bool entry_through_bias(std::uint32_t entry) noexcept { return (entry & kEntryModes) != 0; }

// Shared-mode takes by one thread in a row after which its leave makes the processor biased.
inline constexpr std::uint32_t kBiasAfter = 64;

struct alignas(NDISLOCK_FAST_LINE) Processor {
    // What the inline fast path reads (ndislock/detail/fast_layout.h: the owner word), first, so
    // that ndislock_fast_processors, this table, indexes the same words; reached through owner().
    // Mutable: see ThreadState::fast.
    mutable NDISLOCK_FAST_PROCESSOR fast{};
    std::atomic_ref<std::uint32_t> owner() const noexcept { return std::atomic_ref<std::uint32_t>(fast.Owner); }
    // The owner word's address, for parking on it (lock/park.h).
    const void *owner_word() const noexcept { return &fast.Owner; }

    // Bumped by a bias holder that leaves (or withdraws its entry) after its bias was revoked:
    // the revoker parks on it while the holder is still at DISPATCH_LEVEL.
    std::atomic<std::uint32_t> revocations{0};
    // Written only by the thread holding the processor in shared mode: who took it last and how
    // many times in a row.
    std::uint32_t last = 0;
    std::uint32_t streak = 0;
    // How long a waiter for this processor spins before sleeping, adapted to what spinning
    // achieved lately (glibc's adaptive mutex idea): an owner that keeps the processor for long
    // (it waits in a lock queue, or is descheduled) soon makes waiters sleep at once.
    std::atomic<std::uint32_t> spin_pauses{256};
    // Bounded unfairness: the id of a sleeper that has waited too long; the next shared-mode
    // leave hands the processor straight to it instead of freeing it.
    std::atomic<std::uint32_t> starving{0};
    // Set once this processor has interrupt threads: it then stays in shared mode, so its owner
    // word names the thread an interrupt must stop, directly or through a revoker
    // (owner_at_dispatch, interrupt/delivery.cpp).
    std::atomic<bool> no_bias{false};
    // Work the next drop of this processor below DISPATCH_LEVEL does first, before the IRQL goes
    // down (kDpcsPending, kMoveDeferred). On this line, which every leave touches anyway: the
    // drop reads it once, and only a set bit costs more (lower_with_attention).
    std::atomic<std::uint32_t> attention{0};
    // kMoveDeferred: the thread (id) that asked to move at its drop, and to which processor.
    // Written and read only by the thread owning the processor at DISPATCH_LEVEL.
    std::uint32_t deferred_mover = 0;
    std::uint32_t deferred_move_to = 0;
};

static_assert(sizeof(Processor) == NDISLOCK_FAST_LINE && offsetof(Processor, fast) == 0,
              "a processor is one line of ndislock_fast_processors, its owner word first");

// Processor::attention bits.
inline constexpr std::uint32_t kDpcsPending = 1;  // DPCs queued here run at the drop (interrupt/dpc_queue.cpp)
inline constexpr std::uint32_t kMoveDeferred = 2; // the owner moves to another processor at its drop

// What runs the processor's pending DPCs on the thread that drops its IRQL (installed by the
// interrupt side when the processor gets its DPC queue; the model knows no DPCs).
using DpcDrain = void (*)(ThreadState &, std::uint32_t index) noexcept;
extern std::atomic<DpcDrain> g_dpc_drain;

// Exported as ndislock_fast_processors for the inline fast path (ndislock/fast_path.h), which reads
// each processor's first member (Processor::fast) at the same stride.
extern Processor g_processors[NDISLOCK_MAX_PROCESSORS] __asm__("ndislock_fast_processors") NDISLOCK_API;

// The number of virtual processors (fixed at the first call in, see ndislock/ext.h).
std::uint32_t processor_count() noexcept;
// The processor a newly registered thread runs on (round-robin).
std::uint32_t assign_processor() noexcept;

void enter_dispatch_slow(ThreadState &t, Processor &p, bool priority = false) noexcept;
void wake_processor_waiters(Processor &p) noexcept;
void wake_revoker(Processor &p) noexcept;
void leave_shared(ThreadState &t, Processor &p) noexcept;

// Book-keeping of a shared-mode take (the caller holds the processor).
inline void count_shared_take(ThreadState &t, Processor &p) noexcept {
    if (p.last == t.id()) {
        ++p.streak;
    } else {
        p.last = t.id();
        p.streak = 0;
    }
}

// The processor index of the thread's current DISPATCH_LEVEL episode.
inline std::uint32_t dispatch_index(const ThreadState &t) noexcept {
    return entry_index(t.dispatch_entry().load(std::memory_order_relaxed));
}

// True if thread id (the bias holder named by a processor's owner word) runs at DISPATCH_LEVEL or
// above on processor index, entered through its bias. Read by the revoker after its heavy_fence:
// every raising IRQL store is a release store after dispatch_entry's, so an irql read here (with
// acquire) at DISPATCH_LEVEL comes with the entry of the same episode or a later one.
inline bool holds_through_bias(std::uint32_t id, std::uint32_t index) noexcept {
    const ThreadState *h = thread_by_id(id);
    if (h == nullptr || h->irql().load(std::memory_order_acquire) < DISPATCH_LEVEL) return false;
    const std::uint32_t entry = h->dispatch_entry().load(std::memory_order_relaxed);
    return entry == (index | kBiased) || entry == (index | kBiasedOutOfLine);
}

// Below DISPATCH_LEVEL on processor index, biased to t: raise to DISPATCH_LEVEL through the bias.
// False, with the IRQL given back and a revoker woken, if the bias was revoked meanwhile.
inline bool enter_biased(ThreadState &t, Processor &p, std::uint32_t index) noexcept {
    const KIRQL before = t.irql().load(std::memory_order_relaxed);
    if (t.dispatch_entry().load(std::memory_order_relaxed) != (index | kBiased))
        t.dispatch_entry().store(index | kBiased, std::memory_order_relaxed); // a store less when unchanged
    t.irql().store(DISPATCH_LEVEL, std::memory_order_release);                // after the entry (holds_through_bias)
    platform::light_fence(); // the revoker's heavy_fence closes the store-load window
    if (__builtin_expect(p.owner().load(std::memory_order_relaxed) == (t.id() | kBiased), 1)) return true;
    // Revoked in between: withdraw before anything else, let the revoker go on.
    t.irql().store(before, std::memory_order_release);
    wake_revoker(p);
    return false;
}

// The calling thread becomes the only thread at DISPATCH_LEVEL or above on its processor. Its
// IRQL is DISPATCH_LEVEL on return when it entered through the bias; the caller stores the IRQL
// it raises to either way.
inline void enter_dispatch(ThreadState &t) noexcept {
    const std::uint32_t index = t.processor().load(std::memory_order_relaxed);
    Processor &p = g_processors[index];
    std::uint32_t expected = p.owner().load(std::memory_order_relaxed);
    if (__builtin_expect(expected == (t.id() | kBiased), 1)) {
        if (__builtin_expect(enter_biased(t, p, index), 1)) return;
    } else if (expected == 0 && p.owner().compare_exchange_strong(expected, t.id(), std::memory_order_acquire,
                                                                  std::memory_order_relaxed)) {
        t.dispatch_entry().store(index, std::memory_order_relaxed);
        count_shared_take(t, p);
        return;
    }
    t.dispatch_entry().store(index, std::memory_order_relaxed);
    enter_dispatch_slow(t, p);
}

// enter_dispatch for a processor's DPC thread: it waits with priority, so the processor is handed
// to it at the next drop below DISPATCH_LEVEL (DPCs run as soon as the IRQL drops).
inline void enter_dispatch_priority(ThreadState &t) noexcept {
    const std::uint32_t index = t.processor().load(std::memory_order_relaxed);
    Processor &p = g_processors[index];
    t.dispatch_entry().store(index, std::memory_order_relaxed);
    std::uint32_t expected = 0;
    if (p.owner().compare_exchange_strong(expected, t.id(), std::memory_order_acquire, std::memory_order_relaxed)) {
        count_shared_take(t, p);
        return;
    }
    enter_dispatch_slow(t, p, true);
}

// The thread id running at DISPATCH_LEVEL or above on processor index, given its owner word
// (one read with acquire ordering, see interrupt/delivery.cpp), or 0. A thread that has claimed
// the word from a bias holder waits until the holder leaves; until then the holder is the one
// running there (ThreadState::revoking). Not on any lock path: interrupts, reports, settings.
inline std::uint32_t owner_at_dispatch(std::uint32_t owner, std::uint32_t index) noexcept {
    if ((owner & kBiased) != 0) return holds_through_bias(owner & ~kBiased, index) ? owner & ~kBiased : 0;
    const std::uint32_t id = owner & ~kParked;
    if (const ThreadState *claimant = id != 0 ? thread_by_id(id) : nullptr; claimant != nullptr) {
        // Acquire: pairs with the revoker's release store of 0, so a 0 read here means the holder
        // has left (the revoker saw it leave before clearing).
        const std::uint32_t holder = claimant->revoking.load(std::memory_order_acquire);
        if (__builtin_expect(holder != 0, 0) && holds_through_bias(holder, index)) return holder;
    }
    return id;
}

inline std::uint32_t processor_owner(std::uint32_t index) noexcept {
    return owner_at_dispatch(g_processors[index].owner().load(std::memory_order_acquire), index);
}

// IRQL changes with the processor hand-over they imply. Validation is the caller's.
inline KIRQL raise_irql(ThreadState &t, KIRQL new_irql) noexcept {
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    if (old < DISPATCH_LEVEL && new_irql >= DISPATCH_LEVEL) enter_dispatch(t);
    t.irql().store(new_irql, std::memory_order_release); // after dispatch_entry (holds_through_bias)
    return old;
}

// lower_irql once the processor's attention word is read (the drop itself, nothing first); entry
// is t's dispatch_entry (written only by t), as lower_irql already read it.
inline void lower_irql_now(ThreadState &t, KIRQL old, KIRQL new_irql, std::uint32_t entry) noexcept {
    const bool leaving = old >= DISPATCH_LEVEL && new_irql < DISPATCH_LEVEL;
    if (leaving && entry_through_bias(entry)) {
        // Entered through the bias: the IRQL store below DISPATCH_LEVEL is what frees the
        // processor, so a pending interrupt is taken at DISPATCH_LEVEL first, still on it.
        if (__builtin_expect(old > DISPATCH_LEVEL, 0)) {
            t.irql().store(DISPATCH_LEVEL, std::memory_order_relaxed);
            preemption_point(t);
        }
        Processor &p = g_processors[entry_index(entry)];
        t.irql().store(new_irql, std::memory_order_release);
        platform::light_fence(); // against the revoker's heavy_fence: it sees the store or we see it
        if (__builtin_expect(p.owner().load(std::memory_order_relaxed) != (t.id() | kBiased), 0)) wake_revoker(p);
        return;
    }
    t.irql().store(new_irql, std::memory_order_relaxed);
    // An interrupt held pending while this processor was at or above its DIRQL is taken now,
    // while this thread still owns the processor (model/preemption.h).
    if (__builtin_expect(old > DISPATCH_LEVEL, 0)) preemption_point(t);
    if (leaving) leave_shared(t, g_processors[entry_index(entry)]);
}
inline void lower_irql_now(ThreadState &t, KIRQL old, KIRQL new_irql) noexcept {
    lower_irql_now(t, old, new_irql, t.dispatch_entry().load(std::memory_order_relaxed));
}

// A drop below DISPATCH_LEVEL whose processor has work waiting (Processor::attention): pending
// interrupts first, then the pending DPCs on this thread at DISPATCH_LEVEL, then the drop, then a
// move this thread deferred to it (processors.cpp).
void lower_with_attention(ThreadState &t, Processor &p, KIRQL old, KIRQL new_irql) noexcept;

inline void lower_irql(ThreadState &t, KIRQL new_irql) noexcept {
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    const std::uint32_t entry = t.dispatch_entry().load(std::memory_order_relaxed); // one read for both steps
    if (old >= DISPATCH_LEVEL && new_irql < DISPATCH_LEVEL) {
        Processor &p = g_processors[entry_index(entry)];
        if (__builtin_expect(p.attention.load(std::memory_order_acquire) != 0, 0))
            return lower_with_attention(t, p, old, new_irql);
    }
    lower_irql_now(t, old, new_irql, entry);
}

// Work for the next drop of processor index below DISPATCH_LEVEL was just set in its attention word
// by thread t (a DPC queued toward it, a deferred move). If t itself holds that processor through
// its bias, its drop would be the inline leave of ndislock/fast_path.h, which reads no attention
// word (the common leave stays one store and one load): its entry is re-marked kBiasedOutOfLine, so
// the drop goes out of line to lower_irql, which reads it. Costs the common path nothing: only the
// thread that sets the work pays, and the next entry through the bias writes the plain entry again.
// A bias holder that another thread's work finds at DISPATCH_LEVEL keeps its inline leave: that
// work keeps the latitude of work toward another processor (the DPC thread runs it).
inline void note_attention(ThreadState &t, std::uint32_t index) noexcept {
    if (t.irql().load(std::memory_order_relaxed) < DISPATCH_LEVEL) return;
    // Written only by t; a revoker reading it meanwhile finds either form held (holds_through_bias).
    if (t.dispatch_entry().load(std::memory_order_relaxed) == (index | kBiased))
        t.dispatch_entry().store(index | kBiasedOutOfLine, std::memory_order_relaxed);
}

// The calling thread, at DISPATCH_LEVEL or above on its processor, moves to processor `to` when it
// drops below DISPATCH_LEVEL (KeSetSystemAffinityThreadEx at DISPATCH_LEVEL: the change is
// deferred to the drop, as documented). Bound there as NdislockBindCurrentThread binds.
void defer_move(ThreadState &t, std::uint32_t to) noexcept;

// ndislock/ext.h's calls, implemented in processors.cpp.
NDISLOCK_STATUS set_processor_count(std::uint32_t count) noexcept;
NDISLOCK_STATUS bind_current_thread(std::uint32_t index) noexcept;

} // namespace ndislock::model
