#!/usr/bin/python3
"""vm suite: ipsecd with libreswan's opportunistic encryption and with a
strongSwan connection authenticated by ECDSA certificates, both directions,
Child SAs over real ESP (issue 5's scenario 8; docs/interop.md).

On the host it boots the VM (tests/vm/vm.py) once and re-runs itself inside
with --inside.  There ipsecd runs in host a, the peer in host b
(tests/lib/peers.py), on the bridged wire of tests/lib/netns.py.  The cases
run one after the other, each with fresh daemons:

  oe-ipsecd-initiates     both hosts put the wire (192.0.2.0/24) in
                          private-or-clear: ipsecd's group file, libreswan's
                          <ipsec.d>/policies/private-or-clear with its
                          oe-authnull.conf conns in transport mode
                          (Pluto.load_oe).  a pings b: the kernel's ACQUIRE
                          makes ipsecd negotiate (NULL auth, anonymous);
                          the first ping waits for the SA and is answered.
                          libreswan then stops: its Delete takes ipsecd's
                          instance down.
  oe-libreswan-initiates  the same groups; b pings a: pluto's own ACQUIRE,
                          ipsecd answers as a responder instance for an
                          unknown peer in its group.  ipsecd then stops: its
                          Delete clears pluto's states.
  certs-ipsecd-initiates  a static connection, ECDSA P-256 certificates
                          both ways (ipsecd's from its NSS database, the
                          peer's in swanctl's folders; the PKI of
                          tests/interop/ipsecd-certs.py), transport mode;
                          ipsecd initiates (auto=start), strongSwan deletes.
  certs-strongswan-initiates  the same in tunnel mode between the two
                          addresses; strongSwan initiates, ipsecd deletes
                          (SIGTERM).

Each case checks: the IKE SA's authentication as logged by ipsecd (NULL and
anonymous, or certificates with the peer's identity) and by the peer; the
Child SA in the mode asked for; pings both ways all answered; both kernels
hold both SPIs and counted the pings (ours with a reqid of ours); the peer
reports the same SPIs; on the wire (read once at the end) ESP with exactly
those SPIs and no cleartext echo between a and b from the first packet on;
after the delete no SA left in either kernel.  A ping in clear before
anything starts must be seen as echo frames, so the wire check can fail.

Skips (77) when not root, when ipsecd is not built, when a peer, openssl or
NSS's tools are missing, or the VM cannot run.
"""
import importlib.util
import os
import re
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

WIRE = "192.0.2.0/24"
PINGS = 3
REQID_MIN, REQID_MAX = 0x5EC00000, 0x5ECFFFFF
ECHO = {"0", "8"}
# (ipsecd, strongSwan): the certificate cases' one suite, as in ipsecd-certs
IKE = ("aes_gcm16_256-prfsha256-ecp256", "aes256gcm16-prfsha256-ecp256")
ESP = ("aes_gcm16_256", "aes256gcm16")
# (name, kind, initiator, mode)
CASES = [
    ("oe-ipsecd-initiates", "oe", "ipsecd", "transport"),
    ("oe-libreswan-initiates", "oe", "peer", "transport"),
    ("certs-ipsecd-initiates", "certs", "ipsecd", "transport"),
    ("certs-strongswan-initiates", "certs", "peer", "tunnel"),
]
# for debugging: IPSECD_VM_CASES=name,name runs only those
CASE_FILTER = [c for c in os.environ.get("IPSECD_VM_CASES", "").split(",") if c]
check = Checks()

# N echo requests INTERVAL apart from one process (a Python start costs
# seconds under emulation); prints "sent answered".
PINGER = """
import os, select, socket, struct, sys, time
dst, n, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, got, sent = os.getpid() & 0xFFFF, set(), 0
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xFFFF)
    return ~(t + (t >> 16)) & 0xFFFF
end = time.monotonic() + n * interval + 3
nxt = time.monotonic()
while time.monotonic() < end and len(got) < n:
    if sent < n and time.monotonic() >= nxt:
        sent += 1; nxt += interval
        h = struct.pack("!BBHHH", 8, 0, 0, ident, sent) + b"oe-peers-vm-ping"
        s.sendto(h[:2] + struct.pack("!H", csum(h)) + h[4:], (dst, 0))
    r, _, _ = select.select([s], [], [], max(0.0, min(nxt, end) - time.monotonic()))
    if r:
        pkt = s.recv(2048); icmp = pkt[(pkt[0] & 15) * 4:]
        if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            got.add(struct.unpack("!H", icmp[6:8])[0])
print(sent, len(got), flush=True)
"""


def pings(src, dst, n=PINGS):
    out = src.run([sys.executable, "-c", PINGER, dst.ip4, str(n), "0.2"],
                  check=False, timeout=60).stdout.split()
    return (int(out[0]), int(out[1])) if len(out) == 2 else (0, -1)


def both_ways(label, a, b):
    there, back = pings(a, b), pings(b, a)
    check(there == (PINGS, PINGS) and back == (PINGS, PINGS),
          f"{label}: pings answered a->b {there[1]}/{there[0]}, b->a {back[1]}/{back[0]}")


def load_certs_helpers():
    """Pki, dn() and ipsecd_nss() of tests/interop/ipsecd-certs.py."""
    path = os.path.join(common.source_root(), "tests", "interop", "ipsecd-certs.py")
    spec = importlib.util.spec_from_file_location("ipsecd_certs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the kernels --------------------------------------------------------------

def sa_table(host):
    """SPI -> (packets, reqid is ours, mode) of every SA in HOST."""
    found = {}
    for block in re.split(r"\n(?=src )", host.ip("-s", "xfrm", "state")):
        spi = re.search(r"spi (0x[0-9a-f]+)", block)
        # SPI 0: the kernel's larval state of an ACQUIRE, no SA (it expires
        # by itself after net.core.xfrm_acq_expires)
        if not spi or int(spi[1], 16) == 0:
            continue
        packets = re.search(r"\d+\(bytes\), (\d+)\(packets\)", block)  # current, not limits
        reqid = re.search(r"reqid (\d+)", block)
        mode = re.search(r"mode (\w+)", block)
        found[int(spi[1], 16)] = (int(packets[1]) if packets else -1,
                                  bool(reqid) and REQID_MIN <= int(reqid[1]) <= REQID_MAX,
                                  mode[1] if mode else "?")
    return found


def check_kernels(net, label, spis, mode):
    a, b = net.hosts
    for host in (a, b):
        table = sa_table(host)
        for spi in spis:
            n, ours, got = table.get(spi, (None, False, None))
            check(n is not None and n >= 2 * PINGS and got == mode and (ours or host is b),
                  f"{label}: {host.name}: SA {spi:08x} in {got} mode counted {n} packets"
                  + (f", reqid ours: {ours}" if host is a else ""))


def check_clean(net, label):
    a, b = net.hosts
    try:
        netns.wait_for(lambda: not sa_table(a) and not sa_table(b), timeout=20,
                       interval=0.5, what="no SA left")
    except TimeoutError:
        pass
    left = [f"{h.name}:{s:08x}" for h in (a, b) for s in sa_table(h)]
    check(not left, f"{label}: after the delete no SA in either kernel: {left}")


def spis_of(ev):
    return int(ev.get("IPSECD_SPI_IN", "0"), 16), int(ev.get("IPSECD_SPI_OUT", "0"), 16)


def child_up(d, label, mode, timeout=60):
    up = d.wait_any(("child-up", "child-failed"), timeout=timeout)
    check(up["IPSECD_EVENT"] == "child-up" and f"{mode} mode" in up["message"],
          f"{label}: ipsecd child-up in {mode} mode: {up['message']}")
    return spis_of(up)


# --- opportunistic encryption with libreswan -----------------------------------

def pluto_children(states):
    """The established Child SAs of pluto's private-or-clear instances in
    whack --showstates text STATES (an instance's name is followed by its
    number and the peer, which Pluto.states() does not expect)."""
    return re.findall(r'^.*"private-or-clear#[^"]*"\S* \S+ STATE_V2_ESTABLISHED_CHILD_SA.*$',
                      states, re.M)


def pluto_has_spi(states, spi, dst):
    """Whether whack --showstates text STATES names ESP SPI at DST."""
    return re.search(rf"\besp\.0*{spi:x}@{re.escape(dst)}\b", states) is not None


def write_groups(d, groups):
    folder = os.path.join(d.config_dir, "policies")
    os.makedirs(folder, exist_ok=True)
    for g in peers.Pluto.OE_GROUPS:
        with open(os.path.join(folder, g), "w") as f:
            f.write("".join(line + "\n" for line in groups.get(g, [])))


def check_oe_up(label, d, pluto, initiator, first, net):
    """The instance's IKE SA as ipsecd logged it, and who started it."""
    a, b = net.hosts
    ike = d.events("ike-up")
    role = "initiator" if initiator == "ipsecd" else "responder"
    check(len(ike) == 1 and ike[0].get("IPSECD_ROLE") == role
          and ike[0].get("IPSECD_CONNECTION") == f"oe-{b.ip4}"
          and ike[0].get("IPSECD_LOCAL_AUTH") == "null"
          and ike[0].get("IPSECD_REMOTE_AUTH") == "null"
          and ike[0].get("IPSECD_AUTHENTICATED") == "no",
          f"{label}: one anonymous NULL-auth IKE SA, ipsecd the {role}: "
          f"{[e['message'] for e in ike]}")
    log = pluto.log_text()
    if initiator == "ipsecd":
        acq = d.events("oe-acquire")
        check(acq and acq[0].get("IPSECD_GROUP") == "private-or-clear",
              f"{label}: ipsecd negotiated on the kernel's ACQUIRE")
        # ipsecd holds (xfrm_larval_drop=0): the very first packet goes
        check(first, f"{label}: the first ping, held while negotiating, was answered")
        check("responder established Child SA" in log,
              f"{label}: pluto logged its responder Child SA")
    else:
        check(f"initiate on-demand for packet {b.ip4}:8-ICMP->{a.ip4}" in log
              and "initiator established IKE SA" in log,
              f"{label}: pluto initiated on its own ACQUIRE (first ping answered: {first})")
    check("authenticated peer using authby=null and ID_NULL" in log,
          f"{label}: pluto authenticated ipsecd by NULL auth (ID_NULL)")


def oe_down(label, d, pluto, initiator, net):
    """The side that did not start it ends it: pluto's shutdown Delete
    takes ipsecd's instance down; ipsecd's SIGTERM clears pluto's state."""
    b = net.hosts[1]
    mark = d.mark()
    if initiator == "ipsecd":
        pluto.stop(grace=20)
        down = d.wait_event("ike-down", since=mark, timeout=30)
        check(down.get("IPSECD_CONNECTION") == f"oe-{b.ip4}",
              f"{label}: libreswan stopped, ipsecd's instance went down: {down['message']}")
    else:
        check(d.stop(grace=20) == 0, f"{label}: ipsecd exits 0 on SIGTERM")
        netns.wait_for(lambda: not pluto_children(pluto.showstates()), timeout=20,
                       interval=0.5, what="pluto's Child SA gone")
    check_clean(net, label)


def oe_case(net, case, windows):
    label, _, initiator, mode = case
    a, b = net.hosts
    pluto = peers.Pluto(b, name=f"pluto-{label}")
    d = Ipsecd(a, name=f"ipsecd-{label}", record=False)
    write_groups(d, {"private-or-clear": [WIRE]})
    try:
        pluto.start(timeout=60)
        pluto.load_oe({"private-or-clear": [WIRE]}, mode=mode)
        d.start(timeout=60)
        t0 = time.time()
        src, dst = (a, b) if initiator == "ipsecd" else (b, a)
        # pluto leaves xfrm_larval_drop at 1 in b: its first packet is dropped
        first = src.ping(dst.ip4, count=1, timeout=10.0 if initiator == "ipsecd" else 2.0)
        spis = child_up(d, label, mode)
        check_oe_up(label, d, pluto, initiator, first, net)
        both_ways(label, a, b)
        windows.append((label, t0, time.time(), spis))
        check_kernels(net, label, spis, mode)
        states = pluto.showstates()
        # at least one, ours among them.  pluto prints SPIs without leading
        # zeros ("esp.5c2ac62@…"): a zero-padded search failed whenever an
        # SPI began with a zero nibble
        has = (len(pluto_children(states)) >= 1 and pluto_has_spi(states, spis[0], a.ip4)
               and pluto_has_spi(states, spis[1], b.ip4))
        check(has, f"{label}: pluto's private-or-clear instance has the Child SA "
              f"{spis[0]:08x}/{spis[1]:08x}")
        if not has:
            print(f"--- pluto's states\n{states}", flush=True)
        oe_down(label, d, pluto, initiator, net)
    finally:
        if check.failures:
            print(f"--- ipsecd\n{d.tail(40)}\n--- pluto\n{peers._tail(pluto.log, 40)}",
                  flush=True)
        d.stop(grace=20)
        pluto.stop(grace=20)


# --- a static connection with certificates, with strongSwan ---------------------

def check_certs_up(label, d, charon, initiator, spis):
    ike = d.events("ike-up")
    role = "initiator" if initiator == "ipsecd" else "responder"
    check(len(ike) == 1 and ike[0].get("IPSECD_ROLE") == role
          and ike[0].get("IPSECD_LOCAL_AUTH") == "pubkey"
          and ike[0].get("IPSECD_REMOTE_AUTH") == "pubkey"
          and ike[0].get("IPSECD_AUTHENTICATED") == "yes"
          and ike[0].get("IPSECD_REMOTE_ID") == "@b-ec.test",
          f"{label}: certificates both ways, peer @b-ec.test authenticated, ipsecd "
          f"the {role}: {[e['message'] for e in ike]}")
    check(any("authentication of" in line and "ECDSA" in line and "successful" in line
              for line in charon.log_text().splitlines()),
          f"{label}: strongSwan verified ipsecd's ECDSA signature")
    theirs = charon.child_spis(label)
    check(theirs == {(spis[1], spis[0])},
          f"{label}: strongSwan's Child SA {theirs} is ours {spis[0]:08x}/{spis[1]:08x}")


def certs_down(label, d, charon, initiator, net):
    """The initiator's peer ends it: strongSwan deletes the IKE SA, or
    ipsecd's SIGTERM does."""
    mark = d.mark()
    if initiator == "ipsecd":
        charon.terminate(label, timeout=30)
        down = d.wait_event("ike-down", since=mark, timeout=30)
        check(down.get("IPSECD_CONNECTION") == label,
              f"{label}: strongSwan deleted, ipsecd logged ike-down: {down['message']}")
    else:
        check(d.stop(grace=20) == 0, f"{label}: ipsecd exits 0 on SIGTERM")
        netns.wait_for(lambda: charon.ike_state(label) is None, timeout=20,
                       interval=0.5, what="strongSwan's IKE SA gone")
    check_clean(net, label)


def certs_case(net, case, windows, certs, pki):
    label, _, initiator, mode = case
    a, b = net.hosts
    charon = peers.Charon(b, name=f"charon-{label}", debug=1)
    d = Ipsecd(a, name=f"ipsecd-{label}", record=False)
    try:
        charon.start(timeout=60)
        cert = charon.add_credentials(cert=pki.path("b-ec.test", "pem"),
                                      key=pki.path("b-ec.test", "key"),
                                      cas=[pki.path("Test EC CA", "pem")])
        charon.load(peers.Charon.cert_child_conn(
            label, b, a, cert, "@b-ec.test", certs.dn("a-ec.test"), mode=mode,
            esp=ESP[1], proposals=IKE[1]))
        certs.ipsecd_nss(d, pki, ["a-ec.test"], ["Test EC CA"])
        d.add(label, Ipsecd.psk_conn(
            a, b, auth="pubkey", ike=IKE[0], childless=False,
            auto="start" if initiator == "ipsecd" else "add",
            local_cert="a-ec.test", remote_ca="Test EC CA", remote_id="@b-ec.test",
            mode=mode, esp=ESP[0], retransmit_timeout="2s", retransmit_limit="5"))
        d.start(timeout=60)
        if initiator == "peer":
            threading.Thread(target=charon.initiate, daemon=True,
                             kwargs=dict(child=label, timeout=60, check=False)).start()
        spis = child_up(d, label, mode)
        check_certs_up(label, d, charon, initiator, spis)
        t0 = time.time()
        both_ways(label, a, b)
        windows.append((label, t0, time.time(), spis))
        check_kernels(net, label, spis, mode)
        certs_down(label, d, charon, initiator, net)
    finally:
        if check.failures:
            print(f"--- ipsecd\n{d.tail(40)}\n--- charon\n{peers._tail(charon.log, 40)}",
                  flush=True)
        d.stop(grace=20)
        charon.stop(grace=20)


# --- the wire, read once at the end -----------------------------------------------

def check_wire(cap, net, control, windows):
    a, b = net.hosts
    rows = [r for r in cap.fields("frame.time_epoch", "ip.src", "ip.dst", "esp.spi",
                                  "icmp.type") if {r[1], r[2]} == {a.ip4, b.ip4}]

    def within(t0, t1):
        return [r for r in rows if t0 <= float(r[0]) <= t1]
    echo = [r for r in within(*control) if r[4] in ECHO]
    check(len(echo) >= 4, f"control: {len(echo)} cleartext echo frames seen before any SA")
    for label, t0, t1, spis in windows:
        frames = within(t0, t1)
        echo = [r for r in frames if r[4] in ECHO]
        esp = [r for r in frames if r[3]]
        wire = {int(s, 16) for r in esp for s in r[3].split(",") if s}
        check(len(esp) >= 4 * PINGS and wire == set(spis) and not echo,
              f"{label}: wire: {len(esp)} ESP frames, SPIs {sorted(map(hex, wire))} "
              f"(want {sorted(map(hex, spis))}), {len(echo)} cleartext echo frames")


def inside():
    from netns import Network
    start = time.monotonic()
    certs = load_certs_helpers()
    windows = []
    with Network(hosts=2) as net:
        a, b = net.hosts
        pki = certs.Pki(os.path.join(net.tmpdir, "pki"))
        pki.ca("Test EC CA", "ec")
        for side, host in (("a", a), ("b", b)):
            pki.cert(f"{side}-ec.test", "ec", "Test EC CA", [], host.ip4)
        with net.capture("esp or icmp") as cap:
            t0 = time.time()
            both_ways("control", a, b)
            control = (t0, time.time())
            for case in CASES:
                if CASE_FILTER and case[0] not in CASE_FILTER:
                    continue
                started = time.monotonic()
                try:
                    if case[1] == "oe":
                        oe_case(net, case, windows)
                    else:
                        certs_case(net, case, windows, certs, pki)
                except (ipsecd.IpsecdError, peers.PeerError, TimeoutError) as e:
                    check(False, f"{case[0]}: unexpected: {e}")
                print(f"{case[0]}: {time.monotonic() - started:.1f} s", flush=True)
        check_wire(cap, net, control, windows)
    print(f"{'PASS' if not check.failures else 'FAIL'}: ipsecd with libreswan OE and "
          f"strongSwan certificates over ESP in kernel {os.uname().release} "
          f"({time.monotonic() - start:.1f} s inside)", flush=True)
    return check.status()


def main():
    if sys.argv[1:] == ["--inside"]:
        if not vm.in_vm():
            print("--inside runs only inside the VM (tests/vm/vm.py)", file=sys.stderr)
            return 2
        return inside()
    common.require_root()
    common.require_tools("ip", "ss", "dumpcap", "tshark", "openssl", "certutil", "pk12util")
    ipsecd.require_ipsecd()
    peers.require_strongswan()
    peers.require_libreswan()
    vm.require()
    vm.run_self(["--inside"], timeout=float(os.environ.get("IPSECD_VM_TIMEOUT", 500)))


if __name__ == "__main__":
    sys.exit(main())
