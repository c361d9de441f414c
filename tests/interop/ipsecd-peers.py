#!/usr/bin/python3
"""interop suite: ipsecd against strongSwan or libreswan on the wire.

    ipsecd-peers.py strongswan|libreswan initiator|responder

ipsecd runs in host a (tests/lib/ipsecd.py, --record-kernel: this kernel
has no ESP, so every IKE SA is childless), the peer in host b
(tests/lib/peers.py).  In the given role ipsecd must:

  - establish a PSK IKE SA with each suite of SUITES (X25519 + AES-GCM-16-256
    + PRF-SHA256; ECP-256 over IPv6; MODP-3072 with AES-CBC-256 +
    HMAC-SHA2-256), and both sides must agree on the algorithms;
  - fail cleanly with a wrong PSK: AUTHENTICATION_FAILED, no SA on either
    side;
  - NULL authentication (RFC 7619): with libreswan an anonymous IKE SA; with
    strongSwan (no RFC 7619) a clean failure within a bounded time;
  - see the peer delete an IKE SA (ipsecd logs ike-down), and delete its
    own on SIGTERM (the peer's SA is gone, ipsecd exits 0).

Every check looks at both sides (ipsecd's log events, the peer's status)
and at the capture on the wire.  New connections reach ipsecd through
SIGHUP, so reloading is exercised too.
"""
import ipaddress
import secrets
import sys
import time

import common

common.require_root()
common.require_tools("ip", "ss", "dumpcap", "tshark")

import ipsecd  # noqa: E402
import peers  # noqa: E402

ipsecd.require_ipsecd()

from ipsecd import (IKE_AUTH, IKE_SA_INIT, INFORMATIONAL, Checks,  # noqa: E402
                    Ipsecd, exchange_seen, isakmp_rows)
from netns import Network, wait_for  # noqa: E402
from peers import Charon, PeerError, Pluto  # noqa: E402

# (label, family, ipsecd proposal, strongSwan proposal, libreswan proposal,
#  what strongSwan's list-sas shows, what libreswan logs, identity style)
SUITES = [
    ("x25519-gcm", 4, "aes_gcm16_256-prfsha256-x25519",
     "aes256gcm16-prfsha256-x25519", "aes_gcm_16_256-sha2_256;dh31",
     {"encr-alg": "AES_GCM_16", "encr-keysize": "256",
      "prf-alg": "PRF_HMAC_SHA2_256", "dh-group": "CURVE_25519"}, "DH31",
     "addr"),
    ("ecp256-gcm-v6", 6, "aes_gcm16_256-prfsha256-ecp256",
     "aes256gcm16-prfsha256-ecp256", "aes_gcm_16_256-sha2_256;dh19",
     {"encr-alg": "AES_GCM_16", "dh-group": "ECP_256"}, "DH19", "fqdn"),
    ("modp3072-cbc", 4, "aes256-sha256-prfsha256-modp3072",
     "aes256-sha256-modp3072", "aes256-sha2_256;dh15",
     {"encr-alg": "AES_CBC", "encr-keysize": "256",
      "integ-alg": "HMAC_SHA2_256_128", "dh-group": "MODP_3072"}, "MODP3072",
     "email"),
]
# A responder picks its configuration by address before it sees any
# identity (libreswan and ipsecd alike), so the responder's connections to one
# peer address all accept every suite; the initiator offers exactly one, which
# is what must be negotiated.
UNION = {i: ",".join(s[i] for s in SUITES) for i in (2, 3, 4)}
EVENT_TIMEOUT = 10.0
# A failure must be reported this fast (retransmit-limit 3, 0.5 s base).
FAIL_BOUND = 8.0

check = Checks()


def psk():
    return secrets.token_urlsafe(24)


# --- the peers behind one interface -------------------------------------------

def identities(conn, local, remote, family, style):
    """(our identity, the peer's) in the syntax ipsecd, swanctl and
    ipsec.conf share: addresses, @fqdn or user@domain.  Each connection gets
    its own, so that the peers pick the right config and PSK by identity and
    INITIAL_CONTACT on one IKE SA never clears another."""
    if style == "addr":
        return local.address(family), remote.address(family)
    if style == "fqdn":
        return f"@{conn}.{local.name}.test", f"@{conn}.{remote.name}.test"
    if style == "email":
        return f"{conn}@{local.name}.test", f"{conn}@{remote.name}.test"
    return "%null", "%null"


class StrongSwan:
    name = "strongSwan"
    column = 3  # of SUITES

    def __init__(self, host):
        self.host = host
        self.d = Charon(host).start()

    def add(self, conn, local, remote, key, family, ike, style, local_addr):
        # strongSwan has no NULL authentication: it stays with a PSK (and
        # identities of its own, or it would reuse an IKE SA it has)
        lid, rid = identities(conn, local, remote, family,
                              "fqdn" if style == "null" else style)
        self.d.load(Charon.psk_conn(conn, local, remote, key, family, proposals=ike,
                                    local_id=lid, remote_id=rid, local_addrs=local_addr),
                    name=conn)

    def initiate(self, conn):
        # returns when the IKE SA is up or has failed
        return self.d.initiate(ike=conn, timeout=10, check=False)

    def established(self, conn):
        return self.d.ike_state(conn) == "ESTABLISHED"

    def gone(self, conn):
        return self.d.ike_state(conn) is None

    def algorithms_ok(self, conn, suite):
        sa = self.d.list_sas(conn).get(conn, {})
        return all(sa.get(k) == v for k, v in suite[5].items()), sa

    def terminate(self, conn):
        return self.d.terminate(conn)

    def tail(self):
        return peers._tail(self.d.log, 60)


class Libreswan:
    name = "libreswan"
    column = 4

    def __init__(self, host):
        self.host = host
        self.d = Pluto(host).start()

    def add(self, conn, local, remote, key, family, ike, style, local_addr):
        lid, rid = identities(conn, local, remote, family, style)
        secret = f'{lid} {rid} : PSK "{key}"\n' if style != "null" else ""
        self.d.load(f"""\
conn {conn}
\tleft={local_addr}
\tleftid={lid}
\tright={remote.address(family)}
\trightid={rid}
\tauthby={"null" if style == "null" else "secret"}
\tikev2=insist
\tike={ike}
\tesp=aes256-sha2_256
\ttype=transport
\tencapsulation=no
\tfragmentation=yes
\tkeyingtries=1
""", secret)

    def initiate(self, conn):
        # in the background: ipsecd's event is what the test waits for
        return self.d.whack("--name", conn, "--initiate", "--asynchronous",
                            check=False).returncode == 0

    def established(self, conn):
        return self.d.ike_established(conn)

    def gone(self, conn):
        return not self.d.ike_established(conn)

    def algorithms_ok(self, conn, suite):
        # the IKE_SA_INIT line may name the connection pluto found first
        serials = [f"#{serial}:" for serial, _, _ in self.d.states(conn)]
        lines = [line for line in self.d.log_text().splitlines()
                 if "{cipher=" in line and any(s in line for s in serials)]
        return bool(lines) and f"group={suite[6]}" in lines[-1], lines

    def terminate(self, conn):
        return self.d.whack("--name", conn, "--terminate",
                            check=False).returncode == 0

    def tail(self):
        return peers._tail(self.d.log, 60)


# --- one handshake -------------------------------------------------------------

def our_conf(conn, a, b, family, ike, role, style, remote_addr):
    # NULL: the defaults, %null for us and any identity for the peer
    lid, rid = identities(conn, a, b, family, style) if style != "null" \
        else (None, None)
    conf = Ipsecd.psk_conn(a, b, family=family, ike=ike,
                           auth="null" if style == "null" else "psk",
                           auto="start" if role == "initiator" else "add",
                           local_id=lid, remote_id=rid)
    conf["remote"] = remote_addr
    return conf


def handshake_on_wire(cap, a, b, family, initiator, peer_addr=None):
    rows = isakmp_rows(cap)
    ours, theirs = a.address(family), peer_addr or b.address(family)
    src, dst = (ours, theirs) if initiator else (theirs, ours)
    for exchange, label in ((IKE_SA_INIT, "IKE_SA_INIT"),
                            (IKE_AUTH, "IKE_AUTH")):
        check(exchange_seen(rows, src, dst, exchange, False)
              and exchange_seen(rows, dst, src, exchange, True),
              f"wire: {label} request {src} -> {dst} and its response")
    return rows


def bring_up(net, d, peer, conn, family, suite, role, style, key=None,
             peer_key=None, peer_addr=None):
    """Configure CONN on both sides (the peer on PEER_ADDR, default its
    address) and start it from ROLE's side; returns (our first
    ike-up/ike-failed record or None, the capture)."""
    a, b = net.host("a"), net.host("b")
    key = key or psk()
    peer_addr = peer_addr or b.address(family)
    peer_ike = UNION[peer.column] if role == "initiator" else suite[peer.column]
    our_ike = UNION[2] if role == "responder" else suite[2]
    peer.add(conn, b, a, peer_key or key, family, peer_ike, style, peer_addr)
    d.add(conn, our_conf(conn, a, b, family, our_ike, role, style, peer_addr),
          psk=key if style != "null" else None)
    with net.capture("udp port 500 or udp port 4500") as cap:
        mark = d.reload()
        d.wait_event("reload", since=mark)
        rec = d.await_ike(conn, mark, EVENT_TIMEOUT,
                          initiate=(lambda: peer.initiate(conn)) if role == "responder" else None,
                          peer_up=lambda: peer.established(conn))
    return rec, cap


def suite_case(net, d, peer, role, suite):
    a, b = net.host("a"), net.host("b")
    label, family = suite[0], suite[1]
    conn = f"{role[0]}-{label}"
    started = time.monotonic()
    rec, cap = bring_up(net, d, peer, conn, family, suite, role, suite[7])
    took = time.monotonic() - started
    up = rec is not None and rec["IPSECD_EVENT"] == "ike-up"
    check(up, f"{label}: ipsecd logged ike-up for {conn} ({took:.2f}s): "
          f"{rec['message'] if rec else 'nothing'}")
    if not up:
        return
    check(rec.get("IPSECD_IKE") == suite[2],
          f"{label}: ipsecd negotiated {rec.get('IPSECD_IKE')} == {suite[2]}")
    check(rec.get("IPSECD_ROLE") == role, f"{label}: ipsecd was the {role}")
    check(rec.get("IPSECD_AUTHENTICATED") == "yes"
          and rec.get("IPSECD_LOCAL_AUTH") == "psk"
          and rec.get("IPSECD_REMOTE_AUTH") == "psk",
          f"{label}: PSK both ways, peer authenticated")
    rid = identities(conn, a, b, family, suite[7])[1]
    check(rec.get("IPSECD_REMOTE_ID") == rid,
          f"{label}: peer identity {rec.get('IPSECD_REMOTE_ID')} == {rid}")
    check(peer.established(conn), f"{label}: {peer.name} has the IKE SA established")
    ok, seen = peer.algorithms_ok(conn, suite)
    check(ok, f"{label}: {peer.name} agrees on the algorithms ({seen})")
    handshake_on_wire(cap, a, b, family, role == "initiator")
    children = d.events("child-up", conn)
    if isinstance(peer, Libreswan) and role == "responder":
        # libreswan 4.10 always asks for a Child SA (transport mode here);
        # ipsecd answers in tunnel mode, which libreswan then refuses and
        # deletes: what ipsecd would have installed is in the record.
        installs = [r for r in d.kernel_records()
                    if r["connection"] == conn and r["op"] == "install"]
        check(len(installs) == len(children) and all(
            r["spi_in"] == c.get("IPSECD_SPI_IN") for r, c in zip(installs, children)),
            f"{label}: each Child SA libreswan asked for is in the kernel record")
    else:
        check(not children, f"{label}: no Child SA on the host")


def wrong_psk_case(net, d, peer, role):
    a, b = net.host("a"), net.host("b")
    conn = f"{role[0]}-badpsk"
    suite = SUITES[0]
    started = time.monotonic()
    rec, cap = bring_up(net, d, peer, conn, 4, suite, role, "fqdn", key=psk(),
                        peer_key=psk())
    took = time.monotonic() - started
    check(rec is not None and rec["IPSECD_EVENT"] == "ike-failed",
          f"wrong PSK: ipsecd logged ike-failed ({took:.2f}s): "
          f"{rec['message'] if rec else 'nothing'}")
    if rec is not None:
        check(rec.get("IPSECD_NOTIFY") == "AUTHENTICATION_FAILED",
              f"wrong PSK: reason AUTHENTICATION_FAILED "
              f"(notify {rec.get('IPSECD_NOTIFY')} from {rec.get('IPSECD_NOTIFY_FROM')})")
    check(took < FAIL_BOUND, f"wrong PSK: failed within {FAIL_BOUND:g}s")
    time.sleep(0.3)
    check(peer.gone(conn), f"wrong PSK: {peer.name} has no IKE SA")
    check(not d.events("ike-up", conn), "wrong PSK: ipsecd has no IKE SA")
    rows = isakmp_rows(cap)
    check(any(r[2] == IKE_AUTH for r in rows), "wrong PSK: IKE_AUTH on the wire")


def alias_address(net):
    return str(ipaddress.ip_address(net.host("b").ip4) + 100)


def null_case(net, d, peer, role):
    conn = f"{role[0]}-null"
    suite = SUITES[0]
    started = time.monotonic()
    # an address of its own: the first connection the peer finds for it
    # is this one (libreswan switches away from a PSK one only by identity)
    alias = alias_address(net)
    rec, cap = bring_up(net, d, peer, conn, 4, suite, role, "null",
                        peer_addr=alias)
    took = time.monotonic() - started
    if isinstance(peer, StrongSwan):
        # strongSwan has no RFC 7619: the AUTH method 13 it cannot verify
        # must end in a clean failure, reported in bounded time.
        check(rec is not None and rec["IPSECD_EVENT"] == "ike-failed",
              f"NULL vs strongSwan: ipsecd logged ike-failed ({took:.2f}s): "
              f"{rec['message'] if rec else 'nothing'}")
        check(took < FAIL_BOUND, f"NULL vs strongSwan: failed within {FAIL_BOUND:g}s")
        check(rec is not None and rec.get("IPSECD_NOTIFY") in
              ("AUTHENTICATION_FAILED", "NO_PROPOSAL_CHOSEN"),
              f"NULL vs strongSwan: notify {rec and rec.get('IPSECD_NOTIFY')}")
        check(peer.gone(conn), "NULL vs strongSwan: strongSwan has no IKE SA")
        return
    up = rec is not None and rec["IPSECD_EVENT"] == "ike-up"
    check(up, f"NULL vs libreswan: ipsecd logged ike-up ({took:.2f}s): "
          f"{rec['message'] if rec else 'nothing'}")
    if up:
        check(rec.get("IPSECD_LOCAL_AUTH") == "null"
              and rec.get("IPSECD_REMOTE_AUTH") == "null"
              and rec.get("IPSECD_AUTHENTICATED") == "no"
              and rec.get("IPSECD_REMOTE_ID") == "%null",
              "NULL vs libreswan: anonymous both ways, peer ID_NULL")
        check(peer.established(conn), "NULL vs libreswan: libreswan has the IKE SA")
        check("authby=null" in peer.d.log_text() or "NULL" in peer.d.log_text(),
              "NULL vs libreswan: libreswan logged NULL authentication")
    handshake_on_wire(cap, net.host("a"), net.host("b"), 4,
                      role == "initiator", peer_addr=alias)


def peer_delete_case(net, d, peer, role):
    """The peer deletes an established IKE SA: ipsecd logs ike-down."""
    a, b = net.host("a"), net.host("b")
    conn = f"{role[0]}-x25519-gcm"
    if not d.events("ike-up", conn) or not peer.established(conn):
        check(False, "peer delete: no IKE SA to delete")
        return
    mark = d.mark()
    with net.capture("udp port 500 or udp port 4500") as cap:
        peer.terminate(conn)
        try:
            rec = d.wait_event("ike-down", connection=conn, since=mark,
                               timeout=EVENT_TIMEOUT)
        except TimeoutError:
            rec = None
    check(rec is not None, f"peer delete: ipsecd logged ike-down: "
          f"{rec['message'] if rec else 'nothing'}")
    check(peer.gone(conn), f"peer delete: {peer.name} has no IKE SA {conn}")
    rows = isakmp_rows(cap)
    check(exchange_seen(rows, b.ip4, a.ip4, INFORMATIONAL, False)
          and exchange_seen(rows, a.ip4, b.ip4, INFORMATIONAL, True),
          "wire: INFORMATIONAL (Delete) from the peer, answered by ipsecd")


def sigterm_case(net, d, peer, role):
    """SIGTERM: ipsecd deletes what is left and exits 0; the peer's SAs go."""
    a, b = net.host("a"), net.host("b")
    conns = [f"{role[0]}-{s[0]}" for s in SUITES[1:]]
    conns = [c for c in conns if peer.established(c)]
    with net.capture("udp port 500 or udp port 4500") as cap:
        started = time.monotonic()
        status = d.stop()
        took = time.monotonic() - started
    check(status == 0, f"SIGTERM: ipsecd exited {status} after {took:.2f}s")
    check(len(d.events("ike-down")) >= len(conns),
          f"SIGTERM: ipsecd logged ike-down for {conns}")
    for conn in conns:
        try:
            wait_for(lambda: peer.gone(conn), timeout=5, what=f"{conn} gone")
            check(True, f"SIGTERM: {peer.name} has no IKE SA {conn}")
        except TimeoutError:
            check(False, f"SIGTERM: {peer.name} has no IKE SA {conn}")
    rows = isakmp_rows(cap)
    if conns:
        check(any(r[2] == INFORMATIONAL and r[0] in (a.ip4, a.ip6)
                  and r[3] in ("0", "False") for r in rows),
              "wire: INFORMATIONAL (Delete) from ipsecd")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("strongswan", "libreswan") \
            or sys.argv[2] not in ("initiator", "responder"):
        print(__doc__.split("\n\n")[1])
        return 2
    which, role = sys.argv[1], sys.argv[2]
    if which == "strongswan":
        peers.require_strongswan()
    else:
        peers.require_libreswan()
    started = time.monotonic()
    with Network(hosts=2) as net:
        a, b = net.hosts
        # before the peer starts: pluto listens on the addresses it finds
        b.ip("addr", "add", f"{alias_address(net)}/24", "dev", "eth0")
        peer = (StrongSwan if which == "strongswan" else Libreswan)(b)
        d = Ipsecd(a).start()
        try:
            for suite in SUITES:
                suite_case(net, d, peer, role, suite)
            wrong_psk_case(net, d, peer, role)
            null_case(net, d, peer, role)
            peer_delete_case(net, d, peer, role)
            sigterm_case(net, d, peer, role)
        except (PeerError, ipsecd.IpsecdError, TimeoutError) as e:
            check(False, f"unexpected: {e}")
        finally:
            if check.failures:
                print("--- ipsecd log (tail)\n" + d.tail(60))
                print(f"--- {peer.name} log (tail)\n" + peer.tail())
    print(f"{which} {role}: {time.monotonic() - started:.1f}s")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
