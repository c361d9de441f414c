#!/usr/bin/python3
"""bus suite: polkit on every method of org.libreswan.IPsec.

For each method, as nobody (setpriv): denied (NotAuthorized) when polkit
says no, CanObtain when it says "challenge", run when it says yes; as root
run without asking polkit.  Without polkit on the bus, nobody is denied
and root still works.  Reading properties needs nothing.  Every decision
is logged with the caller's uid.
"""
import os
import subprocess
import sys
import tempfile

import common

if os.geteuid() != 0:
    common.skip("needs root: callers switch to nobody with setpriv")
common.require_tools("setpriv", "gdbus")

import buslib  # noqa: E402
from buslib import ROOT, call, conn_path, error_name, settings_arg, good_settings  # noqa: E402

buslib.require()
check = buslib.Checks()

# method -> (polkit action, object path, gdbus arguments); the connection
# "c" exists before each one runs (recreated by root when a call removed it)
METHODS = {
    "AddConnection": ("manage", ROOT, lambda n: [settings_arg(good_settings(n))]),
    "Reload": ("manage", ROOT, lambda n: []),
    "Up": ("toggle", conn_path("c"), lambda n: []),
    "Down": ("toggle", conn_path("c"), lambda n: []),
    "Update": ("manage", conn_path("c"), lambda n: ["{'dpd-delay': <'30s'>}"]),
    "Delete": ("manage", conn_path("c"), lambda n: []),
}


def ensure_c(bus):
    ok, _ = call(bus, conn_path("c"), "Down")
    if not ok:
        ok, out = call(bus, ROOT, "AddConnection", settings_arg(good_settings("c")))
        assert ok, out


def per_method(bus, d):
    n = 0
    for method, (action, path, args) in METHODS.items():
        for mode in ("deny", "challenge", "allow", "root"):
            ensure_c(bus)
            n += 1
            bus.allow(*([action] if mode == "allow" else []))
            bus.challenge(*([action] if mode == "challenge" else []))
            user = None if mode == "root" else "nobody"
            ok, out = call(bus, path, method, *args(f"n{n}"), user=user)
            if mode == "deny":
                check(not ok and error_name(out) == "NotAuthorized",
                      f"{method} as nobody, polkit no: NotAuthorized ({out.strip()[:90]})")
            elif mode == "challenge":
                check(not ok and error_name(out) == "CanObtain",
                      f"{method} as nobody, polkit challenge: CanObtain ({out.strip()[:90]})")
            else:
                check(ok, f"{method} as {user or 'root'}, {mode}: runs ({out.strip()[:90]})")
    bus.allow()
    bus.challenge()


def logged(d):
    recs = d.events("auth")
    uids = {r.get("IPSECD_UID") for r in recs}
    check({"0", "65534"} <= uids, f"auth decisions logged with uids {sorted(uids)}")
    calls = d.events("bus-call")
    check(all("IPSECD_UID" in r for r in calls) and len(calls) >= 12,
          f"{len(calls)} privileged actions logged with the caller's uid")
    check(buslib.PSK not in d.log_text(), "the PSK is never logged")


def reading(bus):
    r = bus.gdbus("--dest", buslib.BUS_NAME, "--object-path", ROOT, "--method",
                  "org.freedesktop.DBus.Properties.GetAll", "org.libreswan.IPsec.Manager",
                  user="nobody")
    check(r.returncode == 0 and "'KernelSupport': <'unknown'>" in r.stdout,
          "properties readable by nobody without polkit")
    r = bus.gdbus("--dest", buslib.BUS_NAME, "--object-path", ROOT, "--method",
                  "org.freedesktop.DBus.ObjectManager.GetManagedObjects", user="nobody")
    check(r.returncode == 0 and "org.libreswan.IPsec.Connection" in r.stdout,
          "GetManagedObjects works for nobody")


def interactive_flag(bus):
    ensure_c(bus)
    bus.allow("toggle")
    mock = ["--dest", "org.freedesktop.PolicyKit1", "--object-path",
            "/org/freedesktop/PolicyKit1/Authority", "--method", "org.freedesktop.DBus.Mock.Calls"]
    r = bus.gdbus("--dest", buslib.BUS_NAME, "--object-path", conn_path("c"), "--method",
                  "org.libreswan.IPsec.Connection.Down", "--interactive", user="nobody")
    calls = bus.gdbus(*mock).stdout
    check(r.returncode == 0 and "('org.libreswan.IPsec.connection.toggle', 1)" in calls,
          f"ALLOW_INTERACTIVE_AUTHORIZATION reaches polkit as ALLOW_USER_INTERACTION "
          f"({r.stderr.strip()} {calls[-120:].strip()})")
    bus.allow()


def no_polkit(bus, d):
    ensure_c(bus)
    mock = bus.procs.pop()
    mock.terminate()
    mock.wait()
    ok, out = call(bus, conn_path("c"), "Down", user="nobody")
    check(not ok and error_name(out) == "NotAuthorized",
          f"no polkit on the bus: nobody is denied ({out.strip()[:90]})")
    ok, out = call(bus, conn_path("c"), "Down")
    check(ok, "no polkit on the bus: root still works")


def main():
    with buslib.Bus() as bus:
        tmp = tempfile.mkdtemp(prefix="ipsecd-auth-")
        d = buslib.start_ipsecd(bus, tmp)
        try:
            per_method(bus, d)
            reading(bus)
            interactive_flag(bus)
            no_polkit(bus, d)
            logged(d)
        finally:
            status = d.stop()
        check(status == 0, f"ipsecd exits 0 (no sanitizer report): {status}")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
