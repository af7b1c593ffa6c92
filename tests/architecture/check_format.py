#!/usr/bin/env python3
"""The tree is formatted by the repository's own .clang-format.

Every C and C++ source of include/, src/, tests/, demo/ and bench/ must be left unchanged by
clang-format with the style file at the repository's root. A file that differs is listed with the
first lines clang-format would change and the command that fixes it.

The style's output depends on clang-format's major version: the check is written for the one
Debian 12 ships (14), which CI installs. Another major version is refused with a clear message
rather than reporting a tree-wide diff that is only the formatter's.

Usage: check_format.py CLANG_FORMAT REPOSITORY_ROOT
       check_format.py --self-test CLANG_FORMAT REPOSITORY_ROOT
  --self-test copies one formatted source to a temporary tree, breaks its formatting and passes
  only if the check then fails on exactly that file (the check can fail).
"""
import difflib
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

EXPECTED_MAJOR = 14
FOLDERS = ("include", "src", "tests", "demo", "bench")
SUFFIXES = {".c", ".cpp", ".h", ".hpp"}


def sources(root):
    for folder in FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix in SUFFIXES and path.is_file():
                yield path


def major_version(clang_format):
    out = subprocess.run([clang_format, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"version (\d+)\.", out)
    return int(match.group(1)) if match else None


def check(clang_format, root):
    differing = []
    for path in sources(root):
        original = path.read_text(encoding="utf-8")
        formatted = subprocess.run(
            [clang_format, "--style=file:" + str(root / ".clang-format"), "--assume-filename=" + str(path)],
            input=original, capture_output=True, text=True, check=True).stdout
        if formatted != original:
            differing.append(path)
            diff = list(difflib.unified_diff(original.splitlines(), formatted.splitlines(),
                                             str(path.relative_to(root)), "formatted", n=0, lineterm=""))
            print("\n".join(diff[:12]))
            if len(diff) > 12:
                print(f"... ({len(diff) - 12} more diff lines)")
    return differing


def main(argv):
    self_test = argv[1:2] == ["--self-test"]
    args = argv[2:] if self_test else argv[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    clang_format, root = args[0], pathlib.Path(args[1]).resolve()
    major = major_version(clang_format)
    if major != EXPECTED_MAJOR:
        print(f"check_format: {clang_format} is version {major}; the tree is formatted with clang-format "
              f"{EXPECTED_MAJOR} (Debian 12's clang-format package), whose output the style pins",
              file=sys.stderr)
        return 1
    if self_test:
        with tempfile.TemporaryDirectory() as tmp:
            copy = pathlib.Path(tmp)
            shutil.copy(root / ".clang-format", copy / ".clang-format")
            victim = copy / "src" / "platform" / "victim.cpp"
            victim.parent.mkdir(parents=True)
            shutil.copy(root / "src" / "platform" / "format.h", copy / "src" / "platform" / "format.h")
            victim.write_text("int  main( ) {return 0 ;}\n", encoding="utf-8")
            differing = check(clang_format, copy)
            names = sorted(p.relative_to(copy).as_posix() for p in differing)
            if names != ["src/platform/victim.cpp"]:
                print(f"self-test: expected exactly src/platform/victim.cpp to fail, got {names}", file=sys.stderr)
                return 1
            print("self-test: the check fails on the one misformatted file, as it should")
            return 0
    differing = check(clang_format, root)
    if differing:
        print(f"\n{len(differing)} file(s) differ from .clang-format. Fix with:\n  {clang_format} -i --style=file "
              + " ".join(str(p.relative_to(root)) for p in differing))
        return 1
    print(f"all {sum(1 for _ in sources(root))} sources match .clang-format")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
