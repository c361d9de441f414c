#!/usr/bin/python3
"""vm suite: opportunistic encryption end to end on a kernel with ESP
(issue 5's scenarios 1-7; docs/oe.md).

On the host it boots the VM (tests/vm/vm.py) and re-runs itself inside with
--inside.  There: three hosts on one wire; a and b run ipsecd with OE group
files and no connection at all, c runs nothing.  tshark on the wire judges.

  1+2. a and b in private-or-clear 0.0.0.0/0.  The first packet ever from a
       to b is a TCP SYN: it is held while the daemons negotiate (NULL auth,
       anonymous) and the connection completes without a SYN retransmission
       (the kernel's TcpExtTCPSynRetrans counter).  Then pings: all answered,
       ESP on the wire and no cleartext echo between a and b, and the SAs'
       kernel counters moved on both sides.
  6.   instances rekey their Child SA every few seconds and their IKE SA
       (oe.conf): a ping every 100 ms across the rekeys loses at most one
       (most runs none; one in some, not explained yet).
  4.   c in private-or-clear (no IKE there): a's negotiation fails within
       the configured retransmissions, a `pass` shunt lets the ping out in
       clear; after the shunt's lifetime the next packet tries OE again.
  3.   c in private (a SIGHUP moves it): the next ping to c fails, a `drop`
       shunt follows the failed negotiation, and not one plaintext packet
       from a reaches the wire for c.
  5.   c in clear: answered in clear, no negotiation; c in block: no packet
       to c on the wire at all.
  7.   b in private on a; a pings b continuously while a's ipsecd gets
       SIGKILL and is restarted: no cleartext echo between a and b at any
       time, and pings are answered again (encrypted) after the restart.
  stop. SIGTERM leaves `private` and `block` policies in a's kernel and
       removes the rest.

Skips (77) when not root, when ipsecd is not built or the VM cannot run.
"""
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vm  # noqa: E402
import common  # noqa: E402
import ipsecd  # noqa: E402
from ipsecd import Checks, Ipsecd  # noqa: E402

REQID_MIN, REQID_MAX = 0x5EC00000, 0x5ECFFFFF
ECHO = ("0", "8")
SHUNT_LIFETIME = 10
REKEY = 6
OE_CONF = f"""[oe]
rekey-time={REKEY}s
ike-rekey-time={2 * REKEY}s
shunt-lifetime={SHUNT_LIFETIME}s
retransmit-timeout=0.5s
retransmit-limit=2
"""
check = Checks()

TCP_SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7)); s.listen(8); print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"hello\\n"); c.close()
"""
TCP_CLIENT = """
import socket, sys, time
t = time.monotonic()
c = socket.create_connection((sys.argv[1], 7), timeout=20)
data = c.recv(16); c.close()
print(f"{time.monotonic() - t:.3f} {data.decode().strip()}")
"""

# N echo requests every INTERVAL seconds; prints "sent answered" (replies
# matched by identifier and sequence, each waited for up to 2 s).
PINGER = """
import os, select, socket, struct, sys, time
dst, n, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, got, sent = os.getpid() & 0xFFFF, set(), 0
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xFFFF)
    return ~(t + (t >> 16)) & 0xFFFF
end = time.monotonic() + n * interval + 2
nxt = time.monotonic()
while time.monotonic() < end:
    now = time.monotonic()
    if sent < n and now >= nxt:
        sent += 1; nxt += interval
        h = struct.pack("!BBHHH", 8, 0, 0, ident, sent) + b"oe-vm-ping"
        h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
        s.sendto(h, (dst, 0))
    r, _, _ = select.select([s], [], [], max(0.0, min(nxt, end) - time.monotonic()))
    if r:
        pkt = s.recv(2048); icmp = pkt[(pkt[0] & 15) * 4:]
        if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            got.add(struct.unpack("!H", icmp[6:8])[0])
    if sent >= n and len(got) >= n:
        break
print(sent, len(got), flush=True)
"""


def write_groups(d, groups):
    """GROUPS: {group: [lines]}; groups not named are emptied."""
    folder = os.path.join(d.config_dir, "policies")
    os.makedirs(folder, exist_ok=True)
    for g in ("block", "clear", "clear-or-private", "private-or-clear", "private"):
        with open(os.path.join(folder, g), "w") as f:
            f.write("".join(line + "\n" for line in groups.get(g, [])))


def oe_daemon(host, groups):
    d = Ipsecd(host, name="ipsecd", record=False, debug=bool(os.environ.get("OE_DEBUG")))
    write_groups(d, groups)
    with open(os.path.join(d.config_dir, "oe.conf"), "w") as f:
        f.write(OE_CONF)
    return d


def log_seconds(record):
    h, m, sec = record["time"].split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def nstat(host, counter):
    out = host.run(["nstat", "-az", counter], check=False).stdout
    m = re.search(rf"^{counter}\s+(\d+)", out, re.M)
    return int(m[1]) if m else -1


def xfrm_blocks(host, what):
    out = host.ip("-s", "xfrm", what)
    return [b for b in re.split(r"\n(?=src )", out) if b.strip()]


def our_sa_packets(host):
    total = 0
    for block in xfrm_blocks(host, "state"):
        reqid = re.search(r"reqid (\d+)", block)
        packets = re.search(r"(\d+)\(packets\)", block)
        if reqid and REQID_MIN <= int(reqid[1]) <= REQID_MAX and packets:
            total += int(packets[1])
    return total


def policy_actions(host):
    """The actions of a's policies of ours by their remote prefix."""
    out = host.ip("xfrm", "policy")
    return out


def frames(rows, x, y, start, end=None):
    return [r for r in rows if {r[1], r[2]} == {x, y}
            and start <= float(r[0]) <= (end or 1e12)]


def scenario_hold(net, da, db, srv):
    a, b, c = net.hosts
    syn_before = nstat(a, "TcpExtTCPSynRetrans")
    t0 = time.time()
    out = a.run([sys.executable, "-c", TCP_CLIENT, b.ip4], check=False, timeout=60)
    syn_after = nstat(a, "TcpExtTCPSynRetrans")
    check(out.returncode == 0 and out.stdout.strip().endswith("hello"),
          f"1-2: the first packet (a TCP connect) completes: {out.stdout.strip()} "
          f"{out.stderr.strip()[-200:]}")
    up_a = da.wait_any(("child-up", "child-failed"), timeout=30)
    took = log_seconds(up_a) - log_seconds(da.wait_event("oe-acquire"))
    connect = float(out.stdout.split()[0]) if out.returncode == 0 else 99.0
    # Held, the SYN leaves as soon as the SA is up; dropped (the kernel's
    # default), it would wait for TCP's retransmission at 1 s, 3 s, ...
    check(connect <= took + 1.0,
          f"2: the SYN left when the SA came up: connect {connect:.2f} s, negotiation "
          f"{took:.2f} s")
    if took < 0.9:
        check(syn_after == syn_before,
              f"2: no SYN retransmission while negotiating ({syn_before} -> {syn_after})")
    else:
        print(f"note: negotiation took {took:.2f} s (a loaded emulator), longer than TCP's "
              f"first SYN timeout; retransmissions {syn_before} -> {syn_after}", flush=True)
    up_b = db.wait_any(("child-up", "child-failed"), timeout=30)
    check(up_a["IPSECD_EVENT"] == "child-up" and up_b["IPSECD_EVENT"] == "child-up",
          f"1: child-up on both: {up_a['message']} / {up_b['message']}")
    ike = da.events("ike-up")
    check(ike and ike[0].get("IPSECD_AUTHENTICATED") == "no"
          and ike[0].get("IPSECD_LOCAL_AUTH") == "null",
          f"1: anonymous NULL auth: {ike[0]['message'] if ike else 'no ike-up'}")
    check(bool(da.events("oe-acquire")), "1: a negotiated because of a kernel ACQUIRE")
    answered = sum(a.ping(b.ip4, count=1, timeout=3.0) for _ in range(3))
    check(answered == 3, f"1: {answered}/3 pings to b answered")
    # Child SAs rekey every few seconds here (oe.conf): the current pair has
    # at least the last ping and its reply
    pa, pb = our_sa_packets(a), our_sa_packets(b)
    check(pa >= 2 and pb >= 2, f"1: SA packet counters moved: a {pa}, b {pb}")
    return t0


def scenario_rekey(net, da, db):
    a, b, c = net.hosts
    mark = da.mark()
    out = a.run([sys.executable, "-c", PINGER, b.ip4, str(25 * REKEY), "0.1"],
                check=False, timeout=120).stdout.split()
    sent, got = (int(out[0]), int(out[1])) if len(out) == 2 else (0, -1)
    child = [e for e in da.events("child-up", since=mark) + db.events("child-up")]
    ike = da.events("ike-up", since=mark)
    # most runs lose none, some lose one (not explained yet; docs/oe.md)
    check(sent > 0 and got >= sent - 1, f"6: {got}/{sent} pings answered across rekeys")
    check(len(da.events("child-up", since=mark)) >= 2 and ike,
          f"6: rekeys seen on a meanwhile: {len(da.events('child-up', since=mark))} Child SAs, "
          f"{len(ike)} IKE SAs ({len(child)} child-up in all)")


def scenario_fallback(net, da):
    a, b, c = net.hosts
    mark = da.mark()
    t0 = time.time()
    first = a.ping(c.ip4, count=1, timeout=12.0)
    shunt = da.wait_event("oe-shunt", since=mark, timeout=30)
    check(shunt.get("IPSECD_SHUNT") == "pass",
          f"4: private-or-clear to c falls back: {shunt['message']}")
    check(time.time() - t0 < 15, f"4: within the configured time ({time.time() - t0:.1f} s)")
    check(a.ping(c.ip4, count=1, timeout=3.0), f"4: c answers in clear (first ping: {first})")
    retry = da.wait_event("oe-retry", since=mark, timeout=SHUNT_LIFETIME + 40)
    again = da.mark()
    a.ping(c.ip4, count=1, timeout=1.0)
    acq = da.wait_event("oe-acquire", since=again, timeout=40)
    check(retry is not None and acq is not None,
          f"4: after the shunt lifetime OE is tried again: {acq['message']}")
    da.wait_event("oe-shunt", since=again, timeout=30)
    return t0


def scenario_private(net, da):
    a, b, c = net.hosts
    write_groups(da, {"private-or-clear": ["0.0.0.0/0"], "private": [c.ip4]})
    mark = da.reload()
    da.wait_event("oe-apply", since=mark, timeout=20)
    t0 = time.time()
    answered = a.ping(c.ip4, count=8, timeout=1.0)
    shunt = da.wait_event("oe-shunt", since=mark, timeout=30)
    check(not answered and shunt.get("IPSECD_SHUNT") == "drop",
          f"3: private to c: ping answered {answered}, shunt {shunt.get('IPSECD_SHUNT')}")
    check(not a.ping(c.ip4, count=1, timeout=2.0), "3: still nothing after the failure")
    return t0, time.time()


def scenario_clear_block(net, da):
    a, b, c = net.hosts
    write_groups(da, {"private-or-clear": ["0.0.0.0/0"], "clear": [c.ip4]})
    mark = da.reload()
    da.wait_event("oe-apply", since=mark, timeout=20)
    ok = a.ping(c.ip4, count=1, timeout=3.0)
    check(ok and not da.events("oe-acquire", since=mark), f"5: clear: answered {ok}, no OE")
    write_groups(da, {"private-or-clear": ["0.0.0.0/0"], "block": [c.ip4]})
    mark = da.reload()
    da.wait_event("oe-apply", since=mark, timeout=20)
    t0 = time.time()
    ok = a.ping(c.ip4, count=1, timeout=2.0)
    check(not ok and not da.events("oe-acquire", since=mark), f"5: block: answered {ok}")
    return t0, time.time()


def scenario_sigkill(net, da, db):
    a, b, c = net.hosts
    write_groups(da, {"private": [b.ip4]})
    mark = da.reload()
    da.wait_event("oe-apply", since=mark, timeout=20)
    t0 = time.time()
    pinger = a.popen([sys.executable, "-c", PINGER, b.ip4, "250", "0.1"],
                     log=os.path.join(net.tmpdir, "ping.log"))
    time.sleep(2)
    da.proc.send_signal(signal.SIGKILL)
    da.proc.wait()
    da.proc = None
    time.sleep(3)
    da.start(timeout=60)
    mark = da.mark()
    time.sleep(4)
    ok = a.ping(b.ip4, count=1, timeout=5.0)
    check(ok, "7: after the restart a's pings to b are answered")
    pinger.wait(timeout=60)
    with open(os.path.join(net.tmpdir, "ping.log"), errors="replace") as f:
        out = f.read().split()
    check(len(out) == 2 and int(out[1]) >= 10,
          f"7: the continuous ping (250 in 25 s) got replies: {out}")
    return t0, time.time()


def check_wire(cap, net, t_hold, t_fallback, t_private, t_block, t_kill):
    a, b, c = net.hosts
    rows = cap.fields("frame.time_epoch", "ip.src", "ip.dst", "esp.spi", "icmp.type", "tcp.flags")
    ab = frames(rows, a.ip4, b.ip4, t_hold, t_fallback)
    clear = [r for r in ab if r[4] in ECHO or r[5]]
    esp = [r for r in ab if r[3]]
    check(not clear and len(esp) >= 8,
          f"1-2: a<->b: {len(esp)} ESP frames, {len(clear)} cleartext ICMP/TCP frames")
    fallback = [r for r in frames(rows, a.ip4, c.ip4, t_fallback, t_private[0]) if r[4] in ECHO]
    check(len(fallback) >= 2, f"4: fallback pings to c seen in clear: {len(fallback)}")
    private = [r for r in frames(rows, a.ip4, c.ip4, t_private[0], t_private[1])
               if r[1] == a.ip4 and (r[4] in ECHO)]
    check(not private, f"3: plaintext echo from a to a private c: {len(private)} "
          f"{[r[0] for r in private]}")
    blocked = [r for r in frames(rows, a.ip4, c.ip4, t_block[0], t_block[1]) if r[1] == a.ip4
               and r[4] in ECHO]
    check(not blocked, f"5: packets from a to a blocked c: {len(blocked)}")
    killed = [r for r in frames(rows, a.ip4, b.ip4, t_kill[0], t_kill[1]) if r[4] in ECHO]
    kesp = [r for r in frames(rows, a.ip4, b.ip4, t_kill[0], t_kill[1]) if r[3]]
    check(not killed and kesp, f"7: around SIGKILL: {len(killed)} cleartext echo frames, "
          f"{len(kesp)} ESP frames")


def check_stop(net, da):
    a, b, c = net.hosts
    write_groups(da, {"private-or-clear": ["198.51.100.0/24"], "private": [b.ip4],
                      "block": ["203.0.113.0/24"]})
    mark = da.reload()
    da.wait_event("oe-apply", since=mark, timeout=20)
    check(da.stop(grace=20) == 0, "stop: ipsecd exits 0 on SIGTERM")
    out = a.ip("xfrm", "policy")
    check(f"dst {b.ip4}/32" in out and "dst 203.0.113.0/24" in out,
          "stop: the private and block policies stay in the kernel")
    check("198.51.100.0/24" not in out, "stop: the private-or-clear trap is gone")


def inside():
    from netns import Network
    start = time.monotonic()
    with Network(hosts=3) as net:
        a, b, c = net.hosts
        da = oe_daemon(a, {"private-or-clear": ["0.0.0.0/0"]})
        db = oe_daemon(b, {"private-or-clear": ["0.0.0.0/0"]})
        try:
            srv = b.popen([sys.executable, "-c", TCP_SERVER],
                          log=os.path.join(net.tmpdir, "tcp.log"))
            with net.capture("esp or icmp or tcp port 7") as cap:
                da.start(timeout=60)
                db.start(timeout=60)
                check(bool(da.events("oe-apply")), "start: the OE groups were applied")
                t_hold = scenario_hold(net, da, db, srv)
                scenario_rekey(net, da, db)
                t_fallback = scenario_fallback(net, da)
                t_private = scenario_private(net, da)
                t_block = scenario_clear_block(net, da)
                t_kill = scenario_sigkill(net, da, db)
            check_wire(cap, net, t_hold, t_fallback, t_private, t_block, t_kill)
            check_stop(net, da)
        except (ipsecd.IpsecdError, TimeoutError) as e:
            check(False, f"unexpected: {e}")
        if check.failures:
            for d in (da, db):
                print(f"--- {d.host.name}\n{d.tail(80)}", flush=True)
    print(f"{'PASS' if not check.failures else 'FAIL'}: OE in kernel {os.uname().release} "
          f"({time.monotonic() - start:.1f} s inside)", flush=True)
    return check.status()


def main():
    if sys.argv[1:2] == ["--inside"]:
        if not vm.in_vm():
            print("--inside runs only inside the VM (tests/vm/vm.py)", file=sys.stderr)
            return 2
        return inside()
    common.require_root()
    ipsecd.require_ipsecd()
    vm.require()
    vm.run_self(["--inside"], timeout=float(os.environ.get("IPSECD_VM_TIMEOUT", 500)))


if __name__ == "__main__":
    sys.exit(main())
