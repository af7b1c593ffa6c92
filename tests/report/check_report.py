#!/usr/bin/env python3
"""Structural check of an ndislock HTML report (NDISLOCK_REPORT, NdislockReportStart).

Parses the page with html.parser and fails unless:
  - it is well-formed: every non-void element closed in order, one <html>, <head>, <body>;
  - it is self-contained: no <script>, <link>, <iframe>, <object>, <embed> or <img>, no url(...)
    in its CSS, and no attribute naming another resource (href other than #fragment, src);
  - every chart is an <svg data-chart=...> with content, and every hold-*, isr and dpc chart draws
    its budget as <line data-budget=NS> (the hold charts with --hold-budget NS, if given);
  - the charts and rows the options ask for are there.

Usage: check_report.py PAGE [--locks NAME,...] [--findings RULE,...] [--no-findings]
                            [--isr-timed N] [--dpc-timed N] [--hold-budget NS] [--source-lines]
"""
import argparse
import html.parser
import os
import re
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FORBIDDEN = {"script", "link", "iframe", "object", "embed", "img", "audio", "video", "base", "form"}
# SVG's own namespace is a name, not a fetch.
XMLNS = "http://www.w3.org/2000/svg"


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []
        self.counts = {}
        self.charts = {}  # data-chart -> {"budgets": [...], "elements": n, "title": text}
        self.chart = None
        self.text = []
        self.in_style = False
        self.css = []

    def problem(self, text):
        self.problems.append(f"line {self.getpos()[0]}: {text}")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.chart is None and tag != "svg":  # an SVG's <title> is its tooltip, not the page's
            self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag in FORBIDDEN:
            self.problem(f"<{tag}> in a self-contained page")
        for name, value in attrs:
            value = value or ""
            if name == "src" or (name == "href" and not value.startswith("#")):
                self.problem(f"<{tag} {name}={value!r}>: names another resource")
            if name.startswith("on"):
                self.problem(f"<{tag} {name}>: an event handler (no script in the page)")
            if name == "xmlns" and value != XMLNS:
                self.problem(f"<{tag} xmlns={value!r}>: unexpected namespace")
        if tag == "svg":
            if self.chart is not None:
                self.problem("<svg> inside a chart")
            name = a.get("data-chart")
            if not name:
                self.problem("<svg> without data-chart")
                name = f"(unnamed {len(self.charts)})"
            if name in self.charts:
                self.problem(f"chart {name!r} twice")
            self.charts[name] = {"budgets": [], "elements": 0}
            self.chart = name
        elif self.chart is not None:
            self.charts[self.chart]["elements"] += 1
            if tag == "line" and "data-budget" in a:
                self.charts[self.chart]["budgets"].append(a["data-budget"])
        if tag == "style":
            self.in_style = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        # <rect .../> in SVG: an element with no content.
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problem(f"</{tag}>: a void element has no end tag")
            return
        if not self.stack or self.stack[-1] != tag:
            self.problem(f"</{tag}> does not close the open <{self.stack[-1] if self.stack else 'nothing'}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "svg":
            self.chart = None
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.css.append(data)
        else:
            self.text.append(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("--locks", default="")
    ap.add_argument("--findings", default="")
    ap.add_argument("--no-findings", action="store_true")
    ap.add_argument("--isr-timed", type=int)
    ap.add_argument("--dpc-timed", type=int)
    ap.add_argument("--hold-budget")
    ap.add_argument("--source-lines", action="store_true", help="each finding shows its source line's text")
    args = ap.parse_args()
    # The sanitizer presets run the suite with a larger budget (NDISLOCK_HOLD_BUDGET_US in
    # CMakePresets.json); the page must show the budget the run used.
    if args.hold_budget is not None and os.environ.get("NDISLOCK_HOLD_BUDGET_US"):
        args.hold_budget = str(int(os.environ["NDISLOCK_HOLD_BUDGET_US"]) * 1000)

    with open(args.page, encoding="utf-8") as f:
        source = f.read()
    if not source.startswith("<!DOCTYPE html>"):
        print("check_report: the page does not start with <!DOCTYPE html>")
        return 1
    page = Page()
    page.feed(source)
    page.close()
    problems = page.problems
    if page.stack:
        problems.append(f"at the end, still open: {' > '.join(page.stack)}")
    for tag in ("html", "head", "body", "title"):
        if page.counts.get(tag) != 1:
            problems.append(f"{page.counts.get(tag, 0)} <{tag}> elements, not one")
    if re.search(r"url\s*\(|@import", "".join(page.css)):
        problems.append("the CSS loads something (url() or @import)")

    text = " ".join(page.text)
    for name, chart in page.charts.items():
        if chart["elements"] < 3:
            problems.append(f"chart {name!r} is empty ({chart['elements']} elements)")
        budgeted = name.startswith("hold-") or name in ("isr", "dpc")
        if budgeted and len(chart["budgets"]) != 1:
            problems.append(f"chart {name!r} has {len(chart['budgets'])} budget lines, not one")
        if budgeted and chart["budgets"] and not chart["budgets"][0].isdigit():
            problems.append(f"chart {name!r}: budget {chart['budgets'][0]!r} is not a number of ns")
        if args.hold_budget and name.startswith("hold-") and chart["budgets"] != [args.hold_budget]:
            problems.append(f"chart {name!r}: budget {chart['budgets']} is not {args.hold_budget}")
    for name in ("isr", "dpc"):
        if name not in page.charts:
            problems.append(f"no {name!r} chart")
    holds = sorted(n for n in page.charts if n.startswith("hold-"))
    contention = sorted(n for n in page.charts if n.startswith("contention-"))
    if [h[5:] for h in holds] != [c[11:] for c in contention]:
        problems.append(f"hold charts {holds} and contention charts {contention} do not pair up")

    for lock in filter(None, args.locks.split(",")):
        if f"hold times of {lock}" not in text or f"contention over time: {lock}" not in text:
            problems.append(f"no charts for lock {lock!r}")
    if not re.search(r"The \d+ busiest of \d+ locks tracked", text) and args.locks:
        problems.append("the page does not say how many locks it shows of how many")
    for rule in filter(None, args.findings.split(",")):
        rows = re.findall(r"\b" + re.escape(rule) + r"\b", text)
        if not rows:
            problems.append(f"no finding {rule}")
    if args.no_findings and "Verifier findings" in text and re.search(r"\d+ distinct finding", text):
        problems.append("findings are shown where none were expected")
    if args.source_lines and "<code class=\"source\">" not in source:
        problems.append("no finding shows its source line")
    for kind, want in (("ISR", args.isr_timed), ("DPC", args.dpc_timed)):
        if want is None:
            continue
        label = "MiniportInterrupt (" if kind == "ISR" else "MiniportInterruptDPC and KDPC ("
        m = re.search(re.escape(label) + r"(\d+) timed", text)
        if not m or int(m.group(1)) < want:
            problems.append(f"{kind}: expected at least {want} timed runs, the page says {m.group(1) if m else 'nothing'}")

    if problems:
        print(f"check_report: {args.page}: {len(problems)} problem(s)")
        for p in problems[:40]:
            print("  " + p)
        return 1
    print(f"check_report: {args.page}: well-formed, self-contained, {len(page.charts)} charts "
          f"({len(holds)} locks), every budgeted chart has its budget line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
