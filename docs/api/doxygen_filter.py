#!/usr/bin/env python3
"""Doxygen's INPUT_FILTER for the public headers (cmake/docs.cmake).

The headers document each call in a plain C comment just before it ("NdisAcquireSpinLock: IRQL
<= DISPATCH_LEVEL. ..."), and struct members in a comment after them. Doxygen reads only
/** ... */ and /**< ... */ as documentation, so this prints the file with:
  - a block comment that starts a line turned into /** ... */ (it documents what follows), the
    file's first one into a \\file comment;
  - a comment after code on the same line turned into /**< ... */ (it documents that member);
  - inside comments, the characters Doxygen would read as markup (< > # @ \\) escaped, so that
    "NDISLOCK_REPORT=<path>" and "#undef" show as written.
Line numbers are kept.
"""
import sys

SPECIAL = {"<": "\\<", ">": "\\>", "#": "\\#", "@": "\\@", "\\": "\\\\"}


def convert(text):
    out = []
    i, n = 0, len(text)
    in_comment = False
    line_has_code = False
    first_comment = True
    while i < n:
        c = text[i]
        if in_comment:
            if text.startswith("*/", i):
                out.append("*/")
                in_comment = False
                i += 2
                continue
            out.append(SPECIAL.get(c, c))
            i += 1
            continue
        if c == "\n":
            line_has_code = False
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
            i = j + 1
            continue
        if text.startswith("/*", i):
            already = text.startswith("/**", i) or text.startswith("/*!", i)
            if already:
                out.append("/**")
                i += 3
            elif line_has_code:
                out.append("/**<")
                i += 2
            elif first_comment:
                out.append("/** \\file")
                i += 2
            else:
                out.append("/**")
                i += 2
            first_comment = False
            in_comment = True
            continue
        if not c.isspace():
            line_has_code = True
        out.append(c)
        i += 1
    return "".join(out)


def main(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        sys.stdout.write(convert(f.read()))


if __name__ == "__main__":
    main(sys.argv[1])
