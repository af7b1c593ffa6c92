// The order of two locks of one class, lock by lock. The lock-order graph (lock_order.h) is of
// classes, and a class nested in itself is no edge there: walking a list hand over hand takes
// many locks of one class in a row, always in the list's order, and is correct. Two locks of one
// class taken in both orders (thread 1 holds Q[0] and takes Q[1], thread 2 holds Q[1] and takes
// Q[0]) can deadlock all the same: this table records each ordered pair of such locks, by
// address, and finds the reverse pair. Driver Verifier's deadlock detection orders locks one by
// one as well.
//
// A pair is forgotten when either lock is initialized again or freed (a new lock at a reused
// address is not the old one), found through its locks' addresses, not by a scan. A pair already
// known is checked without a lock of our own; a new or forgotten one takes a short internal mutex
// (the observers run where no emulated interrupt stops the thread). Fixed memory: with 8192 pairs
// live at once, a new one replaces the oldest (said once), so the newest pairs are always checked.
#pragma once

#include <cstdint>

#include "observe/hooks.h"

namespace ndislock::verifier {

struct InstancePairSeen {
    observe::Site site{};      // where `held` -> `wanted`'s reverse was taken (the later acquire)
    observe::Site held_site{}; // where its first lock had been taken
    int thread = 0;
};

// Records held -> wanted (two distinct locks of one class; `site` the acquire of wanted, held_site
// the acquire of held). True if wanted -> held was recorded before, with *reverse filled.
bool note_instance_pair(const void *held, const void *wanted, const observe::Site &site, const observe::Site &held_site,
                        int thread, InstancePairSeen *reverse) noexcept;

// A lock initialized or freed: the pairs with its address go.
void forget_instance_pairs(const void *lock) noexcept;

} // namespace ndislock::verifier
