#include "observe/lock_names.h"

#include <atomic>
#include <cstdint>

#include "observe/hooks.h"
#include "platform/diagnostics.h"

namespace ndislock::observe {

namespace {
constexpr unsigned kSlots = 4096; // a power of two
struct Slot {
    std::atomic<const void *> lock{nullptr};
    std::atomic<const char *> name{nullptr};
};
Slot g_slots[kSlots];
std::atomic<bool> g_full_reported{false};

unsigned home(const void *lock) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(lock);
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return static_cast<unsigned>(x >> 52) & (kSlots - 1);
}
} // namespace

void set_lock_name(const void *lock, const char *name) noexcept {
    if (lock == nullptr) return;
    for (unsigned i = 0, s = home(lock); i < kSlots; ++i, s = (s + 1) & (kSlots - 1)) {
        const void *expected = nullptr;
        if (g_slots[s].lock.load(std::memory_order_acquire) == lock ||
            g_slots[s].lock.compare_exchange_strong(expected, lock, std::memory_order_acq_rel) || expected == lock) {
            g_slots[s].name.store(name, std::memory_order_release);
            notify_lock_named(lock, name);
            return;
        }
    }
    if (!g_full_reported.exchange(true))
        platform::diagnostic("more than %u named locks: further names are ignored", kSlots);
}

const char *lock_name(const void *lock) noexcept {
    for (unsigned i = 0, s = home(lock); i < kSlots; ++i, s = (s + 1) & (kSlots - 1)) {
        const void *key = g_slots[s].lock.load(std::memory_order_acquire);
        if (key == lock) return g_slots[s].name.load(std::memory_order_acquire);
        if (key == nullptr) return nullptr;
    }
    return nullptr;
}

} // namespace ndislock::observe
