#include "observe/lock_names.h"

#include <atomic>
#include <cstdint>

#include "observe/hooks.h"
#include "platform/diagnostics.h"
#include "platform/context_local.h"

namespace ndislock::observe {

namespace {
constexpr unsigned kSlots = 4096; // a power of two

// One address. The key stays once claimed (a freed lock's slot keeps its address, so the probe
// chains through it stay intact), so the table holds the distinct addresses ever named.
struct Slot {
    std::atomic<const void *> lock{nullptr};
    std::atomic<const char *> name{nullptr}; // the living lock's name, or nullptr
    std::atomic<const char *> last{nullptr}; // the last name given at this address
    // The name already belongs to an initialized lock (it was set after that lock's
    // initialization, or an initialization came after it): the next initialization here is of
    // another lock, which must not inherit it.
    std::atomic<bool> bound{false};
};
Slot g_slots[kSlots];
std::atomic<bool> g_full_reported{false};
// No name was ever set: initializations and frees need not look anything up.
std::atomic<bool> g_any_named{false};
// The calling thread's last lock initializations not named since: a name set at one of them is
// set after that lock's initialization, so it is that lock's. Many, not one: drivers initialize
// every lock of a context (an adapter's per-queue locks, dozens of them), then name them. 64: the
// table is thread-local storage of the initial-exec kind (read in signal handlers), which a
// dlopen of the library must find room for.
// Recording one is a store; a name or a free looks through them all (names are few, and a free is
// no hot path).
constexpr unsigned kRecent = 64;
struct RecentInitializations {
    const void *lock[kRecent];
    unsigned next;
};
constinit thread_local RecentInitializations tls_recent __attribute__((tls_model("initial-exec"))) = {};
NDISLOCK_CONTEXT_LOCAL(tls_recent); // follows the context (platform/context_local.h)

// True if `lock` was among them, and forgets it (a name set later counts as set before the next
// initialization).
bool take_recent(const void *lock) noexcept {
    bool found = false;
    for (const void *&l : tls_recent.lock)
        if (l == lock) {
            l = nullptr;
            found = true;
        }
    return found;
}

void note_recent(const void *lock) noexcept { tls_recent.lock[tls_recent.next++ % kRecent] = lock; }

unsigned home(const void *lock) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(lock);
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return static_cast<unsigned>(x >> 52) & (kSlots - 1);
}

Slot *find(const void *lock) noexcept {
    for (unsigned i = 0, s = home(lock); i < kSlots; ++i, s = (s + 1) & (kSlots - 1)) {
        const void *key = g_slots[s].lock.load(std::memory_order_acquire);
        if (key == lock) return &g_slots[s];
        if (key == nullptr) return nullptr;
    }
    return nullptr;
}

Slot *claim(const void *lock) noexcept {
    for (unsigned i = 0, s = home(lock); i < kSlots; ++i, s = (s + 1) & (kSlots - 1)) {
        const void *expected = nullptr;
        if (g_slots[s].lock.load(std::memory_order_acquire) == lock ||
            g_slots[s].lock.compare_exchange_strong(expected, lock, std::memory_order_acq_rel) || expected == lock)
            return &g_slots[s];
    }
    return nullptr;
}
} // namespace

void set_lock_name(const void *lock, const char *name) noexcept {
    if (lock == nullptr) return;
    if (name == nullptr) { // unnamed from now on; the observers keep the class the lock has
        if (Slot *s = find(lock)) s->name.store(nullptr, std::memory_order_release);
        return;
    }
    Slot *s = claim(lock);
    if (s == nullptr) {
        if (!g_full_reported.exchange(true))
            platform::diagnostic("more than %u named locks: further names are ignored", kSlots);
        return;
    }
    g_any_named.store(true, std::memory_order_relaxed);
    s->bound.store(take_recent(lock), std::memory_order_relaxed);
    s->last.store(name, std::memory_order_release);
    s->name.store(name, std::memory_order_release);
    notify_lock_named(lock, name);
}

const char *lock_name(const void *lock) noexcept {
    const Slot *s = find(lock);
    return s != nullptr ? s->name.load(std::memory_order_acquire) : nullptr;
}

const char *last_lock_name(const void *lock) noexcept {
    const Slot *s = find(lock);
    return s != nullptr ? s->last.load(std::memory_order_acquire) : nullptr;
}

void lock_initializing(const void *lock) noexcept {
    note_recent(lock);
    if (!g_any_named.load(std::memory_order_relaxed)) return;
    Slot *s = find(lock);
    if (s == nullptr) return;
    // Set before this initialization: this lock's name from now on.
    if (s->name.load(std::memory_order_acquire) != nullptr && !s->bound.exchange(true, std::memory_order_relaxed))
        return;
    // An earlier lock's name, or none: the new lock has none, and what it does is not the old one's.
    s->name.store(nullptr, std::memory_order_release);
    s->last.store(nullptr, std::memory_order_release);
}

void lock_freed(const void *lock) noexcept {
    take_recent(lock);
    if (!g_any_named.load(std::memory_order_relaxed)) return;
    if (Slot *s = find(lock)) s->name.store(nullptr, std::memory_order_release);
}

} // namespace ndislock::observe
