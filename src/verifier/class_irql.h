// IRQL consistency per lock class, in lockdep's manner (its "irq-safe" and "irq-unsafe" usage
// states of a class, learnt from every acquire, not from the interrupt happening).
//
// A lock class taken above DISPATCH_LEVEL (in an ISR, a synchronize function, or code that raised
// to a DIRQL) and also held at DISPATCH_LEVEL or below is a deadlock waiting for its interrupt:
// the interrupt lands on a processor holding the lock at the lower IRQL, and its acquire spins on
// a holder that cannot run again until it returns. Each class remembers the first site it was
// held above DISPATCH_LEVEL and the first site it was held at or below it; a class that has both
// is reported once, at the second, naming the first. The Ke AtDpcLevel forms, documented for any
// IRQL >= DISPATCH_LEVEL, are checked by this rule alone above DISPATCH_LEVEL: only their uses
// teach a class its high side. The forms documented for DISPATCH_LEVEL or below (the NDIS calls,
// the raising Ke calls) keep AcquireAboveDispatch there, which already names the bug, and teach
// only the low side. Like the lock-order graph, what a class learnt stays for the run.
//
// Two levels both above DISPATCH_LEVEL (a lock taken in two ISRs of different DIRQLs, or at a
// DIRQL and at an IRQL raised between it and DISPATCH_LEVEL) are the same hazard one level up:
// the higher interrupts a holder at the lower. A class remembers every level above
// DISPATCH_LEVEL it was held at, and two different levels are reported as two sides are.
//
// What it does not see: a class whose two uses are in one run but by locks the verifier sees as
// different classes.
#pragma once

#include <cstdint>

#include "observe/hooks.h"

namespace ndislock::verifier {

// A use of the class seen before at another level (the other side of DISPATCH_LEVEL, or another
// level above it), or nothing.
struct ClassIrqlConflict {
    bool found = false;
    KIRQL other_irql = 0;
    observe::Site other{};
};

// Notes that a lock of class lock_class is held at held_irql from site; returns the conflict
// the first time the class has been held at two levels. One load when nothing new is learnt.
// Async-signal-safe (atomics only): it runs on an ISR's acquire.
ClassIrqlConflict note_class_irql(std::uint32_t lock_class, KIRQL held_irql, const observe::Site &site) noexcept;

// An exploration's schedule: what classes learn from begin_class_irql_journal on is taken back by
// rollback_class_irql_journal (false: more than 1024 lessons, the rest stays learnt), as the lock
// order's journal (lock_order.h).
void begin_class_irql_journal() noexcept;
bool rollback_class_irql_journal() noexcept;

} // namespace ndislock::verifier
