"""Helpers for ike-flood.py, run inside a namespace host:

    floodtool.py flood DST SRC_NET RATE SECONDS OUT.json
        forged IKE_SA_INIT requests to DST:500 from random addresses of
        SRC_NET (raw IPv4 socket: the sources are not ours, so no answer
        ever reaches this host's sockets), RATE per second for SECONDS;
        writes {"sent": n, "start": t0, "end": t1} (CLOCK_MONOTONIC).
    floodtool.py sniff IFACE LOCAL SRC_NET OUT.json
        counts the IKE_SA_INIT messages LOCAL (the responder) sends and
        receives on IFACE (AF_PACKET), until SIGTERM; writes a summary:
        answers to the forged sources by kind (full answer = state kept,
        cookie, other), and one record per IKE_SA_INIT exchange of any
        other peer (time, SPIi, whether it was asked for / echoed a cookie).

The requests carry AES-GCM-16-256, PRF-HMAC-SHA2-256 and Curve25519 (what
the responder is configured with), a random KE value and nonce: each one is
a fresh, acceptable handshake, so a responder that kept state for every one
would grow without bound.
"""
import ipaddress
import json
import os
import random
import signal
import socket
import struct
import sys
import time

IKE_PORT = 500
SA, KE, NONCE, NOTIFY = 33, 34, 40, 41
IKE_SA_INIT = 34
FLAG_INITIATOR, FLAG_RESPONSE = 0x08, 0x20
N_COOKIE = 16390
ETH_P_ALL = 0x0003


def transform(ttype, tid, last, attrs=b""):
    length = 8 + len(attrs)
    return struct.pack("!BBHBBH", 0 if last else 3, 0, length, ttype, 0,
                       tid) + attrs


def ike_sa_init(spi_i, ke_data, nonce):
    """An IKE_SA_INIT request: SA (one IKE proposal), KE, Nonce."""
    transforms = (transform(1, 20, False, struct.pack("!HH", 0x800E, 256))
                  + transform(2, 5, False) + transform(4, 31, True))
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0,
                           3) + transforms
    sa = struct.pack("!BBH", KE, 0, 4 + len(proposal)) + proposal
    ke = struct.pack("!BBHHH", NONCE, 0, 8 + len(ke_data), 31, 0) + ke_data
    nonce_p = struct.pack("!BBH", 0, 0, 4 + len(nonce)) + nonce
    body = sa + ke + nonce_p
    header = struct.pack("!QQBBBBII", spi_i, 0, SA, 0x20, IKE_SA_INIT,
                         FLAG_INITIATOR, 0, 28 + len(body))
    return header + body


def ipv4_udp(src, dst, payload):
    """IPv4 + UDP header around PAYLOAD; the kernel fills in the IP
    checksum and id (IP_HDRINCL), UDP checksum 0 means none (IPv4)."""
    udp = struct.pack("!HHHH", IKE_PORT, IKE_PORT, 8 + len(payload), 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0,
                     64, socket.IPPROTO_UDP, 0, src, dst)
    return ip + udp + payload


def flood(dst, src_net, rate, seconds, out):
    net = ipaddress.ip_network(src_net)
    hosts = int(net.num_addresses) - 2
    base = int(net.network_address) + 1
    dst_b = socket.inet_aton(dst)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rng = random.Random(os.getpid())
    sent = 0
    start = time.monotonic()
    deadline = start + seconds
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        due = int((now - start) * rate) - sent
        for _ in range(min(due, 200)):
            src = struct.pack("!I", base + rng.randrange(hosts))
            msg = ike_sa_init(rng.getrandbits(64) | 1, rng.randbytes(32),
                              rng.randbytes(32))
            try:
                sock.sendto(ipv4_udp(src, dst_b, msg), (dst, 0))
                sent += 1
            except (BlockingIOError, OSError):
                break
        time.sleep(0.002)
    with open(out, "w") as f:
        json.dump({"sent": sent, "start": start, "end": time.monotonic()}, f)


def first_notify(data, offset, next_payload):
    """The type of the first Notify of an IKE message, or None."""
    while next_payload and offset + 4 <= len(data):
        nxt, _, length = struct.unpack_from("!BBH", data, offset)
        if length < 4:
            return None
        if next_payload == NOTIFY and offset + 8 <= len(data):
            return struct.unpack_from("!H", data, offset + 6)[0]
        next_payload, offset = nxt, offset + length
    return None


class Sniffer:
    def __init__(self, iface, local, src_net):
        self.local = socket.inet_aton(local)
        self.net = ipaddress.ip_network(src_net)
        self.forged = {"full": 0, "cookie": 0, "other": 0, "requests": 0}
        self.exchanges = []     # other peers: dicts, one per message
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((iface, 0))
        self.sock.settimeout(0.2)

    def packet(self, frame, now):
        if len(frame) < 14 + 20 + 8 + 28 or frame[12:14] != b"\x08\x00":
            return
        ihl = (frame[14] & 0x0F) * 4
        if frame[14 + 9] != socket.IPPROTO_UDP:
            return
        src, dst = frame[26:30], frame[30:34]
        udp = 14 + ihl
        sport, dport = struct.unpack_from("!HH", frame, udp)
        if IKE_PORT not in (sport, dport):
            return
        ike = frame[udp + 8:]
        if len(ike) < 28:
            return
        spi_i, _, nxt, _, exch, flags = struct.unpack_from("!QQBBBB", ike)
        if exch != IKE_SA_INIT:
            return
        response = bool(flags & FLAG_RESPONSE)
        peer = dst if src == self.local else src
        notify = first_notify(ike, 28, nxt)
        if ipaddress.ip_address(peer) in self.net:
            if not response:
                self.forged["requests"] += 1
            elif nxt == SA:
                self.forged["full"] += 1
            elif notify == N_COOKIE:
                self.forged["cookie"] += 1
            else:
                self.forged["other"] += 1
            return
        self.exchanges.append({
            "t": now, "peer": socket.inet_ntoa(peer), "spi": f"{spi_i:016x}",
            "response": response, "full": nxt == SA,
            "cookie": notify == N_COOKIE})

    def run(self, out):
        stop = []
        signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
        while not stop:
            try:
                frame = self.sock.recv(65536)
            except (socket.timeout, InterruptedError):
                continue
            self.packet(frame, time.monotonic())
        with open(out + ".tmp", "w") as f:
            json.dump({"forged": self.forged, "exchanges": self.exchanges}, f)
        os.rename(out + ".tmp", out)


def main(argv):
    if argv[:1] == ["flood"] and len(argv) == 6:
        flood(argv[1], argv[2], float(argv[3]), float(argv[4]), argv[5])
    elif argv[:1] == ["sniff"] and len(argv) == 5:
        Sniffer(argv[1], argv[2], argv[3]).run(argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
