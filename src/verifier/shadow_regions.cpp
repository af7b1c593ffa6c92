#include "verifier/shadow_regions.h"

#include <algorithm>
#include <atomic>
#include <sys/mman.h>
#include <unistd.h>

namespace ndislock::verifier::regions {

namespace {

constexpr std::size_t kMaxTableBytes = std::size_t{64} << 20; // shadow.cpp reserves less
constexpr std::size_t kMaxRegions = kMaxTableBytes / kMinRegionBytes;

unsigned char *g_base = nullptr;
std::size_t g_region_bytes = kMinRegionBytes;
bool g_can_release = false;
// Pins per region (at most the region's slots plus kMaxProbe chains from the region before, well
// under kPinned), and kPinned: pinned since the last pass.
constexpr std::uint16_t kPinned = 0x8000, kCount = 0x7fff;
std::atomic<std::uint16_t> g_pins[kMaxRegions];
std::atomic<std::uint64_t> g_marked[kMaxRegions / 64]; // became unpinned, not given back yet
std::atomic<unsigned> g_new_marks{0};                  // since the last pass
std::atomic<std::uint64_t> g_released{0};

void give_back(std::size_t first, std::size_t count) noexcept {
    if (count == 0) return;
    // Zero-fill-on-demand afterwards: the next entry there faults a fresh zeroed page in.
    if (madvise(g_base + first * g_region_bytes, count * g_region_bytes, MADV_DONTNEED) == 0)
        g_released.fetch_add(count * g_region_bytes, std::memory_order_relaxed);
}

} // namespace

void init(void *base, std::size_t bytes, std::size_t smallest_unit) noexcept {
    g_base = static_cast<unsigned char *>(base);
    const long page = sysconf(_SC_PAGESIZE);
    g_region_bytes = std::max<std::size_t>(kMinRegionBytes, page > 0 ? static_cast<std::size_t>(page) : 0);
    // Regions must not straddle two generations of the table (shadow.cpp), nor outnumber g_pins.
    g_can_release = g_region_bytes <= smallest_unit && bytes <= kMaxTableBytes;
}

std::size_t region_of(std::size_t offset) noexcept { return offset / g_region_bytes; }

void pin(std::size_t region) noexcept {
    if (!g_can_release) return;
    g_pins[region].fetch_add(1, std::memory_order_relaxed);
    g_pins[region].fetch_or(kPinned, std::memory_order_relaxed);
}

void unpin(std::size_t region) noexcept {
    if (!g_can_release) return;
    // Release: the remover's tombstone is written before the region can be seen unpinned.
    if ((g_pins[region].fetch_sub(1, std::memory_order_acq_rel) & kCount) != 1) return;
    const std::uint64_t bit = std::uint64_t{1} << (region % 64);
    if ((g_marked[region / 64].fetch_or(bit, std::memory_order_acq_rel) & bit) == 0)
        g_new_marks.fetch_add(1, std::memory_order_relaxed);
}

bool release_due() noexcept { return g_new_marks.load(std::memory_order_relaxed) >= kReleaseBatch; }

void release_marked() noexcept {
    g_new_marks.store(0, std::memory_order_relaxed);
    std::size_t run_first = 0, run_count = 0; // adjacent regions go back in one call
    for (std::size_t w = 0; w < kMaxRegions / 64; ++w) {
        std::uint64_t bits = g_marked[w].load(std::memory_order_acquire);
        while (bits != 0) {
            const std::size_t r = w * 64 + static_cast<unsigned>(__builtin_ctzll(bits));
            bits &= bits - 1;
            // Pins only grow under the insert mutex, which the caller holds: an unpinned region
            // stays unpinned until the pages are back.
            const std::uint16_t pins = g_pins[r].load(std::memory_order_acquire);
            if ((pins & kCount) != 0) continue; // in use again: looked at once it empties again
            if ((pins & kPinned) != 0) {        // refilled since the last pass: a second chance
                g_pins[r].fetch_and(static_cast<std::uint16_t>(~kPinned), std::memory_order_relaxed);
                continue;
            }
            g_marked[w].fetch_and(~(std::uint64_t{1} << (r % 64)), std::memory_order_acq_rel);
            if (run_count != 0 && run_first + run_count == r) {
                ++run_count;
                continue;
            }
            give_back(run_first, run_count);
            run_first = r;
            run_count = 1;
        }
    }
    give_back(run_first, run_count);
}

std::uint64_t released_bytes() noexcept { return g_released.load(std::memory_order_relaxed); }

} // namespace ndislock::verifier::regions
