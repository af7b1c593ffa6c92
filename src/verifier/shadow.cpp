#include "verifier/shadow.h"

#include <mutex>
#include <sys/mman.h>

#include "platform/diagnostics.h"
#include "verifier/shadow_regions.h"

namespace ndislock::verifier {

namespace {

constexpr std::uintptr_t kEmpty = 0, kRemoved = 1;
constexpr unsigned kMaxProbe = 256; // 4 KiB of entries: a chain spans at most two regions
constexpr unsigned kFreedRing = 4096;

// Generation g has 2^(kFirstBits + g) slots and starts where generation g - 1 ends.
constexpr unsigned kFirstBits = 12, kGenerations = 10;
constexpr std::uint64_t first_slot(unsigned g) noexcept {
    return (std::uint64_t{1} << (kFirstBits + g)) - (std::uint64_t{1} << kFirstBits);
}
constexpr std::uint64_t slots_of(unsigned g) noexcept { return std::uint64_t{1} << (kFirstBits + g); }
constexpr std::uint64_t kTotalSlots = first_slot(kGenerations);
static_assert(kMaxProbe * sizeof(Shadow) <= regions::kMinRegionBytes, "a probe chain spans at most two regions");

unsigned generation_of(std::uint64_t index) noexcept {
    return 63u - static_cast<unsigned>(__builtin_clzll((index >> kFirstBits) + 1));
}

Shadow *g_table = nullptr;
std::atomic<unsigned> g_generations_used{0}; // generations that may hold entries (never shrinks)
std::atomic<std::uint64_t> g_inserts{0};     // entries ever placed: an insert that saw no change
                                             // since its lock-free miss need not look again
std::atomic<std::uint64_t> g_generation_live[kGenerations];
std::atomic<std::uint64_t> g_live{0};
std::mutex g_insert_mutex; // inserts, and the return of pages (shadow_regions.h)
std::atomic<bool> g_full_reported{false};
std::atomic<std::uintptr_t> g_freed[kFreedRing];
std::atomic<unsigned> g_freed_next{0};

std::uint64_t mix(std::uintptr_t x) noexcept {
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return x;
}

std::uint64_t home_index(unsigned g, std::uint64_t hash) noexcept { return first_slot(g) + (hash & (slots_of(g) - 1)); }
std::uint64_t next_index(unsigned g, std::uint64_t index) noexcept {
    return first_slot(g) + ((index - first_slot(g) + 1) & (slots_of(g) - 1));
}
std::size_t region_of_index(std::uint64_t index) noexcept { return regions::region_of(index * sizeof(Shadow)); }

Shadow *find_in(unsigned g, std::uintptr_t key, std::uint64_t hash) noexcept {
    std::uint64_t index = home_index(g, hash);
    for (unsigned probe = 0; probe < kMaxProbe; ++probe, index = next_index(g, index)) {
        const std::uintptr_t seen = g_table[index].key.load(std::memory_order_acquire);
        if (seen == key) return &g_table[index];
        if (seen == kEmpty) return nullptr;
    }
    return nullptr;
}

// With g_insert_mutex held: the first free slot of key's chain in generation g, filled.
Shadow *place(unsigned g, std::uintptr_t key, std::uint64_t hash, std::uint32_t lock_class) noexcept {
    const std::uint64_t home = home_index(g, hash);
    std::uint64_t index = home;
    for (unsigned probe = 0; probe < kMaxProbe; ++probe, index = next_index(g, index)) {
        Shadow &s = g_table[index];
        const std::uintptr_t seen = s.key.load(std::memory_order_acquire);
        if (seen != kEmpty && seen != kRemoved) continue;
        // Pinned first: the pages stay until this entry is removed (shadow_regions.h).
        regions::pin(region_of_index(home));
        if (region_of_index(index) != region_of_index(home)) regions::pin(region_of_index(index));
        if (g_generations_used.load(std::memory_order_relaxed) <= g)
            g_generations_used.store(g + 1, std::memory_order_release); // before the key: lookups see it
        s.lock_class.store(static_cast<std::uint16_t>(lock_class), std::memory_order_relaxed);
        s.holder.store(0, std::memory_order_relaxed);
        s.mode.store(LockMode::Unknown, std::memory_order_relaxed);
        s.holder_slot.store(0, std::memory_order_relaxed);
        // Only inserts turn a free slot into a key, and they are serialized: a plain store.
        s.key.store(key, std::memory_order_release);
        g_generation_live[g].fetch_add(1, std::memory_order_relaxed);
        g_live.fetch_add(1, std::memory_order_relaxed);
        g_inserts.fetch_add(1, std::memory_order_release);
        return &s;
    }
    return nullptr;
}

} // namespace

bool shadow_reserve() noexcept {
    if (g_table != nullptr) return true;
    void *p = mmap(nullptr, kTotalSlots * sizeof(Shadow), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    regions::init(p, kTotalSlots * sizeof(Shadow), slots_of(0) * sizeof(Shadow));
    g_table = static_cast<Shadow *>(p);
    return true;
}

Shadow *shadow_find(const void *lock) noexcept {
    const auto key = reinterpret_cast<std::uintptr_t>(lock);
    const std::uint64_t hash = mix(key);
    // Newest first: the larger generations hold most of the locks (the verifier keeps its own
    // per-thread cache of the locks in use, checks_internal.h, so the order costs a hot lock nothing).
    for (unsigned g = g_generations_used.load(std::memory_order_acquire); g-- > 0;)
        if (Shadow *s = find_in(g, key, hash)) return s;
    return nullptr;
}

Shadow *shadow_insert(const void *lock, std::uint32_t lock_class) noexcept {
    const std::uint64_t inserts = g_inserts.load(std::memory_order_acquire);
    if (Shadow *existing = shadow_find(lock)) return existing;
    const auto key = reinterpret_cast<std::uintptr_t>(lock);
    const std::uint64_t hash = mix(key);
    {
        std::lock_guard<std::mutex> guard(g_insert_mutex);
        // Another thread may have adopted it meanwhile: look again, unless nothing was inserted.
        if (g_inserts.load(std::memory_order_relaxed) != inserts)
            if (Shadow *raced = shadow_find(lock)) return raced;
        for (unsigned g = 0; g < kGenerations; ++g) {
            const bool last = g + 1 == kGenerations;
            if (!last && g_generation_live[g].load(std::memory_order_relaxed) >= slots_of(g) / 2) continue;
            if (Shadow *s = place(g, key, hash, lock_class)) return s;
        }
    }
    if (!g_full_reported.exchange(true))
        platform::diagnostic("verifier: the lock table is full (%llu slots); locks beyond it are not checked",
                             static_cast<unsigned long long>(kTotalSlots));
    return nullptr;
}

void shadow_remove(Shadow *entry, const void *lock) noexcept {
    auto key = reinterpret_cast<std::uintptr_t>(lock);
    if (!entry->key.compare_exchange_strong(key, kRemoved, std::memory_order_acq_rel)) return; // removed already
    const auto index = static_cast<std::uint64_t>(entry - g_table);
    const unsigned g = generation_of(index);
    g_generation_live[g].fetch_sub(1, std::memory_order_relaxed);
    g_live.fetch_sub(1, std::memory_order_relaxed);
    const std::uint64_t home = home_index(g, mix(reinterpret_cast<std::uintptr_t>(lock)));
    if (region_of_index(index) != region_of_index(home)) regions::unpin(region_of_index(index));
    regions::unpin(region_of_index(home));
    g_freed[g_freed_next.fetch_add(1, std::memory_order_relaxed) % kFreedRing].store(
        reinterpret_cast<std::uintptr_t>(lock), std::memory_order_relaxed);
    if (regions::release_due()) {
        std::unique_lock<std::mutex> guard(g_insert_mutex, std::try_to_lock); // busy: a later remove does it
        if (guard.owns_lock()) regions::release_marked();
    }
}

bool recently_freed(const void *lock) noexcept {
    const auto key = reinterpret_cast<std::uintptr_t>(lock);
    for (auto &f : g_freed)
        if (f.load(std::memory_order_relaxed) == key) return true;
    return false;
}

void forget_recently_freed() noexcept {
    for (auto &f : g_freed)
        f.store(0, std::memory_order_relaxed);
}

std::uint64_t shadow_live() noexcept { return g_live.load(std::memory_order_relaxed); }
std::uint64_t shadow_released_bytes() noexcept { return regions::released_bytes(); }

} // namespace ndislock::verifier
