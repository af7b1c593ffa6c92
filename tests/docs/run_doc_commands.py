#!/usr/bin/env python3
"""Runs the shell commands of README.md and docs/*.md in a fresh clone, as a new user would.

Usage: run_doc_commands.py CLONE [--long] [--only REGEX] [--logs DIR] [--list]

  git clone <this repository> /tmp/fresh && tests/docs/run_doc_commands.py /tmp/fresh

Takes every line of the ```sh / ```bash blocks of CLONE/README.md, then CLONE/docs/*.md in name
order (a line ending in a backslash continues on the next), and runs each with bash in CLONE, one
after the other, so a later command sees what an earlier one built. It prints PASS, FAIL or SKIP
for each, with its file:line, and exits 1 if any failed. Each command's output is kept in
DIR/<n>.log (default: CLONE/doc-commands). Builds use two jobs (CMAKE_BUILD_PARALLEL_LEVEL=2).

Skipped, with the reason printed:
  - what needs root or a desktop, or names the user's own files: `apt-get`, `xdg-open`, a line
    with a <placeholder> or `...`, a `./program` or a `.c`/`.o` input that is not in the clone;
  - `bench/run.sh` (benchmarks: long, and meaningless on a busy machine);
  - what the docs mark, in an HTML comment before the block (invisible on the page):
        <!-- doc-commands: long: cmake --workflow --preset test -->   run only with --long
        <!-- doc-commands: skip: ctest --test-dir -- rewrites the committed reference -->
        <!-- doc-commands: exit 86|134: build/default/demo/ndislock-demo --bug -->
    each applying to the block's commands that start with the text after the second colon (skip's
    reason follows " -- "); `exit` lists the statuses the text promises (default 0).

A full run with --long builds and runs the whole suite and takes as long as `cmake --workflow
--preset test` does (tens of minutes on two cores); without it, a few minutes. Not a ctest: it
wants a fresh clone, and its time is the suite's.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

FENCE = re.compile(r"^\s*```(\S*)\s*$")
MARK = re.compile(r"^<!--\s*doc-commands:\s*(long|skip|exit ([0-9|]+)):\s*(.*?)\s*-->\s*$")
SHELLS = {"sh", "bash", "shell"}


def commands(path):
    """(line, command, marks) for each command of the file's shell blocks."""
    out = []
    marks = []  # the marks since the last block
    block = None  # the open block's language
    pending, start = "", 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if m and block is None:
            block = m.group(1)
            continue
        if m:
            block = None
            marks = []
            continue
        if block is None:
            mark = MARK.match(line.strip())
            if mark:
                marks.append(mark.groups())
            continue
        if block not in SHELLS:
            continue
        if not pending:
            start = n
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            out.append((start, command, list(marks)))
    return out


def words(command):
    """The command without its trailing comment, split on blanks (no quoting needed here)."""
    return re.sub(r"\s#.*$", "", command).split()


def decide(command, marks, clone, long_ok):
    """(skip reason or None, accepted exit statuses, long)."""
    expected, is_long = {0}, False
    for kind, statuses, prefix in marks:
        target = prefix.split(" -- ")[0]
        if not command.startswith(target):
            continue
        if kind == "long":
            is_long = True
        elif kind == "skip":
            return (prefix.split(" -- ", 1)[1] if " -- " in prefix else "marked skip"), expected, False
        else:
            expected = {int(s) for s in statuses.split("|")}
    w = words(command)
    if is_long and not long_ok:
        return "marked long (run with --long)", expected, True
    if not w:
        return "empty", expected, False
    if "apt-get" in w or (w[0] == "sudo"):
        return "installs packages as root: a prerequisite (README)", expected, False
    if "xdg-open" in w:
        return "opens a desktop browser", expected, False
    if any(x.startswith("bench/run.sh") for x in w):
        return "benchmarks: long, and meaningless on a busy machine", expected, False
    if re.search(r"<[A-Za-z][^>]*>", command) or "..." in w:
        return "a template: it has placeholders", expected, False
    for x in w:
        x = x.split("=", 1)[-1] if re.match(r"^[A-Z_]+=", x) else x
        built = x.startswith(("./build/", "build/"))  # made by an earlier command
        if (x.startswith("./") or re.search(r"\.[co]$", x)) and not built and not os.path.exists(os.path.join(clone, x)):
            return f"names {x}, the user's own file", expected, False
    return None, expected, is_long


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clone")
    parser.add_argument("--long", action="store_true", help="also run the commands marked long")
    parser.add_argument("--only", help="run only the commands matching this regular expression")
    parser.add_argument("--logs")
    parser.add_argument("--list", action="store_true", help="say what would run or be skipped, run nothing")
    args = parser.parse_args()
    clone = os.path.abspath(args.clone)
    if not os.path.isfile(os.path.join(clone, "README.md")):
        sys.exit(f"run_doc_commands: {clone} has no README.md")
    logs = os.path.abspath(args.logs or os.path.join(clone, "doc-commands"))
    if not args.list:
        os.makedirs(logs, exist_ok=True)
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL="2")
    files = [os.path.join(clone, "README.md")] + sorted(glob.glob(os.path.join(clone, "docs", "*.md")))
    results = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    number = 0
    for path in files:
        for line, command, marks in commands(path):
            where = f"{os.path.relpath(path, clone)}:{line}"
            if args.only and not re.search(args.only, command):
                continue
            number += 1
            reason, expected, is_long = decide(command, marks, clone, args.long)
            if reason:
                results["SKIP"] += 1
                print(f"SKIP {where}: {command}\n     ({reason})", flush=True)
                continue
            if args.list:
                print(f"RUN  {where}: {command}" + (f"  (exit {sorted(expected)})" if expected != {0} else ""))
                continue
            log = os.path.join(logs, f"{number:02d}.log")
            began = time.monotonic()
            with open(log, "w", encoding="utf-8") as f:
                f.write(f"# {where}\n$ {command}\n")
                f.flush()
                try:
                    status = subprocess.run(["bash", "-c", command], cwd=clone, env=env, stdout=f,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            timeout=7200 if is_long else 900).returncode
                except subprocess.TimeoutExpired:
                    status = "timeout"
            if isinstance(status, int) and status < 0:
                status = 128 - status  # killed by a signal: the status a shell shows (134: abort)
            took = time.monotonic() - began
            verdict = "PASS" if status in expected else "FAIL"
            results[verdict] += 1
            print(f"{verdict} {where}: {command}\n     (exit {status}, {took:.0f} s, {log})", flush=True)
    print(f"run_doc_commands: {results['PASS']} passed, {results['FAIL']} failed, {results['SKIP']} skipped")
    sys.exit(1 if results["FAIL"] else 0)


if __name__ == "__main__":
    main()
