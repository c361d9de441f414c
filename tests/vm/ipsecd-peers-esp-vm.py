#!/usr/bin/python3
"""vm suite: ipsecd and a real peer (strongSwan or libreswan) negotiate
Child SAs and ping through them over real ESP.

    ipsecd-peers-esp-vm.py strongswan|libreswan

On the host it boots the VM once (tests/vm/vm.py) and re-runs itself inside
with --inside.  There ipsecd runs in host a, the peer in host b
(tests/lib/peers.py), both on the bridged wire of tests/lib/netns.py, with a
private system bus so that `ipsecctl` reads the daemon's SA objects.  The
cases (CASES) run one after the other, each with fresh daemons:

  init-v4-transport-gcm  ipsecd initiates; IPv4 transport, AES-GCM-16-256;
                         ipsecd rekeys the Child SA (rekey-time), ipsecd
                         deletes (ipsecctl down)
  resp-v4-tunnel-cbc     the peer initiates; IPv4 tunnel between subnets,
                         AES-CBC-256 + HMAC-SHA2-256; the peer rekeys the
                         Child SA and deletes the IKE SA
  init-v6-transport-gcm  ipsecd initiates; IPv6 transport, AES-GCM-16-256;
                         the peer deletes

In tunnel mode the subnet behind ipsecd is a third namespace (a "lan" host,
198.51.100.2, routed by a) so that its traffic crosses ipsecd's fwd policy;
the peer's subnet is a dummy address (203.0.113.1) in b.  Each case checks:

  - a ping in clear before the daemons start, seen as echo frames on the
    wire (so the wire check can fail);
  - both sides install the Child SA (ipsecd logs child-up, the peer's
    kernel holds both SPIs);
  - pings both ways are answered; in each host `ip -s xfrm state` counts
    them on both SAs, ours with a reqid of ours; `ipsecctl --json show`
    reports the same counters through D-Bus (ChildSAs bytes-/packets-in/out)
    and `ipsecctl show` prints them;
  - the wire shows ESP with exactly the Child SA's SPIs and no cleartext
    echo while it is up;
  - after a Child rekey (by either side) pings still pass through the new
    SPIs, the old SAs are gone from both kernels;
  - after the delete, host a holds no SA and no policy of ours and the
    peer's kernel holds no SA.

Skips (77) when not root, when ipsecd or ipsecctl is not built, when the
peer is not installed or the VM cannot run.
"""
import ctypes
import json
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vm  # noqa: E402
import common  # noqa: E402
import ipsecd  # noqa: E402
import netns  # noqa: E402
import peers  # noqa: E402
from ipsecd import Checks, Ipsecd  # noqa: E402

PSK = "Vx3-pQ8rTz5mLw2kHs9dNb4cJf7gYe6a"
PINGS = 3
REQID_MIN, REQID_MAX = 0x5EC00000, 0x5ECFFFFF
ECHO = {"0", "8", "128", "129"}
# behind ipsecd (host a): the lan namespace; behind the peer: b's dummy
SUBNET_A, LAN_GW, LAN_HOST = "198.51.100.0/24", "198.51.100.1", "198.51.100.2"
SUBNET_B, B_INNER = "203.0.113.0/24", "203.0.113.1"
IKE = {"ipsecd": "aes_gcm16_256-prfsha256-x25519",
       "strongswan": peers.AEAD_IKE_PROPOSAL[0],
       "libreswan": peers.AEAD_IKE_PROPOSAL[1]}
ESP = {"gcm": {"ipsecd": "aes_gcm16_256", "strongswan": "aes256gcm16",
               "libreswan": "aes_gcm256"},
       "cbc": {"ipsecd": "aes256-sha256", "strongswan": "aes256-sha256",
               "libreswan": "aes256-sha2_256"}}
# ipsecd's own rekey: soon after child-up, long before the hard lifetime
REKEY_TIME, LIFE_TIME = "20s", "120s"

# (name, initiator, family, mode, esp, who rekeys, who deletes)
CASES = [
    ("init-v4-transport-gcm", "ipsecd", 4, "transport", "gcm", "ipsecd", "ipsecd"),
    ("resp-v4-tunnel-cbc", "peer", 4, "tunnel", "cbc", "peer", "peer"),
    ("init-v6-transport-gcm", "ipsecd", 6, "transport", "gcm", None, "peer"),
]
# for debugging: IPSECD_VM_CASES=name,name runs only those
CASE_FILTER = [c for c in os.environ.get("IPSECD_VM_CASES", "").split(",") if c]
check = Checks()


def ipsecctl_binary():
    return os.path.join(common.build_root(), "cli", "ipsecctl")


# --- the kernel's view ---------------------------------------------------------

def xfrm_blocks(ns_run, what):
    out = ns_run("-s", "xfrm", what)
    return [b for b in re.split(r"\n(?=src )", out) if b.strip()]


def ours(block):
    m = re.search(r"reqid (\d+)", block)
    return m is not None and REQID_MIN <= int(m[1]) <= REQID_MAX


def sa_table(host):
    """SPI -> (packets, bytes, reqid is ours) of every SA in HOST."""
    found = {}
    for block in xfrm_blocks(host.ip, "state"):
        spi = re.search(r"spi (0x[0-9a-f]+)", block)
        packets = re.search(r"(\d+)\(bytes\), (\d+)\(packets\)", block)
        if spi:
            found[int(spi[1], 16)] = (int(packets[2]) if packets else -1,
                                      int(packets[1]) if packets else -1,
                                      ours(block))
    return found


def our_objects(host):
    return (len([b for b in xfrm_blocks(host.ip, "state") if ours(b)]),
            len([b for b in xfrm_blocks(host.ip, "policy") if ours(b)]))


# --- topology --------------------------------------------------------------------

class Lan:
    """A namespace behind host A on its own veth (A routes for it), and a
    dummy address in B: the subnets of the tunnel case."""

    def __init__(self, net):
        self.net = net
        self.a, self.b = net.hosts
        self.ns = f"{self.a.ns}-lan"

    def __enter__(self):
        a, b, ns = self.a, self.b, self.ns
        subprocess.run(["ip", "netns", "add", ns], check=True)
        batches = [(a.ns, [f"link add lan0 type veth peer name eth0 netns {ns}",
                           f"addr add {LAN_GW}/24 dev lan0", "link set lan0 up",
                           f"route add {SUBNET_B} via {b.ip4} dev eth0"]),
                   (ns, ["link set lo up", f"addr add {LAN_HOST}/24 dev eth0",
                         "link set eth0 up", f"route add default via {LAN_GW}"]),
                   (b.ns, ["link add dummy0 type dummy", f"addr add {B_INNER}/32 dev dummy0",
                           "link set dummy0 up",
                           f"route add {SUBNET_A} via {a.ip4} src {B_INNER}"])]
        for where, commands in batches:
            subprocess.run(["ip", "-n", where, "-batch", "-"], check=True, text=True,
                           input="".join(c + "\n" for c in commands))
        a.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.ns], check=False)
        self.b.ip("link", "del", "dummy0", check=False)
        self.a.ip("route", "del", SUBNET_B, check=False)



# --- pings without a process each (python starts slowly under emulation) ----

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def ns_socket(ns, family):
    """A raw ICMP(v6) socket of network namespace NS: the namespace is
    entered by a short-lived thread (setns acts on the calling thread only)
    and a socket stays in the namespace it was made in."""
    box = {}

    def make():
        try:
            with open(f"/run/netns/{ns}") as f:
                if _libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {ns}")
            proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
            box["sock"] = socket.socket(family, socket.SOCK_RAW, proto)
        except OSError as e:
            box["error"] = e
    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["sock"]


class Pinger:
    """Echo requests from namespace NS to ADDRESS, one at a time."""

    def __init__(self, ns, address):
        self.address = address
        self.family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sock = ns_socket(ns, self.family)
        self.ident = secrets.randbelow(0xFFFF)
        self.seq = 0

    def __call__(self, timeout=3.0):
        v4 = self.family == socket.AF_INET
        req, rep = (8, 0) if v4 else (128, 129)
        self.seq = (self.seq + 1) & 0xFFFF
        payload = b"ipsecd-peers-esp-vm"
        header = struct.pack("!BBHHH", req, 0, 0, self.ident, self.seq)
        if v4:  # the kernel sums ICMPv6 itself
            header = struct.pack("!BBHHH", req, 0, netns._checksum(header + payload),
                                 self.ident, self.seq)
        self.sock.sendto(header + payload, (self.address, 0))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                break
            if v4:
                data = data[(data[0] & 0x0F) * 4:]
            if len(data) >= 8:
                typ, _, _, ident, seq = struct.unpack("!BBHHH", data[:8])
                if (typ, ident, seq) == (rep, self.ident, self.seq):
                    return True
        return False

    def close(self):
        self.sock.close()


def ping_pair(net, family, lan):
    """(ping a side -> b side, ping b side -> a side)."""
    a, b = net.hosts
    if lan is not None:
        return Pinger(lan.ns, B_INNER), Pinger(b.ns, LAN_HOST)
    return Pinger(a.ns, b.address(family)), Pinger(b.ns, a.address(family))


class Background:
    """A ping every INTERVAL seconds from PINGER while the with block runs."""

    def __init__(self, pinger, interval=0.3):
        self.pinger, self.interval = pinger, interval
        self.results = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            self.results.append(self.pinger(timeout=2.0))
            self.stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        return False


def pings(pair, count=PINGS):
    start = time.time()
    there = sum(pair[0]() for _ in range(count))
    back = sum(pair[1]() for _ in range(count))
    return there, back, start, time.time()


# --- the private bus ---------------------------------------------------------------

def start_bus(tmpdir):
    socket_path = os.path.join(tmpdir, "bus")
    conf = os.path.join(tmpdir, "bus.conf")
    policy = os.path.join(common.source_root(), "data", "dbus", "org.libreswan.IPsec.conf")
    with open(conf, "w") as f:
        f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket_path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/>
    <allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
  <include>{policy}</include>
</busconfig>
""")
    proc = subprocess.Popen(["dbus-daemon", "--config-file", conf, "--nofork"])
    from netns import wait_for
    wait_for(lambda: os.path.exists(socket_path), what="the private bus")
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={socket_path}"
    return proc


def ipsecctl(*args):
    return subprocess.run([ipsecctl_binary(), *args], capture_output=True, text=True,
                          timeout=30)


# --- the peers ---------------------------------------------------------------------

class Peer:
    def __init__(self, kind, host):
        self.kind = kind
        self.host = host
        self.d = None

    def start(self, name, case, a):
        _, _, family, mode, esp, _, _ = case
        b = self.host
        tunnel = mode == "tunnel"
        if self.kind == "strongswan":
            self.d = peers.Charon(b, debug=1).start(timeout=60)
            self.d.load(peers.Charon.child_conn(
                name, b, a, PSK, family=family, mode=mode, esp=ESP[esp]["strongswan"],
                local_ts=SUBNET_B if tunnel else None,
                remote_ts=SUBNET_A if tunnel else None))
        else:
            self.d = peers.Pluto(b).start(timeout=60)
            self.d.load(peers.Pluto.child_conn(
                name, b, a, family=family, mode=mode, esp=ESP[esp]["libreswan"],
                leftsubnet=SUBNET_B if tunnel else None,
                rightsubnet=SUBNET_A if tunnel else None),
                peers.Pluto.psk_secret(b, a, PSK, family=family))

    def initiate(self, name):
        if self.kind == "strongswan":
            threading.Thread(target=self.d.initiate,
                             kwargs=dict(child=name, timeout=60, check=False),
                             daemon=True).start()
        else:
            self.d.whack("--name", name, "--initiate", "--asynchronous", check=False)

    def rekey(self, name):
        if self.kind == "strongswan":
            self.d.rekey_child(name)
        else:
            self.d.rekey_child(name)

    def delete(self, name):
        if self.kind == "strongswan":
            self.d.terminate(name, timeout=30)
        else:
            self.d.whack("--name", name, "--terminate", check=False)

    def stop(self):
        if self.d is not None:
            self.d.stop(grace=20)
            self.d = None

    def tail(self):
        return peers._tail(self.d.log, 60) if self.d is not None else ""


# --- one case --------------------------------------------------------------------

def ipsecd_conf(case, a, b):
    _, initiator, family, mode, esp, rekey, _ = case
    extra = {"mode": mode, "esp": ESP[esp]["ipsecd"], "retransmit_timeout": "2s",
             "retransmit_limit": "5"}
    if mode == "tunnel":
        extra.update(local_ts=SUBNET_A, remote_ts=SUBNET_B)
    if rekey == "ipsecd":
        extra.update(rekey_time=REKEY_TIME, life_time=LIFE_TIME)
    return Ipsecd.psk_conn(a, b, family=family, ike=IKE["ipsecd"], childless=False,
                           auto="start" if initiator == "ipsecd" else "add", **extra)


def child_up(d, since, timeout, other_than=()):
    """The first child-up/child-failed after SINCE with a new inbound SPI."""
    def seen():
        for ev in d.events(None, since=since):
            if ev["IPSECD_EVENT"] == "child-failed":
                return ev
            if ev["IPSECD_EVENT"] == "child-up" and \
                    int(ev.get("IPSECD_SPI_IN", "0"), 16) not in other_than:
                return ev
        if not d.running():
            raise ipsecd.IpsecdError(f"ipsecd exited:\n{d.tail()}")
        return None
    from netns import wait_for
    return wait_for(seen, timeout=timeout, what="ipsecd child-up")


def spis_of(ev):
    return int(ev.get("IPSECD_SPI_IN", "0"), 16), int(ev.get("IPSECD_SPI_OUT", "0"), 16)


def wait_peer_sas(net, spis, timeout=30):
    """Until both SAs are in the peer's kernel: a responder's child-up
    comes before the initiating peer has read the answer and installed its
    half, and a ping sent in between is lost by design."""
    b = net.hosts[1]
    want = {f"0x{spi:08x}" for spi in spis}
    netns.wait_for(lambda: want <= set(re.findall(r"spi (0x[0-9a-f]+)", b.ip("xfrm", "state"))),
                   timeout=timeout, interval=0.1, what="the peer's Child SAs in its kernel")


def check_kernels(net, label, spis, packets):
    """Both hosts hold both SPIs, each having counted PACKETS at least; ours
    carry our reqid.  Returns host a's table."""
    a, b = net.hosts
    tables = {}
    for host in (a, b):
        table = tables[host.name] = sa_table(host)
        for spi in spis:
            n, _, mine = table.get(spi, (None, 0, False))
            check(n is not None and n >= packets and (mine or host is b),
                  f"{label}: {host.name}: SA {spi:08x} counted {n} packets"
                  + (f", reqid ours: {mine}" if host is a else ""))
    return tables["a"]


def check_bus(label, name, spi_in, table):
    """ipsecctl --json show: the Child SA with SPI_IN has counters at least
    those of TABLE (the kernel read just before)."""
    proc = ipsecctl("--json", "show", name)
    try:
        shown = json.loads(proc.stdout)
    except ValueError:
        check(False, f"{label}: ipsecctl --json show {name}: {proc.stdout}{proc.stderr}")
        return
    children = [c for sa in shown.get("sas", []) for c in sa.get("ChildSAs", [])]
    child = next((c for c in children if c.get("spi-in") == spi_in[0]), {})
    want_in = table.get(spi_in[0], (0, 0, False))
    want_out = table.get(spi_in[1], (0, 0, False))
    ok = check(child.get("packets-in", -1) >= want_in[0] > 0
          and child.get("packets-out", -1) >= want_out[0] > 0
          and child.get("bytes-in", -1) >= want_in[1] > 0
          and child.get("bytes-out", -1) >= want_out[1] > 0,
          f"{label}: D-Bus ChildSAs counters in {child.get('packets-in')} packets/"
          f"{child.get('bytes-in')} bytes, out {child.get('packets-out')}/"
          f"{child.get('bytes-out')} (kernel read before: {want_in[:2]}, {want_out[:2]})")
    if not ok:
        print(proc.stdout, proc.stderr, flush=True)
    human = ipsecctl("show", name).stdout
    check("bytes/packets in " in human, f"{label}: ipsecctl show prints the counters")


def rekey_child(case, name, da, peer, net, pair, spis):
    """Rekey by case's side while pings run; then pings through the new
    SPIs, and the old SAs gone."""
    label = case[0]
    a, b = net.hosts
    mark = da.mark()
    with Background(pair[0], interval=0.1) as during:
        if case[5] == "peer":
            peer.rekey(name)
        up = child_up(da, mark, timeout=60, other_than={spis[0]})
        new = spis_of(up)
        down = da.wait_any(("child-down",), since=mark, timeout=30)
        time.sleep(1.0)  # and on the new SAs alone for a while
    check(up["IPSECD_EVENT"] == "child-up" and new[0] != spis[0],
          f"{label}: rekey by {case[5]}: new Child SA {new[0]:08x}/{new[1]:08x}")
    check(spis_of(down)[0] == spis[0], f"{label}: the old Child SA {spis[0]:08x} went down")
    lost = during.results.count(False)
    # at most one: most runs lose none, some lose one (not explained yet;
    # docs/interop.md)
    check(len(during.results) >= 3 and lost <= 1,
          f"{label}: {len(during.results) - lost}/{len(during.results)} pings answered "
          "while the rekey ran")
    after = pings(pair)
    check(after[0] == PINGS and after[1] == PINGS,
          f"{label}: after the rekey {after[0]}+{after[1]}/{2 * PINGS} pings answered")
    table = check_kernels(net, f"{label} rekeyed", new, 2 * PINGS)
    left_a = [f"{s:08x}" for s in spis if s in sa_table(a)]

    def peer_left():
        return [f"{s:08x}" for s in spis if s in sa_table(b)]
    # strongSwan keeps the old outbound SA a few seconds (delete_rekeyed_delay)
    try:
        netns.wait_for(lambda: not peer_left(), timeout=15, interval=0.5,
                       what="the peer's old SAs gone")
    except TimeoutError:
        pass
    left_b = peer_left()
    check(not left_a and not left_b,
          f"{label}: old SAs gone from a at once ({left_a}) and from b soon ({left_b})")
    return new, table, after


def delete_case(case, name, da, peer, net):
    label = case[0]
    a, b = net.hosts
    before = our_objects(a)
    check(before[0] >= 2 and before[1] >= 2,
          f"{label}: a before the delete: {before[0]} SAs, {before[1]} policies of ours")
    mark = da.mark()
    if case[6] == "ipsecd":
        proc = ipsecctl("down", name)
        check(proc.returncode == 0, f"{label}: ipsecctl down {name}: {proc.stderr.strip()}")
    else:
        peer.delete(name)
    da.wait_event("ike-down", since=mark, timeout=30)
    from netns import wait_for
    try:
        wait_for(lambda: not sa_table(b), timeout=20, what="the peer's SAs gone")
    except TimeoutError:
        pass
    after_a, left_b = our_objects(a), len(sa_table(b))
    check(after_a == (0, 0) and left_b == 0,
          f"{label}: after the delete by {case[6]}: a holds {after_a[0]} SAs, "
          f"{after_a[1]} policies of ours; b holds {left_b} SAs")


def run_case(case, net, kind, windows):
    label, initiator, family, mode = case[:4]
    a, b = net.hosts
    name = f"c{CASES.index(case)}"
    start = time.monotonic()
    da, peer = None, Peer(kind, b)
    with (Lan(net) if mode == "tunnel" else _Null()) as lan:
        pair = ping_pair(net, family, lan)
        try:
            control = pings(pair, 1)
            windows.append((label, "control", control))
            peer.start(name, case, a)
            da = Ipsecd(a, name=f"ipsecd-{name}", record=False, args=["--bus=system"])
            da.add(name, ipsecd_conf(case, a, b), psk=PSK)
            da.start(timeout=60)
            da.wait_event("bus-name", timeout=30)
            if initiator == "peer":
                peer.initiate(name)
            up = child_up(da, 0, timeout=90)
            check(up["IPSECD_EVENT"] == "child-up",
                  f"{label}: ipsecd child-up as {initiator == 'ipsecd' and 'initiator' or 'responder'}"
                  f": {up['message']}")
            spis = spis_of(up)
            wait_peer_sas(net, spis)
            protected = pings(pair)
            check(protected[0] == PINGS and protected[1] == PINGS,
                  f"{label}: {protected[0]}+{protected[1]}/{2 * PINGS} pings answered "
                  "through the Child SA")
            table = check_kernels(net, label, spis, 2 * PINGS)
            check_bus(label, name, spis, table)
            windows.append((label, "protected", protected, spis))
            if case[5] is not None:
                new, table, after = rekey_child(case, name, da, peer, net, pair, spis)
                windows.append((label, "rekeyed", after, new))
                check_bus(f"{label} rekeyed", name, new, table)
            delete_case(case, name, da, peer, net)
        except (ipsecd.IpsecdError, peers.PeerError, TimeoutError) as e:
            check(False, f"{label}: unexpected: {e}")
        finally:
            failed = bool(check.failures)
            if da is not None:
                da.stop(grace=20)
            if failed:
                if da is not None:
                    print(f"--- ipsecd\n{da.tail(60)}", flush=True)
                print(f"--- {kind}\n{peer.tail()}", flush=True)
            peer.stop()
            for pinger in pair:
                pinger.close()
    print(f"{label}: {time.monotonic() - start:.1f} s", flush=True)


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# --- the wire, read once at the end ------------------------------------------------

def check_wire(cap, windows):
    rows = cap.fields("frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
                      "esp.spi", "icmp.type", "icmpv6.type")

    def within(w):
        return [r for r in rows if w[2] <= float(r[0]) <= w[3]]
    for w in windows:
        label, kind, stats = w[0], w[1], w[2]
        frames = within(stats)
        echo = [r for r in frames if r[6] in ECHO or r[7] in ECHO]
        if kind == "control":
            check(stats[0] == 1 and stats[1] == 1 and len(echo) >= 4,
                  f"{label}: control: {stats[0]}+{stats[1]}/2 answered in clear, "
                  f"{len(echo)} echo frames seen")
            continue
        spis = set(w[3])
        wire = {int(s, 16) for r in frames if r[5] for s in r[5].split(",") if s}
        esp = [r for r in frames if r[5]]
        check(len(esp) >= 4 * PINGS and wire == spis and not echo,
              f"{label} ({kind}): wire: {len(esp)} ESP frames, SPIs "
              f"{sorted(map(hex, wire))} (want {sorted(map(hex, spis))}), "
              f"{len(echo)} cleartext echo frames")


def inside(kind):
    from netns import Network
    import tempfile
    start = time.monotonic()
    bus_dir = tempfile.mkdtemp(prefix="ipsecd-vm-bus-")
    bus = start_bus(bus_dir)
    windows = []
    try:
        with Network(hosts=2) as net:
            with net.capture("esp or icmp or icmp6") as cap:
                for case in CASES:
                    if CASE_FILTER and case[0] not in CASE_FILTER:
                        continue
                    run_case(case, net, kind, windows)
            check_wire(cap, windows)
    finally:
        bus.terminate()
        bus.wait(timeout=10)
    print(f"{'PASS' if not check.failures else 'FAIL'}: ipsecd with {kind}, Child SAs "
          f"over ESP in kernel {os.uname().release} ({time.monotonic() - start:.1f} s "
          "inside)", flush=True)
    return check.status()


def main():
    args = sys.argv[1:]
    if len(args) not in (1, 2) or args[0] not in ("strongswan", "libreswan"):
        print(f"usage: {sys.argv[0]} strongswan|libreswan [--inside]", file=sys.stderr)
        return 2
    kind = args[0]
    if args[1:] == ["--inside"]:
        if not vm.in_vm():
            print("--inside runs only inside the VM (tests/vm/vm.py)", file=sys.stderr)
            return 2
        return inside(kind)
    common.require_root()
    common.require_tools("ip", "ss", "dumpcap", "tshark", "dbus-daemon")
    ipsecd.require_ipsecd()
    if not os.access(ipsecctl_binary(), os.X_OK):
        common.skip(f"{ipsecctl_binary()} is not built")
    if kind == "strongswan":
        peers.require_strongswan()
    else:
        peers.require_libreswan()
    vm.require()
    vm.run_self([kind, "--inside"], timeout=float(os.environ.get("IPSECD_VM_TIMEOUT", 280)))


if __name__ == "__main__":
    sys.exit(main())
