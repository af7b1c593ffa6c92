// Announcing ndislock's locks to the race detectors a driver team already runs: ThreadSanitizer
// (mutex annotations, in a TSan build of the library) and Valgrind's Helgrind and DRD (client
// requests, when the process runs under Valgrind). Without it those tools see only the atomics
// of the lock words: no lock-order or double-lock reports, and race reports that name no lock.
//
// The announcements are an observer (observe/hooks.h), registered once per process by the
// library's configuration, and only when a tool is there to listen. Registering any observer
// sends every lock call through the library's out-of-line, observed path, the inline fast path of
// ndislock/fast_path.h included (it runs only while no observer is registered), so:
//   - the fast path carries no annotation and no extra branch, and an installed header needs no
//     sanitizer or Valgrind header;
//   - a program not under a tool pays nothing (no observer, no call);
//   - every lock kind and form (spin, in-stack queued, NDIS_RW_LOCK[_EX], EX_SPIN_LOCK; raising,
//     AtDpcLevel, try) is announced from the one place that already sees them all.
// docs/tools.md says how to use it.
#pragma once

namespace ndislock::observe {

// Registers the announcing observer if the library is built with ThreadSanitizer or the process
// runs under Valgrind; otherwise does nothing. Called once, from the process's configuration.
void announce_locks_to_tools() noexcept;

// KeFlushQueuedDpcs returns once the DPCs queued before it have run, which it waits for with
// atomics: the flush tells observers a synchronization (acquire side, observe::notify_synchronizes)
// on this object, and the tools' observer makes every DPC routine's return its release side for
// the Valgrind tools. (So a flush is ordered after every DPC that returned before the flush did,
// those queued after it began included: a race with one of those goes unseen.)
extern const char g_dpcs_flushed;

} // namespace ndislock::observe
