// Data races on annotated data inside an exploration (docs/explore.md, "Races on annotated data"):
// happens-before over ndislock's synchronization, kept with vector clocks (one per context of the
// schedule), and a shadow of the annotated accesses (NdislockExploreRead / NdislockExploreWrite)
// checked against it. Two conflicting accesses (overlapping bytes, at least one a write, two
// contexts) that happens-before does not order are the schedule's DataRace finding.
//
// The clocks follow FastTrack (Flanagan and Freund, PLDI 2009) in spirit: each shadow cell keeps
// its last write as an epoch (context, clock) and its reads as one clock per context; an access is
// checked against the cells whose bytes it overlaps. Everything here runs on the baton's holder
// (one context at a time), so nothing is atomic.
//
// The edges: a spin-lock release (every family) -> the next acquire of the same lock, with reader/
// writer locks' shared acquires seeing the exclusive releases only and exclusive acquires every
// release; mutexes, fast mutexes and executive resources the same way (their wait_lock events);
// an event's set -> a wait it satisfies (observe::notify_synchronizes, told by the dispatcher);
// a DPC's insert -> its run, and the interrupt's spin lock around the ISR and the synchronize,
// enable and disable routines (both told by src/interrupt); an interlocked operation -> the next on
// its address (the scheduler); NdislockExploreSpawn: the spawner's past -> the child. The
// scenario's check runs after every thread returned and is not tracked. Synchronization is added
// by calling release() on the signalling side and acquire() on the signalled side with the object
// that links them: from src/explore directly, from the layers below it (which cannot include this
// file) through observe::notify_synchronizes.
//
// Bounded: kMaxCells annotated ranges and kMaxObjects synchronization objects per schedule, in
// one block allocated per exploration and reset per schedule; nothing is allocated per access.
// Past kMaxCells a new range is not tracked (a race on it is missed); past kMaxObjects the objects
// share one clock (more order than there is: races can be missed, none invented).
// The lock observer needs a slot of its own (observe::kMaxObservers): with none free, race
// detection is off for the exploration (no access is checked), as a race reported without the
// lock edges would be invented.
#pragma once

#include <cstddef>

namespace ndislock::explore::race {

inline constexpr unsigned kMaxCells = 256;
inline constexpr unsigned kMaxObjects = 64;

// The exploration's life: registers the lock observer and allocates the shadow (begin), removes
// and frees them (end). Called by run_exploration on the exploring thread.
void begin_exploration() noexcept;
void end_exploration() noexcept;
// Every schedule starts with no clocks, no objects and no accesses.
void begin_schedule() noexcept;

// NdislockExploreSpawn: the child context starts after everything the parent did so far (parent
// -1: spawned by Setup, which is before every thread).
void spawned(int parent, unsigned child) noexcept;

// "a synchronizes-with b": release on a's context publishes its past in object's clock; a later
// acquire of the same object on b's context joins it. The hooks for the edges the lock observer
// does not see (a DPC's queueing -> its run, a synchronize function, an event set -> its wait).
// shared: a reader/writer hold in shared mode (an acquire sees only exclusive releases; a release
// publishes to exclusive acquires only).
void release(unsigned context, const void *object, bool shared = false) noexcept;
void acquire(unsigned context, const void *object, bool shared = false) noexcept;

// An annotated access by a context, at file:line: checked against the accesses of other contexts
// happens-before does not order before it, then recorded. Returns true and writes the finding's
// text into message when it races.
bool access(unsigned context, const volatile void *address, std::size_t size, bool write, const char *file, int line,
            char *message, std::size_t message_size) noexcept;

} // namespace ndislock::explore::race
