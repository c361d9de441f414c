#!/usr/bin/python3
"""interop suite: a libreswan configuration imported into ipsecd works
against libreswan itself.

libreswan's pluto runs in host b with an ipsec.conf whose conn has b as
left and a as right (its own end first, as libreswan users write it) and a
PSK in ipsec.secrets.  ipsecd runs in host a on a private system bus
(tests/bus/buslib.py) and `ipsecctl import` is given THE SAME two files
pluto reads.  Then:

  - the import finds that right= is ipsecd's own address (host a) and
    swaps the ends; the PSK lands in secrets/, the config setup keys come
    back as problems;
  - `ipsecctl up` brings the imported connection up against pluto (ipsecd
    initiates): the IKE SA on both sides, and ipsecd asks for a Child SA in
    transport mode, as type=transport says;
  - pluto initiates to ipsecd with the same conn: ipsecd responds with it and
    its Child SA is transport mode (recorded, --record-kernel).

This kernel has no ESP: pluto cannot install its half of a Child SA and
gives up on it (and on its IKE SA when it initiated); Child SAs carrying
traffic against pluto are the vm suite's business.
"""
import os
import sys
import time

import common

common.require_root()
common.require_tools("ip", "gdbus", "dbus-daemon")

sys.path.insert(0, os.path.join(common.source_root(), "tests", "bus"))

import buslib  # noqa: E402
import ipsecd  # noqa: E402
import peers  # noqa: E402

ipsecd.require_ipsecd()
buslib.require()
peers.require_libreswan()

from ipsecd import Checks, Ipsecd  # noqa: E402
from netns import Network, wait_for  # noqa: E402
from peers import PeerError, Pluto  # noqa: E402

check = Checks()
CONN = "roundtrip"
PSK = "Jq7-wVd2xK9pLm4sT8bZ0cRf6yHn3uAe"


def conn_text(a, b):
    # pluto's view: left is pluto (host b), right is ipsecd (host a)
    return f"""\
conn {CONN}
\tleft={b.ip4}
\tleftid=@b.import.test
\tright={a.ip4}
\trightid=@a.import.test
\tauthby=secret
\tikev2=insist
\tike=aes_gcm_16_256-sha2_256;dh31
\tesp=aes_gcm_16_256
\ttype=transport
\tencapsulation=no
\tfragmentation=yes
\tkeyingtries=1
\tauto=add
"""


def imported(d, pluto, a, b):
    r = buslib.ipsecctl("import", pluto.config, "--secrets", pluto.secrets)
    check(r.returncode == 0 and f"imported {CONN}" in r.stdout,
          f"ipsecctl import of pluto's own files ({r.stdout.strip()[:300]}{r.stderr.strip()})")
    check(f"{pluto.config}:" in r.stdout and "config setup: nhelpers=1" in r.stdout,
          "the config setup keys come back as problems naming pluto's file")
    path = os.path.join(d.config_dir, "connections", f"{CONN}.conf")
    text = open(path).read() if os.path.exists(path) else ""
    check(f"local={a.ip4}" in text and f"remote={b.ip4}" in text
          and "local-id=@a.import.test" in text and "mode=transport" in text,
          f"right= is this host: the ends are swapped ({text!r})")
    psk = os.path.join(d.config_dir, "secrets", f"{CONN}.psk")
    check(os.path.exists(psk) and open(psk).read() == PSK + "\n", "the PSK is in secrets/")


def ipsecd_initiates(d, pluto):
    mark = d.mark()
    started = time.monotonic()
    r = buslib.ipsecctl("up", CONN)
    check(r.returncode == 0, f"ipsecctl up {CONN}: exit 0 in {time.monotonic() - started:.1f}s "
          f"({r.stdout.strip()}{r.stderr.strip()})")
    try:
        rec = d.wait_event("ike-up", connection=CONN, since=mark, timeout=10)
    except TimeoutError:
        rec = None
    check(rec is not None and rec.get("IPSECD_ROLE") == "initiator"
          and rec.get("IPSECD_REMOTE_ID") == "@b.import.test",
          f"ipsecd: ike-up as initiator ({rec and rec['message']})")
    check(pluto.ike_established(CONN), "pluto: the IKE SA is established")
    # pluto cannot install ESP in this kernel, so it refuses the Child SA;
    # what ipsecd asked for is in pluto's log
    asked = [l for l in pluto.log_text().splitlines()
             if "processing decrypted IKE_AUTH request" in l]
    check(asked and "N(USE_TRANSPORT_MODE)" in asked[-1] and "TSi,TSr" in asked[-1],
          f"ipsecd asked pluto for a transport-mode Child SA ({asked[-1:]})")
    r = buslib.ipsecctl("down", CONN)
    check(r.returncode == 0, "ipsecctl down")
    wait_for(lambda: not pluto.ike_established(CONN), timeout=10, what="pluto's SA gone")


def pluto_initiates(d, pluto):
    mark = d.mark()
    pluto.whack("--name", CONN, "--initiate", "--asynchronous", check=False)
    try:
        rec = d.wait_event("ike-up", connection=CONN, since=mark, timeout=10)
    except TimeoutError:
        rec = None
    check(rec is not None and rec.get("IPSECD_ROLE") == "responder",
          f"ipsecd answers pluto with the imported conn ({rec and rec['message']})")
    try:
        child = d.wait_event("child-up", connection=CONN, since=mark, timeout=5)
    except TimeoutError:
        child = None
    installs = [k for k in d.kernel_records()
                if k["connection"] == CONN and k["op"] == "install"]
    check(child is not None and installs and installs[-1].get("mode") == "transport",
          f"ipsecd: the Child SA pluto asked for, in transport mode, in the kernel record "
          f"({installs[-1:] if installs else 'none'})")
    # pluto then fails to install its own half (no ESP here) and starts over


def main():
    started = time.monotonic()
    with Network(hosts=2) as net, buslib.Bus() as bus:
        a, b = net.hosts
        bus.allow("manage", "toggle")
        pluto = Pluto(b).start()
        pluto.load(conn_text(a, b), f'@b.import.test @a.import.test : PSK "{PSK}"\n')
        d = Ipsecd(a, args=["--bus=system"])
        try:
            d.start()
            buslib.wait_bus_name(bus, d)
            imported(d, pluto, a, b)
            ipsecd_initiates(d, pluto)
            pluto_initiates(d, pluto)
            check(PSK not in d.log_text(), "the PSK is never in ipsecd's log")
        except (PeerError, ipsecd.IpsecdError, TimeoutError, RuntimeError) as e:
            check(False, f"unexpected: {e}")
        finally:
            if check.failures:
                print("--- ipsecd log (tail)\n" + d.tail(60))
                print("--- pluto log (tail)\n" + peers._tail(pluto.log, 60))
            d.stop()
            pluto.stop()
    print(f"import round trip: {time.monotonic() - started:.1f}s")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
