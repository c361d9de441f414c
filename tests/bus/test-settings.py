#!/usr/bin/python3
"""bus suite: AddConnection/Update/Delete and their files, and ipsecctl.

  - bad settings: InvalidSetting naming the key and why; nothing written;
  - a good one: connections/NAME.conf and secrets/NAME.psk, mode 0600;
    the PSK is never in Settings nor in the log;
  - a restarted daemon has the same connections (persistence);
  - Update changes the file, Delete removes both files and the object;
  - ipsecctl list/show/status/add/delete/version: tables and --json,
    errors as {"error": {"name", "message"}} with the documented exit codes,
    no colour when not on a terminal.

Runs as any user: polkit (the mock) allows everything here; test-auth.py
checks the decisions.
"""
import json
import os
import stat
import sys
import tempfile

import common
import buslib
from buslib import ROOT, PSK, call, conn_path, error_name, good_settings, ipsecctl, settings_arg

buslib.require()
check = buslib.Checks()

BAD = {
    "remote": ("192.0.2.300", "not an IPv4 or IPv6 address"),
    "ike": ("aes999-sha256-x25519", ""),
    "auto": ("sometimes", "neither"),
    "remtoe": ("x", "unknown key"),
    "local-ts": ("192.0.2.0/33", ""),
}


def files(d):
    return sorted(os.listdir(os.path.join(d.config_dir, "connections"))) + \
        sorted(os.listdir(os.path.join(d.config_dir, "secrets")))


def bad_settings(bus, d):
    before = files(d)
    for key, (value, why) in BAD.items():
        ok, out = call(bus, ROOT, "AddConnection",
                       settings_arg(good_settings("bad", **{key: value})))
        check(not ok and error_name(out) == "InvalidSetting" and f"“{key}”" in out and why in out,
              f"bad {key}: InvalidSetting naming it ({out.strip()[:110]})")
    ok, out = call(bus, ROOT, "AddConnection", settings_arg({"remote": "192.0.2.1"}))
    check(not ok and error_name(out) == "InvalidSetting" and "“name”" in out, "no name: refused")
    ok, out = call(bus, ROOT, "AddConnection", settings_arg(good_settings("weak", psk="aaaa")))
    check(not ok and error_name(out) == "InvalidSetting" and "“psk”" in out,
          f"weak PSK: refused naming psk ({out.strip()[:110]})")
    check(files(d) == before, f"nothing written for bad settings ({files(d)})")


def good(bus, d):
    ok, out = call(bus, ROOT, "AddConnection", settings_arg(good_settings("good-1")))
    check(ok and conn_path("good-1") in out, f"AddConnection returns the path ({out.strip()})")
    for sub, name in (("connections", "good-1.conf"), ("secrets", "good-1.psk")):
        path = os.path.join(d.config_dir, sub, name)
        mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None
        check(mode == 0o600, f"{sub}/{name} written with mode {oct(mode or 0)}")
    with open(os.path.join(d.config_dir, "connections", "good-1.conf")) as f:
        check(PSK not in f.read(), "the PSK is not in the connection file")
    ok, out = call(bus, ROOT, "AddConnection", settings_arg(good_settings("good-1")))
    check(not ok and error_name(out) == "Exists", "adding it again: Exists")
    r = ipsecctl("--json", "show", "good-1")
    shown = json.loads(r.stdout)
    settings = shown["connection"]["Settings"]
    check("psk" not in settings and PSK not in r.stdout and settings["remote"] == "192.0.2.7",
          f"Settings without the PSK: {settings}")
    check(shown["connection"]["State"] == "down", "State down")


def update_delete(bus, d):
    ok, out = call(bus, conn_path("good-1"), "Update", "{'dpd-delay': <'30s'>}")
    with open(os.path.join(d.config_dir, "connections", "good-1.conf")) as f:
        check(ok and "dpd-delay=30s" in f.read(), f"Update writes the file ({out.strip()})")
    ok, out = call(bus, conn_path("good-1"), "Update", "{'remote': <'nowhere'>}")
    with open(os.path.join(d.config_dir, "connections", "good-1.conf")) as f:
        check(not ok and error_name(out) == "InvalidSetting" and "remote=192.0.2.7" in f.read(),
              "bad Update: InvalidSetting, file unchanged")
    ok, out = call(bus, conn_path("good-1"), "Update", "{'name': <'other'>}")
    check(not ok and error_name(out) == "InvalidSetting", "Update cannot rename")


def cli(bus, d):
    r = ipsecctl("list")
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[0].split() == ["NAME", "STATE", "REMOTE", "SAS"]
          and any(l.split()[:3] == ["good-1", "down", "192.0.2.7"] for l in lines),
          f"list: a table ({r.stdout!r})")
    check("\033[" not in r.stdout, "no colour when not on a terminal")
    code, data = buslib.ipsecctl_json("list")
    check(code == 0 and [c["Name"] for c in data] == ["good-1", "persist"], f"list --json: {data}")
    check(data[0] == {"Path": conn_path("good-1"), "Name": "good-1", "State": "down",
                      "Remote": "192.0.2.7", "LastError": "", "SAs": 0},
          f"list --json: one connection's summary ({data[0]})")
    r = ipsecctl("list", "--names")
    check(r.returncode == 0 and r.stdout.split() == ["good-1", "persist"],
          f"list --names ({r.stdout!r})")
    code, data = buslib.ipsecctl_json("status")
    check(code == 0 and data["daemon"]["KernelSupport"] == "unknown"
          and data["daemon"]["ConnectionCount"] == 2, f"status --json: {data}")
    r = ipsecctl("status")
    check(r.returncode == 0 and "kernel support: unknown" in r.stdout, "status: human text")
    code, data = buslib.ipsecctl_json("show", "nope")
    check(code == 3 and data["error"]["name"] == "org.libreswan.IPsec.Error.NotFound",
          f"show nope: exit 3, NotFound in JSON ({data})")
    r = ipsecctl("add", "cli-1", "remote=192.0.2.9", "local=127.0.0.1", "local-auth=psk",
                 "psk=" + PSK)
    check(r.returncode == 0, f"add KEY=VALUE… ({r.stdout}{r.stderr})")
    code, data = buslib.ipsecctl_json("add", "cli-2", "remote=192.0.2.300", "local-auth=psk")
    check(code == 5 and data["error"]["name"] == "org.libreswan.IPsec.Error.InvalidSetting"
          and "remote" in data["error"]["message"], f"add bad: exit 5, InvalidSetting ({data})")
    r = ipsecctl("delete", "cli-1")
    check(r.returncode == 0 and not os.path.exists(
        os.path.join(d.config_dir, "connections", "cli-1.conf")) and not os.path.exists(
        os.path.join(d.config_dir, "secrets", "cli-1.psk")), "delete removes both files")
    code, data = buslib.ipsecctl_json("version")
    check(code == 0 and data["daemon"] == data["client"], f"version --json: {data}")
    r = ipsecctl("up", "good-1", "extra")
    check(r.returncode == 2, "usage error: exit 2")


def main():
    with buslib.Bus() as bus:
        bus.allow("manage", "toggle")
        tmp = tempfile.mkdtemp(prefix="ipsecd-settings-")
        d = buslib.start_ipsecd(bus, tmp)
        try:
            bad_settings(bus, d)
            good(bus, d)
            call(bus, ROOT, "AddConnection", settings_arg(good_settings("persist")))
            update_delete(bus, d)
            check(d.stop() == 0, "ipsecd stops cleanly")
            d = buslib.start_ipsecd(bus, tmp)
            code, data = buslib.ipsecctl_json("list")
            check(sorted(c["Name"] for c in data) == ["good-1", "persist"],
                  f"after a restart the connections are back: {data}")
            cli(bus, d)
            check(PSK not in d.log_text(), "the PSK is never logged")
        finally:
            d.stop()
        r = ipsecctl("status")
        check(r.returncode == 7, f"no daemon: exit 7 ({r.stderr.strip()})")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
