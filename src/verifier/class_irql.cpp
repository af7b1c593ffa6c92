#include "verifier/class_irql.h"

#include <algorithm>
#include <atomic>

#include "verifier/lock_classes.h"

namespace ndislock::verifier {

namespace {

// One side's first use: claimed by a CAS (0 -> kWriting), written, then published (kReady), so
// a reader that sees kReady reads a whole site, and two first uses never write it at once.
enum : std::uint8_t { kEmpty, kWriting, kReady };

struct FirstUse {
    std::atomic<std::uint8_t> state{kEmpty};
    KIRQL irql = 0;
    observe::Site site{};
};

struct ClassUses {
    // The levels the class was held at: bit 0 for any IRQL at or below DISPATCH_LEVEL (one level
    // as far as interrupts go: none lands between them), bit L for IRQL L above it (HIGH_LEVEL is
    // 31 on x86, 15 on x64); bit 63 once reported. The check of an acquire that teaches nothing new
    // is this one load.
    std::atomic<std::uint64_t> seen{0};
    FirstUse low, high; // the first use at or below DISPATCH_LEVEL, the first above it
};

constexpr std::uint64_t kLow = 1, kReported = std::uint64_t{1} << 63, kLevels = ~kReported;
static_assert(HIGH_LEVEL < 63, "one bit per IRQL");

// An IRQL past HIGH_LEVEL (a free build's KeRaiseIrql sets what it is given) counts as HIGH_LEVEL.
std::uint64_t level_bit(KIRQL irql) noexcept {
    return irql > DISPATCH_LEVEL ? std::uint64_t{1} << (irql < HIGH_LEVEL ? irql : HIGH_LEVEL) : kLow;
}

// The highest level of a mask of level bits, as an IRQL (DISPATCH_LEVEL for the low bit alone).
KIRQL highest_level(std::uint64_t mask) noexcept {
    return mask > kLow ? static_cast<KIRQL>(63 - __builtin_clzll(mask)) : static_cast<KIRQL>(DISPATCH_LEVEL);
}

ClassUses g_uses[kMaxClasses];

// The classes an exploration's schedule taught something (begin_class_irql_journal), with what
// they knew before, restored at its end (as the lock order's journal, lock_order.h).
struct Undo {
    std::uint32_t lock_class;
    std::uint64_t seen;
    bool low_empty, high_empty;
};
constexpr unsigned kJournalSize = 1024;
Undo g_journal[kJournalSize];
std::atomic<unsigned> g_journal_used{0};
std::atomic<bool> g_journaling{false};
std::atomic<bool> g_journal_overflowed{false};

void journal(std::uint32_t lock_class, const ClassUses &u) noexcept {
    if (__builtin_expect(!g_journaling.load(std::memory_order_relaxed), 1)) return;
    const unsigned i = g_journal_used.fetch_add(1, std::memory_order_relaxed);
    if (i < kJournalSize)
        g_journal[i] = Undo{lock_class, u.seen.load(std::memory_order_relaxed),
                            u.low.state.load(std::memory_order_relaxed) == kEmpty,
                            u.high.state.load(std::memory_order_relaxed) == kEmpty};
    else
        g_journal_overflowed.store(true, std::memory_order_relaxed);
}

void claim(FirstUse &use, KIRQL irql, const observe::Site &site) noexcept {
    std::uint8_t expected = kEmpty;
    if (!use.state.compare_exchange_strong(expected, kWriting, std::memory_order_acquire)) return;
    use.irql = irql;
    use.site = site;
    use.state.store(kReady, std::memory_order_release);
}

} // namespace

ClassIrqlConflict note_class_irql(std::uint32_t lock_class, KIRQL held_irql, const observe::Site &site) noexcept {
    if (lock_class == kOverflowClass || lock_class >= kMaxClasses) return {}; // no class to reason about
    ClassUses &u = g_uses[lock_class];
    const std::uint64_t bit = level_bit(held_irql);
    const std::uint64_t seen = u.seen.load(std::memory_order_acquire);
    if (__builtin_expect((seen & bit) != 0, 1)) return {};
    journal(lock_class, u);
    const bool high = held_irql > DISPATCH_LEVEL;
    claim(high ? u.high : u.low, held_irql, site);
    const std::uint64_t before = u.seen.fetch_or(bit, std::memory_order_acq_rel);
    // Another level already: whichever of the two is higher can interrupt a holder at the other.
    const std::uint64_t others = before & kLevels & ~bit;
    if ((before & bit) != 0 || others == 0 || (before & kReported) != 0) return {};
    if ((u.seen.fetch_or(kReported, std::memory_order_acq_rel) & kReported) != 0) return {};
    // The use to name: a low one if this acquire is high and there is one, else the first high.
    FirstUse &other = high && (others & kLow) != 0 ? u.low : u.high;
    ClassIrqlConflict c;
    c.found = true;
    c.other_irql = high && (others & kLow) != 0 ? static_cast<KIRQL>(DISPATCH_LEVEL) : highest_level(others);
    // Named only when ready (else its writer is still at it) and at another level: the first use
    // above DISPATCH_LEVEL can be this acquire's own level, claimed by it or by a thread at the same
    // level, when the other level's bit came in between.
    if (other.state.load(std::memory_order_acquire) == kReady && level_bit(other.irql) != bit) {
        c.other_irql = other.irql;
        c.other = other.site;
    }
    return c;
}

void begin_class_irql_journal() noexcept {
    g_journal_used.store(0, std::memory_order_relaxed);
    g_journal_overflowed.store(false, std::memory_order_relaxed);
    g_journaling.store(true, std::memory_order_release);
}

bool rollback_class_irql_journal() noexcept {
    g_journaling.store(false, std::memory_order_release);
    const unsigned used = std::min(g_journal_used.load(std::memory_order_relaxed), kJournalSize);
    for (unsigned i = used; i-- > 0;) {
        const Undo &j = g_journal[i];
        ClassUses &u = g_uses[j.lock_class];
        if (j.low_empty) u.low.state.store(kEmpty, std::memory_order_relaxed);
        if (j.high_empty) u.high.state.store(kEmpty, std::memory_order_relaxed);
        u.seen.store(j.seen, std::memory_order_release);
    }
    g_journal_used.store(0, std::memory_order_relaxed);
    return !g_journal_overflowed.exchange(false, std::memory_order_relaxed);
}

} // namespace ndislock::verifier
