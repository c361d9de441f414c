#!/usr/bin/python3
"""The demo's main act (scripts/demo): two hosts that never met encrypt to
each other the moment one sends a packet.

Each host runs ipsecd with one line of configuration,
policies/private-or-clear = 0.0.0.0/0, and no connection.  Host a pings
host b; the first ping triggers the kernel's ACQUIRE, the daemons negotiate
an anonymous IKE SA (RFC 7619 NULL auth) and a Child SA, and the pings go
out as ESP.  Prints what each daemon says, each kernel's SAs with their
packet counters, and the wire capture's ESP lines.

This host's kernel lacks ESP, so it runs inside the test VM (tests/vm/vm.py:
Debian's kernel under qemu, the host's root shared read-only).
"""
import os
import re
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(SRC, "tests", "lib"), os.path.join(SRC, "tests", "vm")]
import vm  # noqa: E402
from ipsecd import Ipsecd  # noqa: E402

REQID_MIN, REQID_MAX = 0x5EC00000, 0x5ECFFFFF


def oe_host(host):
    d = Ipsecd(host, record=False)
    os.makedirs(os.path.join(d.config_dir, "policies"), exist_ok=True)
    with open(os.path.join(d.config_dir, "policies", "private-or-clear"), "w") as f:
        f.write("0.0.0.0/0\n")
    return d.start(timeout=60)


def our_sas(host):
    """One line per SA of ours: direction, SPI, algorithm, packets."""
    out = host.ip("-s", "xfrm", "state")
    lines = []
    for block in re.split(r"\n(?=src )", out):
        reqid = re.search(r"reqid (\d+)", block)
        if not reqid or not REQID_MIN <= int(reqid[1]) <= REQID_MAX:
            continue
        ends = re.match(r"src (\S+) dst (\S+)", block)
        spi = re.search(r"spi (0x[0-9a-f]+)", block)
        alg = re.search(r"aead (\S+)|enc (\S+)", block)
        packets = re.search(r"(\d+)\(packets\)", block)
        lines.append(f"    {ends[1]} -> {ends[2]}  spi {spi[1]}  {alg[1] or alg[2]}  "
                     f"{packets[1] if packets else '?'} packets")
    return lines


def say(d, event):
    for rec in d.events(event):
        print(f"  {d.host.name}: {rec['message'].strip()}")


def inside():
    from netns import Network
    with Network(hosts=2) as net:
        a, b = net.hosts
        with net.capture("esp or icmp") as cap:
            da, db = oe_host(a), oe_host(b)
            print(f"a = {a.ip4}, b = {b.ip4}; both: policies/private-or-clear = 0.0.0.0/0, "
                  "no connection configured\n")
            start = time.monotonic()
            answered = sum(a.ping(b.ip4, count=1, timeout=5.0) for _ in range(3))
            print(f"a pings b: {answered}/3 answered ({time.monotonic() - start:.1f} s, "
                  "negotiation included)\n")
            db.wait_any(("child-up", "child-failed"), timeout=30)
        for event in ("oe-acquire", "ike-up", "child-up"):
            say(da, event)
            say(db, event)
        for host in (a, b):
            print(f"\n  kernel of {host.name} (ip -s xfrm state, our SAs):")
            print("\n".join(our_sas(host)) or "    none")
        print("\n  on the wire (tshark):")
        for line in cap.summary("esp").splitlines()[:4]:
            print("    " + line.strip())
        clear = cap.count("icmp.type == 8 or icmp.type == 0")
        print(f"    ... and {clear} ICMP echo frames in clear")
        ok = answered == 3 and clear == 0 and bool(da.events("child-up"))
        da.stop(grace=10)
        db.stop(grace=10)
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--inside"]:
        return inside()
    if os.geteuid() != 0:
        print("run as root (network namespaces, XFRM)", file=sys.stderr)
        return 2
    vm.require()
    return vm.run_self(["--inside"], timeout=240)


if __name__ == "__main__":
    sys.exit(main())
