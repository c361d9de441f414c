#!/usr/bin/python3
"""Regenerate the golden packets in tests/data/golden/ (a maintainer tool).

    sudo env PYTHONPATH=tests/lib /usr/bin/python3 \\
        tests/interop/capture-golden.py [--out DIR] [--list] [SCENARIO ...]

Not a test: run it by hand, as root, when the golden data should change
(new peer versions, a new scenario), then review and commit the result.  It
needs what the interop suite needs (scripts/setup-deps): strongSwan's
charon-systemd and swanctl with the openssl, gcm, chapoly and curve25519
plugins, libreswan unpacked in .cache/libreswan, dumpcap and tshark, and
python3-cryptography.

Each scenario runs in fresh network namespaces (tests/lib/netns.py): host a
initiates a childless IKE SA with a pre-shared key to host b, then, as the
scenario says, waits for a liveness check (an empty INFORMATIONAL), rekeys
the IKE SA (CREATE_CHILD_SA) and deletes it (INFORMATIONAL with Delete).
dumpcap records the wire.  Every strongSwan in a scenario logs the keys it
derives (filelog level 4 of the ike subsystem, into the temporary folder):
"shared Diffie Hellman secret", "SKEYSEED", "Sk_d secret", ... as hex dumps.

From the capture and the log this writes into DIR (default
tests/data/golden):

  <scenario>-<nn>-<exchange>-<request|response>-<sender>.bin
      one IKE message each, the UDP payload without a non-ESP marker, nn
      counting from 01 in the order of the wire; retransmissions and all
      but the first liveness check are left out
  <scenario>.json
      the peers (software, version, address), the PSK (a fresh random test
      key), per IKE SA its SPIs, the negotiated algorithms as IANA numbers
      (read from the SA payload of the IKE_SA_INIT or CREATE_CHILD_SA
      response), Ni, Nr, g^ir and the logged SKEYSEED and SK_* keys (hex; an
      AEAD cipher has empty SK_ai/SK_ar), and which IKE SA a rekeyed one
      replaced; per message its file, sender, IKE SA and the payload types
      inside its SK payload.

Before writing, every SK payload is decrypted with python3-cryptography and
the logged keys (an independent implementation, so the keys and the
messages are known to belong together), and the nonces in the messages are
checked against the logged IKE SA.  Files of a scenario from an earlier run
are deleted first.  tests/unit/ike-golden checks the data against our codec
and crypto suite.
"""
import argparse
import dataclasses
import glob
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import time

import common
import peers
from netns import Network, wait_for
from peers import AEAD_IKE_PROPOSAL, SECRET_LOG_LEVELS, Charon, Pluto

EXCHANGES = {34: "ike_sa_init", 35: "ike_auth", 36: "create_child_sa",
             37: "informational"}
PAYLOAD_NAMES = {33: "SA", 34: "KE", 35: "IDi", 36: "IDr", 37: "CERT",
                 38: "CERTREQ", 39: "AUTH", 40: "No", 41: "N", 42: "D",
                 43: "V", 44: "TSi", 45: "TSr", 46: "SK", 47: "CP", 48: "EAP",
                 53: "SKF"}
FLAG_INITIATOR, FLAG_RESPONSE = 0x08, 0x20
PAYLOAD_SA, PAYLOAD_NONCE, PAYLOAD_SK, PAYLOAD_SKF = 33, 40, 46, 53
ENCR_AES_CBC, ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305 = 12, 20, 28
INTEG_ICV_LEN = {12: 16, 13: 24, 14: 32}  # HMAC-SHA2-256-128, -384-192, ...
INTEG_HASH = {12: hashlib.sha256, 13: hashlib.sha384, 14: hashlib.sha512}
KEY_LABELS = {"shared Diffie Hellman secret": "g_ir", "SKEYSEED": "skeyseed",
              "Sk_d secret": "sk_d", "Sk_ai secret": "sk_ai",
              "Sk_ar secret": "sk_ar", "Sk_ei secret": "sk_ei",
              "Sk_er secret": "sk_er", "Sk_pi secret": "sk_pi",
              "Sk_pr secret": "sk_pr"}


@dataclasses.dataclass
class Scenario:
    name: str
    summary: str
    initiator: str               # "strongswan" or "libreswan" (host a)
    responder: str               # host b
    proposal: tuple              # (swanctl, ipsec.conf) syntax
    steps: tuple = ("rekey", "delete")


SCENARIOS = [
    Scenario("sw-ls-gcm", "strongSwan to libreswan, AES-GCM-16-256, "
             "PRF-HMAC-SHA2-256, X25519; IKE rekey; delete",
             "strongswan", "libreswan",
             AEAD_IKE_PROPOSAL),
    Scenario("sw-ls-cbc", "strongSwan to libreswan, AES-CBC-256, "
             "HMAC-SHA2-256-128, PRF-HMAC-SHA2-256, MODP-3072; IKE rekey; "
             "delete", "strongswan", "libreswan",
             ("aes256-sha256-modp3072", "aes256-sha2_256;modp3072")),
    Scenario("ls-sw-gcm", "libreswan to strongSwan, AES-GCM-16-256, "
             "PRF-HMAC-SHA2-256, X25519; IKE rekey; delete",
             "libreswan", "strongswan",
             AEAD_IKE_PROPOSAL),
    Scenario("sw-sw-chacha", "strongSwan to strongSwan, ChaCha20-Poly1305, "
             "PRF-HMAC-SHA2-512, ECP-256; liveness check; IKE rekey; delete",
             "strongswan", "strongswan",
             ("chacha20poly1305-prfsha512-ecp256", None),
             ("liveness", "rekey", "delete")),
    Scenario("sw-sw-cbc", "strongSwan to strongSwan, AES-CBC-128, "
             "HMAC-SHA2-384-192, PRF-HMAC-SHA2-384, ECP-521; IKE rekey; "
             "delete",
             "strongswan", "strongswan",
             ("aes128-sha384-prfsha384-ecp521", None)),
]

CONN = "golden"          # connection name on both sides
DPD_DELAY = 3            # seconds; the liveness step waits for one check


class CaptureError(RuntimeError):
    pass


# --- running the peers ----------------------------------------------------

def start_peer(kind, host):
    if kind == "strongswan":
        return Charon(host, levels=SECRET_LOG_LEVELS).start()
    return Pluto(host).start()


def load_peer(peer, kind, local, remote, scenario, psk, initiator):
    swanctl, ipsec_conf = scenario.proposal
    if kind == "strongswan":
        extra = ""
        if initiator and "liveness" in scenario.steps:
            extra = f"\t\tdpd_delay = {DPD_DELAY}s"
        # libreswan 4.10 cannot initiate childless; refuse its Child SA
        childless = "allow" if scenario.initiator == "libreswan" else True
        peer.load(Charon.psk_conn(CONN, local, remote, psk, proposals=swanctl,
                                  childless=childless, extra=extra), name=CONN)
    else:
        peer.load(Pluto.psk_conn(CONN, local, remote, ike=ipsec_conf),
                  Pluto.psk_secret(local, remote, psk))


def ike_up(peer, kind):
    if kind == "strongswan":
        return any(sa.get("state") == "ESTABLISHED"
                   for sa in peer.ike_sas(CONN))
    return peer.ike_established(CONN)


def ike_count(peer, kind):
    if kind == "strongswan":
        return len(peer.ike_sas(CONN))
    return sum(1 for _, _, state in peer.states(CONN)
               if state.startswith("V2_") and "CHILD" not in state)


def initiate(peer, kind):
    if kind == "strongswan":
        peer.initiate(ike=CONN, timeout=15)
    else:
        peer.initiate(CONN, timeout=15)


def wait_liveness(peer, timeout=DPD_DELAY * 4):
    """Wait until charon has had an answer to one DPD (liveness check)."""
    wait_for(lambda: "sending DPD request" in peer.log_text()
             and re.search(r"parsed INFORMATIONAL response \d+ \[ \]",
                           peer.log_text()),
             timeout=timeout, what="a liveness check and its answer")


def rekey(peer, kind, other, other_kind):
    if kind == "strongswan":
        peer.rekey(CONN, timeout=15)
    else:
        peer.whack("--name", CONN, "--rekey-ike", timeout=20)
    # the old IKE SA is deleted on both sides once the new one is up
    wait_for(lambda: ike_count(other, other_kind) == 1
             and ike_count(peer, kind) == 1 and ike_up(other, other_kind),
             timeout=15, what="the rekeyed IKE SA alone on both sides")


def delete(peer, kind, other, other_kind):
    if kind == "strongswan":
        peer.terminate(CONN)
    else:
        peer.whack("--name", CONN, "--terminate", timeout=20)
    wait_for(lambda: ike_count(other, other_kind) == 0
             and ike_count(peer, kind) == 0,
             timeout=15, what="no IKE SA left on either side")


def require_cryptography():
    try:
        import cryptography  # noqa: F401
    except ImportError:
        common.skip("python3-cryptography is not installed")


def versions():
    charon = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                             "charon-systemd"], capture_output=True, text=True)
    with open(common.cache_dir("libreswan/version")) as f:
        libreswan = f.read().strip().partition("=")[2]
    return {"strongswan": f"strongSwan {charon.stdout.strip()} (Debian)",
            "libreswan": f"libreswan {libreswan} (Debian)"}


def run_scenario(scenario, psk):
    """Run SCENARIO; returns (UDP datagrams, {host: charon log text},
    {host: address})."""
    kinds = {"a": scenario.initiator, "b": scenario.responder}
    with Network(hosts=2) as net:
        a, b = net.host("a"), net.host("b")
        daemons = {name: start_peer(kinds[name], net.host(name))
                   for name in ("a", "b")}
        load_peer(daemons["b"], kinds["b"], b, a, scenario, psk, False)
        load_peer(daemons["a"], kinds["a"], a, b, scenario, psk, True)
        initiator = (daemons["a"], kinds["a"])
        responder = (daemons["b"], kinds["b"])
        try:
            with net.capture("udp port 500 or udp port 4500") as cap:
                initiate(*initiator)
                for step in scenario.steps:
                    if step == "liveness":
                        wait_liveness(daemons["a"])
                    elif step == "rekey":
                        rekey(*initiator, *responder)
                    elif step == "delete":
                        delete(*initiator, *responder)
            rows = cap.fields("ip.src", "udp.srcport", "udp.dstport",
                              "udp.payload", display_filter="udp")
        except Exception:
            for name, daemon in daemons.items():
                print(f"--- {name}: {daemon.log} (tail)", file=sys.stderr)
                print(tail(daemon.log), file=sys.stderr)
            raise
        logs = {name: daemon.log_text() for name, daemon in daemons.items()
                if kinds[name] == "strongswan"}
        addresses = {"a": a.ip4, "b": b.ip4}
    by_address = {addresses[h]: h for h in addresses}
    datagrams = []
    for src, sport, dport, payload in rows:
        data = bytes.fromhex(payload.replace(":", ""))
        if "4500" in (sport, dport):
            if data[:4] != b"\0\0\0\0":
                continue  # ESP or a keepalive
            data = data[4:]
        datagrams.append((by_address[src], data))
    return datagrams, logs, addresses


def tail(path, lines=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


# --- charon's key log -------------------------------------------------------

# "12:00:00.123 09[IKE] <golden|1> SKEYSEED => 32 bytes @ 0x7f0c..." and
# then "...[IKE] <golden|1>    0: 01 02 ...  ...." lines of 16 bytes.
_DUMP_HEAD = re.compile(r"\[IKE\] (?:<[^>]*> )?(.+?) => (\d+) bytes @ ")
_DUMP_LINE = re.compile(r"\[IKE\] (?:<[^>]*> )?\s*(\d+): ((?:[0-9A-F]{2} ?)+)")


def hex_dumps(log):
    """[(label, bytes)] of charon's %B dumps in the ike subsystem, in order."""
    dumps = []
    current = None
    for line in log.splitlines():
        head = _DUMP_HEAD.search(line)
        if head:
            current = [head.group(1), int(head.group(2)), bytearray()]
            dumps.append(current)
            continue
        row = _DUMP_LINE.search(line)
        if row and current is not None and int(row.group(1)) == \
                len(current[2]):
            current[2] += bytes.fromhex(row.group(2)[:48].replace(" ", ""))
            continue
        current = None
    for label, length, data in dumps:
        if len(data) != length:
            raise CaptureError(f"{label}: logged {length} bytes, read "
                               f"{len(data)}")
    return [(label, bytes(data)) for label, _, data in dumps]


def key_sets(log):
    """One dict per key derivation charon logged: g_ir, skeyseed, sk_*."""
    sets = []
    for label, data in hex_dumps(log):
        key = KEY_LABELS.get(label)
        if key is None:
            continue
        if key == "g_ir":
            sets.append({})
        elif not sets or key in sets[-1]:
            raise CaptureError(f"unexpected {label} in the log")
        sets[-1][key] = data
    for keys in sets:
        keys.setdefault("sk_ai", b"")
        keys.setdefault("sk_ar", b"")
    return sets


# --- IKE messages ---------------------------------------------------------

@dataclasses.dataclass
class Message:
    sender: str          # host
    data: bytes
    spi_i: bytes
    spi_r: bytes
    exchange: int
    flags: int
    message_id: int
    payloads: list       # [(type, body)] in the clear
    sk_offset: int = -1  # where the SK or SKF payload's generic header starts
    sk_first: int = 0    # its Next Payload: the first inner payload's type
    fragment: tuple = None  # SKF: (Fragment Number, Total Fragments)
    inner: list = None   # [(type, body)] once decrypted (all fragments)
    sa: int = -1         # index of its IKE SA

    @property
    def response(self):
        return bool(self.flags & FLAG_RESPONSE)

    @property
    def from_initiator(self):
        return bool(self.flags & FLAG_INITIATOR)

    @property
    def encrypted(self):
        return self.sk_offset >= 0

    @property
    def aad_len(self):
        """Header through the SK header (SKF: and the fragment numbers)."""
        return self.sk_offset + (8 if self.fragment else 4)

    @property
    def key(self):
        """The same for every fragment of one message."""
        return (self.spi_i, self.spi_r, self.message_id, self.response)


def walk(data, first, offset=0):
    """[(type, body, offset)] of a payload chain starting at OFFSET; an SK
    or SKF payload ends it."""
    chain = []
    kind = first
    while kind != 0:
        if offset + 4 > len(data):
            raise CaptureError("payload chain runs past the end")
        nxt, length = data[offset], int.from_bytes(data[offset + 2:offset + 4],
                                                   "big")
        if length < 4 or offset + length > len(data):
            raise CaptureError(f"bad payload length {length}")
        chain.append((kind, data[offset + 4:offset + length], offset))
        if kind in (PAYLOAD_SK, PAYLOAD_SKF):
            break
        kind, offset = nxt, offset + length
    return chain


def parse_message(sender, data):
    if len(data) < 28 or data[17] != 0x20:
        raise CaptureError(f"not an IKEv2 message: {data[:28].hex()}")
    msg = Message(sender, data, data[0:8], data[8:16], data[18], data[19],
                  int.from_bytes(data[20:24], "big"), [])
    for kind, body, offset in walk(data, data[16], 28):
        msg.payloads.append((kind, body))
        if kind in (PAYLOAD_SK, PAYLOAD_SKF):
            msg.sk_offset = offset
            msg.sk_first = data[offset]
        if kind == PAYLOAD_SKF:
            msg.fragment = (int.from_bytes(body[0:2], "big"),
                            int.from_bytes(body[2:4], "big"))
    return msg


def parse_sa_payload(body):
    """The first proposal of an SA payload: (protocol, SPI, {transform
    type: (transform ID, key bits)})."""
    protocol, spi_size, count = body[5], body[6], body[7]
    spi = body[8:8 + spi_size]
    offset = 8 + spi_size
    transforms = {}
    for _ in range(count):
        length = int.from_bytes(body[offset + 2:offset + 4], "big")
        ttype = body[offset + 4]
        tid = int.from_bytes(body[offset + 6:offset + 8], "big")
        bits = 0
        attrs = body[offset + 8:offset + length]
        if attrs[:2] == b"\x80\x0e":  # Key Length, TV format
            bits = int.from_bytes(attrs[2:4], "big")
        transforms.setdefault(ttype, (tid, bits))
        offset += length
    return protocol, spi, transforms


def algorithms(sa_body):
    _, _, t = parse_sa_payload(sa_body)
    return {"encr": t[1][0], "encr_key_bits": t[1][1],
            "integ": t.get(3, (0, 0))[0], "prf": t[2][0], "dh": t[4][0]}


def open_sk(msg, alg, keys):
    """The plaintext of MSG's SK (or SKF) payload without padding, or None if
    KEYS do not open it.  Independent of ipsecd's code: python3-cryptography
    (RFC 7296 §3.14, RFC 5282, RFC 7634, RFC 7383 §2.5)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms as \
        calgs, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, \
        ChaCha20Poly1305
    side = "i" if msg.from_initiator else "r"
    sk_e, sk_a = keys[f"sk_e{side}"], keys[f"sk_a{side}"]
    aad, body = msg.data[:msg.aad_len], msg.data[msg.aad_len:]
    if alg["encr"] in (ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305):
        aead = AESGCM if alg["encr"] == ENCR_AES_GCM_16 else ChaCha20Poly1305
        if len(sk_e) < 20 or len(body) < 8 + 16:
            return None
        try:
            # key ‖ 4-byte salt; nonce = salt ‖ 8-byte IV (RFC 5282 §3)
            plain = aead(sk_e[:-4]).decrypt(sk_e[-4:] + body[:8], body[8:],
                                            aad)
        except (InvalidTag, ValueError):
            return None
    elif alg["encr"] == ENCR_AES_CBC:
        icv_len = INTEG_ICV_LEN[alg["integ"]]
        icv = hmac.new(sk_a, msg.data[:-icv_len],
                       INTEG_HASH[alg["integ"]]).digest()[:icv_len]
        if not hmac.compare_digest(icv, msg.data[-icv_len:]):
            return None
        iv, cipher = body[:16], body[16:-icv_len]
        dec = Cipher(calgs.AES(sk_e), modes.CBC(iv)).decryptor()
        plain = dec.update(cipher) + dec.finalize()
    else:
        raise CaptureError(f"no decryption for encr {alg['encr']}")
    pad = plain[-1]
    if pad + 1 > len(plain):
        raise CaptureError("bad padding")
    return plain[:-(pad + 1)]


def decrypt(fragments, alg, keys):
    """The inner payload chain of one message (its datagrams, in fragment
    order), or None if KEYS do not open it."""
    plain = b""
    for msg in fragments:
        part = open_sk(msg, alg, keys)
        if part is None:
            return None
        plain += part
    chain = walk(plain, fragments[0].sk_first)
    return [(kind, body) for kind, body, _ in chain]


def first(payloads, kind):
    for k, body in payloads:
        if k == kind:
            return body
    return None


# --- from the wire and the log to IKE SAs ------------------------------------

def dedupe(messages):
    """Without retransmissions (the same bytes again)."""
    seen = set()
    out = []
    for msg in messages:
        if msg.data not in seen:
            seen.add(msg.data)
            out.append(msg)
    return out


def reassemble(messages):
    """{message key: its datagrams, fragments in order} for the encrypted
    ones; raises if a fragment is missing."""
    groups = {}
    for msg in messages:
        if msg.encrypted:
            groups.setdefault(msg.key, []).append(msg)
    for key, group in groups.items():
        group.sort(key=lambda m: m.fragment or (1, 1))
        total = group[0].fragment[1] if group[0].fragment else 1
        if [m.fragment or (1, 1) for m in group] != \
                [(n, total) for n in range(1, total + 1)]:
            raise CaptureError(f"message {key[2]}: fragments missing")
    return groups


def build_sas(messages, key_candidates):
    """Find every IKE SA: the first from IKE_SA_INIT, each rekeyed one from a
    CREATE_CHILD_SA that rekeys the IKE SA.  Decrypts every SK payload on the
    way.  Returns the IKE SAs as dicts of bytes and ints."""
    init_req = next(m for m in messages if m.exchange == 34 and not m.response)
    init_resp = next(m for m in messages if m.exchange == 34 and m.response
                     and m.spi_i == init_req.spi_i)
    sas = [{"initiator": init_req.sender,
            "spi_i": init_resp.spi_i, "spi_r": init_resp.spi_r,
            **algorithms(first(init_resp.payloads, PAYLOAD_SA)),
            "ni": first(init_req.payloads, PAYLOAD_NONCE),
            "nr": first(init_resp.payloads, PAYLOAD_NONCE),
            "rekey_of": None}]
    init_req.sa = init_resp.sa = 0
    groups = reassemble(messages)
    index = 0
    while index < len(sas):
        sa = sas[index]
        mine = [g for key, g in groups.items()
                if key[0] == sa["spi_i"] and key[1] == sa["spi_r"]]
        keys = find_keys(sa, mine, key_candidates)
        sa.update(keys)
        for group in mine:
            inner = decrypt(group, sa, keys)
            if inner is None:
                raise CaptureError(f"keys of IKE SA {index} do not open "
                                   f"message {group[0].message_id}")
            for msg in group:
                msg.sa, msg.inner = index, inner
        sas += rekeyed_sas(index, [g[0] for g in mine])
        index += 1
    return sas


def find_keys(sa, groups, candidates):
    """The logged key set that opens the first encrypted message of SA."""
    if not groups:
        raise CaptureError(f"no encrypted message with SPIs "
                           f"{sa['spi_i'].hex()}/{sa['spi_r'].hex()}")
    for keys in candidates:
        if decrypt(groups[0], sa, keys) is not None:
            return keys
    raise CaptureError(f"no logged keys open IKE SA {sa['spi_i'].hex()}/"
                       f"{sa['spi_r'].hex()}")


def rekeyed_sas(index, messages):
    """IKE SAs that a CREATE_CHILD_SA exchange among MESSAGES (decrypted, of
    IKE SA INDEX) created."""
    found = []
    for req in messages:
        if req.exchange != 36 or req.response:
            continue
        resp = next((m for m in messages if m.exchange == 36 and m.response
                     and m.message_id == req.message_id
                     and m.from_initiator != req.from_initiator), None)
        req_sa = first(req.inner, PAYLOAD_SA)
        resp_sa = first(resp.inner, PAYLOAD_SA) if resp else None
        if req_sa is None or resp_sa is None \
                or parse_sa_payload(req_sa)[0] != 1:  # not the IKE protocol
            continue
        found.append({"initiator": req.sender,
                      "spi_i": parse_sa_payload(req_sa)[1],
                      "spi_r": parse_sa_payload(resp_sa)[1],
                      **algorithms(resp_sa),
                      "ni": first(req.inner, PAYLOAD_NONCE),
                      "nr": first(resp.inner, PAYLOAD_NONCE),
                      "rekey_of": index})
    return found


def exchange_of(msg):
    """The same for a request and its response: IKE SA, message ID and
    whether the original initiator of the IKE SA asked."""
    return (msg.sa, msg.message_id, msg.from_initiator != msg.response)


def drop_extra_liveness(messages):
    """Keep the first liveness check (an empty INFORMATIONAL exchange) only,
    so that how long a step took does not change the file list."""
    checks = [exchange_of(m) for m in messages
              if m.exchange == 37 and not m.response and not m.inner]
    extra = set(checks[1:])
    return [m for m in messages if exchange_of(m) not in extra]


def check_logs_agree(logs):
    """With strongSwan on both sides, both must have logged the same keys."""
    sets = [key_sets(text) for text in logs.values()]
    if len(sets) == 2:
        canon = [sorted(k.items()) for k in sets[0]]
        for keys in sets[1]:
            if sorted(keys.items()) not in canon:
                raise CaptureError("the two charons logged different keys")


# --- output ---------------------------------------------------------------

def file_name(scenario, n, msg, kinds):
    role = "response" if msg.response else "request"
    return (f"{scenario.name}-{n:02d}-{EXCHANGES[msg.exchange]}-{role}-"
            f"{kinds[msg.sender]}.bin")


def sa_json(sa):
    out = {"initiator": sa["initiator"], "rekey_of": sa["rekey_of"]}
    for key in ("spi_i", "spi_r"):
        out[key] = sa[key].hex()
    for key in ("encr", "encr_key_bits", "integ", "prf", "dh"):
        out[key] = sa[key]
    for key in ("ni", "nr", "g_ir", "skeyseed", "sk_d", "sk_ai", "sk_ar",
                "sk_ei", "sk_er", "sk_pi", "sk_pr"):
        out[key] = sa[key].hex()
    return out


def write_scenario(out, scenario, psk, messages, sas, addresses, kinds):
    for path in glob.glob(os.path.join(out, f"{scenario.name}-[0-9]*.bin")):
        os.unlink(path)
    vers = versions()
    doc = {
        "scenario": scenario.name,
        "summary": scenario.summary,
        "generator": "tests/interop/capture-golden.py",
        "captured": time.strftime("%Y-%m-%d", time.gmtime()),
        "peers": {host: {"software": vers[kinds[host]],
                         "address": addresses[host]} for host in ("a", "b")},
        "psk": psk,
        "ike_sas": [sa_json(sa) for sa in sas],
        "messages": [],
    }
    for n, msg in enumerate(messages, 1):
        name = file_name(scenario, n, msg, kinds)
        if len(msg.data) > 2048:
            raise CaptureError(f"{name}: {len(msg.data)} bytes, over 2 KiB")
        with open(os.path.join(out, name), "wb") as f:
            f.write(msg.data)
        doc["messages"].append({
            "file": name, "from": msg.sender, "ike_sa": msg.sa,
            "exchange": msg.exchange, "response": msg.response,
            "message_id": msg.message_id,
            "fragment": list(msg.fragment) if msg.fragment else None,
            "inner": None if msg.inner is None else
            [PAYLOAD_NAMES.get(k, str(k)) for k, _ in msg.inner]})
    with open(os.path.join(out, f"{scenario.name}.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return len(messages)


def check_nonces(sas, messages):
    """The nonces of IKE SA 0 and the rekeyed ones, as read from the wire,
    are in the messages we keep (a slip in build_sas would show here)."""
    for msg in messages:
        if msg.exchange in (34, 36) and msg.sa >= 0:
            payloads = msg.payloads if msg.exchange == 34 else msg.inner
            nonce = first(payloads, PAYLOAD_NONCE)
            if msg.exchange == 36 and first(payloads, PAYLOAD_SA) is None:
                continue
            owner = [s for s in sas if s["ni" if not msg.response else "nr"]
                     == nonce]
            if not owner:
                raise CaptureError(f"nonce of {EXCHANGES[msg.exchange]} "
                                   f"#{msg.message_id} belongs to no IKE SA")


def capture(scenario, out):
    psk = secrets.token_urlsafe(24)
    kinds = {"a": scenario.initiator, "b": scenario.responder}
    datagrams, logs, addresses = run_scenario(scenario, psk)
    messages = dedupe([parse_message(h, d) for h, d in datagrams])
    check_logs_agree(logs)
    candidates = [k for text in logs.values() for k in key_sets(text)]
    sas = build_sas(messages, candidates)
    messages = drop_extra_liveness(messages)
    check_nonces(sas, messages)
    count = write_scenario(out, scenario, psk, messages, sas, addresses, kinds)
    print(f"{scenario.name}: {count} messages, {len(sas)} IKE SAs",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(
        common.source_root(), "tests", "data", "golden"))
    parser.add_argument("--list", action="store_true",
                        help="list the scenarios and exit")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    args = parser.parse_args()
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name}: {s.summary}")
        return 0
    chosen = [s for s in SCENARIOS
              if not args.scenarios or s.name in args.scenarios]
    unknown = set(args.scenarios) - {s.name for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    common.require_root()
    common.require_tools("ip", "ss", "dumpcap", "tshark")
    require_cryptography()
    peers.require_strongswan()
    if any("libreswan" in (s.initiator, s.responder) for s in chosen):
        peers.require_libreswan()
    os.makedirs(args.out, exist_ok=True)
    for scenario in chosen:
        capture(scenario, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
