#!/usr/bin/python3
"""vm suite smoke test: hand-keyed ESP really encrypts in the VM's kernel.

On the host it boots the VM (tests/vm/vm.py) and re-runs itself inside with
--inside.  Inside, two network namespaces joined by a veth pair carry three
hand-keyed ESP pairs (ip xfrm state/policy), one per AEAD or cipher family
the initramfs loads:

  IPv4 192.0.2.1 <-> 192.0.2.2        transport  rfc4106(gcm(aes)), 128-bit ICV
  IPv6 2001:db8::1 <-> 2001:db8::2    tunnel     rfc7539esp(chacha20,poly1305)
  IPv4 198.51.100.1 <-> 198.51.100.2  tunnel     cbc(aes) + hmac(sha256)

For each it pings (ICMP echo from a raw socket in one namespace) and
asserts: every echo is answered; all four SAs of the pair (out and in, at
both ends) counted at least that many packets in `ip -s xfrm state`; the
wire carried ESP with exactly the pair's SPIs and no cleartext echo (packet
sockets on both ends of the veth, each keeping what its device sends).  A
control pair with no policy (203.0.113.1/2) must show cleartext echo to the
same sockets, so the wire check can fail; /proc/net/xfrm_stat must show no
errors.

Skips (77) when not root or when the VM cannot run (no kernel cache, qemu).
"""
import ctypes
import os
import re
import select
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vm  # noqa: E402
import common  # noqa: E402

NS_A, NS_B = "esp-a", "esp-b"
DEV_A, DEV_B = "va", "vb"
PINGS = 3
CLONE_NEWNET = 0x40000000


class Fail(Exception):
    pass


def run(*cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise Fail(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}"
                   + (f"\n{stdin}" if stdin else ""))
    return p.stdout


def ip(ns, *args):
    return run("ip", "-n", ns, *args)


def ip_batch(ns, lines):
    """Many ip commands in NS from one process (each process start is slow here)."""
    run("ip", "-n", ns, "-batch", "-", stdin="".join(" ".join(words) + "\n" for words in lines))


class InNetns:
    """Switch this thread into a named network namespace for a while."""
    libc = ctypes.CDLL(None, use_errno=True)

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.back = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if self.libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {self.name}")
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        if self.libc.setns(self.back, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(self.back)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(ns, src, dst, count=PINGS, timeout=3.0):
    """ICMP echo from SRC to DST inside NS; returns how many were answered."""
    v6 = ":" in dst
    with InNetns(ns):
        if v6:
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    with s:
        s.bind((src, 0))
        ident = os.getpid() & 0xFFFF
        answered = set()
        for seq in range(1, count + 1):
            payload = b"ipsecd-vm-smoke-%d" % seq
            kind = 128 if v6 else 8
            head = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
            if not v6:      # the kernel fills in the ICMPv6 checksum
                head = struct.pack("!BBHHH", kind, 0, checksum(head + payload), ident, seq)
            s.sendto(head + payload, (dst, 0))
            deadline = time.monotonic() + timeout
            while seq not in answered:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([s], [], [], left)[0]:
                    break
                data, addr = s.recvfrom(4096)
                if not v6:
                    data = data[(data[0] & 0x0F) * 4:]
                if len(data) < 8 or addr[0] != dst:
                    continue
                rkind, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
                if rkind == (129 if v6 else 0) and rid == ident:
                    answered.add(rseq)
    return len(answered)


class Wire:
    """What the devices at both ends of the veth put on the wire.

    A packet socket per end keeps only the frames its device sends
    (PACKET_OUTGOING): the receiving side also shows the packets that
    tunnel mode decapsulated and fed back in, which never crossed the wire.
    """

    def __init__(self, ends):
        self.socks = []
        for ns, dev in ends:
            with InNetns(ns):
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
                s.bind((dev, 0))
            s.setblocking(False)
            self.socks.append(s)

    def drain(self):
        """[(family, src, dst, proto, detail)] of the IP packets sent since last time."""
        seen = []
        for s in self.socks:
            while True:
                try:
                    frame, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    packet = self.parse(frame)
                    if packet:
                        seen.append(packet)
        return seen

    @staticmethod
    def parse(frame):
        ethertype = struct.unpack("!H", frame[12:14])[0]
        pkt = frame[14:]
        if ethertype == 0x0800 and len(pkt) >= 20:
            hl = (pkt[0] & 0x0F) * 4
            proto, src, dst, body = pkt[9], pkt[12:16], pkt[16:20], pkt[hl:]
            fam = socket.AF_INET
        elif ethertype == 0x86DD and len(pkt) >= 40:
            proto, src, dst, body = pkt[6], pkt[8:24], pkt[24:40], pkt[40:]
            fam = socket.AF_INET6
        else:
            return None
        detail = None
        if proto == 50 and len(body) >= 4:              # ESP: the SPI
            detail = struct.unpack("!I", body[:4])[0]
        elif proto in (1, 58) and body:                 # ICMP: the type
            detail = body[0]
        return fam, socket.inet_ntop(fam, src), socket.inet_ntop(fam, dst), proto, detail

    def close(self):
        for s in self.socks:
            s.close()


def sa_counters(ns):
    """{spi: (bytes, packets, integrity failures)} from `ip -s xfrm state`."""
    out = ip(ns, "-s", "xfrm", "state")
    result = {}
    for block in re.split(r"^(?=src )", out, flags=re.M):
        m = re.search(r"proto esp spi 0x([0-9a-f]+)", block)
        if not m:
            continue
        c = re.search(r"lifetime current:\s*\n\s*(\d+)\(bytes\), (\d+)\(packets\)", block)
        f = re.search(r"replay \d+ failed (\d+)", block)
        if not c:
            raise Fail(f"no counters for spi 0x{m.group(1)} in:\n{block}")
        result[int(m.group(1), 16)] = (int(c.group(1)), int(c.group(2)),
                                       int(f.group(1)) if f else 0)
    return result


MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


def setup():
    for ns in (NS_A, NS_B):
        run("ip", "netns", "add", ns)
    run("ip", "link", "add", DEV_A, "address", MAC_A, "netns", NS_A, "type", "veth",
        "peer", "name", DEV_B, "address", MAC_B, "netns", NS_B)
    for ns, dev, last, peer_mac in ((NS_A, DEV_A, 1, MAC_B), (NS_B, DEV_B, 2, MAC_A)):
        lines = [["link", "set", "lo", "up"]]
        for net in ("192.0.2", "198.51.100", "203.0.113"):
            lines.append(["addr", "add", f"{net}.{last}/24", "dev", dev])
        lines.append(["addr", "add", f"2001:db8::{last}/64", "dev", dev, "nodad"])
        lines.append(["link", "set", dev, "up"])
        # A static neighbour: IPv6 neighbour discovery between the two
        # hosts would otherwise be caught by the ESP policy of the IPv6 pair.
        lines.append(["neigh", "replace", f"2001:db8::{3 - last}", "lladdr", peer_mac,
                      "dev", dev, "nud", "permanent"])
        ip_batch(ns, lines)


def hexkey(nbytes):
    return "0x" + os.urandom(nbytes).hex()


PAIRS = [
    # name, address A, address B, mode, prefix, reqid, algorithm arguments
    ("ipv4 transport rfc4106(gcm(aes))", "192.0.2.1", "192.0.2.2", "transport", 32, 1,
     lambda: ["aead", "rfc4106(gcm(aes))", hexkey(20), "128"]),
    ("ipv6 tunnel rfc7539esp(chacha20,poly1305)", "2001:db8::1", "2001:db8::2", "tunnel",
     128, 2, lambda: ["aead", "rfc7539esp(chacha20,poly1305)", hexkey(36), "128"]),
    ("ipv4 tunnel cbc(aes)+hmac(sha256)", "198.51.100.1", "198.51.100.2", "tunnel", 32, 3,
     lambda: ["enc", "cbc(aes)", hexkey(16), "auth-trunc", "hmac(sha256)", hexkey(32), "128"]),
]


def key_pair(index, a, b, mode, prefix, reqid, algo):
    """Install the SAs and policies of one pair at both ends; return the SPIs."""
    spi_ab, spi_ba = 0x1000 + 2 * index, 0x1001 + 2 * index
    alg_ab, alg_ba = algo(), algo()
    for ns, here, there in ((NS_A, a, b), (NS_B, b, a)):
        lines = []
        for src, dst, spi, alg in ((a, b, spi_ab, alg_ab), (b, a, spi_ba, alg_ba)):
            lines.append(["xfrm", "state", "add", "src", src, "dst", dst, "proto", "esp",
                          "spi", hex(spi), "reqid", str(reqid), "mode", mode, *alg])
        for direction, src, dst in (("out", here, there), ("in", there, here)):
            lines.append(["xfrm", "policy", "add", "src", f"{src}/{prefix}",
                          "dst", f"{dst}/{prefix}", "dir", direction, "tmpl", "src", src,
                          "dst", dst, "proto", "esp", "reqid", str(reqid), "mode", mode])
        ip_batch(ns, lines)
    return spi_ab, spi_ba


def xfrm_errors():
    errors = {}
    with open("/proc/net/xfrm_stat") as f:
        for line in f:
            name, value = line.split()
            if int(value):
                errors[name] = int(value)
    return errors


def inside():
    setup()
    wire = Wire([(NS_A, DEV_A), (NS_B, DEV_B)])
    failures = []
    spis = [key_pair(i, a, b, mode, prefix, reqid, algo)
            for i, (_, a, b, mode, prefix, reqid, algo) in enumerate(PAIRS)]

    for (name, a, b, *_), (spi_ab, spi_ba) in zip(PAIRS, spis):
        wire.drain()
        got = ping(NS_A, a, b)
        seen = [p for p in wire.drain() if {p[1], p[2]} == {a, b}]
        esp = [p for p in seen if p[3] == 50]
        plain = [p for p in seen if p[3] in (1, 58) and p[4] in (0, 8, 128, 129)]
        esp_spis = {p[4] for p in esp}
        problems = []
        if got != PINGS:
            problems.append(f"{got}/{PINGS} echo replies")
        if plain:
            problems.append(f"{len(plain)} cleartext echo packets on the wire")
        if esp_spis != {spi_ab, spi_ba}:
            problems.append(f"ESP SPIs on the wire {sorted(map(hex, esp_spis))}, "
                            f"expected {hex(spi_ab)} and {hex(spi_ba)}")
        if len(esp) < 2 * PINGS:
            problems.append(f"only {len(esp)} ESP packets on the wire")
        counts = []
        for ns in (NS_A, NS_B):
            sas = sa_counters(ns)
            for spi in (spi_ab, spi_ba):
                nbytes, packets, failed = sas.get(spi, (0, 0, 0))
                counts.append(packets)
                if packets < PINGS or failed:
                    problems.append(f"{ns} SA {hex(spi)}: {packets} packets, "
                                    f"{failed} integrity failures")
        if problems:
            failures.append(f"{name}: " + "; ".join(problems))
            print(f"FAIL: {name}: " + "; ".join(problems), flush=True)
        else:
            print(f"ok: {name}: {got}/{PINGS} echo replies; SA packet counters "
                  f"{'/'.join(map(str, counts))} (a out, a in, b in, b out); wire: "
                  f"{len(esp)} ESP packets with SPIs {hex(spi_ab)}/{hex(spi_ba)}, "
                  f"no cleartext echo", flush=True)

    # Control: the same wire check must see cleartext where no policy applies.
    wire.drain()
    got = ping(NS_A, "203.0.113.1", "203.0.113.2")
    seen = [p for p in wire.drain() if {p[1], p[2]} == {"203.0.113.1", "203.0.113.2"}]
    plain = [p for p in seen if p[3] == 1 and p[4] in (0, 8)]
    if got != PINGS or len(plain) < 2 * PINGS or any(p[3] == 50 for p in seen):
        failures.append(f"control: {got}/{PINGS} replies, {len(plain)} cleartext echo packets")
        print(f"FAIL: control pair without policy: {got}/{PINGS} replies, "
              f"{len(plain)} cleartext echo packets seen", flush=True)
    else:
        print(f"ok: control pair without policy: {len(plain)} cleartext echo packets seen "
              f"(the wire check detects plaintext)", flush=True)
    wire.close()

    errors = xfrm_errors()
    if errors:
        failures.append(f"/proc/net/xfrm_stat: {errors}")
        print(f"FAIL: /proc/net/xfrm_stat: {errors}", flush=True)
    else:
        print("ok: /proc/net/xfrm_stat shows no errors", flush=True)

    if failures:
        print("\n".join(["--- ip xfrm state (esp-a) ---", ip(NS_A, "-s", "xfrm", "state"),
                         "--- ip xfrm policy (esp-a) ---", ip(NS_A, "xfrm", "policy")]),
              flush=True)
        return 1
    print(f"PASS: ESP in kernel {os.uname().release}: "
          f"{len(PAIRS)} hand-keyed pairs encrypted and counted", flush=True)
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
    vm.require()
    vm.run_self(["--inside"], timeout=float(os.environ.get("IPSECD_VM_TIMEOUT", 240)))


if __name__ == "__main__":
    sys.exit(main())
