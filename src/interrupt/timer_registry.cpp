#include "interrupt/timer_registry.h"

#include <cstring>

namespace ndislock::interrupt {

namespace {

constexpr std::uint32_t kMask = kTimerRegistrySlots - 1;
constexpr std::uint32_t kMost = kTimerRegistrySlots / 4 * 3; // linear probing stays short below it

// Zero-initialized: its pages are touched only as timers are set.
const void *g_slots[kTimerRegistrySlots];
std::uint32_t g_count = 0;
bool g_overflowed = false;

std::uint32_t home(const void *timer) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(timer) >> 3;
    return static_cast<std::uint32_t>((a * 0x9E3779B97F4A7C15ull) >> 40) & kMask;
}

} // namespace

void registry_add(const void *timer) noexcept {
    if (g_overflowed) return;
    if (g_count >= kMost) {
        g_overflowed = true;
        return;
    }
    std::uint32_t i = home(timer);
    while (g_slots[i] != nullptr) {
        if (g_slots[i] == timer) return;
        i = (i + 1) & kMask;
    }
    g_slots[i] = timer;
    ++g_count;
}

void registry_remove(const void *timer) noexcept {
    if (g_overflowed) return;
    std::uint32_t i = home(timer);
    while (g_slots[i] != timer) {
        if (g_slots[i] == nullptr) return;
        i = (i + 1) & kMask;
    }
    // Backward-shift deletion: every later entry of the probe run that may move to the hole does.
    for (std::uint32_t j = (i + 1) & kMask; g_slots[j] != nullptr; j = (j + 1) & kMask) {
        const std::uint32_t h = home(g_slots[j]);
        // Moved back if its home is not in (i, j] (cyclically): the hole is on its probe path.
        const bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (stays) continue;
        g_slots[i] = g_slots[j];
        i = j;
    }
    g_slots[i] = nullptr;
    --g_count;
}

bool registry_known(const void *timer) noexcept {
    if (g_overflowed) return true;
    for (std::uint32_t i = home(timer);; i = (i + 1) & kMask) {
        if (g_slots[i] == timer) return true;
        if (g_slots[i] == nullptr) return false;
    }
}

void registry_clear() noexcept {
    if (g_count != 0) std::memset(static_cast<void *>(g_slots), 0, sizeof g_slots);
    g_count = 0;
}

} // namespace ndislock::interrupt
