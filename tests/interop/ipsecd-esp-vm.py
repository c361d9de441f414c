#!/usr/bin/python3
"""vm suite: two ipsecd negotiate a Child SA and the kernel really carries
ESP with it (service/daemon-kernel.c through our XFRM driver).

On the host it boots the VM (tests/vm/vm.py) and re-runs itself inside with
--inside.  There, two hosts on a bridged wire (tests/lib/netns.py) each run
ipsecd without the test-only --record-kernel mode: PSK, one Child SA for the
host pair in transport mode with AES-GCM-16 (256-bit key).  Checks:

  - before the daemons start a ping crosses in clear, and the capture sees
    its echo frames (so the wire check below can fail);
  - both daemons log child-up (not child-failed) with matching SPIs;
  - every ping from a to b is answered; in each host `ip -s xfrm state`
    shows both SPIs with a reqid of ours and counted packets;
  - the wire shows ESP with exactly the two SPIs and no cleartext echo;
  - after SIGTERM to b, b's namespace holds no SA and no policy of ours
    (checked non-empty just before), and a, told by the Delete, neither.

Skips (77) when not root, when ipsecd is not built or the VM cannot run.
"""
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "vm"))
import vm  # noqa: E402
import common  # noqa: E402
import ipsecd  # noqa: E402
from ipsecd import Checks, Ipsecd  # noqa: E402

PSK = "Jq7-wVd2xK9pLm4sT8bZ0cRf6yHn3uAe"
PINGS = 3
REQID_MIN, REQID_MAX = 0x5EC00000, 0x5ECFFFFF
ECHO_TYPES = ("0", "8")
check = Checks()


def xfrm_blocks(host, what):
    """`ip -s xfrm WHAT` of HOST split per SA or policy (keys stay here:
    nothing of the state output is printed whole)."""
    out = host.ip("-s", "xfrm", what)
    return [b for b in re.split(r"\n(?=src )", out) if b.strip()]


def ours(block):
    m = re.search(r"reqid (\d+)", block)
    return m is not None and REQID_MIN <= int(m[1]) <= REQID_MAX


def sa_packets(host):
    """SPI (int) -> (packets, reqid is ours) for every SA in HOST."""
    found = {}
    for block in xfrm_blocks(host, "state"):
        spi = re.search(r"spi (0x[0-9a-f]+)", block)
        packets = re.search(r"(\d+)\(packets\)", block)
        if spi:
            found[int(spi[1], 16)] = (int(packets[1]) if packets else -1, ours(block))
    return found


def our_objects(host):
    """(SAs, policies) of ours in HOST."""
    return (len([b for b in xfrm_blocks(host, "state") if ours(b)]),
            len([b for b in xfrm_blocks(host, "policy") if ours(b)]))


def frames(rows, a, b, start, end):
    return [r for r in rows if {r[1], r[2]} == {a.ip4, b.ip4}
            and start <= float(r[0]) <= end]


def pings(host, dst):
    start = time.time()
    answered = sum(host.ping(dst, count=1, timeout=3.0) for _ in range(PINGS))
    return answered, start, time.time()


def conn(local, remote, auto):
    return Ipsecd.psk_conn(local, remote, childless=False, auto=auto,
                           ike="aes_gcm16_256-prfsha256-x25519", esp="aes_gcm16_256",
                           mode="transport", retransmit_timeout="2s",
                           retransmit_limit="5")


def bring_up(net):
    a, b = net.hosts
    da = Ipsecd(a, name="ipsecd", record=False)
    db = Ipsecd(b, name="ipsecd", record=False)
    da.add("to-b", conn(a, b, "add"), psk=PSK)
    db.add("to-a", conn(b, a, "start"), psk=PSK)
    da.start(timeout=60)
    db.start(timeout=60)
    up_b = db.wait_any(("child-up", "child-failed"), timeout=90)
    up_a = da.wait_any(("child-up", "child-failed"), timeout=30)
    for name, ev in (("a", up_a), ("b", up_b)):
        check(ev["IPSECD_EVENT"] == "child-up", f"{name}: child-up: {ev['message']}")
    check(not da.events("record-kernel") and not db.events("record-kernel"),
          "neither daemon is in the record mode")
    check(up_a.get("IPSECD_SPI_IN") == up_b.get("IPSECD_SPI_OUT")
          and up_a.get("IPSECD_SPI_OUT") == up_b.get("IPSECD_SPI_IN"),
          f"SPIs match: a in/out {up_a.get('IPSECD_SPI_IN')}/{up_a.get('IPSECD_SPI_OUT')}")
    spis = (int(up_a.get("IPSECD_SPI_OUT", "0"), 16), int(up_a.get("IPSECD_SPI_IN", "0"), 16))
    return da, db, spis


def check_counters(net, spis):
    for host in net.hosts:
        sas = sa_packets(host)
        for spi in spis:
            packets, mine = sas.get(spi, (None, False))
            check(packets is not None and packets >= PINGS and mine,
                  f"{host.name}: SA {spi:08x} counted {packets} packets, reqid ours: {mine}")


def check_wire(cap, net, spis, control, protected):
    """CAP is read once: tshark is slow under emulation."""
    a, b = net.hosts
    rows = cap.fields("frame.time_epoch", "ip.src", "ip.dst", "esp.spi", "icmp.type")
    before = frames(rows, a, b, control[1], control[2])
    echo = [f for f in before if f[4] in ECHO_TYPES]
    check(control[0] == PINGS and len(echo) >= 2 * PINGS,
          f"control: {control[0]}/{PINGS} answered in clear, {len(echo)} echo frames seen")
    during = frames(rows, a, b, protected[1], protected[2])
    esp = [f for f in during if f[3]]
    wire_spis = {int(s, 16) for f in esp for s in f[3].split(",") if s}
    clear = [f for f in during if f[4] in ECHO_TYPES]
    check(protected[0] == PINGS, f"{protected[0]}/{PINGS} pings answered through the SAs")
    check(len(esp) >= 2 * PINGS and wire_spis == set(spis) and not clear,
          f"wire: {len(esp)} ESP frames, SPIs {sorted(map(hex, wire_spis))}, "
          f"{len(clear)} cleartext echo frames")


def check_stop(net, da, db):
    a, b = net.hosts
    before = our_objects(b)
    check(before[0] >= 2 and before[1] >= 2,
          f"b before SIGTERM: {before[0]} SAs, {before[1]} policies of ours")
    check(db.stop(grace=20) == 0, "b: ipsecd exits 0 on SIGTERM")
    after_b = our_objects(b)
    check(after_b == (0, 0), f"b after SIGTERM: {after_b[0]} SAs, {after_b[1]} policies of ours")
    down = da.wait_any(("child-down",), timeout=20)
    after_a = our_objects(a)
    check(down is not None and after_a == (0, 0),
          f"a after the peer's Delete: {after_a[0]} SAs, {after_a[1]} policies of ours")
    da.stop(grace=20)


def inside():
    from netns import Network
    start = time.monotonic()
    with Network(hosts=2) as net:
        a, b = net.hosts
        da = db = None
        try:
            with net.capture("esp or icmp") as cap:
                control = pings(a, b.ip4)
                da, db, spis = bring_up(net)
                protected = pings(a, b.ip4)
            check_counters(net, spis)
            check_wire(cap, net, spis, control, protected)
            check_stop(net, da, db)
        except (ipsecd.IpsecdError, TimeoutError) as e:
            check(False, f"unexpected: {e}")
        if check.failures:
            for d in (da, db):
                if d is not None:
                    print(f"--- {d.host.name}\n{d.tail(60)}", flush=True)
    print(f"{'PASS' if not check.failures else 'FAIL'}: ipsecd Child SA in kernel "
          f"{os.uname().release} ({time.monotonic() - start:.1f} s inside)", flush=True)
    return check.status()


def main():
    if sys.argv[1:] == ["--inside"]:
        if not vm.in_vm():
            print("--inside runs only inside the VM (tests/vm/vm.py)", file=sys.stderr)
            return 2
        return inside()
    common.require_root()
    ipsecd.require_ipsecd()
    vm.require()
    vm.run_self(["--inside"], timeout=float(os.environ.get("IPSECD_VM_TIMEOUT", 280)))


if __name__ == "__main__":
    sys.exit(main())
