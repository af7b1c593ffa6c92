// What the HTML report shows (report.h), gathered from the live figures (report_gather.cpp) or
// given by a test (tests/report: a fixed model renders to a page whose screenshot is stable),
// and rendered by report_html.cpp. Plain values: rendering reads nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ndislock::verifier::html_report {

// Time histograms by power of two: bins[k] counts values in [2^k, 2^(k+1)) ns (bins[0] also 0).
inline constexpr unsigned kPowers = 45;
struct Histogram {
    std::uint64_t bins[kPowers] = {};
    std::uint64_t count = 0;  // values counted (the sum of bins)
    std::uint64_t max_ns = 0; // the longest, exact
};

struct ContentionBucket {
    std::uint32_t acquisitions = 0;
    std::uint32_t contended = 0;
};

struct LockRow {
    std::string name; // NdislockSetLockName's name, or the address
    std::uint64_t acquisitions = 0, contended = 0, p50_ns = 0, p99_ns = 0, max_ns = 0, over_budget = 0, descheduled = 0;
    Histogram holds;
    std::vector<ContentionBucket> timeline; // per time bucket, oldest first (Model::first_bucket)
};

struct FindingRow {
    std::string rule, severity; // "RecursiveAcquire", "error"
    bool terminal = false;
    std::string message; // the verifier's whole report text
    std::string file;    // "" when only an address is known
    int line = 0;
    std::string function;
    std::string source; // the text of that source line, when the file could be read
    std::uint64_t count = 0;
};

struct Model {
    std::string program;   // what ran
    std::string generated; // when the report was written (free text)
    std::uint64_t hold_budget_ns = 0, isr_budget_ns = 0, dpc_budget_ns = 0;
    bool statistics = false;    // lock statistics were on (the report turns them on)
    unsigned locks_tracked = 0; // all the statistics table tracked
    unsigned top = 0;           // the most locks shown (locks holds the busiest, up to top)
    std::vector<LockRow> locks;
    std::uint64_t bucket_ns = 0;    // contention time buckets
    std::uint64_t first_bucket = 0; // the index since the report started of each timeline's first bucket
    Histogram isr, dpc;
    std::string verifier_mode; // "off", "on", "fatal"
    std::vector<FindingRow> findings;
};

// The whole page: one self-contained HTML document (inline CSS and SVG, no script, no external
// resource). Every text from the model is escaped.
std::string render_html(const Model &m);

// "850 ns", "25 us", "1.5 ms" (ASCII; the page shows µs).
std::string format_ns(std::uint64_t ns);

} // namespace ndislock::verifier::html_report
