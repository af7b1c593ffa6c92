// Giving the shadow table's pages back (shadow.h): the table is reserved virtual memory, and a page
// a lock's entry touched stays resident until this says it may go.
//
// The table is cut into regions (4 KiB, or the OS page if larger). A region is pinned once by
// every live entry stored in it and once by every live entry whose probe chain starts in it (a
// chain is at most kMaxProbe slots, so it spans at most two regions). A region nobody pins holds
// only empty and removed slots, and no lookup of a live lock reads it to get further: zeroing it
// (MADV_DONTNEED) changes no answer. Pins are taken only by inserts, which hold the table's insert
// mutex; the pages are given back under the same mutex, so no insert can pin a region while it is
// being zeroed. Releases (unpins) are lock-free.
//
// Regions that become unpinned are marked (and stay marked until given back). Every kReleaseBatch
// newly marked regions, a pass gives back the marked regions that stayed unpinned since the pass
// before (one system call each, plus a page fault when an entry lands there again); a region
// pinned meanwhile gets a second chance. So a program that frees and allocates locks in a steady
// churn, emptying and refilling the same regions, soon marks no new region and pays nothing,
// and a mass free leaves at most two batches of regions resident.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ndislock::verifier::regions {

inline constexpr std::size_t kMinRegionBytes = 4096;
inline constexpr unsigned kReleaseBatch = 16;

// Describes the reserved table (called once, before any pin). Regions are max(4 KiB, page size);
// pages larger than largest_unit bytes (the smallest generation) are never given back.
void init(void *base, std::size_t bytes, std::size_t largest_unit) noexcept;

// The region holding byte offset `offset` of the table.
std::size_t region_of(std::size_t offset) noexcept;

// Insert path, with the insert mutex held.
void pin(std::size_t region) noexcept;
// Remove path, lock-free: marks the region for release if this was its last pin.
void unpin(std::size_t region) noexcept;

// Whether a pass is due (kReleaseBatch regions newly marked since the last).
bool release_due() noexcept;
// The pass: zeroes every marked region unpinned since the last pass. Call with the insert mutex
// held.
void release_marked() noexcept;

// Bytes of the table given back so far (for tests and the memory figures).
std::uint64_t released_bytes() noexcept;

} // namespace ndislock::verifier::regions
