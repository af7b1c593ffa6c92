#include "verifier/shadow.h"

#include <sys/mman.h>

#include "platform/diagnostics.h"

namespace ndislock::verifier {

namespace {

constexpr std::uintptr_t kEmpty = 0, kRemoved = 1;
constexpr unsigned kMaxProbe = 256;
constexpr unsigned kFreedRing = 4096;

Shadow *g_table = nullptr;
std::atomic<std::uint64_t> g_live{0};
std::atomic<bool> g_full_reported{false};
std::atomic<std::uintptr_t> g_freed[kFreedRing];
std::atomic<unsigned> g_freed_next{0};

std::uint64_t home(const void *lock) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(lock);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return x & (kShadowSlots - 1);
}

} // namespace

bool shadow_reserve() noexcept {
    if (g_table != nullptr) return true;
    void *p = mmap(nullptr, kShadowSlots * sizeof(Shadow), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    g_table = static_cast<Shadow *>(p);
    return true;
}

Shadow *shadow_find(const void *lock) noexcept {
    const auto key = reinterpret_cast<std::uintptr_t>(lock);
    std::uint64_t slot = home(lock);
    for (unsigned probe = 0; probe < kMaxProbe; ++probe, slot = (slot + 1) & (kShadowSlots - 1)) {
        const std::uintptr_t seen = g_table[slot].key.load(std::memory_order_acquire);
        if (seen == key) return &g_table[slot];
        if (seen == kEmpty) return nullptr;
    }
    return nullptr;
}

Shadow *shadow_insert(const void *lock, std::uint32_t lock_class) noexcept {
    if (Shadow *existing = shadow_find(lock)) return existing;
    const auto key = reinterpret_cast<std::uintptr_t>(lock);
    std::uint64_t slot = home(lock);
    for (unsigned probe = 0; probe < kMaxProbe; ++probe, slot = (slot + 1) & (kShadowSlots - 1)) {
        Shadow &s = g_table[slot];
        std::uintptr_t seen = s.key.load(std::memory_order_acquire);
        if ((seen == kEmpty || seen == kRemoved) &&
            s.key.compare_exchange_strong(seen, key, std::memory_order_acq_rel)) {
            s.lock_class.store(lock_class, std::memory_order_relaxed);
            s.holder.store(0, std::memory_order_relaxed);
            s.mode.store(LockMode::Unknown, std::memory_order_relaxed);
            s.holder_slot.store(0, std::memory_order_relaxed);
            g_live.fetch_add(1, std::memory_order_relaxed);
            return &s;
        }
        if (seen == key) return &s;
    }
    if (!g_full_reported.exchange(true))
        platform::diagnostic("verifier: the lock table is full (%llu slots); locks beyond it are not checked",
                             static_cast<unsigned long long>(kShadowSlots));
    return nullptr;
}

void shadow_remove(Shadow *entry, const void *lock) noexcept {
    entry->key.store(kRemoved, std::memory_order_release);
    g_live.fetch_sub(1, std::memory_order_relaxed);
    g_freed[g_freed_next.fetch_add(1, std::memory_order_relaxed) % kFreedRing].store(
        reinterpret_cast<std::uintptr_t>(lock), std::memory_order_relaxed);
}

bool recently_freed(const void *lock) noexcept {
    const auto key = reinterpret_cast<std::uintptr_t>(lock);
    for (auto &f : g_freed)
        if (f.load(std::memory_order_relaxed) == key) return true;
    return false;
}

std::uint64_t shadow_live() noexcept { return g_live.load(std::memory_order_relaxed); }

} // namespace ndislock::verifier
