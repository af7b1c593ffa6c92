#!/usr/bin/env python3
"""The layer diagram of docs/architecture.md, checked against the includes.

Every #include "layer/file.h" in src/ must point at the including file's own layer or a layer
below it; the public headers (include/ndislock, include/wdk) include only each other and the
system. The order, bottom to top:

    include (ndislock/*: the contract)  <  platform  <  lock  <  model  <  observe  <  interrupt
        <  api, verifier, explore (side by side: none includes another)  <  root (the composition root)

A directory of src/ that is not in the diagram fails too: a new layer is placed here and in
docs/architecture.md before code goes in it.

KNOWN_UPWARD lists the upward edges that exist today, each with why and where its removal is
planned. An entry is one file and the layer it reaches: any other upward include fails, and so
does an entry whose include has gone (so the list is only ever what the code does).

Usage: check_layers.py REPOSITORY_ROOT
       check_layers.py --self-test REPOSITORY_ROOT
  --self-test copies src/ and include/ to a temporary tree, adds one upward include (lock -> verifier)
  and passes only if the check then fails on exactly that include (the check can fail).
"""
import pathlib
import re
import shutil
import sys
import tempfile

RANK = {
    "ndislock": 0,  # the public headers: the contract every layer implements or uses
    "platform": 1,  # the OS: futex (for lock/park.cpp only), clocks, membarrier, diagnostics, own-time
    "lock": 2,  # the lock algorithms (words, queues, parking); know nothing of IRQL
    "model": 3,  # threads, virtual processors, IRQL, preemption
    "observe": 4,  # the observer seam: lock events, rule catalog, names, statistics
    "interrupt": 5,  # ISRs, DPCs, events, the interrupt/DPC monitor
    "api": 6,  # the exported C calls: argument checks, then the layers below
    "verifier": 6,  # the rules: an observer installed on the seam
    "explore": 6,  # deterministic exploration: a scheduler over the seam and the park control
    "root": 7,  # the composition root: reads the environment, configures and connects every layer
}

# Upward (or sideways, between api and verifier) includes that exist today, each with its reason.
# Empty since the composition root (src/root) configures the layers: a new upward edge needs an
# entry here with its reason, and a plan to remove it.
KNOWN_UPWARD = {}

# Every wait in ndislock blocks through the one parking primitive (lock/park.h), so that one place
# sees every wait: only it may reach the platform's futex.
PRIVATE_TO = {
    "platform/futex.h": {"src/platform/futex.cpp", "src/lock/park.cpp"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)


def layer_of_target(target):
    first = target.split("/", 1)[0]
    return first if "/" in target else None  # <cstdint>, <pthread.h>: the system


def check(root):
    problems = []
    seen_known = set()
    edges = 0

    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".hpp", ".cpp", ".c"):
            continue
        rel = path.relative_to(root).as_posix()
        parts = path.relative_to(root / "src").parts
        if len(parts) < 2:
            continue  # src/CMakeLists.txt and the like
        own = parts[0]
        if own not in RANK:
            problems.append(f"{rel}: layer '{own}' is not in the diagram (docs/architecture.md, check_layers.py)")
            continue
        for target in INCLUDE.findall(path.read_text()):
            to = layer_of_target(target)
            # System headers in a directory; sanitizer/ and valgrind/ are the tools' interfaces
            # (observe/tool_annotations.cpp).
            if to is None or to in ("sys", "linux", "asm", "sanitizer", "valgrind"):
                continue
            # elfutils (libdw): the symbolizer's library, an OS facility behind platform's seam only.
            if to == "elfutils":
                if own != "platform":
                    problems.append(f"{rel}: includes {target}, which only platform/ may use")
                continue
            if to not in RANK:
                problems.append(f"{rel}: includes {target}, outside every layer")
                continue
            if target in PRIVATE_TO and rel not in PRIVATE_TO[target]:
                problems.append(f"{rel}: includes {target}: a wait parks through lock/park.h, never on the "
                                f"futex directly (docs/architecture.md, 'A new wait')")
            edges += 1
            if to == own or RANK[to] < RANK[own]:
                continue
            key = (rel, to)
            if key in KNOWN_UPWARD:
                seen_known.add(key)
                continue
            problems.append(f"{rel}: includes {target}: {own} (rank {RANK[own]}) must not depend on {to} "
                            f"(rank {RANK[to]}); see docs/architecture.md for where the code goes instead")

    for path in sorted((root / "include").rglob("*")):
        if path.suffix not in (".h", ".hpp"):
            continue
        rel = path.relative_to(root).as_posix()
        for target in INCLUDE.findall(path.read_text()):
            to = layer_of_target(target)
            if to is None or to in ("ndislock", "wdk", "sys"):
                continue
            if rel in ("include/ndislock/gtest.h", "include/ndislock/explore_gtest.h") and to == "gtest":
                continue  # the GoogleTest listener and explore helper: headers for test programs, which have gtest
            problems.append(f"{rel}: a public header includes {target}: the contract depends on nothing "
                            f"but itself and the system")

    for key in sorted(set(KNOWN_UPWARD) - seen_known):
        problems.append(f"{key[0]} no longer includes {key[1]}: remove its KNOWN_UPWARD entry (and the edge "
                        f"from docs/architecture.md)")
    if edges == 0:
        problems.append(f"no include found under {root}/src: the check ran on the wrong tree")
    return problems, edges


def self_test(root):
    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp)
        shutil.copytree(root / "src", copy / "src")
        shutil.copytree(root / "include", copy / "include")
        victim = copy / "src" / "lock" / "spin_word.h"
        victim.write_text(victim.read_text() + '\n#include "verifier/settings.h"\n')
        problems, _ = check(copy)
    for p in problems:
        print(p)
    if len(problems) == 1 and problems[0].startswith("src/lock/spin_word.h: includes verifier/settings.h"):
        print("self-test: the added upward include (lock -> verifier) fails the check, alone")
        return 0
    print("self-test: expected exactly one problem, at src/lock/spin_word.h")
    return 1


def main():
    if sys.argv[1] == "--self-test":
        return self_test(pathlib.Path(sys.argv[2]))
    problems, edges = check(pathlib.Path(sys.argv[1]))
    for p in problems:
        print(p)
    if problems:
        return 1
    known = f", but the {len(KNOWN_UPWARD)} known edges" if KNOWN_UPWARD else ""
    print(f"{edges} includes of layer headers checked: all point down{known}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
