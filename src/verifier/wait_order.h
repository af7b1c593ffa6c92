// Mutexes, fast mutexes and executive resources in the verifier (issue #20): the locks a thread
// takes by sleeping join the spin locks in the lock-order graph, and the waits for them name their
// call sites and holders in Deadlock reports.
//
// Each thread keeps the ones it holds in its table beside its spin locks (held_locks.h,
// VerifierThread::wait_held), with the site of the outermost acquisition and a recursion count:
// a KMUTEX's owner may wait for it again, and an ERESOURCE's owner may take it again, with no
// edge and no finding. A wait that may sleep for one of them records an edge from every lock the
// thread holds (spin locks included) and reports an inversion as LockOrderInversion, with both
// orders' sites, before anything hangs. A spin lock taken while one of them is held records its
// edge in checks_order.cpp (the spin locks' chain starts with these: VerifierThread::wait_chain). A
// shared ERESOURCE hold is a read: two shared acquisitions in opposite orders are no inversion.
// A poll (timeout 0) and a Wait FALSE acquire never sleep: they add no edge, but what they take
// is held like the rest. The class of each is where it was initialized (KeInitializeMutex,
// ExInitializeFastMutex, ExInitializeResourceLite), or its name (NdislockSetLockName).
#pragma once

#include <string>

#include "model/thread_state.h"
#include "observe/hooks.h"
#include "verifier/held_locks.h"
#include "verifier/lock_order.h"

namespace ndislock::verifier {

// The observer's callback (observe::Observer::wait_lock).
void on_wait_lock(const observe::WaitLockEvent &e) noexcept;

// The sleeping locks v holds, oldest first, as the order check takes them; returns how many.
unsigned wait_holds_for_order(const VerifierThread &v, HeldForOrder *out) noexcept;

// For the watchdog's Deadlock reports, from any thread:
// the slot of object in v's table of sleeping locks, or -1;
int find_wait_held(const VerifierThread &v, const void *object) noexcept;
// a line "      holds <kind> <object> <class>, taken at <site>\n" for each sleeping lock v holds;
void describe_wait_holds(const VerifierThread &v, std::string &out);
// the KeWaitFor*, ExAcquireFastMutex or ExAcquireResource*Lite call v's thread waits in now:
// false if none;
bool waiting_call(const VerifierThread &v, observe::Site *site, const char **call) noexcept;
// the class of a sleeping lock (its shadow entry's), or kOverflowClass if never seen;
std::uint32_t wait_lock_class(const void *object) noexcept;
// a thread other than except that holds object (a resource held shared has no owner field).
model::ThreadState *wait_lock_holder(const void *object, const model::ThreadState *except) noexcept;

} // namespace ndislock::verifier
