#!/usr/bin/python3
"""vm suite: real ESP through our XFRM driver, in Debian's kernel under qemu.

On the host it boots the VM (tests/vm/vm.py) and re-runs itself inside with
--inside.  There, two hosts on a bridged wire (tests/lib/netns.py) get their
SAs and ipsec policies from xfrm-tool (our driver, never `ip xfrm`), one
pair of SAs and policies per case, with keys the test chose:

  ipv4 transport  AES-GCM-16 (128-bit key), replay window 32
  ipv6 tunnel     ChaCha20-Poly1305, ESN, window 128
  ipv4 tunnel     AES-CBC-128 + HMAC-SHA2-256-128, window 64
  ipv4 transport  AES-GCM-16 (256-bit key) in UDP (ESPINUDP, 4500 <-> 4500),
                  with service/net's NAT-T socket (UDP_ENCAP and a per-socket
                  bypass policy) bound to 4500 on both hosts

For each case: every ping is answered; our driver's GETSA counts at least
that many packets on all four SAs (out and in at both ends) and reads back
the suite; the capture of the wire shows ESP with exactly the case's two
SPIs (inside UDP 4500 for the encapsulated case) and no cleartext echo.  The
first case also pings before its SAs exist, and that capture must show
cleartext echo: the wire check can fail.  Then events from a real kernel:
the encapsulated inbound SA is told the peer's port is 4501 (update through
our driver), so the next packet from 4500 is a MAPPING event; packet limits
set on a live SA (update again) give a soft then a hard EXPIRE, after which
GETSA finds no SA.  Finally our flush removes everything we installed, and
a ping goes out in clear again.

Skips (77) when not root or when the VM cannot run (no kernel cache, qemu).
"""
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "vm"))
import vm  # noqa: E402
import common  # noqa: E402
from netns import wait_for  # noqa: E402

TOOL = os.environ.get("IPSECD_XFRM_TOOL") or os.path.join(common.build_root(),
                                                         "tests/xfrm/xfrm-tool")
PINGS = 3
REQID = 0x5EC00100
ECHO = ("icmp.type == 8 or icmp.type == 0 or icmpv6.type == 128 or icmpv6.type == 129")


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def key(n):
    return "ekey=0x" + os.urandom(n).hex()


# name, family, last octet base, mode, suite arguments (reqid offset = index)
CASES = [
    ("ipv4 transport aes-gcm-16", "192.0.2.", "transport",
     lambda: ["encr=20", "bits=128", key(20), "window=32"]),
    ("ipv6 tunnel chacha20-poly1305 esn", "2001:db8::", "tunnel",
     lambda: ["encr=28", key(36), "esn=1", "window=128"]),
    ("ipv4 tunnel aes-cbc+hmac-sha256", "198.51.100.", "tunnel",
     lambda: ["encr=12", "bits=128", key(16), "integ=12",
              "ikey=0x" + os.urandom(32).hex(), "window=64"]),
    ("ipv4 transport aes-gcm-16 in udp 4500", "203.0.113.", "transport",
     lambda: ["encr=20", "bits=256", key(36), "window=32", "sport=4500", "dport=4500"]),
]


def tool(host, *args):
    proc = host.run([TOOL, *args], check=False, timeout=30)
    if proc.returncode != 0:
        raise Fail(f"[{host.name}] xfrm-tool {' '.join(args[:3])}...: {proc.stderr.strip()}")
    return proc.stdout


def install(index, net, a_addr, b_addr, mode, suite):
    """Both SAs and both policies at each end; returns (spi a->b, spi b->a)."""
    spi_ab, spi_ba = 0x2000 + 2 * index, 0x2001 + 2 * index
    reqid = REQID + index
    prefix = 128 if ":" in a_addr else 32
    algs = {spi_ab: suite(), spi_ba: suite()}
    a, b = net.hosts
    for host, here, there in ((a, a_addr, b_addr), (b, b_addr, a_addr)):
        for src, dst, spi in ((a_addr, b_addr, spi_ab), (b_addr, a_addr, spi_ba)):
            tool(host, "add-sa", f"src={src}", f"dst={dst}", f"spi={spi}", f"reqid={reqid}",
                 f"mode={mode}", *algs[spi])
        for direction, src, dst in (("out", here, there), ("in", there, here)):
            tool(host, "add-policy", f"dir={direction}", f"src={src}/{prefix}",
                 f"dst={dst}/{prefix}", "action=ipsec", f"mode={mode}", f"tmpl-src={src}",
                 f"tmpl-dst={dst}", f"reqid={reqid}")
    return (spi_ab, spi_ba), algs


def pings(host, dst):
    """PINGS echo requests, one at a time; returns (answered, start, end)."""
    start = time.time()
    answered = sum(host.ping(dst, count=1, timeout=3.0) for _ in range(PINGS))
    return answered, start, time.time()


class Wire:
    """One capture of the whole run, read once: tshark is slow under
    emulation, so each phase is a time window over the same frames."""
    FIELDS = ("frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "esp.spi",
              "icmp.type", "icmpv6.type", "udp.port")

    def __init__(self, net):
        self.cap = net.capture("esp or icmp or icmp6 or udp port 4500")
        self.rows = None

    def frames(self, a_addr, b_addr, start, end):
        if self.rows is None:
            self.cap.stop()
            self.rows = [dict(zip(self.FIELDS, row)) for row in self.cap.fields(*self.FIELDS)]
        out = []
        for r in self.rows:
            src, dst = r["ip.src"] or r["ipv6.src"], r["ip.dst"] or r["ipv6.dst"]
            if {src, dst} == {a_addr, b_addr} and start <= float(r["frame.time_epoch"]) <= end:
                out.append(r)
        return out


def echo_frames(frames):
    return [f for f in frames if f["icmp.type"] in ("0", "8") or f["icmpv6.type"] in ("128", "129")]


def counters(host, dst, spi):
    out = tool(host, "get-sa", f"dst={dst}", f"spi={spi}")
    return {k: v for k, v in (kv.split("=", 1) for kv in out.split())}


def check_counters(net, name, a_addr, b_addr, spis, suite_args):
    """Our GETSA on all four SAs: packets counted, the suite, replay window
    and ESN read back."""
    encr = suite_args[0].split("=")[1]
    problems, seen = [], []
    for host in net.hosts:
        for spi, dst in zip(spis, (b_addr, a_addr)):
            c = counters(host, dst, spi)
            seen.append(c["packets"])
            if int(c["packets"]) < PINGS:
                problems.append(f"{host.name} SA {hex(spi)} counted {c['packets']} packets")
            window = [arg.split("=")[1] for arg in suite_args if arg.startswith("window=")][0]
            if c["window"] != window or c["esn"] != ("1" if "esn=1" in suite_args else "0"):
                problems.append(f"{host.name} SA {hex(spi)} window/ESN {c['window']}/{c['esn']}")
            if c["encr"] != encr:
                problems.append(f"{host.name} SA {hex(spi)} reads back encr {c['encr']}")
            if "udp" in name and c["encap"] != "4500/4500":
                problems.append(f"{host.name} SA {hex(spi)} encap {c['encap']}")
    return problems, seen


def check_wire(name, frames, spis):
    problems = []
    wire_spis = {int(s, 16) for f in frames for s in f["esp.spi"].split(",") if s}
    if wire_spis != set(spis):
        problems.append(f"ESP SPIs on the wire {sorted(map(hex, wire_spis))}")
    if echo_frames(frames):
        problems.append(f"{len(echo_frames(frames))} cleartext echo frames")
    esp = [f for f in frames if f["esp.spi"]]
    if len(esp) < 2 * PINGS:
        problems.append(f"only {len(esp)} ESP frames")
    if "udp" in name and not all("4500" in f["udp.port"] for f in esp):
        problems.append("ESP not inside UDP 4500")
    return problems


def run_case(index, net, name, base, mode, suite):
    """Installs the case and pings; returns what to check once the capture
    is read."""
    a, b = net.hosts
    a_addr, b_addr = base + "1", base + "2"
    spis, algs = install(index, net, a_addr, b_addr, mode, suite)
    answered, start, end = pings(a, b_addr)
    problems, seen = check_counters(net, name, a_addr, b_addr, spis, suite())
    if answered != PINGS:
        problems.append(f"{answered}/{PINGS} pings answered")
    return dict(name=name, a=a_addr, b=b_addr, spis=spis, algs=algs, mode=mode,
                reqid=REQID + index, start=start, end=end,
                problems=problems, seen=seen, answered=answered)


def report(net, wire, result):
    a, b = net.hosts
    name, spis = result["name"], result["spis"]
    frames = wire.frames(result["a"], result["b"], result["start"], result["end"])
    problems = result["problems"] + check_wire(name, frames, spis)
    if problems:
        stats = {h.name: h.run(["grep", "-v", r"\s0$", "/proc/net/xfrm_stat"], check=False).stdout
                 for h in (a, b)}
        raise Fail(f"{name}: " + "; ".join(problems) + "\n" + wire.cap.summary()
                   + a.ip("-s", "xfrm", "state")
                   + "".join(f"--- {h}: /proc/net/xfrm_stat\n{t}" for h, t in stats.items()))
    print(f"ok: {name}: {result['answered']}/{PINGS} answered; GETSA packets "
          f"{'/'.join(result['seen'])}; wire: {len(frames)} frames, ESP SPIs "
          f"{'/'.join(map(hex, spis))}, no cleartext echo", flush=True)


def watch(host, name, count, action):
    """Our driver's events in HOST while ACTION runs: the lines it printed."""
    log = os.path.join(host.tmpdir, name)
    proc = host.popen([TOOL, "watch", f"count={count}", "timeout=30"], log=log)
    wait_for(lambda: os.path.exists(log) and "ready" in open(log).read(), timeout=20,
             what="xfrm-tool watch ready")
    action()
    status = proc.wait(timeout=60)
    host.stop(proc)
    lines = [line for line in open(log).read().splitlines() if line != "ready"]
    check(status == 0, f"[{host.name}] watch for {count} events ended {status}: {lines}")
    return lines


def update_sa(host, result, spi, src, dst, *extra):
    suite = [arg for arg in result["algs"][spi] if not arg.startswith(("sport=", "dport="))]
    tool(host, "update-sa", f"src={src}", f"dst={dst}", f"spi={spi}",
         f"reqid={result['reqid']}", f"mode={result['mode']}", *suite, *extra)


def test_mapping(net, result):
    """The peer's NAT port is not what the SA says: a MAPPING event."""
    a, b = net.hosts
    spi = result["spis"][0]
    update_sa(b, result, spi, result["a"], result["b"], "sport=4501", "dport=4500")
    lines = watch(b, "mapping.log", 1, lambda: pings(a, result["b"]))
    check(lines[0].startswith("mapping ") and f"spi=0x{spi:08x}" in lines[0]
          and f"new={result['a']}:4500 old-port=4501" in lines[0]
          and f"reqid=0x{result['reqid']:08x}" in lines[0], f"MAPPING event: {lines}")
    print(f"ok: MAPPING: {lines[0].split(' sel=')[0]}", flush=True)


def test_allocspi_update(net):
    """A kernel-chosen SPI: ALLOCSPI's larval SA becomes a real one by UPDSA."""
    a, b = net.hosts
    out = tool(a, "alloc-spi", f"src={b.ip4}", f"dst={a.ip4}", f"reqid={REQID + 9}",
               "min=0x3000", "max=0x30ff")
    spi = int(re.search(r"spi=(0x[0-9a-f]+)", out)[1], 16)
    check(0x3000 <= spi <= 0x30FF, f"SPI in range: {out}")
    tool(a, "update-sa", f"src={b.ip4}", f"dst={a.ip4}", f"spi={spi}", f"reqid={REQID + 9}",
         "encr=20", "bits=128", key(20))
    info = counters(a, a.ip4, spi)
    check(info["encr"] == "20" and info["bits"] == "128", f"the larval SA is now AES-GCM: {info}")
    print(f"ok: ALLOCSPI 0x{spi:x} then UPDSA: {info['encr']}/{info['bits']}", flush=True)


def test_expire(net, result):
    """Packet limits on a live SA: soft EXPIRE, then hard, then it is gone."""
    a = net.hosts[0]
    spi = result["spis"][0]
    used = int(counters(a, result["b"], spi)["packets"])
    update_sa(a, result, spi, result["a"], result["b"], f"soft-packets={used + 1}",
              f"hard-packets={used + 2}")
    lines = watch(a, "expire.log", 2, lambda: pings(a, result["b"]))
    check([line.split()[0] for line in lines] == ["expire", "expire"]
          and all(f"spi=0x{spi:08x}" in line for line in lines)
          and "hard=0" in lines[0] and "hard=1" in lines[1], f"soft then hard EXPIRE: {lines}")
    gone = a.run([TOOL, "get-sa", f"dst={result['b']}", f"spi={spi}"], check=False)
    check(gone.returncode == 1 and "NOT_FOUND" in gone.stderr, f"hard-expired SA: {gone}")
    print(f"ok: EXPIRE: soft at {used + 1} packets, hard at {used + 2}, SA gone", flush=True)


def static_neighbours(net):
    """IPv6 neighbour discovery between the hosts would be caught by the
    IPv6 pair's ESP policy (host prefixes, all protocols)."""
    a, b = net.hosts
    mac = {h.name: json.loads(h.ip("-j", "link", "show", h.ifname))[0]["address"]
           for h in (a, b)}
    for here, there in ((a, b), (b, a)):
        here.ip("neigh", "replace", there.ip6, "lladdr", mac[there.name], "dev", here.ifname,
                "nud", "permanent")


def inside():
    from netns import Network
    start = time.monotonic()
    with Network(hosts=2) as net:
        a, b = net.hosts
        for host, last in ((a, 1), (b, 2)):
            for base in ("198.51.100.", "203.0.113."):
                host.ip("addr", "add", f"{base}{last}/24", "dev", host.ifname)
            host.popen([TOOL, "encap-socket", "port=4500"], log="encap.log")
        static_neighbours(net)
        for host in (a, b):
            host.wait_udp(4500)
        wire = Wire(net)
        # The control: before any SA, the echo crosses in clear.
        control = pings(a, "192.0.2.2")
        only = os.environ.get("IPSECD_XFRM_CASES")   # "0,3": a subset, to debug
        results = [run_case(index, net, *case) for index, case in enumerate(CASES)
                   if only is None or str(index) in only.split(",")]
        by_name = {r["name"]: r for r in results}
        if CASES[3][0] in by_name:
            test_mapping(net, by_name[CASES[3][0]])
        if CASES[0][0] in by_name:
            test_expire(net, by_name[CASES[0][0]])
        test_allocspi_update(net)
        # a lost its expired SA and gained the one of ALLOCSPI.
        for host, sas in ((a, 8), (b, 8)):
            out = tool(host, "flush")
            check(only is not None or f"policies=8 sas={sas}" in out,
                  f"[{host.name}] flush: {out}")
            check(host.ip("xfrm", "state").strip() == "", "no SA left after our flush")
        after = pings(a, "192.0.2.2")

        for what, (answered, t0, t1) in (("before the SAs", control), ("after the flush", after)):
            echo = echo_frames(wire.frames("192.0.2.1", "192.0.2.2", t0, t1))
            check(answered == PINGS and len(echo) >= 2 * PINGS,
                  f"{what}: {answered} answers, {len(echo)} clear echo frames\n"
                  + wire.cap.summary())
            print(f"ok: {what}: {len(echo)} cleartext echo frames (the wire check sees them)",
                  flush=True)
        for result in results:
            report(net, wire, result)
        print("ok: flush removed our 8 policies and our SAs on each host", flush=True)
    print(f"PASS: ESP through the ipsecd XFRM driver in kernel {os.uname().release} "
          f"({time.monotonic() - start:.1f} s inside)", flush=True)
    return 0


def main():
    if sys.argv[1:] == ["--inside"]:
        if not vm.in_vm():
            print("--inside runs only inside the VM (tests/vm/vm.py)", file=sys.stderr)
            return 2
        try:
            return inside()
        except Fail as e:
            print(f"FAIL: {e}", flush=True)
            return 1
    common.require_root()
    if not os.access(TOOL, os.X_OK):
        common.skip(f"{TOOL} not built")
    vm.require()
    vm.run_self(["--inside"], timeout=float(os.environ.get("IPSECD_VM_TIMEOUT", 240)))


if __name__ == "__main__":
    sys.exit(main())
