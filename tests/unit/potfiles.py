#!/usr/bin/python3
"""Every C file that marks strings for translation is listed in
po/POTFILES.in, and every listed file exists."""
import os
import re
import subprocess
import sys

from common import source_root

MARK = re.compile(r'\b(N?_|C_|NC_|g_dngettext|ngettext)\s*\(\s*"')


def main():
    root = source_root()
    listed = set()
    with open(os.path.join(root, "po", "POTFILES.in")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                listed.add(line)
    tracked = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                              "--exclude-standard", "*.c"],
                             capture_output=True, text=True, check=True).stdout.split()
    marked = set()
    for path in tracked:
        if path.startswith(("tests/", "fuzz/")):
            continue
        with open(os.path.join(root, path), encoding="utf-8") as f:
            if MARK.search(f.read()):
                marked.add(path)
    missing = sorted(marked - listed)
    stale = sorted(p for p in listed if not os.path.exists(os.path.join(root, p)))
    if missing or stale:
        print(f"po/POTFILES.in is out of date: missing {missing}, stale {stale}")
        return 1
    print(f"ok: {len(marked)} files with translatable strings, all in POTFILES.in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
