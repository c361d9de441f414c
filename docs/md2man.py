#!/usr/bin/python3
"""Turn one of docs/*.N.md into a man page with lowdown.

The Markdown stays the single source (read on the web and in the tree);
this only adapts it to man(7): the first line "# NAME(N) — what it is"
becomes .TH and the NAME section, "##" headings become .SH (in capitals)
and "###" .SS, and the roff is kept ASCII (non-ASCII characters as
\\[uXXXX]) so man and groff need no preconv.  Lines are neither justified
nor hyphenated (option names must stay whole), and definition lists and
tables become tagged paragraphs (.TP), the idiom of man pages: tbl's
narrow columns on an 80-column terminal could be neither filled nor
fitted, and groff would warn (and 1.22.4 indents text blocks in expanded
tables).

Usage: md2man.py LOWDOWN INPUT.md OUTPUT VERSION
"""
import re
import subprocess
import sys

TITLE = re.compile(r"^# (?P<name>[A-Za-z0-9._-]+)\((?P<section>[1-8])\) — (?P<what>.+)$")
VOLUMES = {"1": "User Commands", "5": "File Formats", "8": "System Administration"}


def convert(lowdown, text, version):
    first, _, body = text.partition("\n")
    m = TITLE.match(first)
    if m is None:
        raise SystemExit(f"md2man: the first line must be “# NAME(N) — what”, not {first!r}")
    name, section = m["name"], m["section"]
    # "##" become level 1 (.SH) below; NAME is written in roff after .TH
    argv = [lowdown, "-s", "-tman", "--out-no-smarty", "--parse-no-intraemph",
            "-M", f"title={name}", "-M", f"section={section}",
            "-M", f"source=ipsecd {version}", "-M", f"volume={VOLUMES.get(section, '')}",
            "-M", "shiftheadinglevelby=-1"]
    roff = subprocess.run(argv, input=body, capture_output=True, text=True, check=True).stdout
    return postprocess(roff, name, m["what"])


# How lowdown sets a definition list's term apart (after .LP TERM).
DEFINITION = [".if n \\", ".sp -1v", ".if t \\", ".sp -0.25v", '.IP "" 5n']


def postprocess(roff, name, what):
    out = []
    lines = roff.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if lines[i:i + len(DEFINITION)] == DEFINITION and len(out) >= 2 and out[-2] == ".LP":
            # a tagged paragraph: the term on its own line however long
            out[-2] = ".TP"
            i += len(DEFINITION)
            continue
        if line in (".SH", ".SS") and i + 1 < len(lines):
            # one line, as lexgrog (whatis) and most readers expect
            heading = lines[i + 1].replace('"', '\\(dq')
            if line == ".SH":
                heading = upper(heading)
            out.append(f'{line} "{heading}"')
            i += 2
            continue
        out.append(line)
        if line.startswith(".TH "):
            out += [".ds AD l", ".ad l", ".nr HY 0", ".nh", ".SH NAME", f"{name} \\- {what}"]
        i += 1
    return "".join(ascii_only(l) + "\n" for l in untable(out))


def table_rows(block):
    """The cells of lowdown's tbl block (.TS to .TE) by row, or None."""
    start = next(i for i, l in enumerate(block) if l.endswith("."))
    rows, row, cell = [], None, None
    for line in block[start + 1:-1]:
        if line == "T{" and row is None:
            row, cell = [], []
        elif line == "T}|T{" and cell is not None:
            row.append("\n".join(cell))
            cell = []
        elif line == "T}" and cell is not None:
            row.append("\n".join(cell))
            rows.append(row)
            row = cell = None
        elif cell is not None:
            cell.append(line)
        else:
            return None
    return rows


def tagged(rows):
    """A table as .TP paragraphs: the first column is the tag, the middle
    ones are labelled with their heading, the last is the text; the
    heading row itself is left out."""
    heads, out = rows[0], []
    for row in rows[1:]:
        out += [".TP", row[0]]
        for head, cell in zip(heads[1:-1], row[1:-1]):
            out += [f"\\fI{head}:\\fR {cell}", ".br"]
        out.append(row[-1])
    return out


def untable(lines):
    out, i = [], 0
    while i < len(lines):
        if lines[i] != ".TS":
            out.append(lines[i])
            i += 1
            continue
        end = lines.index(".TE", i)
        block = lines[i:end + 1]
        rows = table_rows(block)
        ok = rows is not None and len(rows) > 1 and min(len(r) for r in rows) >= 2
        out += tagged(rows) + [".PP"] if ok else block
        i = end + 1
    return out


def upper(text):
    """Section headings in capitals, as man(7) has them; escapes kept."""
    parts = re.split(r"(\\f[A-Z]|\\\[[^]]*\]|\\\(..|\\.)", text)
    return "".join(p if p.startswith("\\") else p.upper() for p in parts)


def ascii_only(line):
    return "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in line)


def main():
    lowdown, source, output, version = sys.argv[1:5]
    with open(source, encoding="utf-8") as f:
        roff = convert(lowdown, f.read(), version)
    with open(output, "w", encoding="ascii") as f:
        f.write(roff)


if __name__ == "__main__":
    main()
