// The verifier's reader/writer lock rules (ndislock/rw_lock.h), beside the spin-lock checks of
// checks_acquire.cpp and checks_release.cpp, which call these at the same points of an acquire and
// a release:
//   RwLockWriteWhileRead, RwLockRecursion   a recursion the lock does not allow (acquire)
//   RwLockStateReused                       a LOCK_STATE[_EX] of a live acquisition (acquire)
//   RwLockStateMismatch                     a release with another acquisition's state (release)
//   RwLockDispatchFlagWrongIrql             written by checks_acquire.cpp's IRQL check of an acquire
// What a reader/writer hold shares with a spin-lock hold (the held-lock table, the lock order, the
// hold times, the waits the watchdog sees) goes through checks_*.cpp unchanged.
#pragma once

#include <string>

#include "observe/hooks.h"
#include "verifier/findings.h"
#include "verifier/held_locks.h"
#include "verifier/shadow.h"

namespace ndislock::verifier {

// checks_reports.cpp's report helpers, for this file.
Report report_base(observe::Rule rule, const observe::LockEvent &e, const Shadow *s, std::string explanation);
void emit_report(const Report &r);

// Before a reader/writer acquire waits: the recursion rules of its lock type against the holds of
// the same lock in this thread's table, and the reuse of a live lock state.
void check_rw_acquire(const observe::LockEvent &e, const VerifierThread &v, const Shadow *s);

// The table index a reader/writer release releases (-1: this thread holds no such lock), reporting
// RwLockStateMismatch when the state given is not the one an acquire of that lock filled, and
// ReleaseVariantMismatch when the release's mode or form is not the acquire's.
int find_rw_release(const observe::LockEvent &e, const VerifierThread &v, const Shadow *s);

// Whether the thread's table still holds lock exclusively (recursive writes) besides slot skip.
bool holds_exclusive(const VerifierThread &v, const void *lock, int skip) noexcept;

} // namespace ndislock::verifier
