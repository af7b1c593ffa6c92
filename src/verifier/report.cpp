// The report's life (report.h): what starts it, gathering the live figures into a model, and
// writing the page at the right moments.
#include "verifier/report.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

#include "model/processors.h"
#include "ndislock/ext.h"
#include "observe/lock_names.h"
#include "observe/lock_stats.h"
#include "observe/report_samples.h"
#include "platform/diagnostics.h"
#include "platform/histogram.h"
#include "platform/output_file.h"
#include "verifier/findings.h"
#include "verifier/settings.h"

namespace ndislock::verifier::html_report {

namespace {

std::mutex g_control; // start, stop, write
std::string g_path;   // the running report's file
std::atomic<bool> g_running{false};

// The library histogram's buckets (platform/histogram.h) folded into powers of two.
Histogram fold(const std::uint64_t *fine, std::uint64_t max_ns) {
    Histogram h;
    for (unsigned b = 0; b < platform::kHistogramBuckets; ++b) {
        if (fine[b] == 0) continue;
        const unsigned power = platform::histogram_bucket_power(b);
        h.bins[power < kPowers ? power : kPowers - 1] += fine[b];
        h.count += fine[b];
    }
    h.max_ns = max_ns;
    return h;
}

// The text of line `line` of file, trimmed, or "" if it cannot be read.
std::string source_line(const char *file, int line) {
    if (file == nullptr || line <= 0) return {};
    std::FILE *f = std::fopen(file, "r");
    if (f == nullptr) return {};
    std::string text;
    int at = 1, c;
    while ((c = std::fgetc(f)) != EOF) {
        if (c == '\n') {
            if (at++ == line) break;
            continue;
        }
        if (at == line && text.size() < 240) text += static_cast<char>(c);
    }
    std::fclose(f);
    const auto first = text.find_first_not_of(" \t");
    return first == std::string::npos ? std::string() : text.substr(first);
}

std::string program_line() {
    std::string out;
    if (std::FILE *f = std::fopen("/proc/self/cmdline", "r")) {
        int c;
        while ((c = std::fgetc(f)) != EOF && out.size() < 300)
            out += c == '\0' ? ' ' : static_cast<char>(c);
        std::fclose(f);
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out.empty() ? std::string("(unknown program)") : out;
}

std::string now_line() {
    char when[64] = "";
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    if (gmtime_r(&t, &tm) != nullptr) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return std::string("written ") + when + ", " + std::to_string(model::processor_count()) + " virtual processors";
}

const char *severity_word(NDISLOCK_SEVERITY s) {
    return s == NDISLOCK_SEVERITY_ERROR ? "error" : s == NDISLOCK_SEVERITY_WARNING ? "warning" : "note";
}

void add_finding(const NDISLOCK_FINDING &f, bool suppressed, void *context) {
    if (suppressed) return;
    FindingRow row;
    row.rule = f.RuleId != nullptr ? f.RuleId : "";
    row.severity = severity_word(f.Severity);
    row.terminal = f.Terminal != FALSE;
    row.message = f.Message != nullptr ? f.Message : "";
    while (!row.message.empty() && row.message.back() == '\n')
        row.message.pop_back();
    row.file = f.File != nullptr ? f.File : "";
    row.line = f.Line;
    row.function = f.Function != nullptr ? f.Function : "";
    row.count = f.Count;
    static_cast<std::vector<FindingRow> *>(context)->push_back(std::move(row));
}

bool write_file(const std::string &path, const Model &m) {
    const std::string page = render_html(m);
    std::FILE *f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    const bool wrote = std::fwrite(page.data(), 1, page.size(), f) == page.size();
    return std::fclose(f) == 0 && wrote;
}

bool write_locked(const std::string &path) noexcept {
    bool ok = false;
    try {
        ok = write_file(path, gather());
    } catch (...) {
        ok = false;
    }
    if (!ok) platform::diagnostic("report: could not write '%s'", path.c_str());
    return ok;
}

} // namespace

Model gather() {
    Model m;
    m.program = program_line();
    m.generated = now_line();
    m.hold_budget_ns = g_settings.hold_budget_ns.load(std::memory_order_relaxed);
    m.isr_budget_ns = g_settings.isr_budget_ns.load(std::memory_order_relaxed);
    m.dpc_budget_ns = g_settings.dpc_budget_ns.load(std::memory_order_relaxed);
    const int mode = g_settings.mode.load(std::memory_order_relaxed);
    m.verifier_mode = mode == NDISLOCK_VERIFIER_OFF ? "off" : mode == NDISLOCK_VERIFIER_FATAL ? "fatal" : "on";
    m.top = kTopLocks;

    static NDISLOCK_LOCK_STATS all[NDISLOCK_STATS_MAX_LOCKS]; // under g_control or at exit: one writer
    m.locks_tracked = observe::stats::collect(all, NDISLOCK_STATS_MAX_LOCKS);
    m.statistics = m.locks_tracked != 0 || g_running.load(std::memory_order_relaxed);
    std::vector<std::uint64_t> fine(platform::kHistogramBuckets);
    std::vector<observe::samples::TimeBucket> buckets(observe::samples::kTimeBuckets);
    for (unsigned i = 0; i < m.locks_tracked && i < kTopLocks; ++i) {
        const NDISLOCK_LOCK_STATS &s = all[i];
        LockRow row;
        char address[32];
        std::snprintf(address, sizeof address, "%p", s.Lock);
        row.name = s.Name != nullptr ? s.Name : address;
        row.acquisitions = s.Acquisitions;
        row.contended = s.Contended;
        row.p50_ns = s.HoldP50Ns;
        row.p99_ns = s.HoldP99Ns;
        row.max_ns = s.HoldMaxNs;
        row.over_budget = s.OverBudget;
        row.descheduled = s.Descheduled;
        std::fill(fine.begin(), fine.end(), 0);
        const int entry = observe::stats::histogram(s.Lock, fine.data());
        row.holds = fold(fine.data(), s.HoldMaxNs);
        if (entry >= 0) {
            const observe::samples::Timeline tl =
                observe::samples::lock_timeline(static_cast<unsigned>(entry), buckets.data());
            m.bucket_ns = tl.bucket_ns;
            m.first_bucket = tl.first_bucket;
            for (unsigned b = 0; b < tl.buckets; ++b)
                row.timeline.push_back({buckets[b].acquisitions, buckets[b].contended});
        }
        m.locks.push_back(std::move(row));
    }
    if (m.bucket_ns == 0) m.bucket_ns = observe::samples::kDefaultBucketNs;

    std::uint64_t max_ns = 0;
    std::fill(fine.begin(), fine.end(), 0);
    observe::samples::routine_histogram(observe::samples::RoutineKind::Isr, fine.data(), &max_ns);
    m.isr = fold(fine.data(), max_ns);
    std::fill(fine.begin(), fine.end(), 0);
    observe::samples::routine_histogram(observe::samples::RoutineKind::Dpc, fine.data(), &max_ns);
    m.dpc = fold(fine.data(), max_ns);

    for_each_finding(add_finding, &m.findings);
    for (FindingRow &f : m.findings)
        f.source = source_line(f.file.empty() ? nullptr : f.file.c_str(), f.line);
    return m;
}

bool start(const char *path) noexcept {
    if (!platform::prepare_output_file(path, "report", "no report will be written")) return false;
    std::lock_guard<std::mutex> guard(g_control);
    try {
        g_path = path;
    } catch (...) {
        return false;
    }
    if (!observe::samples::start(0)) {
        platform::diagnostic("report: out of memory for the contention samples; no report will be written");
        return false;
    }
    observe::stats::enable(true, g_settings.hold_budget_ns.load(std::memory_order_relaxed));
    g_running.store(true, std::memory_order_release);
    // The verifier's exit handler writes the running report, after its own last checks; it is
    // harmless with the verifier off.
    install_exit_handler();
    return true;
}

bool stop() noexcept {
    std::lock_guard<std::mutex> guard(g_control);
    if (!g_running.exchange(false, std::memory_order_acq_rel)) {
        platform::diagnostic("report: no report is running");
        return false;
    }
    observe::samples::stop();
    return write_locked(g_path);
}

bool write(const char *path) noexcept {
    std::lock_guard<std::mutex> guard(g_control);
    if (path == nullptr && !g_running.load(std::memory_order_acquire)) {
        platform::diagnostic("report: no path given and no report is running");
        return false;
    }
    try {
        return write_locked(path != nullptr ? std::string(path) : g_path);
    } catch (...) {
        return false;
    }
}

bool running() noexcept { return g_running.load(std::memory_order_acquire); }

void write_at_exit() noexcept {
    if (!g_running.exchange(false, std::memory_order_acq_rel)) return;
    observe::samples::stop();
    write_locked(g_path); // at exit nothing else starts or stops a report: no g_control
}

void configure_from_environment() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        const char *path = std::getenv("NDISLOCK_REPORT");
        // A report the program started itself (NdislockReportStart before its first lock call)
        // is not replaced.
        if (path != nullptr && *path != '\0' && !running()) start(path);
    });
}

} // namespace ndislock::verifier::html_report
