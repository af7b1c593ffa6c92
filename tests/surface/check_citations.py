#!/usr/bin/env python3
"""Installed headers cite only documents their reader has (issue #24).

A header of include/ may point its reader at docs/NAME.md (installed with the headers, in
share/doc/ndislock/, by the top-level install rules) or at a web page. This fails on a header that
cites any other .md file (the project's ../shared/spec/ was never shipped), or a docs/NAME.md that
does not exist in docs/ and so would not be installed.

Usage: check_citations.py INCLUDE_DIR DOCS_DIR
"""
import pathlib
import re
import sys

MD_CITATION = re.compile(r"[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b")
URL = re.compile(r"[a-z]+://\S+")


def main():
    include_dir, docs_dir = map(pathlib.Path, sys.argv[1:3])
    shipped = {p.name for p in docs_dir.glob("*.md")}
    headers = sorted(p for p in include_dir.rglob("*") if p.suffix in (".h", ".hpp"))
    problems = []
    cited = 0
    for header in headers:
        for number, line in enumerate(header.read_text().splitlines(), 1):
            for citation in MD_CITATION.findall(URL.sub("", line)):  # a web page is always there
                cited += 1
                where = f"{header.relative_to(include_dir)}:{number}"
                match = re.fullmatch(r"docs/([A-Za-z0-9_-]+\.md)", citation)
                if match is None:
                    problems.append(f"{where}: cites {citation}, which is not a shipped doc (docs/NAME.md)")
                elif match.group(1) not in shipped:
                    problems.append(f"{where}: cites {citation}, which is not in {docs_dir}")
    if not headers or cited == 0:
        problems.append(f"no header or no citation found under {include_dir}: the check ran on the wrong tree")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{len(headers)} headers, {cited} citations, all of shipped docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
