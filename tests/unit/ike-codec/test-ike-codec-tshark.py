#!/usr/bin/python3
"""tshark judges what our builder makes.

ike-codec-emit writes every sample message (IKE_SA_INIT requests and
responses with NAT-D, fragmentation, signature hash, cookie, INVALID_KE,
redirect; IKE_AUTH with SK and SKF; CREATE_CHILD_SA; INFORMATIONAL) and every
inner chain wrapped in a test-only cleartext message, with a manifest of the
payload types each one carries.  Here they become UDP 500 datagrams from
192.0.2.1 to 192.0.2.2 in a pcap; tshark decodes them; the test fails on any
malformed packet, any expert info of warning or error severity, or a field
(payload types, proposals, transforms, notify types, selectors, attribute
types, ...) whose values tshark reads differently from what we built.

Usage: test-ike-codec-tshark.py PATH-TO-ike-codec-emit
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from common import skip

SRC = bytes([192, 0, 2, 1])
DST = bytes([192, 0, 2, 2])
IKE_PORT = 500
SEVERITY_WARN = 0x00600000  # epan/proto.h PI_WARN; PI_ERROR is above it
# Every IKEv2 payload type: SA KE IDi IDr CERT CERTREQ AUTH No N D V TSi TSr SK CP EAP SKF
ALL_PAYLOADS = set(range(33, 49)) | {53}


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(payload):
    """Ethernet, IPv4 and UDP around payload, every checksum valid."""
    udp_len = 8 + len(payload)
    pseudo = SRC + DST + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", IKE_PORT, IKE_PORT, udp_len, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 1, 0, 64, 17, 0, SRC, DST)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path, payloads):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, payload in enumerate(payloads):
            data = frame(payload)
            out.write(struct.pack("<IIII", 1700000000 + i, 0, len(data), len(data)))
            out.write(data)


def tshark(*args, config):
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=config)
    result = subprocess.run(["tshark", *args], env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        sys.exit(1)
    return result.stdout


def ints(field):
    return [int(v, 0) for v in field.split(",") if v]


def read_manifest(path):
    """[(file, {field: [values]})] in file order."""
    manifest = []
    with open(path) as f:
        for line in f:
            name, *pairs = line.split()
            expect = {}
            for pair in pairs:
                field, _, values = pair.partition("=")
                expect[field] = ints(values)
            manifest.append((name, expect))
    return manifest


def check_frames(pcap, manifest, config):
    names = list(manifest[0][1])
    columns = ["_ws.expert.severity", "_ws.expert.message", "_ws.malformed"] + names
    args = ["-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"]
    for column in columns:
        args += ["-e", column]
    rows = [line.split("\t") for line in tshark(*args, config=config).splitlines()]
    failures = []
    if len(rows) != len(manifest):
        failures.append(f"tshark saw {len(rows)} frames, we wrote {len(manifest)}")
    for (name, expect), row in zip(manifest, rows):
        row += [""] * (len(columns) - len(row))
        if any(s >= SEVERITY_WARN for s in ints(row[0])):
            failures.append(f"{name}: expert info: {row[1]}")
        if row[2]:
            failures.append(f"{name}: malformed")
        for field, seen in zip(names, row[3:]):
            if field == "isakmp.extradata":
                seen = [1] if seen else []
            else:
                seen = ints(seen)
            if seen != expect[field]:
                failures.append(f"{name}: tshark's {field} is {seen}, we built {expect[field]}")
    return failures


def check_text(pcap, config):
    """The human view too: no 'Malformed' and no dissector bug anywhere."""
    text = tshark("-r", pcap, "-V", config=config)
    bad = [line.strip() for line in text.splitlines()
           if "Malformed" in line or "Dissector bug" in line]
    return [f"tshark -V: {line}" for line in bad]


def main():
    if shutil.which("tshark") is None:
        skip("tshark is not installed (scripts/setup-deps installs it)")
    emitter = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        samples = os.path.join(work, "samples")
        config = os.path.join(work, "wireshark")
        os.mkdir(samples)
        os.mkdir(config)
        subprocess.run([emitter, "pcap", samples], check=True)
        manifest = read_manifest(os.path.join(samples, "manifest.txt"))
        payloads = []
        for name, _ in manifest:
            with open(os.path.join(samples, name), "rb") as msg:
                payloads.append(msg.read())
        pcap = os.path.join(work, "ike.pcap")
        write_pcap(pcap, payloads)
        failures = check_frames(pcap, manifest, config) + check_text(pcap, config)
        missing = ALL_PAYLOADS - {t for _, e in manifest for t in e["isakmp.typepayload"]}
        if missing:
            failures.append(f"no sample carries payload types {sorted(missing)}")
    for failure in failures:
        print(f"FAIL: {failure}")
    if failures:
        return 1
    print(f"tshark decoded {len(manifest)} messages cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
