#include "verifier/instance_order.h"

#include <atomic>

#include "platform/diagnostics.h"

namespace ndislock::verifier {

namespace {

constexpr unsigned kPairs = 1u << 13;  // a power of two
constexpr std::uintptr_t kRemoved = 1; // a key no pair has (lock addresses are aligned)

struct Pair {
    std::atomic<std::uintptr_t> held{0}; // 0 empty, kRemoved removed
    std::atomic<std::uintptr_t> wanted{0};
    std::atomic<bool> ready{false}; // the sites below are written
    observe::Site site{}, held_site{};
    int thread = 0;
};
Pair g_pairs[kPairs];
std::atomic<bool> g_full_reported{false};
// Addresses that are in some pair, as a filter: an initialization or free of another lock (the
// common case) looks at one bit, not the table.
constexpr unsigned kFilterBits = 1u << 16;
std::atomic<std::uint64_t> g_filter[kFilterBits / 64];
std::atomic<bool> g_any{false};

unsigned filter_bit(const void *lock) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(lock) >> 3;
    x ^= x >> 15;
    return static_cast<unsigned>(x * 0x9E3779B1u) % kFilterBits;
}
bool in_filter(const void *lock) noexcept {
    const unsigned b = filter_bit(lock);
    return (g_filter[b / 64].load(std::memory_order_acquire) >> (b % 64)) & 1u;
}
void add_to_filter(const void *lock) noexcept {
    const unsigned b = filter_bit(lock);
    g_filter[b / 64].fetch_or(std::uint64_t{1} << (b % 64), std::memory_order_acq_rel);
}

unsigned home(std::uintptr_t held, std::uintptr_t wanted) noexcept {
    std::uint64_t x = held * 0x9E3779B97F4A7C15ull ^ (wanted + 0x632BE59BD9B4E019ull);
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    return static_cast<unsigned>(x >> 40) & (kPairs - 1);
}

// The pair's entry, or nullptr (create: claim one if absent).
Pair *find(std::uintptr_t held, std::uintptr_t wanted, bool create) noexcept {
    for (unsigned i = 0, s = home(held, wanted); i < kPairs; ++i, s = (s + 1) & (kPairs - 1)) {
        Pair &p = g_pairs[s];
        std::uintptr_t seen = p.held.load(std::memory_order_acquire);
        if (seen == held && p.wanted.load(std::memory_order_acquire) == wanted) return &p;
        if (seen != 0) continue; // another pair, or a removed one: the probe goes on
        if (!create) return nullptr;
        // Claim: the wanted half first, so a reader that sees the held half sees it.
        std::uintptr_t expected = 0;
        if (!p.wanted.compare_exchange_strong(expected, wanted, std::memory_order_acq_rel)) continue;
        p.held.store(held, std::memory_order_release);
        return &p;
    }
    if (create && !g_full_reported.exchange(true))
        platform::diagnostic("verifier: more than %u ordered pairs of same-class locks; further pairs are not "
                             "checked",
                             kPairs);
    return nullptr;
}

} // namespace

bool note_instance_pair(const void *held, const void *wanted, const observe::Site &site, const observe::Site &held_site,
                        int thread, InstancePairSeen *reverse) noexcept {
    const auto h = reinterpret_cast<std::uintptr_t>(held), w = reinterpret_cast<std::uintptr_t>(wanted);
    if (g_any.load(std::memory_order_acquire)) {
        if (const Pair *r = find(w, h, false); r != nullptr && r->ready.load(std::memory_order_acquire)) {
            reverse->site = r->site;
            reverse->held_site = r->held_site;
            reverse->thread = r->thread;
            return true;
        }
        if (find(h, w, false) != nullptr) return false; // known already
    }
    add_to_filter(held);
    add_to_filter(wanted);
    g_any.store(true, std::memory_order_release);
    Pair *p = find(h, w, true);
    if (p == nullptr || p->ready.load(std::memory_order_acquire)) return false;
    p->site = site;
    p->held_site = held_site;
    p->thread = thread;
    p->ready.store(true, std::memory_order_release);
    return false;
}

void forget_instance_pairs(const void *lock) noexcept {
    if (!g_any.load(std::memory_order_acquire) || !in_filter(lock)) return;
    const auto a = reinterpret_cast<std::uintptr_t>(lock);
    for (Pair &p : g_pairs) {
        const std::uintptr_t held = p.held.load(std::memory_order_acquire);
        if (held != a && p.wanted.load(std::memory_order_acquire) != a) continue;
        if (held == 0 || held == kRemoved) continue;
        // Removed, not emptied: probes for other pairs pass through it.
        p.ready.store(false, std::memory_order_release);
        p.held.store(kRemoved, std::memory_order_release);
    }
}

} // namespace ndislock::verifier
