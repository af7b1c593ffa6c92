#include "verifier/settings.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unistd.h>

#include "observe/watchdog.h"
#include "observe/tool_annotations.h"
#include "platform/diagnostics.h"
#include "verifier/checks.h"
#include "verifier/findings.h"
#include "verifier/held_locks.h"
#include "verifier/long_holds.h"
#include "verifier/shadow.h"
#include "verifier/suppressions.h"

namespace ndislock::verifier {

Settings g_settings;

namespace {

std::mutex g_path_mutex;
char g_sarif_path[4096] = "";

bool parse_number(const char *name, unsigned long long min, unsigned long long max, unsigned long long *out) {
    const char *text = std::getenv(name);
    if (text == nullptr || *text == '\0') return false;
    char *end = nullptr;
    const unsigned long long n = std::strtoull(text, &end, 10);
    if (*end != '\0' || n < min || n > max) {
        platform::diagnostic("%s=\"%s\" is not a number from %llu to %llu; ignored", name, text, min, max);
        return false;
    }
    *out = n;
    return true;
}

void configure_from_environment() {
    NDISLOCK_VERIFIER_MODE mode = NDISLOCK_VERIFIER_ON;
    if (const char *text = std::getenv("NDISLOCK_VERIFIER"); text != nullptr && *text != '\0') {
        if (std::strcmp(text, "off") == 0 || std::strcmp(text, "0") == 0)
            mode = NDISLOCK_VERIFIER_OFF;
        else if (std::strcmp(text, "on") == 0 || std::strcmp(text, "1") == 0)
            mode = NDISLOCK_VERIFIER_ON;
        else if (std::strcmp(text, "fatal") == 0)
            mode = NDISLOCK_VERIFIER_FATAL;
        else
            platform::diagnostic("NDISLOCK_VERIFIER=\"%s\" is not off, on or fatal; using on", text);
    }
    unsigned long long n = 0;
    if (parse_number("NDISLOCK_HOLD_BUDGET_US", 1, 10'000'000, &n)) g_settings.hold_budget_ns.store(n * 1000);
    if (parse_number("NDISLOCK_HOLD_SAMPLE", 1, kMaxHoldSamplePeriod, &n))
        g_settings.hold_sample_period.store(static_cast<std::uint32_t>(n));
    if (parse_number("NDISLOCK_ISR_BUDGET_US", 1, 10'000'000, &n)) g_settings.isr_budget_ns.store(n * 1000);
    if (parse_number("NDISLOCK_DPC_BUDGET_US", 1, 10'000'000, &n)) g_settings.dpc_budget_ns.store(n * 1000);
    if (parse_number("NDISLOCK_WATCHDOG_MS", 1, 86'400'000, &n)) observe::g_watchdog_limit_ns.store(n * 1'000'000);
    if (parse_number("NDISLOCK_DPC_TIME_LIMIT_MS", 1, 86'400'000, &n))
        observe::g_dpc_time_limit_ns.store(n * 1'000'000);
    if (parse_number("NDISLOCK_DPC_WATCHDOG_LIMIT_MS", 1, 86'400'000, &n))
        observe::g_dpc_watchdog_limit_ns.store(n * 1'000'000);
    if (parse_number("NDISLOCK_VERIFIER_EXITCODE", 0, 255, &n)) g_settings.exit_code.store(static_cast<int>(n));
    if (const char *path = std::getenv("NDISLOCK_SARIF"); path != nullptr) set_sarif_path(path);
    if (const char *path = std::getenv("NDISLOCK_SUPPRESSIONS"); path != nullptr && *path != '\0')
        load_suppressions_file(path);
    g_settings.on_since_start.store(mode != NDISLOCK_VERIFIER_OFF);
    apply_mode(mode);
    // After the verifier, so it keeps the observer slot it has without a tool.
    observe::announce_locks_to_tools();
}

} // namespace

void configure_once() noexcept {
    static std::once_flag once;
    std::call_once(once, configure_from_environment);
}

void apply_mode(NDISLOCK_VERIFIER_MODE mode) noexcept {
    // One switch at a time: two threads switching at once could otherwise leave the mode on with
    // the observer removed. Callers hold the no-preempt guard, so no emulated interrupt on this
    // thread can switch again while this runs.
    static std::mutex switching;
    const std::lock_guard<std::mutex> one_at_a_time(switching);
    if (mode != NDISLOCK_VERIFIER_OFF && !shadow_reserve()) {
        platform::diagnostic("verifier: cannot reserve its lock table; the verifier stays off");
        mode = NDISLOCK_VERIFIER_OFF;
    }
    const int before = g_settings.mode.exchange(mode, std::memory_order_acq_rel);
    if (mode == NDISLOCK_VERIFIER_OFF) {
        observe::remove_observer(&kVerifierObserver);
        // Locks allocated from now on go unseen: a lock met later without an allocation is
        // adopted, not reported as never initialized.
        g_settings.on_since_start.store(false);
        return;
    }
    if (before == NDISLOCK_VERIFIER_OFF) start_table_epoch(); // the threads' tables missed calls
    install_exit_handler();
    start_sentinel();
    const int slot = observe::add_observer(&kVerifierObserver);
    if (slot < 0) {
        platform::diagnostic("verifier: no free observer slot; the verifier stays off");
        g_settings.mode.store(NDISLOCK_VERIFIER_OFF);
        return;
    }
}

bool fatal_mode() noexcept { return g_settings.mode.load(std::memory_order_relaxed) == NDISLOCK_VERIFIER_FATAL; }

std::atomic<bool> g_sarif_unwritable{false};

namespace {
// Whether a log can be written at path when the process ends: its folder exists and may be
// written, and the file, if there, may be overwritten. errno says why not.
bool sarif_writable(const char *named) noexcept {
    const std::string file = sarif_file_name(named); // "%p" as this process will write it
    const char *path = file.c_str();
    const char *slash = std::strrchr(path, '/');
    const std::string folder = slash == nullptr ? "." : slash == path ? "/" : std::string(path, slash);
    if (access(folder.c_str(), W_OK | X_OK) != 0) return false;
    return access(path, F_OK) != 0 || access(path, W_OK) == 0;
}
} // namespace

void set_sarif_path(const char *path) noexcept {
    std::lock_guard<std::mutex> guard(g_path_mutex);
    std::strncpy(g_sarif_path, path != nullptr ? path : "", sizeof g_sarif_path - 1);
    g_sarif_unwritable.store(false);
    if (path == nullptr || path[0] == '\0') return;
    install_exit_handler();
    // Said now, not at the end: a CI job that uploads the log would otherwise upload nothing and
    // say nothing. The exit status says it too (findings.cpp).
    if (!sarif_writable(path)) {
        g_sarif_unwritable.store(true);
        platform::diagnostic("verifier: error: the SARIF log \"%s\" cannot be written (%s); no findings will be "
                             "written there, and the process will exit with status %d",
                             path, std::strerror(errno), g_settings.exit_code.load());
    }
}

const char *sarif_path() noexcept { return g_sarif_path; }

} // namespace ndislock::verifier

// The callback budgets' C call lives here, with the settings it sets (ndislock/verifier.h).
extern "C" NDISLOCK_API void NdislockVerifierSetCallbackBudgets(ULONG64 IsrNs, ULONG64 DpcNs) {
    using namespace ndislock::verifier;
    configure_once();
    g_settings.isr_budget_ns.store(IsrNs != 0 ? IsrNs : kDefaultIsrBudgetNs);
    g_settings.dpc_budget_ns.store(DpcNs != 0 ? DpcNs : kDefaultDpcBudgetNs);
}
