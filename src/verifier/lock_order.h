// The lock-order graph over lock classes (lockdep's idea): an edge A -> B for "B was acquired
// while A was held". A new edge B -> A when A ->* B already exists is a LockOrderInversion: two
// orders that can deadlock, whether or not they did. Chains already checked are cached by a hash
// of the held classes plus the new one, so a chain seen before costs one lookup. The hash is built
// incrementally (each held lock keeps the hash of the chain up to it, as lockdep's chain keys do),
// so an acquire under N held locks hashes one class, not N.
//
// Fixed memory: an adjacency bitmap of kMaxClasses^2 bits (2 MiB), an edge table keeping where
// each edge was first seen, and the chain cache. New edges take a short internal mutex (they
// are rare); lookups are lock-free.
#pragma once

#include <cstdint>

#include "observe/hooks.h"

namespace ndislock::verifier {

struct HeldForOrder {
    std::uint32_t lock_class;
    observe::Site site;  // where it was acquired
    bool shared = false; // a read hold of a reader/writer lock
};

struct Inversion {
    std::uint32_t held_class;   // A: held now
    std::uint32_t wanted_class; // B: wanted now
    observe::Site held_site, wanted_site;
    // The earlier order, B before A: its first edge, where its two acquires happened.
    std::uint32_t earlier_from, earlier_to;
    observe::Site earlier_from_site, earlier_to_site;
    int earlier_thread;
    // The whole earlier order, B ... A, when it passes through other classes (a cycle of three or
    // more): path[0] = B, path[path_length - 1] = A; past kMaxPathShown classes the middle is cut.
    static constexpr unsigned kMaxPathShown = 8;
    std::uint32_t path[kMaxPathShown];
    unsigned path_length = 0; // classes on the path; 2 for a direct edge
    bool path_cut = false;
};

// Chain keys: kChainStart for no lock held; chain_extend(key of the locks held before, class) for
// the chain ending with that class. The key of "wanted after the chain" is chain_extend(chain,
// wanted), never 0.
inline constexpr std::uint64_t kChainStart = 0x9E3779B97F4A7C15ull;
inline std::uint64_t chain_extend(std::uint64_t chain, std::uint32_t lock_class) noexcept {
    return ((chain ^ lock_class) * 0x100000001B3ull) | 1;
}

// Whether the chain with this key was checked before (one lock-free lookup): nothing to do then.
bool chain_checked(std::uint64_t key) noexcept;

// Records the edges from every held class to wanted, the chain's key being key. Returns true and
// fills *found when one of them inverts an order seen before (the first such).
// A read taken while holding a read (of reader/writer locks) adds no edge and is not checked:
// readers do not exclude each other, so two reads in opposite orders do not deadlock by
// themselves.
bool check_and_record_order(const HeldForOrder *held, unsigned count, std::uint32_t wanted_class, bool wanted_shared,
                            const observe::Site &wanted_site, int thread_id, std::uint64_t key,
                            Inversion *found) noexcept;

// An exploration's schedule (docs/explore.md, "The verifier in a schedule"): from
// begin_order_journal on, every edge and chain the graph learns is journaled, and
// rollback_order_journal takes them all back, so that each schedule starts from the order known
// before the exploration, whatever earlier schedules taught. Returns false if the schedule learnt
// more than the journal holds (4096 additions: the rest stays learnt).
void begin_order_journal() noexcept;
bool rollback_order_journal() noexcept;

} // namespace ndislock::verifier
