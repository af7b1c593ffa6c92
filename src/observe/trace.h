// The timeline: a Chrome trace / Perfetto JSON file of what the locks, the IRQL and the driver's
// routines did over time (NDISLOCK_TRACE=<path>, NdislockTraceStart; docs/tools.md).
//
// An observer of the seam like the lock statistics. Each thread appends fixed-size events to a
// ring of its own (kRingEvents), taken at its first event. When the thread ends its ring is
// retired, not freed: its events stay readable for the file, and the next thread that needs a
// ring continues in the retired one. So memory grows with the threads that record at once, not
// with every thread that ever did. When a ring is full the oldest events are overwritten and
// counted as dropped. Nothing is formatted while the program runs: stop() stops recording, then
// reads every ring and writes the JSON, pairing acquires with releases, wait beginnings with
// their ends and ISR entries with their returns per thread, and following each virtual
// processor's IRQL across the threads that ran on it.
#pragma once

#include <cstdint>

namespace ndislock::observe::trace {

inline constexpr unsigned kRingEvents = 1u << 15; // per thread: 32768 events, 1.25 MiB

// Starts recording into path (created or truncated now, so a path that cannot be written is an
// error at start: false, with a diagnostic). A trace already running is stopped first.
bool start(const char *path) noexcept;
// Stops recording and writes the file. False (with a diagnostic) if nothing was running or the
// file could not be written.
bool stop() noexcept;
// NDISLOCK_TRACE=<path>: starts a trace written at exit. Once per process.
void configure_from_environment() noexcept;

// Events the seam has no hook for: an interrupt asserted toward a processor (its ISR's entry is
// drawn as the arrow's end), and a verifier finding (an instant event on the reporting thread).
void interrupt_asserted(const void *interrupt, std::uint32_t processor) noexcept;
void finding(const char *rule_id, const char *file, int line) noexcept;

bool recording() noexcept;

} // namespace ndislock::observe::trace
