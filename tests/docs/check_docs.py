#!/usr/bin/env python3
"""Builds the API reference (the docs target) and checks that calls carry their contracts.

Usage: check_docs.py CMAKE BUILD_DIR HTML_DIR

For each call in EXPECTED, some generated page must hold, in the text of that call's
documentation, every phrase listed: its IRQL rule, a misuse rule ID, its Microsoft page.
"""
import html
import pathlib
import re
import subprocess
import sys

EXPECTED = {
    "NdisAcquireSpinLock": ["IRQL <= DISPATCH_LEVEL", "RecursiveAcquire", "ndis/nf-ndis-ndisacquirespinlock"],
    "NdisReleaseSpinLock": ["IRQL == DISPATCH_LEVEL", "ndis/nf-ndis-ndisreleasespinlock"],
    "NdisDprAcquireSpinLock": ["DISPATCH_LEVEL", "ndis/nf-ndis-ndisdpracquirespinlock"],
    "NdislockReportStart": ["PASSIVE_LEVEL", "NDISLOCK_IO_ERROR"],
    "NdislockTraceStart": ["PASSIVE_LEVEL", "NDISLOCK_IO_ERROR"],
}


def text_of(page):
    raw = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8", errors="replace"))
    return re.sub(r"\s+", " ", html.unescape(raw))


def main(cmake, build, html_dir):
    done = subprocess.run([cmake, "--build", build, "--target", "docs"], capture_output=True, text=True, timeout=280)
    if done.returncode != 0:
        print(f"check_docs: the docs target failed (status {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return 1
    pages = sorted(pathlib.Path(html_dir).glob("*.html"))
    if not pages:
        print(f"check_docs: no pages in {html_dir}")
        return 1
    texts = {p.name: text_of(p) for p in pages}
    problems = []
    for call, phrases in EXPECTED.items():
        # The call's documentation: from its name to the next 1500 characters, on a page that has
        # it with every phrase nearby.
        found = False
        for name, text in texts.items():
            for m in re.finditer(r"\b" + call + r"\b", text):
                window = text[max(0, m.start() - 200): m.start() + 1500]
                if all(p in window for p in phrases):
                    found = True
                    break
            if found:
                break
        if not found:
            problems.append(f"{call}: no page documents it with {phrases}")
    if problems:
        print("check_docs: " + "\n  ".join(["the reference lacks contracts:"] + problems))
        return 1
    print(f"check_docs: {len(pages)} pages; {len(EXPECTED)} calls carry their IRQL rule, misuse and page")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
