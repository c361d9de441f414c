#!/usr/bin/python3
"""The man pages built from docs/*.N.md (docs/md2man.py, lowdown) render
without a warning from man or groff, are plain ASCII roff with a NAME line
whatis can read, and say what the programs do: every command and exit
status of `ipsecctl --help` is in ipsecctl(1), every option of
`ipsecd --help` in ipsecd(8)."""
import os
import re
import shutil
import subprocess
import sys

import common

PAGES = ["ipsecctl.1", "ipsecd.8", "ipsecd.conf.5"]
failures = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


def render(path, width=80):
    env = dict(os.environ, MANWIDTH=str(width), LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       env=env, timeout=60)
    return r.returncode, r.stdout, r.stderr


def clean(page, path):
    with open(path, "rb") as f:
        raw = f.read()
    check(all(b < 128 for b in raw), f"{page}: ASCII roff")
    for width in (80, 120):
        code, _, err = render(path, width)
        check(code == 0 and not err.strip(), f"{page}: man --warnings at {width} columns: "
              f"{err.strip()[:300] or 'no warning'}")
    r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", path], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0 and not r.stderr.strip(),
          f"{page}: groff -man -ww: {r.stderr.strip()[:300] or 'no warning'}")
    if shutil.which("lexgrog"):
        r = subprocess.run(["lexgrog", path], capture_output=True, text=True, timeout=60)
        name = page.rsplit(".", 1)[0]
        check(r.returncode == 0 and f'"{name} - ' in r.stdout,
              f"{page}: whatis line ({r.stdout.strip()})")


def section(text, title):
    """The text of section TITLE of a rendered page (plain, no overstrike)."""
    m = re.search(rf"^{title}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.S | re.M)
    return m.group(1) if m else ""


def ipsecctl_documented(path, build):
    r = subprocess.run([os.path.join(build, "cli", "ipsecctl"), "--help"], capture_output=True,
                       text=True, timeout=30)
    commands = re.findall(r"^  ([a-z]+)\b", r.stdout.split("Commands:", 1)[1], re.M)
    codes = re.findall(r"\b(\d) [a-z]", r.stdout.split("Exit status:", 1)[1])
    _, text, _ = render(path)
    part = section(text, "COMMANDS")
    missing = [c for c in commands if not re.search(rf"^       {c}\b", part, re.M)]
    check(len(commands) >= 10 and not missing,
          f"ipsecctl.1: every command of --help ({len(commands)}) has an entry ({missing})")
    part = section(text, "EXIT STATUS")
    missing = [c for c in codes if not re.search(rf"^       {c}\s", part, re.M)]
    check(codes == [str(i) for i in range(8)] and not missing,
          f"ipsecctl.1: exit statuses {codes} all explained ({missing})")


def ipsecd_documented(path, build):
    r = subprocess.run([os.path.join(build, "service", "ipsecd"), "--help"],
                       capture_output=True, text=True, timeout=30)
    options = sorted(set(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", r.stdout, re.M))
                     - {"--help"})
    _, text, _ = render(path)
    part = section(text, "OPTIONS")
    missing = [o for o in options if o not in part]
    check(len(options) >= 8 and not missing,
          f"ipsecd.8: every option of --help ({len(options)}) under OPTIONS ({missing})")
    for title in ("SIGNALS", "FILES", "ENVIRONMENT", "EXIT STATUS"):
        check(section(text, title).strip(), f"ipsecd.8: a {title} section")


def main():
    build = common.build_root()
    docs = os.path.join(build, "docs")
    common.require_tools("man", "groff")
    if not all(os.path.exists(os.path.join(docs, p)) for p in PAGES):
        if shutil.which("lowdown") is None:
            common.skip("lowdown is not installed (scripts/setup-deps installs it)")
        print(f"FAIL: the man pages are not in {docs}")
        return 1
    for page in PAGES:
        clean(page, os.path.join(docs, page))
    ipsecctl_documented(os.path.join(docs, "ipsecctl.1"), build)
    ipsecd_documented(os.path.join(docs, "ipsecd.8"), build)
    print(f"{len(failures)} check(s) failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
