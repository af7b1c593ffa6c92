// Renders a report from a fixed model (no run behind it), so its screenshot is the same every
// time: the input of the screenshot test (check_browser.py screenshot, reference.png).
// Usage: report_fixed PAGE
#include <cstdio>
#include <string>

#include "verifier/report_model.h"

using namespace ndislock::verifier::html_report;

namespace {

// A histogram with counts at the given powers of two (bins[k]: [2^k, 2^(k+1)) ns).
Histogram histogram(std::initializer_list<std::pair<unsigned, std::uint64_t>> bins, std::uint64_t max_ns) {
    Histogram h;
    for (const auto &[k, n] : bins) {
        h.bins[k] = n;
        h.count += n;
    }
    h.max_ns = max_ns;
    return h;
}

LockRow lock(const char *name, std::uint64_t acquisitions, std::uint64_t contended, std::uint64_t p50,
             std::uint64_t p99, std::uint64_t max, std::uint64_t over, Histogram holds, unsigned buckets,
             unsigned busy) {
    LockRow l;
    l.name = name;
    l.acquisitions = acquisitions;
    l.contended = contended;
    l.p50_ns = p50;
    l.p99_ns = p99;
    l.max_ns = max;
    l.over_budget = over;
    l.holds = holds;
    for (unsigned i = 0; i < buckets; ++i) {
        // A ramp up, a plateau with a contention burst in the middle, and a ramp down.
        const std::uint32_t all = busy * (i < 10 ? i + 1 : i > buckets - 10 ? buckets - i : 10) / 10;
        const std::uint32_t waited = i >= buckets / 2 - 4 && i < buckets / 2 + 4 ? all / 3 : all / 40;
        l.timeline.push_back({all, waited});
    }
    return l;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: report_fixed PAGE\n");
        return 2;
    }
    Model m;
    m.program = "ndislock-demo --seconds 3 --report demo.html";
    m.generated = "written 2026-01-01 00:00:00 UTC, 4 virtual processors";
    m.hold_budget_ns = 25'000;
    m.isr_budget_ns = 25'000;
    m.dpc_budget_ns = 100'000;
    m.statistics = true;
    m.locks_tracked = 5;
    m.top = 12;
    m.bucket_ns = 50'000'000;
    m.first_bucket = 0;
    m.verifier_mode = "on";
    m.locks.push_back(lock("adapter.tx_ring", 1'204'331, 48'210, 180, 2'100, 31'000, 12,
                           histogram({{6, 1200},
                                      {7, 480'000},
                                      {8, 610'000},
                                      {9, 90'000},
                                      {10, 21'000},
                                      {11, 2'100},
                                      {12, 30},
                                      {14, 4},
                                      {15, 12}},
                                     31'000),
                           60, 20'000));
    m.locks.push_back(lock(
        "adapter.rx_ring <&>", 802'114, 9'870, 150, 900, 12'000, 0,
        histogram({{6, 900}, {7, 500'000}, {8, 280'000}, {9, 20'000}, {10, 1'200}, {13, 14}}, 12'000), 60, 13'000));
    m.locks.push_back(lock("pool", 95'000, 120, 90, 300, 1'900, 0,
                           histogram({{5, 2'000}, {6, 80'000}, {7, 12'000}, {8, 950}, {10, 50}}, 1'900), 60, 1'500));
    m.isr = histogram({{9, 40}, {10, 9'000}, {11, 14'000}, {12, 2'000}, {13, 120}, {15, 3}}, 41'000);
    m.dpc = histogram({{11, 300}, {12, 8'000}, {13, 12'000}, {14, 3'000}, {15, 700}, {16, 40}, {17, 2}}, 160'000);
    FindingRow f;
    f.rule = "LockHeldTooLong";
    f.severity = "warning";
    f.message = "ndislock verifier: warning: LockHeldTooLong\n  a spin lock was held 31 us, over the 25 us budget\n"
                "  at adapter.c:212 in DemoSendComplete";
    f.file = "demo/adapter.c";
    f.line = 212;
    f.function = "DemoSendComplete";
    f.source = "NdisReleaseSpinLock(&Adapter->TxLock);";
    f.count = 3;
    m.findings.push_back(f);
    f.rule = "ReleaseVariantEquivalent";
    f.severity = "note";
    f.message = "ndislock verifier: note: ReleaseVariantEquivalent\n  KeReleaseSpinLock restores DISPATCH_LEVEL";
    f.file = "demo/device.c";
    f.line = 88;
    f.function = "DemoDevicePoll";
    f.source = "KeReleaseSpinLock(&Device->Lock, DISPATCH_LEVEL); /* <note> */";
    f.count = 1;
    m.findings.push_back(f);

    const std::string page = render_html(m);
    std::FILE *out = std::fopen(argv[1], "w");
    if (out == nullptr || std::fwrite(page.data(), 1, page.size(), out) != page.size() || std::fclose(out) != 0) {
        std::fprintf(stderr, "report_fixed: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
