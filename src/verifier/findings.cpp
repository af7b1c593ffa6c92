#include "verifier/findings.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <unistd.h>

#include "model/preemption.h"
#include "observe/rules.h"
#include "observe/trace.h"
#include "platform/diagnostics.h"
#include "verifier/checks.h"
#include "verifier/lock_classes.h"
#include "verifier/report.h"
#include "verifier/settings.h"
#include "verifier/sites.h"
#include "verifier/suppressions.h"

namespace ndislock::verifier {

namespace {

// What a finding keeps: the strings its NDISLOCK_FINDING view points into.
struct Stored {
    observe::Rule rule;
    observe::Site site;
    std::string message, lock_class;
    ResolvedSite resolved{}, other{};
    NDISLOCK_FINDING view{};
    bool suppressed = false; // by NDISLOCK_SUPPRESSIONS: kept for SARIF, not printed or counted
};

std::mutex g_mutex;
std::deque<Stored> *g_findings = new std::deque<Stored>; // leaked on purpose: read at exit
unsigned g_errors = 0;
unsigned g_suppressed = 0;

bool same_location(const observe::Site &a, const observe::Site &b) noexcept {
    if (a.file != nullptr || b.file != nullptr) return a.file == b.file && a.line == b.line;
    return a.return_address == b.return_address;
}

} // namespace

// The IRQL a report shows: the call's, when the check ran after the call changed it (an acquire
// taken at once is checked after its raise: spin_lock_ops.h), else the thread's.
static KIRQL report_irql(const Report &r) noexcept {
    return r.irql >= 0 ? static_cast<KIRQL>(r.irql) : r.thread->irql().load(std::memory_order_relaxed);
}

// Whether this report ends the process whatever the mode: its rule is terminal and the call that
// found it could really hang (Report::not_terminal).
static bool ends_process(const Report &r) noexcept { return observe::rule_info(r.rule).terminal && !r.not_terminal; }

const char *irql_name(KIRQL irql) noexcept {
    switch (irql) {
    case PASSIVE_LEVEL:
        return "PASSIVE_LEVEL";
    case APC_LEVEL:
        return "APC_LEVEL";
    case DISPATCH_LEVEL:
        return "DISPATCH_LEVEL";
    case HIGH_LEVEL:
        return "HIGH_LEVEL";
    default:
        return irql > DISPATCH_LEVEL && irql < CLOCK_LEVEL ? "DIRQL" : "IRQL";
    }
}

std::string format_report(const Report &r) {
    const observe::RuleInfo &info = observe::rule_info(r.rule);
    char line[1024], where[512];
    std::string text;
    std::snprintf(line, sizeof line, "ndislock verifier: %s: %s%s\n", observe::severity_name(info.severity), info.id,
                  ends_process(r) ? " (terminal)" : "");
    text += line;
    text += "  " + r.explanation + "\n";
    std::snprintf(line, sizeof line, "  Windows: %s\n", info.windows);
    text += line;
    std::snprintf(line, sizeof line, "  at %s\n", format_site(r.site, where, sizeof where));
    text += line;
    if (r.other_role != nullptr) {
        std::snprintf(line, sizeof line, "  %s %s\n", r.other_role, format_site(r.other, where, sizeof where));
        text += line;
    }
    if (r.lock != nullptr) {
        char cls[512];
        std::snprintf(line, sizeof line, "  lock %p, class %s\n", r.lock,
                      describe_class(r.lock_class, cls, sizeof cls));
        text += line;
    }
    if (r.thread != nullptr) {
        const KIRQL irql = report_irql(r);
        std::snprintf(line, sizeof line, "  processor %u, thread %d, IRQL %s (%u)\n",
                      r.thread->processor().load(std::memory_order_relaxed),
                      r.thread->os_tid.load(std::memory_order_relaxed), irql_name(irql), irql);
        text += line;
    }
    text += r.scenario;
    return text;
}

namespace {
// Inside an exploration's schedule a finding on a scenario thread is the schedule's (docs/explore.md,
// "The verifier in a schedule"): offered to the exploration before it is kept, counted or printed,
// with the report's text but its first line (the rule, which the exploration names) and the
// processor and thread line (the exploration numbers its threads itself). A suppressed finding
// and a note are not offered: they fail no schedule. True if the exploration took it.
bool offer_to_exploration(const Report &r, const observe::RuleInfo &info) {
    if (info.severity == observe::Severity::Note) return false;
    const ResolvedSite where = resolve_site(r.site);
    char cls[512];
    const char *name = r.lock != nullptr ? class_name(r.lock_class) : nullptr;
    if (is_suppressed(info.id, where.file, where.function,
                      name != nullptr ? name
                                      : (r.lock != nullptr ? describe_class(r.lock_class, cls, sizeof cls) : nullptr)))
        return false;
    const std::string text = format_report(r);
    std::string kept = std::string("the verifier reports ") + observe::severity_name(info.severity) + ":\n";
    for (std::size_t at = text.find('\n') + 1, end; at < text.size(); at = end + 1) {
        end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        // Not the processor and thread line (the exploration numbers its threads itself), the
        // lock's address and class (the rule's text names the classes where they matter), nor the
        // two-column scenario (the exploration's trace shows the interleaving itself).
        if (text.compare(at, 11, "  scenario:") == 0) break;
        if (text.compare(at, 12, "  processor ") != 0 && text.compare(at, 7, "  lock ") != 0)
            kept.append(text, at, end + 1 - at);
    }
    return observe::offer_finding(info.id, kept.c_str());
}
} // namespace

void report(const Report &r) noexcept {
    const observe::RuleInfo &info = observe::rule_info(r.rule);
    if (__builtin_expect(observe::finding_takers(), 0) && offer_to_exploration(r, info)) return;
    if (observe::trace::recording()) observe::trace::finding(info.id, r.site.file, r.site.line);
    std::string text;
    {
        std::lock_guard<std::mutex> guard(g_mutex);
        for (Stored &s : *g_findings) {
            if (s.rule == r.rule && same_location(s.site, r.site)) {
                ++s.view.Count;
                if (s.suppressed || !ends_process(r)) return;
                break; // a terminal finding ends the process even when repeated
            }
        }
        text = format_report(r);
        Stored &s = g_findings->emplace_back();
        s.rule = r.rule;
        s.site = r.site;
        s.message = text;
        char cls[512];
        s.lock_class = r.lock != nullptr ? describe_class(r.lock_class, cls, sizeof cls) : "";
        s.resolved = resolve_site(r.site);
        if (r.other_role != nullptr) s.other = resolve_site(r.other);
        NDISLOCK_FINDING &v = s.view;
        v.RuleId = info.id;
        v.Severity = info.severity == observe::Severity::Error     ? NDISLOCK_SEVERITY_ERROR
                     : info.severity == observe::Severity::Warning ? NDISLOCK_SEVERITY_WARNING
                                                                   : NDISLOCK_SEVERITY_NOTE;
        v.Terminal = ends_process(r) ? TRUE : FALSE;
        v.Message = s.message.c_str();
        v.File = s.resolved.file;
        v.Line = s.resolved.line;
        v.Function = s.resolved.function;
        v.ReturnAddress = r.site.return_address;
        v.OtherFile = s.other.file;
        v.OtherLine = s.other.line;
        v.OtherFunction = s.other.function;
        v.Lock = r.lock;
        v.LockClass = r.lock != nullptr ? s.lock_class.c_str() : nullptr;
        v.Processor = r.thread != nullptr ? r.thread->processor().load(std::memory_order_relaxed) : 0;
        v.ThreadId = r.thread != nullptr ? r.thread->os_tid.load(std::memory_order_relaxed) : 0;
        v.Irql = r.thread != nullptr ? report_irql(r) : 0;
        v.Count = 1;
        const char *name = r.lock != nullptr ? class_name(r.lock_class) : nullptr;
        s.suppressed = is_suppressed(info.id, s.resolved.file, s.resolved.function,
                                     name != nullptr ? name : (r.lock != nullptr ? s.lock_class.c_str() : nullptr));
        if (s.suppressed) {
            ++g_suppressed;
            return; // not printed, no exit status
        }
        if (info.severity == observe::Severity::Error) ++g_errors;
    }
    // One write, so reports of different threads do not interleave.
    (void)!::write(2, text.data(), text.size());
    if (ends_process(r) || (fatal_mode() && info.severity == observe::Severity::Error)) {
        if (const char *path = sarif_path(); path[0] != '\0') write_sarif(path);
        // The HTML report too, unless this runs inside a driver routine ndislock called (an ISR or
        // a DPC runs in a signal handler, too small a place for writing a page).
        if (r.thread == nullptr || r.thread->callback.kind.load(std::memory_order_relaxed) == 0)
            html_report::write_at_exit();
        platform::fatal("verifier: %s is %s; ending the process", info.id,
                        ends_process(r) ? "terminal (Windows would hang or bug-check here)" : "an error in fatal mode");
    }
}

unsigned finding_count() noexcept {
    std::lock_guard<std::mutex> guard(g_mutex);
    return static_cast<unsigned>(g_findings->size()) - g_suppressed;
}

unsigned suppressed_count() noexcept {
    std::lock_guard<std::mutex> guard(g_mutex);
    return g_suppressed;
}

unsigned error_count() noexcept {
    std::lock_guard<std::mutex> guard(g_mutex);
    return g_errors;
}

unsigned copy_findings(NDISLOCK_FINDING *out, unsigned max) noexcept {
    std::lock_guard<std::mutex> guard(g_mutex);
    unsigned i = 0;
    for (const Stored &s : *g_findings) {
        if (s.suppressed) continue;
        if (i < max) out[i] = s.view;
        ++i;
    }
    return i;
}

void reset_findings() noexcept {
    std::lock_guard<std::mutex> guard(g_mutex);
    g_findings->clear();
    g_errors = 0;
    g_suppressed = 0;
}

// Helpers for the SARIF writer, which needs the findings and their resolved sites.
void for_each_finding(void (*f)(const NDISLOCK_FINDING &, bool suppressed, void *), void *context) {
    std::lock_guard<std::mutex> guard(g_mutex);
    for (const Stored &s : *g_findings)
        f(s.view, s.suppressed, context);
}

namespace {
void at_exit() {
    // No interrupt stops the exiting thread while it holds the findings' or the symbolizer's mutex:
    // an ISR's finding would wait for it forever.
    const model::NoPreempt guard;
    check_process_exit();         // first: its finding belongs in the log and the exit status
    html_report::write_at_exit(); // NDISLOCK_REPORT / NdislockReportStart: before any _exit below
    const int code = g_settings.exit_code.load(std::memory_order_relaxed);
    if (const char *path = sarif_path(); path[0] != '\0' && write_sarif(path) != 0) {
        std::fflush(nullptr);
        platform::diagnostic("verifier: error: the SARIF log \"%s\" was not written; exit status %d", path, code);
        if (code != 0) _exit(code);
    }
    if (const unsigned suppressed = suppressed_count(); suppressed != 0)
        platform::diagnostic("verifier: %u finding%s suppressed (NDISLOCK_SUPPRESSIONS); the SARIF log keeps them",
                             suppressed, suppressed == 1 ? "" : "s");
    const unsigned errors = error_count();
    if (errors != 0 && code != 0) {
        std::fflush(nullptr);
        platform::diagnostic("verifier: %u error finding%s reported; exit status %d (NDISLOCK_VERIFIER_EXITCODE)",
                             errors, errors == 1 ? "" : "s", code);
        _exit(code);
    }
}
} // namespace

void install_exit_handler() noexcept {
    static std::once_flag once;
    std::call_once(once, [] { std::atexit(at_exit); });
}

} // namespace ndislock::verifier
