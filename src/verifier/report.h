// The HTML report (NDISLOCK_REPORT=<path>.html, NdislockReportStart/Stop/Write in ndislock/ext.h;
// docs/tools.md, "Report"): one self-contained page with each busy lock's hold-time histogram
// against the hold budget and its contention over time, the ISR and DPC run-time histograms
// against their budgets, and the verifier's findings with their source lines.
//
// Starting a report turns the lock statistics and the report's samples (observe/report_samples.h)
// on; the page is written by stop(), by write() at any time, and at exit for a report still
// running (from the verifier's exit handler, after its last checks, so their findings are in it).
// It lives beside the verifier because it reads the findings and the budgets; it reads the other
// figures from observe/.
#pragma once

#include "verifier/report_model.h"

namespace ndislock::verifier::html_report {

inline constexpr unsigned kTopLocks = 12; // the busiest locks shown

// Starts a report written to path at exit (or by stop). The file is created now, so a path that
// cannot be written fails here (false, with a diagnostic). A report already running is replaced.
bool start(const char *path) noexcept;
// Writes the running report and ends it (sampling stops; the lock statistics stay as they are).
bool stop() noexcept;
// Writes the figures so far to path (nullptr: the running report's path). Does not stop anything.
bool write(const char *path) noexcept;
bool running() noexcept;
// NDISLOCK_REPORT=<path>: starts a report at the first call into ndislock. Once per process.
void configure_from_environment() noexcept;
// The running report, if any, written once (the verifier's exit handler, or a terminal finding).
void write_at_exit() noexcept;

// The live figures as a model (what write() renders).
Model gather();

} // namespace ndislock::verifier::html_report
