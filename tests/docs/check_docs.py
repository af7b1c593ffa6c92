#!/usr/bin/env python3
"""Builds the API reference (the docs target) and checks that every call carries its contract.

Usage: check_docs.py CMAKE BUILD_DIR HTML_DIR    (the XML output is HTML_DIR/../xml)
       check_docs.py --xml XML_DIR [HTML_DIR]    (no build: check what is there)

Every Windows-named call in the generated reference (each function and function-like macro of
the public headers, and each macro that is another spelling of one, whose name is not ndislock's
own) must have, in its own entry:
  - an IRQL statement ("any IRQL", "IRQL <= DISPATCH_LEVEL", "PASSIVE_LEVEL", ...);
  - a link to its Microsoft page, a well-formed https://learn.microsoft.com/... address.
Not calls, and so not checked: the SAL annotations (sal.h, sal_legacy.h) and the compile-time
macros of ntdef.h in NOT_CALLS. The reference must also hold no junk entries (JUNK: attributes and
static assertions read as functions), and for the calls in EXPECTED the HTML page must show the
phrases listed (IRQL rule, misuse rule ID) beside the call.
"""
import html
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

EXPECTED = {
    "NdisAcquireSpinLock": ["IRQL <= DISPATCH_LEVEL", "RecursiveAcquire", "ndis/nf-ndis-ndisacquirespinlock"],
    "NdisReleaseSpinLock": ["IRQL == DISPATCH_LEVEL", "ndis/nf-ndis-ndisreleasespinlock"],
    "NdisDprAcquireSpinLock": ["DISPATCH_LEVEL", "ndis/nf-ndis-ndisdpracquirespinlock"],
    "NdislockReportStart": ["PASSIVE_LEVEL", "NDISLOCK_IO_ERROR"],
    "NdislockTraceStart": ["PASSIVE_LEVEL", "NDISLOCK_IO_ERROR"],
}

# Expressions evaluated in place at compile time or as plain arithmetic (ntdef.h, minwindef.h,
# ntstatus.h): no IRQL rule applies and most have no Microsoft page of their own.
NOT_CALLS = {
    "DECLSPEC_ALIGN", "__declspec", "UNREFERENCED_PARAMETER", "DBG_UNREFERENCED_PARAMETER",
    "DBG_UNREFERENCED_LOCAL_VARIABLE", "UNREFERENCED_LOCAL_VARIABLE", "C_ASSERT", "FIELD_OFFSET",
    "RTL_FIELD_SIZE", "RTL_SIZEOF_THROUGH_FIELD", "RTL_CONTAINS_FIELD", "CONTAINING_RECORD",
    "RTL_NUMBER_OF_V1", "RTL_NUMBER_OF_V2", "RTL_NUMBER_OF", "ARRAYSIZE", "RTL_NUMBER_OF_FIELD",
    "ALIGN_DOWN_BY", "ALIGN_UP_BY", "ALIGN_DOWN_POINTER_BY", "ALIGN_UP_POINTER_BY", "FlagOn",
    "BooleanFlagOn", "SetFlag", "ClearFlag", "min", "max", "NT_SUCCESS", "NT_INFORMATION",
    "NT_WARNING", "NT_ERROR", "Add2Ptr", "PtrOffset", "BYTE_OFFSET", "PAGE_ALIGN", "ROUND_TO_PAGES",
    "BYTES_TO_PAGES",
}
NOT_CALL_FILES = {"ndislock/sal.h", "ndislock/sal_legacy.h"}
JUNK = {"__attribute__", "NDISLOCK_STATIC_ASSERT"}

IRQL_RULE = re.compile(r"\bany IRQL\b|\bIRQL\s*(<=|>=|==|<|>)|\b(PASSIVE|APC|DISPATCH|SYNCH|HIGH)_LEVEL\b|\bDIRQL\b",
                       re.IGNORECASE)
# A learn.microsoft.com page as the filter writes it: a reference page, its header named twice
# (ddi/ndis/nf-ndis-..., api/winnt/nf-winnt-...), a guide page (drivers/kernel/...), a compiler
# intrinsic's page.
MS_REFERENCE = re.compile(r"^https://learn\.microsoft\.com/(?:windows-hardware/drivers/ddi|windows/win32/api)/"
                          r"(\w+)/n[a-z]-(\w+)-[a-z0-9_-]+$")
MS_OTHER = re.compile(r"^https://learn\.microsoft\.com/(?:windows-hardware/drivers/[a-z0-9_-]+/[a-z0-9_-]+"
                      r"|cpp/intrinsics/[a-z0-9_-]+)$")


def well_formed(url):
    m = MS_REFERENCE.match(url)
    return (m is not None and m.group(1) == m.group(2)) or MS_OTHER.match(url) is not None


def own_name(name):
    return re.match(r"(?i)_*ndislock", name) is not None


def description(member):
    parts = [member.find(tag) for tag in ("briefdescription", "detaileddescription", "inbodydescription")]
    return re.sub(r"\s+", " ", " ".join("".join(p.itertext()) for p in parts if p is not None)).strip()


def links(member):
    return [u.get("url") for tag in ("briefdescription", "detaileddescription") if member.find(tag) is not None
            for u in member.find(tag).iter("ulink")]


MIN_CALLS = 400


def entries(xml_dir):
    """(file, name, kind, member) for every function and macro of every header."""
    out = []
    for path in sorted(pathlib.Path(xml_dir).glob("*.xml")):
        root = ET.parse(path).getroot()
        for compound in root.iter("compounddef"):
            if compound.get("kind") != "file":
                continue
            for member in compound.iter("memberdef"):
                if member.get("kind") in ("function", "define"):
                    loc = member.find("location")
                    out.append((loc.get("file") if loc is not None else "?", member.findtext("name"),
                                member.get("kind"), member))
    return out


def calls(all_entries):
    """The Windows-named calls: functions, function-like macros, and the object-like macros that
    name one of those (another spelling of the call)."""
    callable_names = {n for f, n, k, m in all_entries if k == "function" or m.find("param") is not None}
    out = []
    for file, name, kind, member in all_entries:
        if own_name(name) or name in NOT_CALLS or file in NOT_CALL_FILES or name in JUNK:
            continue
        if kind == "define" and member.find("param") is None:
            if (member.findtext("initializer") or "").strip() not in callable_names:
                continue
        out.append((file, name, member))
    return out


def check_xml(xml_dir):
    all_entries = entries(xml_dir)
    problems = []
    junk = sorted({f"{n} ({f})" for f, n, k, m in all_entries if n in JUNK})
    if junk:
        problems.append("junk entries in the reference: " + ", ".join(junk))
    checked = calls(all_entries)
    # Doxygen that found no headers, or an XML layout this script no longer reads, must not pass
    # for a reference in which every call is documented: ndislock has over 400 such calls.
    if len(checked) < MIN_CALLS:
        problems.append(f"only {len(checked)} Windows-named calls found in the XML (expected at least {MIN_CALLS})")
    for file, name, member in checked:
        text = description(member)
        urls = links(member)
        lacks = []
        if not IRQL_RULE.search(text):
            lacks.append("an IRQL statement")
        if not any(u.startswith("https://learn.microsoft.com/") for u in urls):
            lacks.append("a learn.microsoft.com link")
        bad = [u for u in urls if u.startswith("https://learn.microsoft.com/") and not well_formed(u)]
        if bad:
            lacks.append("well-formed Microsoft links (" + ", ".join(bad) + ")")
        if lacks:
            problems.append(f"{name} ({file}) lacks " + " and ".join(lacks) + f": \"{text[:100]}\"")
    return len(checked), problems


def text_of(page):
    raw = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8", errors="replace"))
    return re.sub(r"\s+", " ", html.unescape(raw))


def check_html(html_dir):
    pages = sorted(pathlib.Path(html_dir).glob("*.html"))
    if not pages:
        return 0, [f"no pages in {html_dir}"]
    texts = {p.name: text_of(p) for p in pages}
    problems = []
    for call, phrases in EXPECTED.items():
        # The call's documentation: from its name to the next 1500 characters, on a page that has
        # it with every phrase nearby.
        found = any(all(p in text[max(0, m.start() - 200): m.start() + 1500] for p in phrases)
                    for text in texts.values() for m in re.finditer(r"\b" + call + r"\b", text))
        if not found:
            problems.append(f"{call}: no page documents it with {phrases}")
    return len(pages), problems


def report(count, problems, pages):
    if problems:
        print(f"check_docs: {len(problems)} problem(s) in the reference:\n  " + "\n  ".join(problems))
        return 1
    print(f"check_docs: {pages} pages; all {count} Windows-named calls carry an IRQL rule and their "
          f"learn.microsoft.com page; {len(EXPECTED)} calls show their contract phrases")
    return 0


def main(argv):
    if argv[:1] == ["--xml"]:
        xml_dir = argv[1]
        count, problems = check_xml(xml_dir)
        pages = 0
        if len(argv) > 2:
            pages, more = check_html(argv[2])
            problems += more
        return report(count, problems, pages)
    cmake, build, html_dir = argv[:3]
    done = subprocess.run([cmake, "--build", build, "--target", "docs"], capture_output=True, text=True, timeout=280)
    if done.returncode != 0:
        print(f"check_docs: the docs target failed (status {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return 1
    xml_dir = pathlib.Path(html_dir).parent / "xml"
    if not xml_dir.is_dir():
        print(f"check_docs: no XML output in {xml_dir} (GENERATE_XML in cmake/docs.cmake)")
        return 1
    count, problems = check_xml(xml_dir)
    pages, more = check_html(html_dir)
    return report(count, problems + more, pages)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
