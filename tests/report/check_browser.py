#!/usr/bin/env python3
"""An ndislock HTML report in a real browser: headless Chromium, with the network off.

  check_browser.py dom PAGE [--expect-errors]
      Loads PAGE (--dump-dom) and fails if the browser logged any console message (an error in the
      page) or if a chart of the page (every <svg data-chart=...> of its source) is missing from
      the DOM the browser built or has no drawing in it. --expect-errors inverts the console part,
      for the self-test on a page made to log one.

  check_browser.py screenshot PAGE REFERENCE.png [--threshold T] [--update] [--out OUT.png]
      Screenshots PAGE at 1200x2000 and compares it with REFERENCE: same size, and a mean absolute
      difference per channel (0..255) under T (default 1.5). --update writes REFERENCE instead
      (how the stored reference is regenerated: docs/tools.md, "Report"). On a mismatch the
      screenshot and a difference image are kept beside OUT for a look.

Needs chromium (Debian's package) and, for screenshots, python3-pil.
"""
import argparse
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile

BROWSER_TIMEOUT_S = 120
WINDOW = (1200, 2000)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_browser: no chromium found (apt-get install chromium)")


def run_browser(profile, *args):
    cmd = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-sync", "--disable-background-networking",
           "--disable-component-update", "--disable-default-apps", "--mute-audio",
           # The network off: every host name fails to resolve and any proxy use goes nowhere.
           "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
           "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        sys.exit(f"check_browser: chromium did not finish within {BROWSER_TIMEOUT_S} s")
    return done


class Charts(html.parser.HTMLParser):
    """data-chart name -> number of elements drawn inside it."""

    def __init__(self):
        super().__init__()
        self.charts = {}
        self.depth = 0
        self.current = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "data-chart" in a:
            self.current = a["data-chart"]
            self.charts[self.current] = 0
        elif self.current is not None and tag in ("rect", "line", "text", "path", "polyline"):
            self.charts[self.current] += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None


def charts_of(text):
    p = Charts()
    p.feed(text)
    return p.charts


def console_lines(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def check_dom(args, profile):
    with open(args.page, encoding="utf-8") as f:
        wanted = charts_of(f.read())
    done = run_browser(profile, "--dump-dom", "file://" + os.path.abspath(args.page))
    if done.returncode != 0 or "<html" not in done.stdout:
        print(f"check_browser: chromium failed (status {done.returncode}):\n{done.stderr[-3000:]}")
        return 1
    problems = []
    console = console_lines(done.stderr)
    if args.expect_errors:
        if not console:
            problems.append("the page was made to log an error, and the browser logged none: the check cannot see errors")
    else:
        problems += [f"console: {line}" for line in console]
    built = charts_of(done.stdout)
    if not wanted and not args.expect_errors:
        problems.append("the page has no charts")
    for name, drawn in wanted.items():
        if name not in built:
            problems.append(f"chart {name!r} is not in the DOM the browser built")
        elif built[name] < 3:
            problems.append(f"chart {name!r} has {built[name]} drawn elements in the browser's DOM")
    if problems:
        print(f"check_browser: {args.page}: {len(problems)} problem(s)")
        for p in problems:
            print("  " + p)
        return 1
    print(f"check_browser: {args.page}: loaded with no console message; {len(built)} of {len(wanted)} charts drawn"
          if not args.expect_errors else f"check_browser: the page's error was seen: {console[0]}")
    return 0


def check_screenshot(args, profile):
    from PIL import Image, ImageChops, ImageStat  # python3-pil

    out = args.out or os.path.join(profile, "screenshot.png")
    done = run_browser(profile, "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                       "--force-device-scale-factor=1", "--screenshot=" + os.path.abspath(out),
                       "file://" + os.path.abspath(args.page))
    if not os.path.exists(out):
        print(f"check_browser: no screenshot (status {done.returncode}):\n{done.stderr[-3000:]}")
        return 1
    console = console_lines(done.stderr)
    if console:
        print("check_browser: console messages while screenshotting:\n  " + "\n  ".join(console))
        return 1
    shot = Image.open(out).convert("RGB")
    if args.update:
        shot.save(args.reference, optimize=True)
        print(f"check_browser: reference {args.reference} written ({shot.size[0]}x{shot.size[1]})")
        return 0
    ref = Image.open(args.reference).convert("RGB")
    if shot.size != ref.size:
        print(f"check_browser: screenshot is {shot.size}, reference {ref.size}")
        return 1
    diff = ImageChops.difference(shot, ref)
    mean = sum(ImageStat.Stat(diff).mean) / 3
    if mean >= args.threshold:
        kept = os.path.splitext(args.out or os.path.join(os.getcwd(), "report_screenshot.png"))[0]
        shot.save(kept + ".actual.png")
        diff.point(lambda v: 255 if v else 0).save(kept + ".diff.png")
        print(f"check_browser: screenshot differs from {args.reference}: mean absolute difference {mean:.3f} "
              f">= {args.threshold} (kept {kept}.actual.png and {kept}.diff.png)")
        return 1
    print(f"check_browser: screenshot matches {os.path.basename(args.reference)}: mean absolute difference "
          f"{mean:.3f} < {args.threshold}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    d = sub.add_parser("dom")
    d.add_argument("page")
    d.add_argument("--expect-errors", action="store_true")
    s = sub.add_parser("screenshot")
    s.add_argument("page")
    s.add_argument("reference")
    s.add_argument("--threshold", type=float, default=1.5)
    s.add_argument("--update", action="store_true")
    s.add_argument("--out")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ndislock-report-browser-") as profile:
        return check_dom(args, profile) if args.mode == "dom" else check_screenshot(args, profile)


if __name__ == "__main__":
    sys.exit(main())
