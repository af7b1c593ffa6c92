#include "model/system_affinity.h"

#include "model/processors.h"
#include "platform/context_local.h"

namespace ndislock::model {

namespace {

// The calling thread's system affinity and the binding it had before it (each thread's own,
// touched only by it).
struct AffinityState {
    KAFFINITY system = 0; // 0: none, the thread runs with its own binding
    std::uint32_t user_processor = 0;
    bool user_bound = false;
};
constinit thread_local AffinityState tls_affinity;
NDISLOCK_CONTEXT_LOCAL(tls_affinity); // follows the context (platform/context_local.h)

KAFFINITY active_mask() noexcept {
    const std::uint32_t n = processor_count();
    return n >= 8 * sizeof(KAFFINITY) ? ~KAFFINITY{0} : (KAFFINITY{1} << n) - 1;
}

bool valid(KAFFINITY mask) noexcept { return mask != 0 && (mask & ~active_mask()) == 0; }

// The processor the thread now runs on (its DISPATCH_LEVEL episode's, when raised).
std::uint32_t current(const ThreadState &t) noexcept {
    return t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL ? dispatch_index(t)
                                                                      : t.processor().load(std::memory_order_relaxed);
}

// Runs the thread on processor `to` (bound there), now or at its drop below DISPATCH_LEVEL.
void move_to(ThreadState &t, std::uint32_t to, bool bound) noexcept {
    if (t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL) {
        defer_move(t, to); // also replaces a move deferred earlier in this episode
        return;
    }
    t.processor().store(to, std::memory_order_relaxed);
    t.bound = bound;
}

// The processor of mask the thread runs on: the current one if the mask has it, else the lowest.
std::uint32_t pick(const ThreadState &t, KAFFINITY mask) noexcept {
    const std::uint32_t now = current(t);
    if ((mask >> now) & 1u) return now;
    return static_cast<std::uint32_t>(__builtin_ctzll(static_cast<unsigned long long>(mask)));
}

} // namespace

KAFFINITY set_system_affinity(ThreadState &t, KAFFINITY mask) noexcept {
    AffinityState &a = tls_affinity;
    const KAFFINITY previous = a.system;
    if (t.system || !valid(mask)) return previous; // no effect, as documented for an invalid mask
    if (previous == 0) {
        a.user_processor = t.processor().load(std::memory_order_relaxed);
        a.user_bound = t.bound;
    }
    a.system = mask;
    move_to(t, pick(t, mask), true);
    return previous;
}

void revert_system_affinity(ThreadState &t, KAFFINITY mask) noexcept {
    AffinityState &a = tls_affinity;
    if (t.system || a.system == 0) return; // no set_system_affinity before: no effect
    if (mask != 0) {
        if (!valid(mask)) return;
        a.system = mask;
        move_to(t, pick(t, mask), true);
        return;
    }
    a.system = 0;
    move_to(t, a.user_processor % processor_count(), a.user_bound);
}

KAFFINITY system_affinity(const ThreadState &) noexcept { return tls_affinity.system; }

} // namespace ndislock::model
