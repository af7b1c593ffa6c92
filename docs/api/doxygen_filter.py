#!/usr/bin/env python3
"""Doxygen's INPUT_FILTER for the public headers (cmake/docs.cmake).

The headers document each call in a plain C comment just before it ("NdisAcquireSpinLock: IRQL
<= DISPATCH_LEVEL. ..."), and struct members in a comment after them. Doxygen reads only
/** ... */ and /**< ... */ as documentation, so this prints the file with:
  - a block comment that starts a line turned into /** ... */ (it documents what follows), the
    file's first one into a \\file comment; a section banner ("/* ---- Waits ---- */", or a title
    between two lines of "=") stays a plain comment, and the dashes of a banner line that heads a
    longer comment are dropped;
  - a comment after code on the same line turned into /**< ... */ (it documents that member),
    except after a preprocessor directive other than #define, or a lone closing brace
    ("#endif /* X_H */");
  - /*@{*/ and /*@}*/, which mark a family of calls that the comment before them documents, made
    Doxygen's /**@{*/ and /**@}*/: a member group whose comment DISTRIBUTE_GROUP_DOC gives to each
    member;
  - inside comments, the characters Doxygen would read as markup (< > # @ \\) escaped, so that
    "NDISLOCK_REPORT=<path>" and "#undef" show as written;
  - inside comments, each Microsoft page path ("ndis/nf-ndis-ndisacquirespinlock",
    "wdm/nf-wdm-kesetevent", "winnt/nf-winnt-yieldprocessor", "cpp/intrinsics/readwritebarrier";
    "kernel/..." and "network/..." after "Page:") made a link to its https://learn.microsoft.com/
    address, the path still the link's text.
Line numbers are kept.
"""
import re
import sys

SPECIAL = {"<": "\\<", ">": "\\>", "#": "\\#", "@": "\\@", "\\": "\\\\"}
LEARN = "https://learn.microsoft.com/"
# A reference page: <header>/n<kind>-<header>-<name>. The kernel and NDIS headers' pages are under
# windows-hardware/drivers/ddi/, those of winnt.h and ntdef.h under windows/win32/api/.
REFERENCE_PAGE = re.compile(r"(?<![\w/.-])((ndis|wdm|ntddk|ntifs|miniport|winnt|ntdef)/n[a-z]-\2-"
                            r"[a-z0-9_]+(?:-[a-z0-9_]+)*)(?![\w*/-])")
WIN32_HEADERS = {"winnt", "ntdef"}
# A conceptual page (kernel/..., network/...), named after "Page:" or in a "Pages:" list.
GUIDE_PAGE = re.compile(r"(?<![\w/.-])((?:kernel|network|devtest)/[a-z0-9_]+(?:-[a-z0-9_]+)*)(?![\w*/-])")
# A C++ compiler intrinsic's page: cpp/intrinsics/<name>.
CPP_PAGE = re.compile(r"(?<![\w/.-])(cpp/intrinsics/[a-z0-9_]+(?:-[a-z0-9_]+)*)(?![\w*/-])")
RULE_LINE = re.compile(r"^\s*\*?\s*[-=]{4,}\s*$")


def link(m, base):
    return f'<a href="{LEARN}{base}{m.group(1)}">{m.group(1)}</a>'


def linked(text):
    """The comment text (already escaped) with its Microsoft page paths as links."""
    text = REFERENCE_PAGE.sub(
        lambda m: link(m, "windows/win32/api/" if m.group(2) in WIN32_HEADERS else "windows-hardware/drivers/ddi/"),
        text)
    text = CPP_PAGE.sub(lambda m: link(m, ""), text)
    if re.search(r"\bPages?:", text):
        text = GUIDE_PAGE.sub(lambda m: link(m, "windows-hardware/drivers/"), text)
    return text


def is_banner(body):
    """A comment that is only a section title: one line of dashes around a title, or a title
    between lines of '=' (or '-')."""
    lines = [ln for ln in body.split("\n") if ln.strip(" *")]
    if len(lines) == 1:
        return re.match(r"^\s*-{2,}\s.*-{4,}\s*$", lines[0]) is not None
    return len(lines) >= 2 and RULE_LINE.match(lines[0]) is not None and RULE_LINE.match(lines[-1]) is not None


def without_banner_rule(body):
    """A doc comment headed by a banner line: the title kept, its dashes dropped."""
    first, nl, rest = body.partition("\n")
    m = re.match(r"^(\s*)-{2,}\s+(.*?)\s*-{4,}\s*$", first)
    if m is None:
        return body
    title = m.group(2).rstrip(".")
    return f"{m.group(1)}{title}.{nl}{rest}"


def escape(body):
    return "".join(SPECIAL.get(c, c) for c in body)


def convert(text):
    out = []
    i, n = 0, len(text)
    line_code = ""  # the code so far on the current line (outside comments)
    first_comment = True
    while i < n:
        c = text[i]
        if c == "\n":
            line_code = ""
            out.append(c)
            i += 1
            continue
        if text.startswith("//", i):  # a line comment: kept as it is, to the line's end
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(text[i:end])
            i = end
            continue
        if c in "\"'":  # a string or character literal: copied whole
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            line_code += text[i:j + 1]
            i = j + 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end
            raw = text[i:end + 2]
            body = text[i + 2:end]
            i = end + 2
            code = line_code.strip()
            if raw in ("/*@{*/", "/*@}*/"):  # member-group markers, as Doxygen's /**@{*/ and /**@}*/
                out.append("/**" + raw[2:])
            elif body.startswith("*") or body.startswith("!"):  # already Doxygen's
                out.append("/**" + linked(escape(body[1:])) + "*/")
            elif (code.startswith("#") and not re.match(r"#\s*define\b", code)) or code == "}":
                out.append(raw)  # "#endif /* X_H */", "#include ... /* why */", "} /* extern "C" */"
            elif code:
                out.append("/**<" + linked(escape(body)) + "*/")
            elif first_comment:
                out.append("/** \\file" + linked(escape(body)) + "*/")
            elif is_banner(body):
                out.append(raw)
            else:
                out.append("/**" + linked(escape(without_banner_rule(body))) + "*/")
            first_comment = False
            continue
        if not c.isspace():
            line_code += c
        elif line_code:
            line_code += c
        out.append(c)
        i += 1
    return "".join(out)


def main(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        sys.stdout.write(convert(f.read()))


if __name__ == "__main__":
    main(sys.argv[1])
