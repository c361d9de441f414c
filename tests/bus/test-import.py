#!/usr/bin/python3
"""bus suite: Manager.ImportConnections and `ipsecctl import`.

  - a libreswan ipsec.conf + ipsec.secrets: right=127.0.0.1 is this host,
    so the ends are swapped; connections/NAME.conf and secrets/NAME.psk are
    written with mode 0600, the PSK only in the latter; the connection is
    loaded (on the bus) and its problems come back as FILE:LINE lines;
  - dry-run writes nothing but reports the same; a taken name is Exists
    (nothing changes) unless "replace"; text that does not parse is
    InvalidSetting naming file and line, and nothing is written;
  - an unknown flag is refused; nobody is denied when polkit says no;
  - ipsecctl import FILE --secrets FILE [--dry-run] [--replace] [--json],
    its exit codes; the PSK is never in a reply, a problem or the log.
"""
import json
import os
import stat
import sys
import tempfile

import common

if os.geteuid() != 0:
    common.skip("needs root: the denial runs as nobody through setpriv")
common.require_tools("setpriv", "gdbus")

import buslib  # noqa: E402
from buslib import ROOT, PSK, call, conn_path, error_name, ipsecctl  # noqa: E402

buslib.require()
check = buslib.Checks()

CONFIG = """\
# as a libreswan host next to ours would have it
config setup
\tuniqueids=yes

conn %default
\tikev2=insist
\tkeyingtries=1

conn imp-a
\tleft=192.0.2.7
\tleftid=@peer.example
\tright=127.0.0.1
\trightid=@here.example
\tauthby=secret
\tike=aes_gcm_16_256-sha2_256;dh31
\ttype=transport
\tencapsulation=no
\tleftupdown=/bin/true

conn imp-v1
\tleft=192.0.2.8
\tright=127.0.0.1
\tauthby=secret
\tikev2=no
"""
SECRETS = f'@here.example @peer.example : PSK "{PSK}"\n'


def gv_string(text):
    """TEXT as a GVariant text-format string literal for gdbus."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") \
        .replace("\t", "\\t")
    return f"'{escaped}'"


def import_call(bus, config, secrets, user=None, **flags):
    items = ", ".join(f"'{k.replace('_', '-')}': <{str(v).lower() if isinstance(v, bool) else repr(v)}>"
                      for k, v in flags.items())
    return call(bus, ROOT, "ImportConnections", gv_string(config), gv_string(secrets),
                "{" + items + "}" if items else "@a{sv} {}", user=user)


def listing(d):
    out = []
    for sub in ("connections", "secrets"):
        path = os.path.join(d.config_dir, sub)
        out += sorted(f"{sub}/{n}" for n in os.listdir(path)) if os.path.isdir(path) else []
    return out


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None


def over_dbus(bus, d):
    before = listing(d)
    ok, out = import_call(bus, CONFIG, SECRETS, dry_run=True)
    check(ok and conn_path("imp-a") in out and "imp-v1" in out and "IKEv1" in out,
          f"dry-run: the path it would have and the problems ({out.strip()[:160]})")
    check(listing(d) == before, f"dry-run writes nothing ({listing(d)})")
    check(PSK not in out, "the PSK is not in the reply")

    ok, out = import_call(bus, CONFIG, SECRETS, config_file="/etc/ipsec.conf")
    check(ok and conn_path("imp-a") in out, f"import: imp-a ({out.strip()[:120]})")
    check("/etc/ipsec.conf:24: conn imp-v1: ikev2=no:" in out,
          "problems name the file given as config-file, the line, the conn and the key")
    check("/etc/ipsec.conf:18: conn imp-a: leftupdown=/bin/true:" in out,
          "an unmapped key is a problem line")
    conf = os.path.join(d.config_dir, "connections", "imp-a.conf")
    psk = os.path.join(d.config_dir, "secrets", "imp-a.psk")
    check(mode_of(conf) == 0o600 and mode_of(psk) == 0o600,
          f"files written with mode 0600 ({oct(mode_of(conf) or 0)}, {oct(mode_of(psk) or 0)})")
    with open(conf) as f:
        text = f.read()
    check(PSK not in text and "local=127.0.0.1" in text and "remote=192.0.2.7" in text
          and "local-id=@here.example" in text and "mode=transport" in text,
          f"the connection file: this host is right= ({text!r})")
    with open(psk) as f:
        check(f.read() == PSK + "\n", "secrets/imp-a.psk holds the PSK")
    check(not os.path.exists(os.path.join(d.config_dir, "connections", "imp-v1.conf")),
          "the IKEv1 conn is not written")
    r = ipsecctl("--json", "show", "imp-a")
    check(r.returncode == 0 and json.loads(r.stdout)["connection"]["Settings"]["remote"]
          == "192.0.2.7", "the imported connection is loaded and on the bus")

    mtime = os.stat(conf).st_mtime_ns
    ok, out = import_call(bus, CONFIG, SECRETS)
    check(not ok and error_name(out) == "Exists" and "imp-a" in out,
          f"again without replace: Exists ({out.strip()[:100]})")
    check(os.stat(conf).st_mtime_ns == mtime, "Exists: the file is unchanged")
    ok, out = import_call(bus, CONFIG.replace("encapsulation=no", "dpddelay=20"), SECRETS,
                          replace=True)
    with open(conf) as f:
        check(ok and "dpd-delay=20s" in f.read(), f"replace overwrites it ({out.strip()[:80]})")

    before = listing(d)
    ok, out = import_call(bus, CONFIG + "conn broken\nleft=192.0.2.1\n", SECRETS, replace=True)
    check(not ok and error_name(out) == "InvalidSetting" and "ipsec.conf:26:" in out,
          f"bad syntax: InvalidSetting with the line ({out.strip()[:120]})")
    ok, out = import_call(bus, CONFIG, "@a @b PSK \"" + PSK + "\"\n", replace=True)
    check(not ok and error_name(out) == "InvalidSetting" and "ipsec.secrets:1:" in out
          and PSK not in out, f"bad secrets: InvalidSetting, no secret ({out.strip()[:120]})")
    ok, out = import_call(bus, CONFIG, SECRETS, replace=True, sometimes=True)
    check(not ok and error_name(out) == "InvalidSetting" and "sometimes" in out,
          "an unknown flag: InvalidSetting")
    check(listing(d) == before, "nothing written for refused imports")


def denied(bus, d):
    before = listing(d)
    bus.allow()
    ok, out = import_call(bus, CONFIG.replace("imp-a", "imp-b"), SECRETS, user="nobody")
    check(not ok and error_name(out) == "NotAuthorized", f"nobody: NotAuthorized ({out.strip()[:90]})")
    check(listing(d) == before, "denied: nothing written")
    bus.allow("manage", "toggle")


def cli(tmp, d):
    conf = os.path.join(tmp, "ipsec.conf")
    secrets = os.path.join(tmp, "ipsec.secrets")
    with open(conf, "w") as f:
        f.write(CONFIG.replace("imp-a", "cli-a"))
    fd = os.open(secrets, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(SECRETS)
    before = listing(d)
    r = ipsecctl("import", conf, "--secrets", secrets, "--dry-run")
    check(r.returncode == 0 and "would import cli-a" in r.stdout
          and f"{conf}:24: conn imp-v1: ikev2=no" in r.stdout,
          f"ipsecctl import --dry-run ({r.stdout.strip()[:200]})")
    check(listing(d) == before, "ipsecctl --dry-run wrote nothing")
    r = ipsecctl("--json", "import", conf, f"--secrets={secrets}")
    data = json.loads(r.stdout) if r.returncode == 0 else {}
    check(r.returncode == 0 and data.get("connections") == [conn_path("cli-a")]
          and any("ikev2=no" in p for p in data.get("problems", [])) and PSK not in r.stdout,
          f"ipsecctl import --json ({r.stdout.strip()[:200]})")
    r = ipsecctl("import", conf, "--secrets", secrets)
    check(r.returncode == 5 and "exists" in r.stderr, f"taken name: exit 5 ({r.stderr.strip()})")
    r = ipsecctl("import", conf, "--secrets", secrets, "--replace")
    check(r.returncode == 0 and "imported cli-a" in r.stdout, "--replace: exit 0")
    r = ipsecctl("import", os.path.join(tmp, "missing.conf"))
    check(r.returncode == 1, f"a missing file: exit 1 ({r.stderr.strip()})")
    r = ipsecctl("import")
    check(r.returncode == 2, "no FILE: usage, exit 2")
    with open(conf, "w") as f:
        f.write("conn x\nleft=1\n")
    code, data = buslib.ipsecctl_json("import", conf)
    check(code == 5 and data["error"]["name"] == "org.libreswan.IPsec.Error.InvalidSetting"
          and f"{conf}:2:" in data["error"]["message"], f"bad syntax: exit 5 ({data})")


def main():
    with buslib.Bus() as bus:
        bus.allow("manage", "toggle")
        tmp = tempfile.mkdtemp(prefix="ipsecd-import-")
        d = buslib.start_ipsecd(bus, tmp)
        try:
            over_dbus(bus, d)
            denied(bus, d)
            cli(tmp, d)
            check(PSK not in d.log_text(), "the PSK is never logged")
        finally:
            d.stop()
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
