// The verifier's C API (ndislock/verifier.h), and the report's (ndislock/ext.h), which reads the
// verifier's findings and budgets.
#include <string>

#include "ndislock/verifier.h"

#include "model/preemption.h"
#include "observe/watchdog.h"
#include "verifier/findings.h"
#include "verifier/hold_times.h"
#include "verifier/report.h"
#include "platform/diagnostics.h"
#include "verifier/settings.h"
#include "verifier/suppressions.h"

using namespace ndislock::verifier;

// Several of these take the verifier's internal mutexes. An interrupt never stops a thread inside
// them (a thread at DISPATCH_LEVEL reading its findings), so an ISR's own finding never waits for
// a mutex its interrupted thread holds: the same guard the observers run under.
using InternalLocks = ndislock::model::NoPreempt;

extern "C" {

NDISLOCK_API void NdislockVerifierSetMode(NDISLOCK_VERIFIER_MODE mode) {
    const InternalLocks guard;
    configure_once();
    apply_mode(mode);
}
NDISLOCK_API NDISLOCK_VERIFIER_MODE NdislockVerifierGetMode(void) {
    const InternalLocks guard;
    configure_once();
    return static_cast<NDISLOCK_VERIFIER_MODE>(g_settings.mode.load());
}
NDISLOCK_API void NdislockVerifierSetHoldBudget(ULONG64 ns) {
    const InternalLocks guard;
    configure_once();
    g_settings.hold_budget_ns.store(ns != 0 ? ns : kDefaultHoldBudgetNs);
}
NDISLOCK_API void NdislockVerifierSetHoldSampling(ULONG every_nth) {
    configure_once();
    g_settings.hold_sample_period.store(every_nth == 0                     ? kDefaultHoldSamplePeriod
                                        : every_nth < kMaxHoldSamplePeriod ? every_nth
                                                                           : kMaxHoldSamplePeriod);
}
NDISLOCK_API void NdislockVerifierSetWatchdog(ULONG ms) {
    const InternalLocks guard;
    configure_once();
    ndislock::observe::g_watchdog_limit_ns.store(ms != 0 ? ms * std::uint64_t{1'000'000}
                                                         : ndislock::observe::kDefaultWatchdogLimitNs);
}
NDISLOCK_API void NdislockVerifierSetExitCode(int code) {
    const InternalLocks guard;
    configure_once();
    g_settings.exit_code.store(code);
}
NDISLOCK_API void NdislockVerifierSetSarifPath(const char *path) {
    const InternalLocks guard;
    configure_once();
    set_sarif_path(path);
}
NDISLOCK_API int NdislockVerifierWriteSarif(const char *path) {
    const InternalLocks guard;
    configure_once();
    return write_sarif(path);
}
NDISLOCK_API ULONG NdislockVerifierFindingCount(void) {
    const InternalLocks guard;
    configure_once();
    return finding_count();
}
NDISLOCK_API ULONG NdislockVerifierErrorCount(void) {
    const InternalLocks guard;
    configure_once();
    return error_count();
}
NDISLOCK_API ULONG NdislockVerifierGetFindings(NDISLOCK_FINDING *out, ULONG max) {
    const InternalLocks guard;
    configure_once();
    return copy_findings(out, max);
}
NDISLOCK_API void NdislockVerifierResetFindings(void) {
    const InternalLocks guard;
    configure_once();
    reset_findings();
}
NDISLOCK_API int NdislockVerifierAddSuppression(const char *line) {
    const InternalLocks guard;
    configure_once();
    std::string why;
    if (add_suppression(line, &why)) return 0;
    ndislock::platform::diagnostic("NdislockVerifierAddSuppression(\"%s\"): %s", line != nullptr ? line : "(null)",
                                   why.c_str());
    return -1;
}
NDISLOCK_API ULONG NdislockVerifierSuppressedCount(void) {
    const InternalLocks guard;
    configure_once();
    return suppressed_count();
}
NDISLOCK_API ULONG NdislockVerifierGetHoldTimes(NDISLOCK_CLASS_HOLD_TIMES *out, ULONG max) {
    const InternalLocks guard;
    configure_once();
    return copy_class_hold_times(out, max);
}

// The report runs at PASSIVE_LEVEL (it writes a file); no interrupt stops it holding its mutex.
NDISLOCK_API NDISLOCK_STATUS NdislockReportStart(const char *path) {
    const InternalLocks guard;
    configure_once();
    if (path == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    return html_report::start(path) ? NDISLOCK_OK : NDISLOCK_IO_ERROR;
}
NDISLOCK_API NDISLOCK_STATUS NdislockReportStop(void) {
    const InternalLocks guard;
    configure_once();
    return html_report::stop() ? NDISLOCK_OK : NDISLOCK_IO_ERROR;
}
NDISLOCK_API NDISLOCK_STATUS NdislockReportWrite(const char *path) {
    const InternalLocks guard;
    configure_once();
    if (path == nullptr && !html_report::running()) return NDISLOCK_INVALID_ARGUMENT;
    return html_report::write(path) ? NDISLOCK_OK : NDISLOCK_IO_ERROR;
}

} // extern "C"
