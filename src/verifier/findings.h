// Findings: one per distinct (rule, location), printed to stderr the first time, counted after
// that, kept for the C API and the SARIF log, and acted on: terminal rules (and every error in
// fatal mode) end the process after their report.
#pragma once

#include <cstdint>
#include <string>

#include "model/thread_state.h"
#include "ndislock/verifier.h"
#include "observe/hooks.h"

namespace ndislock::verifier {

struct Report {
    explicit Report(observe::Rule r) : rule(r) {}
    observe::Rule rule;
    observe::Site site{};             // the offending call
    std::string explanation;          // what happened, for a driver author, specific to this case
    observe::Site other{};            // the other party, if any
    const char *other_role = nullptr; // e.g. "acquired at", "held since"
    const void *lock = nullptr;
    std::uint32_t lock_class = 0;
    model::ThreadState *thread = nullptr;
    int irql = -1;        // the IRQL at the offending call, if not the thread's IRQL now
    std::string scenario; // extra lines (two-column scenarios), already formatted
    // A terminal rule found by a call that cannot hang (a try-acquire of the caller's own lock
    // returns FALSE on Windows): reported as an error, and the process goes on.
    bool not_terminal = false;
};

// "DISPATCH_LEVEL", "DIRQL", ... for an IRQL value.
const char *irql_name(KIRQL irql) noexcept;

// Records and prints the finding (first time), or counts a repeat. Ends the process for terminal
// rules and in fatal mode.
void report(const Report &r) noexcept;

// The whole text of a report as printed (also used for golden tests).
std::string format_report(const Report &r);

unsigned finding_count() noexcept;
unsigned error_count() noexcept;
unsigned suppressed_count() noexcept; // findings NDISLOCK_SUPPRESSIONS silenced (not in the counts above)
unsigned copy_findings(NDISLOCK_FINDING *out, unsigned max) noexcept;
void reset_findings() noexcept;
// Calls f for each finding, oldest first, under the findings' mutex (the SARIF log, the report).
void for_each_finding(void (*f)(const NDISLOCK_FINDING &, bool suppressed, void *), void *context);

// The SARIF 2.1.0 log of the current findings (sarif.cpp).
int write_sarif(const char *path) noexcept;
// The file a SARIF path names in this process: every "%p" replaced by the process ID.
std::string sarif_file_name(const char *path);

// At exit: the SARIF log if asked for, then the exit status if errors were reported.
void install_exit_handler() noexcept;

} // namespace ndislock::verifier
