#!/usr/bin/env python3
"""libndislock.so exports the public contract and nothing else (issue #24).

Reads the library's defined dynamic symbols (nm -D --defined-only) and fails on any symbol that
  - does not carry a public prefix: Ke, Ex, Io, Ps, Ndis, Rtl, Dbg, vDbgPrintEx (the WDK names),
    Ndislock or ndislock_ (ndislock's own C API, the site-taking forms and the inline fast path's
    out-of-line ends), and is not one of the WDK's unprefixed SList calls;
  - is not declared, by that name, in an installed header (include/ndislock/*.h): a prefix alone
    does not make an internal helper part of the contract;
  - is data, other than the five objects the inline fast path of include/ndislock/fast_path.h
    reads and the one the inline interlocked operations of include/ndislock/wdk_interlocked.h
    read (the only places where library data is part of the ABI).
It also fails when a symbol of that short list is missing, or when the library exports almost
nothing (a wrong path or an empty nm output must not pass).

Usage: check_exports.py LIBRARY INCLUDE_DIR [--nm NM] [--nm-output FILE]
  --nm names the nm to run (default: nm on the PATH).
  --nm-output reads nm's output from FILE instead of running nm (the checker's own self-test).
"""
import argparse
import pathlib
import re
import subprocess
import sys

PUBLIC_NAME = re.compile(r"^(Ke|Ex|Io|Ps|Ndis|Rtl|Dbg|vDbgPrintEx|Ndislock|ndislock_)[A-Za-z0-9_]*$")
# The WDK's SList calls, whose names carry no prefix (include/ndislock/wdk_slist.h).
SLIST_NAMES = {"InitializeSListHead", "InterlockedPushEntrySList", "InterlockedPopEntrySList",
               "InterlockedFlushSList", "QueryDepthSList", "FirstEntrySList"}

# Data the inline fast path reads directly (include/ndislock/fast_path.h).
FAST_PATH_DATA = {
    "ndislock_tls_thread",
    "ndislock_fast_processors",
    "ndislock_fast_buckets",
    "ndislock_active_observers",
    "ndislock_fast_asymmetric",
    # Read by the inline interlocked operations (include/ndislock/wdk_interlocked.h): whether an
    # exploration listens.
    "ndislock_interlocked_observers",
}

# nm's type letters for code; everything else defined (B, D, R, V, u, ...) is data.
CODE_TYPES = {"T", "t", "W", "w", "i"}

# A handful the library cannot be without: if these are absent the check ran on the wrong file.
MUST_EXPORT = {"KeAcquireSpinLockRaiseToDpc", "NdisAcquireSpinLock", "NdislockSetProcessorCount"}


def read_symbols(args):
    if args.nm_output:
        text = pathlib.Path(args.nm_output).read_text()
    else:
        text = subprocess.run([args.nm, "-D", "--defined-only", args.library], check=True, capture_output=True,
                              text=True).stdout
    symbols = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3:
            _, kind, name = fields
        elif len(fields) == 2:  # absolute symbols may print without a value column
            kind, name = fields
        else:
            continue
        symbols[name.split("@")[0]] = kind
    return symbols


def declared_names(include_dir):
    words = set()
    for header in sorted(pathlib.Path(include_dir, "ndislock").rglob("*.h")):
        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", header.read_text()))
    return words


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("library")
    parser.add_argument("include_dir")
    parser.add_argument("--nm", default="nm")
    parser.add_argument("--nm-output")
    args = parser.parse_args()

    symbols = read_symbols(args)
    declared = declared_names(args.include_dir)
    problems = []
    for name, kind in sorted(symbols.items()):
        if not PUBLIC_NAME.match(name) and name not in SLIST_NAMES:
            problems.append(f"{name} ({kind}): not a public name (Ke*, Ex*, Io*, Ps*, Ndis*, Rtl*, Dbg*, vDbgPrintEx*, "
                            "Ndislock*, ndislock_*)")
        elif name not in declared:
            problems.append(f"{name} ({kind}): not declared in any header of include/ndislock")
        elif kind not in CODE_TYPES and name not in FAST_PATH_DATA:
            problems.append(f"{name} ({kind}): data that the inline fast path does not read")
    for name in sorted((FAST_PATH_DATA | MUST_EXPORT) - symbols.keys()):
        problems.append(f"{name}: expected in the dynamic symbol table, missing")

    if problems:
        print(f"{args.library}: {len(problems)} symbol(s) outside the contract:")
        for p in problems:
            print("  " + p)
        print("The export list is src/libndislock.map; internal code has hidden visibility, and data the"
              " inline code needs is named ndislock_* and declared in include/ndislock/fast_path.h or"
              " include/ndislock/wdk_interlocked.h.")
        return 1
    print(f"{args.library}: {len(symbols)} exported symbols, all in the contract")
    return 0


if __name__ == "__main__":
    sys.exit(main())
