#!/usr/bin/python3
"""bus suite, end to end: two ipsecd in network namespaces; the one on the
private system bus gets its connection through `ipsecctl add`, and
`ipsecctl up` brings the IKE SA up with the other (childless: this host's
kernel has no ESP).  `ipsecctl show --json` then shows the SA with its
algorithms and identities; `ipsecctl down` takes it away again.  A second
connection with a Child SA, in the test-only --record-kernel mode, shows
the Child SA's SPIs, ESP suite and traffic selectors.
"""
import json
import sys

import common

common.require_root()
common.require_tools("ip", "setpriv", "gdbus")

import buslib  # noqa: E402
import ipsecd  # noqa: E402
from buslib import PSK, ipsecctl  # noqa: E402
from ipsecd import Ipsecd  # noqa: E402
from netns import Network, wait_for  # noqa: E402

buslib.require()
ipsecd.require_ipsecd()
check = buslib.Checks()
IKE = "aes_gcm16_256-prfsha384-ecp384"


def bring_up(net, bus):
    a, b = net.hosts
    ours = Ipsecd(a, name="bus", args=["--bus=system"])
    theirs = Ipsecd(b, name="peer")
    theirs.add("to-a", Ipsecd.psk_conn(b, a, ike=IKE), psk=PSK)
    # told apart from to-a by our identity: @a.child
    theirs.add("child", Ipsecd.psk_conn(b, a, childless=False, local_id="@b.child",
                                        remote_id="@a.child",
                                        local_ts="198.51.100.0/24", remote_ts="203.0.113.0/24"),
               psk=PSK)
    theirs.start()
    try:
        ours.start()
    except Exception:
        print(ours.tail())
        raise
    buslib.wait_bus_name(bus, ours)
    conf = Ipsecd.psk_conn(a, b, ike=IKE)
    r = ipsecctl("add", "to-b", *[f"{k}={v}" for k, v in conf.items() if v is not None],
                 "psk=" + PSK)
    check(r.returncode == 0, f"ipsecctl add ({r.stdout.strip()} {r.stderr.strip()})")
    r = ipsecctl("up", "to-b")
    check(r.returncode == 0 and "to-b is up" in r.stdout,
          f"ipsecctl up waits until up ({r.stdout.strip()} {r.stderr.strip()})")
    return ours, theirs


def shown(ours):
    code, data = buslib.ipsecctl_json("show", "to-b")
    sas = data["sas"] if data else []
    check(code == 0 and data["connection"]["State"] == "up" and len(sas) == 1,
          f"show --json: up with one SA ({data})")
    if sas:
        sa = sas[0]
        check(sa["IkeAlgorithms"] == IKE, f"the SA's IKE algorithms: {sa['IkeAlgorithms']}")
        check(sa["Authenticated"] is True and sa["RemoteAuth"] == "psk" and sa["Initiator"],
              "authenticated with PSK, as initiator")
        check(sa["PeerPort"] == 500 and sa["RemoteIdentity"] == sa["PeerAddress"],
              f"peer {sa['PeerAddress']}:{sa['PeerPort']} identified as {sa['RemoteIdentity']}")
        check(sa["ChildSAs"] == [], "childless: no Child SA")
    r = ipsecctl("show", "to-b")
    check("IKE " + IKE in r.stdout and "authenticated" in r.stdout,
          f"show: human text has the suite ({r.stdout!r})")
    code, status = buslib.ipsecctl_json("status")
    check(status["daemon"]["SACount"] == 1 and status["daemon"]["EstablishedTotal"] == 1,
          f"Manager counters: {status['daemon']}")
    listed = {c["Name"]: c for c in status["connections"]}
    check(listed.get("to-b", {}).get("State") == "up" and listed["to-b"]["SAs"] == 1,
          f"status --json: to-b up with its one SA ({status['connections']})")


def take_down(ours):
    mark = ours.mark()
    r = ipsecctl("down", "to-b")
    check(r.returncode == 0, "ipsecctl down")
    ours.wait_event("ike-down", since=mark)

    def down():
        code, data = buslib.ipsecctl_json("show", "to-b")
        return data["connection"]["State"] == "down" and not data["sas"]
    wait_for(down, what="State down and no SA object")
    check(True, "after down: State down, the SA object is gone")


def with_child(ours):
    a_conf = {"remote": ours.host.net.hosts[1].address(4), "local": ours.host.address(4),
              "local-auth": "psk", "local-id": "@a.child", "remote-id": "@b.child",
              "childless": "no",
              "local-ts": "203.0.113.0/24", "remote-ts": "198.51.100.0/24", "psk": PSK}
    r = ipsecctl("add", "child", *[f"{k}={v}" for k, v in a_conf.items()])
    check(r.returncode == 0, f"add a connection with a Child SA ({r.stderr.strip()})")
    r = ipsecctl("up", "child")
    check(r.returncode == 0, f"up child ({r.stdout.strip()} {r.stderr.strip()})")

    def child_seen():
        code, data = buslib.ipsecctl_json("show", "child")
        sas = data["sas"] if data else []
        return sas[0]["ChildSAs"] if sas and sas[0]["ChildSAs"] else None
    children = wait_for(child_seen, what="the Child SA on the bus")
    c = children[0]
    check(c["mode"] == "tunnel" and c["esp"] and c["spi-in"] and c["spi-out"],
          f"Child SA: {c['mode']} {c['esp']} {c['spi-in']:08x}/{c['spi-out']:08x}")
    check(c.get("local-ts") == ["203.0.113.0-203.0.113.255 0 0-65535"]
          and c.get("remote-ts") == ["198.51.100.0-198.51.100.255 0 0-65535"],
          f"Child SA traffic selectors: {c.get('local-ts')} === {c.get('remote-ts')}")
    r = ipsecctl("show", "child")
    check("Child SA" in r.stdout and "203.0.113.0" in r.stdout, "show: the Child SA in text")


def fails(ours):
    conf = Ipsecd.psk_conn(ours.host, ours.host.net.hosts[1], ike=IKE)
    r = ipsecctl("add", "wrong", *[f"{k}={v}" for k, v in conf.items() if v is not None],
                 "psk=" + PSK[::-1])
    r = ipsecctl("up", "wrong")
    check(r.returncode == 6 and "wrong failed:" in r.stdout,
          f"up with a wrong PSK: exit 6 and why ({r.stdout.strip()})")
    code, data = buslib.ipsecctl_json("show", "wrong")
    check(data["connection"]["State"] == "failed" and data["connection"]["LastError"],
          f"State failed, LastError: {data['connection']['LastError']}")


def main():
    with buslib.Bus() as bus, Network(hosts=2) as net:
        ours, theirs = bring_up(net, bus)
        try:
            shown(ours)
            take_down(ours)
            with_child(ours)
            fails(ours)
            check(PSK not in ours.log_text(), "the PSK is never logged")
        finally:
            status = ours.stop()
            theirs.stop()
        check(status == 0, f"ipsecd on the bus exits 0 (no sanitizer report): {status}")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
