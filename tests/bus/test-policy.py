#!/usr/bin/python3
"""bus suite: GetPolicies/SetPolicy and `ipsecctl policy`.

ipsecd runs in a network namespace of its own with the real XFRM (no
--record-kernel: opportunistic encryption needs the kernel), on the private
bus.  Checked here is the bus contract and ipsecctl's output; what the
groups do in the kernel is tests/policy/'s and the OE tests' business.

  - GetPolicies needs no authorization (nobody reads it);
  - SetPolicy needs org.libreswan.IPsec.policy.manage: nobody is refused
    (NotAuthorized, exit 4) until polkit allows it; root always may;
  - `policy GROUP ENTRY…` replaces the group and writes policies/GROUP;
    `policy`, `policy GROUP` and --json show it; --add, --remove, --clear;
  - a bad entry is InvalidSetting (exit 5) naming it, and nothing changes;
    an unknown group is a usage error (exit 2) in ipsecctl and
    InvalidSetting from the daemon;
  - the log names the call, the group and the caller's uid;
  - without a daemon, exit 7.
"""
import os
import sys

import common

common.require_root()
common.require_tools("ip", "setpriv", "gdbus")

import buslib  # noqa: E402
import ipsecd  # noqa: E402
from buslib import ROOT, call, error_name, ipsecctl  # noqa: E402
from ipsecd import Ipsecd  # noqa: E402
from netns import Network  # noqa: E402

buslib.require()
ipsecd.require_ipsecd()
check = buslib.Checks()
GROUPS = ["block", "clear", "clear-or-private", "private-or-clear", "private"]
MANAGE = "org.libreswan.IPsec.policy.manage"


def policies(user=None):
    code, data = buslib.ipsecctl_json("policy", user=user)
    return data if code == 0 else {"exit": code, "data": data}


def group_file(d, group):
    path = os.path.join(d.config_dir, "policies", group)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def empty_at_start():
    r = ipsecctl("policy")
    check(r.returncode == 0 and r.stdout.split() == ["GROUP", "ENTRY"],
          f"policy: a table with no lines ({r.stdout!r} {r.stderr.strip()})")
    data = policies()
    check(data == {g: [] for g in GROUPS}, f"policy --json: every group, empty ({data})")


def set_and_show(d):
    r = ipsecctl("policy", "private", "192.0.2.0/24", "2001:db8::/32")
    check(r.returncode == 0 and r.stdout.strip() == "private: 2 entries",
          f"policy GROUP ENTRY…: set ({r.stdout.strip()} {r.stderr.strip()})")
    check(group_file(d, "private") == ["192.0.2.0/24", "2001:db8::/32"],
          f"policies/private written ({group_file(d, 'private')})")
    r = ipsecctl("policy", "private")
    check(r.returncode == 0 and r.stdout.splitlines() == ["192.0.2.0/24", "2001:db8::/32"],
          f"policy GROUP: its lines, one a line ({r.stdout!r})")
    r = ipsecctl("policy")
    rows = [line.split(None, 1) for line in r.stdout.splitlines()[1:]]
    check(rows == [["private", "192.0.2.0/24"], ["private", "2001:db8::/32"]],
          f"policy: GROUP ENTRY rows ({rows})")
    code, data = buslib.ipsecctl_json("policy", "private")
    check(code == 0 and data == {"private": ["192.0.2.0/24", "2001:db8::/32"]},
          f"policy GROUP --json ({data})")
    ok, out = call_get(user="nobody")
    check(ok and "('private', '192.0.2.0/24')" in out,
          f"GetPolicies as nobody: no authorization needed ({out.strip()[:100]})")


def call_get(user=None):
    return call(BUS, ROOT, "GetPolicies", user=user)


def refused(d):
    before, file_before = policies(), group_file(d, "private")
    code, data = buslib.ipsecctl_json("policy", "private", "192.0.2.0/24", "192.0.2.0/33")
    check(code == 5 and data["error"]["name"] == "org.libreswan.IPsec.Error.InvalidSetting"
          and "192.0.2.0/33" in data["error"]["message"],
          f"a bad entry: exit 5, InvalidSetting naming it ({data})")
    r = ipsecctl("policy", "private", "198.51.100.0/24\n# sneaky")
    check(r.returncode == 5, f"an entry with a line break: exit 5 ({r.stderr.strip()})")
    check(policies() == before and group_file(d, "private") == file_before,
          "a refused SetPolicy changes nothing")
    r = ipsecctl("policy", "secret", "192.0.2.0/24")
    check(r.returncode == 2 and "block, clear" in r.stderr, f"unknown group: exit 2 ({r.stderr})")
    ok, out = call(BUS, ROOT, "SetPolicy", "secret", "['192.0.2.0/24']")
    check(not ok and error_name(out) == "InvalidSetting" and "secret" in out,
          f"SetPolicy with an unknown group: InvalidSetting ({out.strip()[:100]})")
    for argv in (["private", "--clear", "192.0.2.0/24"], ["private", "--add"],
                 ["private", "--clean"]):
        r = ipsecctl("policy", *argv)
        check(r.returncode == 2, f"policy {' '.join(argv)}: exit 2")
    check(policies() == before, "usage errors change nothing")


def authorization(d):
    BUS.polkit("SetAllowed", [])
    before = policies()
    r = ipsecctl("--json", "policy", "clear", "203.0.113.5/32", user="nobody")
    check(r.returncode == 4 and "NotAuthorized" in r.stdout,
          f"SetPolicy as nobody, polkit no: exit 4 ({r.stdout.strip()})")
    check(policies() == before and group_file(d, "clear") is None, "and nothing changed")
    r = ipsecctl("policy", "private", user="nobody")
    check(r.returncode == 0 and "192.0.2.0/24" in r.stdout, "nobody may read the groups")
    BUS.polkit("SetAllowed", [MANAGE])
    r = ipsecctl("policy", "clear", "203.0.113.5/32", user="nobody")
    check(r.returncode == 0 and policies()["clear"] == ["203.0.113.5/32"],
          f"SetPolicy as nobody, polkit yes: done ({r.stdout.strip()} {r.stderr.strip()})")
    log = d.events("bus-call")
    mine = [e for e in log if e.get("IPSECD_CALL") == "SetPolicy"
            and e.get("IPSECD_GROUP") == "clear"]
    check(mine and mine[-1].get("IPSECD_UID") == str(65534),
          f"the log: SetPolicy, the group and nobody's uid ({mine[-1:] if mine else log[-1:]})")
    BUS.polkit("SetAllowed", [])


def add_remove_clear(d):
    r = ipsecctl("policy", "private", "--add", "198.51.100.0/24", "192.0.2.0/24")
    check(r.returncode == 0 and "already in private" in r.stderr
          and policies()["private"] == ["192.0.2.0/24", "2001:db8::/32", "198.51.100.0/24"],
          f"--add: a new line added, an old one noted ({r.stderr.strip()})")
    r = ipsecctl("policy", "private", "--remove", "2001:db8::/32", "203.0.113.0/24")
    check(r.returncode == 0 and "not in private" in r.stderr
          and policies()["private"] == ["192.0.2.0/24", "198.51.100.0/24"],
          f"--remove: a line removed, a missing one noted ({r.stderr.strip()})")
    # nothing to change: no SetPolicy at all, so nobody needs no permission
    r = ipsecctl("policy", "private", "--add", "192.0.2.0/24", user="nobody")
    check(r.returncode == 0, f"--add of a line that is there needs nothing ({r.stderr.strip()})")
    r = ipsecctl("policy", "private-or-clear", "198.51.100.7/32 tcp 0 443")
    shown = policies()["private-or-clear"]
    check(r.returncode == 0 and len(shown) == 1 and "tcp" in shown[0] and "443" in shown[0],
          f"an entry with protocol and ports ({shown})")
    code, data = buslib.ipsecctl_json("policy", "private", "--clear")
    check(code == 0 and data == {"private": []} and group_file(d, "private") == [],
          f"--clear empties the group and its file ({data})")


def main():
    global BUS
    with buslib.Bus() as bus, Network(hosts=1) as net:
        BUS = bus
        d = Ipsecd(net.hosts[0], name="bus", record=False, args=["--bus=system"])
        try:
            d.start()
            buslib.wait_bus_name(bus, d)
            empty_at_start()
            set_and_show(d)
            refused(d)
            authorization(d)
            add_remove_clear(d)
            status = d.stop()
            check(status == 0, f"ipsecd exits 0 (no sanitizer report): {status}")
            if status != 0:
                print(d.tail(40))
        except Exception:
            print(d.tail())
            raise
        finally:
            d.stop()
        r = ipsecctl("policy")
        check(r.returncode == 7, f"no daemon: exit 7 ({r.stderr.strip()})")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
