// The report's page (report_model.h): one HTML document with inline CSS and inline SVG charts,
// so it opens from a file with no network and no script. Each chart is an <svg data-chart=...>;
// a chart measured against a budget draws it as <line data-budget=ns> (tests/report checks both).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "platform/format.h"
#include "verifier/report_model.h"

namespace ndislock::verifier::html_report {

namespace {

// Text and attribute values: the five characters HTML gives meaning to.
std::string esc(const std::string &s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            // Control characters other than tab and newline would make the document ill-formed.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
                out += "\xEF\xBF\xBD"; // U+FFFD
            else
                out += c;
        }
    }
    return out;
}

using platform::format;

std::string num(std::uint64_t n) { return format("%" PRIu64, n); }

// log2 without libm: the static library must not need -lm from the programs that link it (C
// consumers do not get it from libstdc++'s dependencies). v = m * 2^e with m in [1, 2), and
// ln m = 2 atanh((m - 1) / (m + 1)), a series that converges fast there; plenty for a chart.
double log2_of(double v) {
    if (!(v > 0)) return 0;
    int e = 0;
    while (v >= 2) {
        v /= 2;
        ++e;
    }
    while (v < 1) {
        v *= 2;
        --e;
    }
    const double t = (v - 1) / (v + 1), t2 = t * t;
    double sum = 0, term = t;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= t2;
    }
    return e + 2 * sum / 0.6931471805599453;
}
// The count axis: logarithmic (only ratios of it are drawn, so any base does).
double log_scale(double v) { return log2_of(v); }

unsigned power_of(std::uint64_t ns) {
    if (ns <= 1) return 0;
    const unsigned p = 63u - static_cast<unsigned>(__builtin_clzll(ns));
    return std::min(p, kPowers - 1);
}

const char *const kCss = R"css(
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 14px; color: #222;
       background: #fafafa; margin: 0; padding: 16px 24px; max-width: 1180px; }
h1 { font-size: 24px; margin: 0 0 4px 0; }
h2 { font-size: 19px; margin: 28px 0 8px 0; border-bottom: 2px solid #ccd; padding-bottom: 3px; }
h3 { font-size: 15px; margin: 0 0 6px 0; font-family: "DejaVu Sans Mono", monospace; }
p.meta { color: #555; margin: 0 0 8px 0; }
p.note { color: #555; margin: 4px 0 10px 0; }
table { border-collapse: collapse; background: #fff; margin: 6px 0 12px 0; }
th, td { border: 1px solid #ccd; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #eef0f6; }
td.name, th.name, td.text { text-align: left; font-family: "DejaVu Sans Mono", monospace; }
td.over { color: #b00; font-weight: bold; }
.card { background: #fff; border: 1px solid #ccd; border-radius: 4px; padding: 8px 10px; margin: 10px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg { background: #fff; }
svg text { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11px; fill: #333; }
svg text.title { font-size: 12px; font-weight: bold; }
svg text.budget { fill: #c00; font-weight: bold; }
.sev-error { color: #b00; font-weight: bold; }
.sev-warning { color: #a60; font-weight: bold; }
.sev-note { color: #357; font-weight: bold; }
pre { background: #f4f4f8; padding: 6px; margin: 4px 0; white-space: pre-wrap; font-size: 12px; }
code.source { background: #fff8e0; padding: 1px 4px; }
nav a { margin-right: 14px; }
)css";

// One histogram of durations by power of two, bars coloured by where they stand against the budget.
void histogram_svg(std::string &out, const std::string &chart, const std::string &title, const Histogram &h,
                   std::uint64_t budget_ns) {
    const double W = 540, H = 220, left = 52, right = 30, top = 26, bottom = 42;
    const double plot_w = W - left - right, plot_h = H - top - bottom;
    const unsigned budget_power = power_of(budget_ns);
    unsigned lo = budget_power, hi = budget_power;
    for (unsigned k = 0; k < kPowers; ++k)
        if (h.bins[k] != 0) {
            lo = std::min(lo, k);
            hi = std::max(hi, k);
        }
    if (h.count == 0) {
        lo = budget_power > 6 ? budget_power - 6 : 0;
        hi = std::min(budget_power + 3, kPowers - 1);
    } else {
        lo = lo > 0 ? lo - 1 : 0;
        hi = std::min(hi + 1, kPowers - 1);
    }
    const unsigned n = hi - lo + 1;
    const double bw = plot_w / n;
    std::uint64_t most = 0;
    for (unsigned k = lo; k <= hi; ++k)
        most = std::max(most, h.bins[k]);
    const double scale = log_scale(static_cast<double>(most) + 1.0);

    out += format("<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"%s\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" role=\"img\">",
                  esc(chart).c_str(), W, H, W, H);
    out += "<title>" + esc(title) + "</title>";
    out += format("<text class=\"title\" x=\"%.0f\" y=\"16\">", left) + esc(title) + "</text>";
    // Axes, and grid lines at powers of ten of the count (the count axis is logarithmic).
    out += format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", left, top + plot_h,
                  left + plot_w, top + plot_h);
    out += format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", left, top, left,
                  top + plot_h);
    if (scale > 0) {
        for (std::uint64_t g = 1; g <= most; g *= 10) {
            const double y = top + plot_h - log_scale(static_cast<double>(g) + 1.0) / scale * plot_h;
            out += format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4ec\"/>", left, y,
                          left + plot_w, y);
            out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", left - 4, y + 4, num(g).c_str());
            if (g > UINT64_MAX / 10) break;
        }
    }
    for (unsigned k = lo; k <= hi; ++k) {
        if (h.bins[k] == 0) continue;
        const double bar = log_scale(static_cast<double>(h.bins[k]) + 1.0) / scale * plot_h;
        const std::uint64_t from = k == 0 ? 0 : std::uint64_t{1} << k, to = std::uint64_t{1} << (k + 1);
        const char *fill = from >= budget_ns ? "#d9534f" : to <= budget_ns ? "#4a7bd0" : "#e8a33d";
        out += format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                      left + (k - lo) * bw + 1, top + plot_h - bar, bw - 2, bar, fill);
        out += "<title>" + esc(format_ns(from) + " to " + format_ns(to) + ": " + num(h.bins[k])) + "</title></rect>";
    }
    // Duration ticks at bin edges, at most about eight of them.
    const unsigned step = std::max(1u, (n + 7) / 8);
    for (unsigned k = lo; k <= hi + 1; k += step) {
        const double x = left + (k - lo) * bw;
        out += format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", x, top + plot_h, x,
                      top + plot_h + 4);
        out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, top + plot_h + 16) +
               esc(format_ns(std::uint64_t{1} << std::min(k, 62u))) + "</text>";
    }
    out += format(
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">duration (log scale); bar height: count (log scale)</text>",
        left + plot_w / 2, H - 6);
    // The budget: where on the duration axis it falls, between its power of two's edges.
    const double at = log2_of(static_cast<double>(std::max<std::uint64_t>(budget_ns, 1)));
    const double x = left + (at - lo) * bw;
    out += format(
        "<line class=\"budget\" data-budget=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c00\" "
        "stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
        num(budget_ns).c_str(), x, top - 4, x, top + plot_h);
    // Its label on the side with room for it.
    const bool label_left = x > left + plot_w - 90;
    out += format("<text class=\"budget\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", label_left ? x - 4 : x + 4,
                  top + 8, label_left ? "end" : "start") +
           esc("budget " + format_ns(budget_ns)) + "</text>";
    if (h.count == 0)
        out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">nothing timed</text>", left + plot_w / 2,
                      top + plot_h / 2);
    out += "</svg>";
}

// Acquisitions per time bucket, with the contended ones drawn over them.
void contention_svg(std::string &out, const std::string &chart, const std::string &title, const LockRow &lock,
                    std::uint64_t bucket_ns, std::uint64_t first_bucket) {
    const double W = 540, H = 220, left = 52, right = 30, top = 26, bottom = 42;
    const double plot_w = W - left - right, plot_h = H - top - bottom;
    const std::size_t n = std::max<std::size_t>(lock.timeline.size(), 1);
    const double bw = plot_w / static_cast<double>(n);
    std::uint32_t most = 0;
    for (const ContentionBucket &b : lock.timeline)
        most = std::max(most, b.acquisitions);
    out += format("<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"%s\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" role=\"img\">",
                  esc(chart).c_str(), W, H, W, H);
    out += "<title>" + esc(title) + "</title>";
    out += format("<text class=\"title\" x=\"%.0f\" y=\"16\">", left) + esc(title) + "</text>";
    out += format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", left, top + plot_h,
                  left + plot_w, top + plot_h);
    out += format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", left, top, left,
                  top + plot_h);
    out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%u</text>", left - 4, top + 4, most);
    out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>", left - 4, top + plot_h + 4);
    for (std::size_t i = 0; i < lock.timeline.size() && most != 0; ++i) {
        const ContentionBucket &b = lock.timeline[i];
        if (b.acquisitions == 0) continue;
        const double x = left + static_cast<double>(i) * bw;
        const double all = b.acquisitions * plot_h / most, waited = b.contended * plot_h / most;
        const double gap = bw > 3 ? 0.5 : 0;
        out += format("<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"#b8c4d6\">", x + gap,
                      top + plot_h - all, bw - 2 * gap, all);
        out += "<title>" + esc(num(b.acquisitions) + " acquisitions, " + num(b.contended) + " contended") +
               "</title></rect>";
        if (b.contended != 0)
            out += format("<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"#e8743d\"/>", x + gap,
                          top + plot_h - waited, bw - 2 * gap, waited);
    }
    // Time since the report started at both ends and the middle.
    for (unsigned t = 0; t <= 2; ++t) {
        const double x = left + plot_w * t / 2;
        const double seconds = static_cast<double>(first_bucket * bucket_ns) / 1e9 +
                               static_cast<double>(n) * static_cast<double>(bucket_ns) / 1e9 * t / 2;
        out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%.2f s</text>", x, top + plot_h + 16,
                      t == 0   ? "start"
                      : t == 1 ? "middle"
                               : "end",
                      seconds);
    }
    out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", left + plot_w / 2, H - 6) +
           esc("time; bars: acquisitions per " + format_ns(bucket_ns)) + "</text>";
    // Legend.
    out += format(
        "<rect x=\"%.1f\" y=\"6\" width=\"10\" height=\"10\" fill=\"#b8c4d6\"/><text x=\"%.1f\" y=\"15\">all</text>",
        W - 150, W - 136);
    out += format("<rect x=\"%.1f\" y=\"6\" width=\"10\" height=\"10\" fill=\"#e8743d\"/><text x=\"%.1f\" "
                  "y=\"15\">contended</text>",
                  W - 104, W - 90);
    if (most == 0)
        out += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no acquisitions sampled</text>",
                      left + plot_w / 2, top + plot_h / 2);
    out += "</svg>";
}

void locks_section(std::string &out, const Model &m) {
    out += "<section id=\"locks\"><h2>Locks: hold times and contention</h2>";
    if (!m.statistics) {
        out += "<p class=\"note\">Lock statistics were off: no lock figures.</p></section>";
        return;
    }
    out += "<p class=\"note\">" +
           esc("The " + std::to_string(m.locks.size()) + " busiest of " + std::to_string(m.locks_tracked) +
               " locks tracked, by acquisitions (at most " + std::to_string(m.top) +
               " are shown). Hold time is the holder's own running time; holds the OS descheduled are not timed. "
               "The dashed red line is the hold budget, " +
               format_ns(m.hold_budget_ns) + ".") +
           "</p>";
    out += "<table><tr><th class=\"name\">lock</th><th>acquisitions</th><th>contended</th><th>p50</th><th>p99</th>"
           "<th>max</th><th>over budget</th><th>descheduled</th></tr>";
    for (const LockRow &l : m.locks) {
        out += "<tr><td class=\"name\">" + esc(l.name) + "</td><td>" + num(l.acquisitions) + "</td><td>" +
               num(l.contended) + "</td><td>" + esc(format_ns(l.p50_ns)) + "</td><td>" + esc(format_ns(l.p99_ns)) +
               "</td><td" + (l.max_ns > m.hold_budget_ns ? " class=\"over\"" : "") + ">" + esc(format_ns(l.max_ns)) +
               "</td><td" + (l.over_budget != 0 ? " class=\"over\"" : "") + ">" + num(l.over_budget) + "</td><td>" +
               num(l.descheduled) + "</td></tr>";
    }
    out += "</table>";
    for (std::size_t i = 0; i < m.locks.size(); ++i) {
        const LockRow &l = m.locks[i];
        out += "<div class=\"card\"><h3>" + esc(l.name) + "</h3><div class=\"charts\">";
        histogram_svg(out, "hold-" + std::to_string(i), "hold times of " + l.name, l.holds, m.hold_budget_ns);
        contention_svg(out, "contention-" + std::to_string(i), "contention over time: " + l.name, l, m.bucket_ns,
                       m.first_bucket);
        out += "</div></div>";
    }
    out += "</section>";
}

void routines_section(std::string &out, const Model &m) {
    out += "<section id=\"routines\"><h2>ISRs and DPCs: run times</h2><p class=\"note\">" +
           esc("Every MiniportInterrupt (" + num(m.isr.count) + " timed, longest " + format_ns(m.isr.max_ns) +
               ") against the ISR budget, and every DPC routine, MiniportInterruptDPC and KDPC (" + num(m.dpc.count) +
               " timed, longest " + format_ns(m.dpc.max_ns) +
               ") against the DPC budget, in the routine's own running time.") +
           "</p><div class=\"card\"><div class=\"charts\">";
    histogram_svg(out, "isr", "ISR run times (MiniportInterrupt)", m.isr, m.isr_budget_ns);
    histogram_svg(out, "dpc", "DPC run times", m.dpc, m.dpc_budget_ns);
    out += "</div></div></section>";
}

void findings_section(std::string &out, const Model &m) {
    out += "<section id=\"findings\"><h2>Verifier findings</h2>";
    if (m.findings.empty()) {
        out += "<p class=\"note\">" +
               esc(m.verifier_mode == "off" ? "The verifier was off: nothing was checked."
                                            : "None: the verifier (" + m.verifier_mode + ") found nothing to report.") +
               "</p></section>";
        return;
    }
    out += "<p class=\"note\">" +
           esc(std::to_string(m.findings.size()) + " distinct finding(s), oldest first (verifier " + m.verifier_mode +
               "). Rule IDs are explained in docs/verifier.md.") +
           "</p>";
    out += "<table><tr><th class=\"name\">severity</th><th class=\"name\">rule</th><th "
           "class=\"name\">where</th><th>count</th>"
           "<th class=\"name\">report</th></tr>";
    for (const FindingRow &f : m.findings) {
        const std::string where = f.file.empty() ? "(no source location)" : f.file + ":" + std::to_string(f.line);
        out += "<tr><td class=\"text sev-" + esc(f.severity) + "\">" + esc(f.severity) +
               (f.terminal ? " (terminal)" : "") + "</td><td class=\"text\">" + esc(f.rule) +
               "</td><td class=\"text\">" + esc(where);
        if (!f.function.empty()) out += "<br>in " + esc(f.function);
        if (!f.source.empty()) out += "<br><code class=\"source\">" + esc(f.source) + "</code>";
        out += "</td><td>" + num(f.count) + "</td><td class=\"text\"><pre>" + esc(f.message) + "</pre></td></tr>";
    }
    out += "</table></section>";
}

} // namespace

std::string format_ns(std::uint64_t ns) {
    if (ns < 1000) return num(ns) + " ns";
    const double v = static_cast<double>(ns);
    if (ns < 1'000'000) return format("%.3g \xC2\xB5s", v / 1e3); // µs in UTF-8
    if (ns < 1'000'000'000) return format("%.3g ms", v / 1e6);
    return format("%.3g s", v / 1e9);
}

std::string render_html(const Model &m) {
    std::string out;
    out.reserve(64 * 1024);
    out +=
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ndislock report: " + esc(m.program) +
        "</title><style>";
    out += kCss;
    out += "</style></head><body>\n<h1>ndislock report</h1>";
    out += "<p class=\"meta\">" + esc(m.program) + " &#8212; " + esc(m.generated) + "</p>";
    out += "<p class=\"meta\">" +
           esc("Budgets: lock hold " + format_ns(m.hold_budget_ns) + ", ISR " + format_ns(m.isr_budget_ns) + ", DPC " +
               format_ns(m.dpc_budget_ns) + ". Verifier " + m.verifier_mode + ".") +
           "</p>";
    out += "<nav><a href=\"#locks\">Locks</a><a href=\"#routines\">ISRs and DPCs</a><a href=\"#findings\">Findings (" +
           std::to_string(m.findings.size()) + ")</a></nav>\n";
    locks_section(out, m);
    out += "\n";
    routines_section(out, m);
    out += "\n";
    findings_section(out, m);
    out += "\n</body></html>\n";
    return out;
}

} // namespace ndislock::verifier::html_report
