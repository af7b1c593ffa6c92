// The HTML report's parts without a browser: the page escapes what it shows and draws each budget,
// the samples count per time bucket and per routine kind, gather() reads the live figures
// (statistics, samples, findings with their source line), and the C calls check their arguments.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "ndislock/ndis.h"
#include "ndislock/verifier.h"
#include "observe/lock_stats.h"
#include "observe/report_samples.h"
#include "platform/histogram.h"
#include "verifier/report.h"

using namespace ndislock;
using namespace ndislock::verifier::html_report;

namespace {

std::size_t count(const std::string &text, const std::string &what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

std::string temp_path(const char *name) {
    return "/tmp/ndislock-report-test-" + std::to_string(::getpid()) + "-" + name;
}

Model one_lock_model(const std::string &name) {
    Model m;
    m.program = "prog";
    m.generated = "now";
    m.hold_budget_ns = 25'000;
    m.isr_budget_ns = 30'000;
    m.dpc_budget_ns = 100'000;
    m.statistics = true;
    m.locks_tracked = 1;
    m.top = kTopLocks;
    m.bucket_ns = 50'000'000;
    m.verifier_mode = "on";
    LockRow l;
    l.name = name;
    l.acquisitions = 3;
    l.holds.bins[8] = 3;
    l.holds.count = 3;
    l.timeline = {{2, 1}, {1, 0}};
    m.locks.push_back(l);
    return m;
}

} // namespace

TEST(ReportPage, EscapesEveryTextItShows) {
    Model m = one_lock_model("<script>alert('x')</script>&\"");
    FindingRow f;
    f.rule = "RecursiveAcquire";
    f.severity = "error";
    f.message = "held <twice> & more";
    f.file = "a<b>.c";
    f.line = 7;
    f.source = "if (a < b && c > d) x = \"s\";";
    f.count = 1;
    m.findings.push_back(f);
    const std::string page = render_html(m);
    EXPECT_EQ(page.find("<script"), std::string::npos);
    EXPECT_NE(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"), std::string::npos);
    EXPECT_NE(page.find("held &lt;twice&gt; &amp; more"), std::string::npos);
    EXPECT_NE(page.find("a&lt;b&gt;.c:7"), std::string::npos);
    EXPECT_NE(page.find("if (a &lt; b &amp;&amp; c &gt; d) x = &quot;s&quot;;"), std::string::npos);
}

TEST(ReportPage, DrawsEachBudgetOnceOnItsChart) {
    const std::string page = render_html(one_lock_model("l"));
    EXPECT_EQ(count(page, "data-chart=\"hold-0\""), 1u);
    EXPECT_EQ(count(page, "data-chart=\"contention-0\""), 1u);
    EXPECT_EQ(count(page, "data-chart=\"isr\""), 1u);
    EXPECT_EQ(count(page, "data-chart=\"dpc\""), 1u);
    EXPECT_EQ(count(page, "data-budget=\"25000\""), 1u);  // the hold chart
    EXPECT_EQ(count(page, "data-budget=\"30000\""), 1u);  // ISRs
    EXPECT_EQ(count(page, "data-budget=\"100000\""), 1u); // DPCs
    EXPECT_EQ(count(page, "data-budget="), 3u);           // contention has none
    EXPECT_NE(page.find("The 1 busiest of 1 locks tracked"), std::string::npos);
    EXPECT_EQ(count(page, "http://"), count(page, "xmlns=\"http://www.w3.org/2000/svg\"")); // nothing fetched
}

TEST(ReportPage, SaysWhatIsMissing) {
    Model m;
    m.verifier_mode = "off";
    m.hold_budget_ns = m.isr_budget_ns = m.dpc_budget_ns = 25'000;
    const std::string page = render_html(m);
    EXPECT_NE(page.find("Lock statistics were off"), std::string::npos);
    EXPECT_NE(page.find("The verifier was off"), std::string::npos);
    EXPECT_EQ(count(page, "nothing timed"), 2u); // the ISR and DPC charts, drawn empty with their budgets
}

TEST(ReportPage, FormatsDurations) {
    EXPECT_EQ(format_ns(850), "850 ns");
    EXPECT_EQ(format_ns(25'000), "25 \xC2\xB5s");
    EXPECT_EQ(format_ns(1'500'000), "1.5 ms");
    EXPECT_EQ(format_ns(2'000'000'000), "2 s");
}

TEST(ReportSamples, CountAcquisitionsPerBucketAndRoutinesPerKind) {
    ASSERT_TRUE(observe::samples::start(3'600'000'000'000ull)); // one bucket of an hour: all land in it
    observe::samples::lock_acquired(5, true);
    observe::samples::lock_acquired(5, true);
    observe::samples::lock_acquired(5, false);
    observe::samples::routine_ran(observe::Callback::Isr, 1'000);
    observe::samples::routine_ran(observe::Callback::InterruptDpc, 50'000);
    observe::samples::routine_ran(observe::Callback::KernelDpc, 60'000);
    observe::samples::routine_ran(observe::Callback::Synchronize, 70'000); // neither
    observe::samples::stop();
    observe::samples::lock_acquired(5, true); // stopped: not counted
    observe::samples::TimeBucket b[observe::samples::kTimeBuckets];
    const observe::samples::Timeline tl = observe::samples::lock_timeline(5, b);
    ASSERT_EQ(tl.buckets, 1u);
    EXPECT_EQ(tl.first_bucket, 0u);
    EXPECT_EQ(b[0].acquisitions, 3u);
    EXPECT_EQ(b[0].contended, 2u);
    EXPECT_EQ(observe::samples::lock_timeline(6, b).buckets, 1u);
    EXPECT_EQ(b[0].acquisitions, 0u);
    std::uint64_t h[platform::kHistogramBuckets], max = 0;
    EXPECT_EQ(observe::samples::routine_histogram(observe::samples::RoutineKind::Isr, h, &max), 1u);
    EXPECT_EQ(max, 1'000u);
    EXPECT_EQ(h[platform::histogram_bucket(1'000)], 1u);
    EXPECT_EQ(observe::samples::routine_histogram(observe::samples::RoutineKind::Dpc, h, &max), 2u);
    EXPECT_EQ(max, 60'000u);
}

TEST(ReportGather, ReadsTheStatisticsTheSamplesAndTheFindings) {
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdislockStatsReset(); // (a repeated run finds its lock at the same address)
    NdislockVerifierResetFindings();
    const std::string path = temp_path("gather.html");
    ASSERT_EQ(NdislockReportStart(path.c_str()), NDISLOCK_OK);
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    NdislockSetLockName(&lock, "gathered");
    for (int i = 0; i < 10; ++i) {
        NdisAcquireSpinLock(&lock);
        NdisReleaseSpinLock(&lock);
    }
    KSPIN_LOCK note;
    KeInitializeSpinLock(&note);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLockAtDpcLevel(&note);
    const int line = __LINE__ + 1;
    KeReleaseSpinLock(&note, DISPATCH_LEVEL); // ReleaseVariantEquivalent: a note
    KeLowerIrql(old);

    const Model m = gather();
    ASSERT_GE(m.locks.size(), 1u);
    const LockRow *row = nullptr;
    for (const LockRow &l : m.locks)
        if (l.name == "gathered") row = &l;
    ASSERT_NE(row, nullptr) << m.locks.size() << " locks, " << m.locks_tracked << " tracked";
    EXPECT_EQ(row->acquisitions, 10u);
    EXPECT_EQ(row->holds.count + row->descheduled, 10u);
    std::uint64_t sampled = 0;
    for (const ContentionBucket &b : row->timeline)
        sampled += b.acquisitions;
    EXPECT_EQ(sampled, 10u);
    EXPECT_EQ(m.verifier_mode, "on");
    // The note this test made (a loaded machine may add others, a long hold say: not this test's
    // business).
    const FindingRow *note_row = nullptr;
    std::string seen;
    for (const FindingRow &f : m.findings) {
        seen += f.rule + " at line " + std::to_string(f.line) + "\n" + f.message + "\n";
        if (f.rule == "ReleaseVariantEquivalent") note_row = &f;
    }
    ASSERT_NE(note_row, nullptr) << seen;
    EXPECT_EQ(note_row->line, line);
    EXPECT_NE(note_row->source.find("KeReleaseSpinLock(&note, DISPATCH_LEVEL);"), std::string::npos)
        << note_row->source;

    ASSERT_EQ(NdislockReportStop(), NDISLOCK_OK);
    std::FILE *f = std::fopen(path.c_str(), "r");
    ASSERT_NE(f, nullptr);
    std::string page(1 << 20, '\0');
    page.resize(std::fread(page.data(), 1, page.size(), f));
    std::fclose(f);
    std::remove(path.c_str());
    EXPECT_NE(page.find("hold times of gathered"), std::string::npos);
    EXPECT_NE(page.find("ReleaseVariantEquivalent"), std::string::npos);
    NdisFreeSpinLock(&lock);
    NdislockVerifierResetFindings();
}

TEST(ReportApi, RefusesWhatItCannotDo) {
    EXPECT_EQ(NdislockReportStart(nullptr), NDISLOCK_INVALID_ARGUMENT);
    EXPECT_EQ(NdislockReportStart("/nonexistent-dir/for/sure/r.html"), NDISLOCK_IO_ERROR);
    EXPECT_EQ(NdislockReportWrite(nullptr), NDISLOCK_INVALID_ARGUMENT); // no report running
    EXPECT_EQ(NdislockReportStop(), NDISLOCK_IO_ERROR);                 // no report running
    EXPECT_EQ(NdislockReportWrite("/nonexistent-dir/for/sure/r.html"), NDISLOCK_IO_ERROR);
    const std::string path = temp_path("snapshot.html");
    EXPECT_EQ(NdislockReportWrite(path.c_str()), NDISLOCK_OK); // a snapshot needs no running report
    EXPECT_EQ(std::remove(path.c_str()), 0);
}
