#!/usr/bin/env python3
"""doc_sarif_merge.py MARKDOWN WORKDIR: runs the SARIF merge step of a doc's CI snippet.

README.md and docs/verifier.md show a CI job that runs ctest with NDISLOCK_SARIF=$PWD/sarif/%p.sarif
(one log per test process) and then merges sarif/*.sarif into ndislock.sarif with a Python heredoc
(`python3 - <<'EOF'` ... `EOF`), because code scanning takes one run per tool and category. This
script checks that the snippet still says so, adds to WORKDIR/sarif a copy of the first log with
its source paths made relative to its SRCROOT (as a build with relative __FILE__ paths writes
them), and runs the doc's heredoc in WORKDIR, as the CI step would. The caller validates
WORKDIR/ndislock.sarif. Exit status: the heredoc's, or 1 when the doc has no such snippet.
"""
import glob
import json
import os
import subprocess
import sys
import textwrap

SNIPPET = ["NDISLOCK_SARIF=$PWD/sarif/%p.sarif", "ctest --test-dir build/default", "sarif_file: ndislock.sarif"]


def heredoc(markdown):
    """The lines between `python3 - <<'EOF'` and `EOF`, dedented."""
    with open(markdown, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for start, line in enumerate(lines):
        if line.rstrip().endswith("python3 - <<'EOF'"):
            for end in range(start + 1, len(lines)):
                if lines[end].strip() == "EOF":
                    return textwrap.dedent("\n".join(lines[start + 1 : end])) + "\n"
    return None


def add_relative_copy(workdir):
    """sarif/relative.sarif: the first log, its file URIs relative to a SRCROOT of their folder."""
    logs = sorted(p for p in glob.glob(os.path.join(workdir, "sarif", "*.sarif")) if not p.endswith("relative.sarif"))
    with open(logs[0], encoding="utf-8") as f:
        log = json.load(f)
    run = log["runs"][0]
    folder = None
    for result in run["results"]:
        for where in result.get("locations", []) + result.get("relatedLocations", []):
            artifact = where.get("physicalLocation", {}).get("artifactLocation")
            if artifact is None:
                continue
            head, _, name = artifact["uri"].rpartition("/")
            folder = head + "/"
            artifact["uri"], artifact["uriBaseId"] = name, "SRCROOT"
    if folder is None:
        sys.exit("doc_sarif_merge: %s has no physical locations to make relative" % logs[0])
    run["originalUriBaseIds"] = {"SRCROOT": {"uri": folder}}
    with open(os.path.join(workdir, "sarif", "relative.sarif"), "w", encoding="utf-8") as f:
        json.dump(log, f)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    markdown, workdir = sys.argv[1:]
    with open(markdown, encoding="utf-8") as f:
        text = f.read()
    missing = [s for s in SNIPPET if s not in text]
    code = heredoc(markdown)
    if missing or code is None:
        print("doc_sarif_merge: FAILED: %s lacks the per-process SARIF snippet (%s)"
              % (markdown, ", ".join(missing) or "the python3 - <<'EOF' merge step"), file=sys.stderr)
        return 1
    add_relative_copy(workdir)
    merged = os.path.join(workdir, "ndislock.sarif")
    if os.path.exists(merged):
        os.remove(merged)
    return subprocess.run([sys.executable, "-"], input=code, text=True, cwd=workdir, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
