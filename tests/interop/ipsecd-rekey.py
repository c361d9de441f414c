#!/usr/bin/python3
"""interop suite: IKE SA rekeying, DPD and ChaCha20-Poly1305 on the wire.

    ipsecd-rekey.py strongswan|libreswan

ipsecd runs in host a (tests/lib/ipsecd.py, --record-kernel: this kernel
has no ESP, so every IKE SA is childless), the peer in host b
(tests/lib/peers.py).  Against the peer:

  - ChaCha20-Poly1305 (chacha20poly1305-prfsha256-x25519) comes up with
    ipsecd as initiator and as responder, and both sides agree on it;
  - ipsecd rekeys an IKE SA itself (ike-rekey-time=5s), once as the SA's
    initiator and once as its responder: CREATE_CHILD_SA from ipsecd on the
    wire, "rekeyed into" in ipsecd's log, its ike-up for the new SA and
    ike-down "rekeyed" for the old, the peer has exactly one IKE SA and it
    is a new one; then the peer deletes the new SA (an INFORMATIONAL on the
    new SPIs, which differ from the first ones) and ipsecd logs that;
  - the peer rekeys (swanctl --rekey --ike, whack --rekey-ike): ipsecd
    follows the same way and keeps one IKE SA;
  - DPD: with dpd-delay=2s ipsecd's empty INFORMATIONAL is answered while
    the peer lives; after a SIGKILL of the peer ipsecd logs ike-down with
    IPSECD_PEER_GONE=yes within dpd-delay + its retransmission budget, and
    with dpd-action=restart initiates again: the peer, restarted, gets a
    new IKE SA (b sends nothing to a until its config is loaded);
  - dpd-action=hold is refused, naming file, key and value.

Each check looks at both sides (ipsecd's log events, the peer's state) and
at the capture on the wire.  Connections reach ipsecd through SIGHUP.
"""
import os
import secrets
import sys
import time

import common

common.require_root()
common.require_tools("ip", "ss", "dumpcap", "tshark")

import ipsecd  # noqa: E402
import peers  # noqa: E402

ipsecd.require_ipsecd()

from ipsecd import (IKE_AUTH, INFORMATIONAL, Checks, Ipsecd,  # noqa: E402
                    exchange_seen)
from netns import Network, wait_for  # noqa: E402
from peers import Charon, PeerError, Pluto  # noqa: E402

CREATE_CHILD_SA = "36"
# (ipsecd, swanctl, ipsec.conf) proposals of the two suites; a responder's
# connections all accept both (the peers pick a config by address before
# they see an identity), the initiator offers the one that must be chosen.
GCM = ("aes_gcm16_256-prfsha256-x25519", "aes256gcm16-prfsha256-x25519",
       "aes_gcm_16_256-sha2_256;dh31")
CHACHA = ("chacha20poly1305-prfsha256-x25519",
          "chacha20poly1305-prfsha256-x25519",
          "chacha20_poly1305-sha2_256;dh31")
UNION = tuple(f"{g},{c}" for g, c in zip(GCM, CHACHA))
EVENT_TIMEOUT = 10.0
# retransmit-timeout 0.5s doubling, retransmit-limit 3: the last try fails
# 0.5 + 1 + 2 + 4 s after the request first went out
RETRANSMIT_BUDGET = 7.5
DPD_DELAY = 2.0
IKE_REKEY = 5.0

check = Checks()


def ids(conn, a, b):
    """(ipsecd's identity, the peer's): one pair per connection, so that
    each side picks the right config and PSK and INITIAL_CONTACT or
    uniqueids on one IKE SA never clear another."""
    return f"@{conn}.{a.name}.test", f"@{conn}.{b.name}.test"


# --- the peers ---------------------------------------------------------------

class StrongSwan:
    name = "strongSwan"
    column = 1

    def __init__(self, host):
        self.host = host
        self.confs = {}
        self.runs = 0
        self.start()

    def start(self):
        self.runs += 1
        self.d = Charon(self.host, name=f"charon{self.runs}").start()
        for conn, text in self.confs.items():
            self.d.load(text, name=conn)

    def add(self, conn, a, b, key, ike):
        lid, rid = ids(conn, b, a)
        self.confs[conn] = Charon.psk_conn(conn, b, a, key, proposals=ike, local_id=lid,
                                           remote_id=rid)
        self.d.load(self.confs[conn], name=conn)

    def remove(self, conn):
        # swanctl unloads the connections no longer in its files
        del self.confs[conn]
        os.unlink(os.path.join(self.d.swanctl_dir, "conf.d", f"{conn}.conf"))
        self.d.swanctl("--load-all", "--noprompt")

    def initiate(self, conn):
        return self.d.initiate(ike=conn, timeout=10, check=False)

    def sas(self, conn):
        """Established IKE SAs of CONN: {uniqueid: (initiator SPI, responder SPI)}."""
        return {sa.get("uniqueid"): (sa.get("initiator-spi"),
                                     sa.get("responder-spi"))
                for sa in self.d.ike_sas(conn)
                if sa.get("state") == "ESTABLISHED"}

    def cipher(self, conn):
        sa = self.d.list_sas(conn).get(conn, {})
        return sa.get("encr-alg"), sa

    def rekey(self, conn):
        self.d.swanctl("--rekey", "--ike", conn)

    def terminate(self, conn):
        return self.d.terminate(conn)

    def kill(self):
        self.d.kill()

    def tail(self):
        return "\n".join(self.d.log_text().splitlines()[-60:])


class Libreswan:
    name = "libreswan"
    column = 2

    def __init__(self, host):
        self.host = host
        self.confs = []
        self.runs = 0
        self.start()

    def start(self):
        self.runs += 1
        self.d = Pluto(self.host, name=f"pluto{self.runs}").start()
        for text, secret in self.confs:
            self.d.load(text, secret)

    def add(self, conn, a, b, key, ike):
        lid, rid = ids(conn, b, a)
        text = f"""\
conn {conn}
\tleft={b.ip4}
\tleftid={lid}
\tright={a.ip4}
\trightid={rid}
\tauthby=secret
\tikev2=insist
\tike={ike}
\tesp=aes256-sha2_256
\ttype=transport
\tencapsulation=no
\tfragmentation=yes
\tkeyingtries=1
"""
        secret = f'{lid} {rid} : PSK "{key}"\n'
        self.confs.append((text, secret))
        self.d.load(text, secret)

    def remove(self, conn):
        self.confs = [c for c in self.confs if not c[0].startswith(f"conn {conn}\n")]
        self.d.whack("--name", conn, "--delete", check=False)

    def initiate(self, conn):
        # in the background: ipsecd's event is what the test waits for
        return self.d.whack("--name", conn, "--initiate", "--asynchronous",
                            check=False).returncode == 0

    def sas(self, conn):
        """Established IKE SAs of CONN: {serial: None} (whack --showstates
        shows no SPIs; a rekeyed IKE SA has a new serial)."""
        return {serial: None for serial, _, state in self.d.states(conn)
                if state == "V2_ESTABLISHED_IKE_SA"}

    def cipher(self, conn):
        # pluto logs the negotiated algorithms per state: "{cipher=... }"
        serials = [f"#{serial}:" for serial in self.sas(conn)]
        lines = [line for line in self.d.log_text().splitlines()
                 if "cipher=" in line and any(s in line for s in serials)]
        if not lines:
            return None, lines
        return lines[-1].split("cipher=", 1)[1].split()[0], lines[-1]

    def rekey(self, conn):
        self.d.rekey_ike(conn)

    def terminate(self, conn):
        return self.d.whack("--name", conn, "--terminate",
                            check=False).returncode == 0

    def kill(self):
        self.d.kill()

    def tail(self):
        return "\n".join(self.d.log_text().splitlines()[-60:])


# --- helpers -----------------------------------------------------------------

def configure(net, d, peer, conn, role, suite=GCM, **extra):
    """CONN on both sides; ROLE is ipsecd's.  Returns the reload mark."""
    a, b = net.host("a"), net.host("b")
    key = secrets.token_urlsafe(24)
    lid, rid = ids(conn, a, b)
    peer.add(conn, a, b, key,
             UNION[peer.column] if role == "initiator" else suite[peer.column])
    conf = Ipsecd.psk_conn(a, b, ike=suite[0] if role == "initiator" else UNION[0],
                           auto="start" if role == "initiator" else "add",
                           local_id=lid, remote_id=rid, **extra)
    d.add(conn, conf, psk=key)
    mark = d.reload()
    d.wait_event("reload", since=mark)
    return mark


def bring_up(net, d, peer, conn, role, suite=GCM, **extra):
    """Configure CONN and start it from ROLE's side; returns ipsecd's
    ike-up record (None on failure, reported)."""
    mark = configure(net, d, peer, conn, role, suite, **extra)
    rec = d.await_ike(conn, mark, EVENT_TIMEOUT,
                      initiate=(lambda: peer.initiate(conn)) if role == "responder" else None,
                      peer_up=lambda: len(peer.sas(conn)) == 1)
    up = rec is not None and rec["IPSECD_EVENT"] == "ike-up"
    check(up, f"{conn}: ipsecd logged ike-up as {role}: "
          f"{rec['message'] if rec else 'nothing'}")
    if not up:
        return None
    check(len(peer.sas(conn)) == 1, f"{conn}: {peer.name} has one IKE SA")
    return rec


def live_sas(d, conn):
    """ipsecd's IKE SA handles of CONN that came up and did not go down."""
    up = {r["IPSECD_SA"] for r in d.events("ike-up", conn)}
    down = {r["IPSECD_SA"] for r in d.events("ike-down", conn)}
    return up - down


def spis(rows):
    """{(initiator SPI, responder SPI)} of the IKE messages in ROWS."""
    return {(r[4], r[5]) for r in rows if r[5] and set(r[5]) != {"0"}}


def wire_rows(cap):
    rows = cap.fields("ip.src", "ip.dst", "isakmp.exchangetype",
                      "isakmp.flag_r", "isakmp.ispi", "isakmp.rspi",
                      display_filter="isakmp")
    return [r + ("",) * (6 - len(r)) for r in rows]


def peer_delete(d, peer, conn):
    """The peer deletes CONN's IKE SA; returns ipsecd's ike-down or None."""
    mark = d.mark()
    peer.terminate(conn)
    try:
        return d.wait_event("ike-down", connection=conn, since=mark,
                            timeout=EVENT_TIMEOUT)
    except TimeoutError:
        return None


def check_deleted(net, d, peer, conn, handle, down, rows, label):
    """After peer_delete(): DOWN ended ipsecd's IKE SA HANDLE, nothing is
    left, and the wire (ROWS) has the peer's INFORMATIONAL and ipsecd's
    answer."""
    a, b = net.host("a"), net.host("b")
    check(down is not None and down.get("IPSECD_SA") == handle
          and down.get("IPSECD_REASON") != "rekeyed",
          f"{label}: the peer's Delete ended ipsecd's IKE SA {handle}: "
          f"{down['message'] if down else 'nothing'}")
    check(not peer.sas(conn), f"{label}: {peer.name} has no IKE SA left")
    check(not live_sas(d, conn), f"{label}: ipsecd has no IKE SA left")
    check(exchange_seen(rows, b.ip4, a.ip4, INFORMATIONAL, False)
          and exchange_seen(rows, a.ip4, b.ip4, INFORMATIONAL, True),
          f"{label}: wire: the peer's INFORMATIONAL answered by ipsecd")


def peer_deletes(net, d, peer, conn, handle, label):
    with net.capture("udp port 500") as cap:
        down = peer_delete(d, peer, conn)
    check_deleted(net, d, peer, conn, handle, down, wire_rows(cap), label)


# --- the cases ---------------------------------------------------------------

def unconfigure(d, peer, conn):
    """Remove CONN from both sides: each picks a config by address before
    it sees an identity, and would pick a finished case's."""
    peer.remove(conn)
    d.remove(conn)
    mark = d.reload()
    d.wait_event("reload", since=mark)


def chacha_case(net, d, peer, role, conn):
    rec = bring_up(net, d, peer, conn, role, suite=CHACHA)
    if rec is None:
        return
    check(rec.get("IPSECD_IKE") == CHACHA[0],
          f"{conn}: ipsecd negotiated {rec.get('IPSECD_IKE')}")
    cipher, seen = peer.cipher(conn)
    check(cipher is not None and "CHACHA20_POLY1305" in cipher,
          f"{conn}: {peer.name} uses ChaCha20-Poly1305 ({seen})")
    peer_deletes(net, d, peer, conn, rec["IPSECD_SA"], conn)


def wait_rekeyed(d, conn, old, since, timeout):
    """ipsecd's ike-up for the successor of IKE SA OLD and OLD's ike-down;
    (new handle or None, the down record or None)."""
    def done():
        ups = [r for r in d.events("ike-up", conn, since)
               if r["IPSECD_SA"] != old]
        downs = [r for r in d.events("ike-down", conn, since)
                 if r["IPSECD_SA"] == old]
        return (ups[0]["IPSECD_SA"], downs[0]) if ups and downs else None
    try:
        return wait_for(done, timeout=timeout, what=f"{conn} rekeyed")
    except TimeoutError:
        return None, None


def check_rekeyed(d, peer, conn, old, before, since, label, timeout):
    """ipsecd and the peer each moved from IKE SA OLD (the peer's: BEFORE)
    to exactly one new one; returns ipsecd's new handle."""
    new, down = wait_rekeyed(d, conn, old, since, timeout)
    check(new is not None, f"{label}: ipsecd logged ike-up for a new IKE SA "
          f"{new} of {conn}")
    if new is None:
        return None
    check(down.get("IPSECD_REASON") == "rekeyed",
          f"{label}: the old IKE SA {old} went down as rekeyed: {down['message']}")
    log = d.log_text()
    check(f"IKE SA {old} ({conn}) rekeyed into {new}" in log,
          f"{label}: ipsecd logged \"IKE SA {old} ({conn}) rekeyed into {new}\"")
    check(live_sas(d, conn) == {new}, f"{label}: ipsecd has one IKE SA "
          f"({sorted(live_sas(d, conn))})")
    try:
        wait_for(lambda: len(peer.sas(conn)) == 1
                 and not set(peer.sas(conn)) & set(before), timeout=5,
                 what=f"{peer.name} {conn} rekeyed")
    except TimeoutError:
        pass
    after = peer.sas(conn)
    check(len(after) == 1 and not set(after) & set(before),
          f"{label}: {peer.name} has one IKE SA, a new one ({before} -> {after})")
    return new


def our_rekey_case(net, d, peer, role, conn):
    """ipsecd rekeys (ike-rekey-time), as the SA's initiator or responder;
    the peer deletes the new SA before ipsecd would rekey again."""
    a, b = net.host("a"), net.host("b")
    label = f"ipsecd rekeys ({role})"
    with net.capture("udp port 500") as cap:
        rec = bring_up(net, d, peer, conn, role,
                       ike_rekey_time=f"{IKE_REKEY:g}s", ike_life_time="60s")
        if rec is None:
            return
        old, before = rec["IPSECD_SA"], peer.sas(conn)
        new = check_rekeyed(d, peer, conn, old, before, 0, label,
                            IKE_REKEY + EVENT_TIMEOUT)
        down = peer_delete(d, peer, conn) if new is not None else None
    rows = wire_rows(cap)
    check(exchange_seen(rows, a.ip4, b.ip4, CREATE_CHILD_SA, False)
          and exchange_seen(rows, b.ip4, a.ip4, CREATE_CHILD_SA, True),
          f"{label}: wire: CREATE_CHILD_SA from ipsecd, answered")
    if new is None:
        return
    check_deleted(net, d, peer, conn, new, down, rows, label)
    # the peer's requests after the rekey (libreswan initiating also
    # deletes, on the first SA, the Child SA it asked for in IKE_AUTH)
    rekey = max((i for i, r in enumerate(rows) if r[2] == CREATE_CHILD_SA),
                default=len(rows))
    first = spis(r for r in rows if r[2] == IKE_AUTH)
    later = spis(r for r in rows[rekey:] if r[2] == INFORMATIONAL
                 and r[0] == b.ip4 and r[3] in ("0", "False"))
    check(first and later and not later & first,
          f"{label}: the Delete used new SPIs ({later} vs {first})")


def peer_rekey_case(net, d, peer, role, conn):
    """The peer rekeys; ipsecd follows."""
    a, b = net.host("a"), net.host("b")
    label = f"{peer.name} rekeys ({role})"
    rec = bring_up(net, d, peer, conn, role)
    if rec is None:
        return
    old, before, mark = rec["IPSECD_SA"], peer.sas(conn), d.mark()
    with net.capture("udp port 500") as cap:
        peer.rekey(conn)
        new = check_rekeyed(d, peer, conn, old, before, mark, label,
                            EVENT_TIMEOUT)
    rows = wire_rows(cap)
    check(exchange_seen(rows, b.ip4, a.ip4, CREATE_CHILD_SA, False)
          and exchange_seen(rows, a.ip4, b.ip4, CREATE_CHILD_SA, True),
          f"{label}: wire: CREATE_CHILD_SA from the peer, answered")
    if new is not None:
        peer_deletes(net, d, peer, conn, new, label)


def dpd_action_refused(net, d):
    """dpd-action takes clear or restart; hold (a trap) is refused."""
    a, b = net.host("a"), net.host("b")
    d.add("badaction", Ipsecd.psk_conn(a, b, dpd_action="hold"),
          psk=secrets.token_urlsafe(24))
    mark = d.reload()
    d.wait_event("reload", since=mark)
    errors = [r["message"] for r in d.events("config-error", since=mark)]
    check(len(errors) == 1 and all(w in errors[0] for w in
                                   ("badaction.conf", "“dpd-action”", "hold")),
          f"dpd-action=hold: refused naming file, key and value ({errors})")
    d.remove("badaction")


def dpd_case(net, d, peer, conn):
    """DPD finds the killed peer; dpd-action=restart brings the SA back."""
    a, b = net.host("a"), net.host("b")
    rec = bring_up(net, d, peer, conn, "initiator",
                   dpd_delay=f"{DPD_DELAY:g}s", dpd_action="restart")
    if rec is None:
        return
    with net.capture("udp port 500") as cap:
        time.sleep(DPD_DELAY * 2 + 0.5)
    rows = wire_rows(cap)
    check(exchange_seen(rows, a.ip4, b.ip4, INFORMATIONAL, False)
          and exchange_seen(rows, b.ip4, a.ip4, INFORMATIONAL, True),
          "DPD: ipsecd's liveness check answered by the live peer")
    check(live_sas(d, conn) == {rec["IPSECD_SA"]}, "DPD: the IKE SA stays up")
    mark = d.mark()
    with net.capture("udp port 500") as cap:
        killed = time.monotonic()
        peer.kill()
        try:
            down = d.wait_event("ike-down", connection=conn, since=mark,
                                timeout=DPD_DELAY + RETRANSMIT_BUDGET + 5)
        except TimeoutError:
            down = None
        took = time.monotonic() - killed
        bound = DPD_DELAY + RETRANSMIT_BUDGET + 1.5
        check(down is not None and down.get("IPSECD_PEER_GONE") == "yes",
              f"DPD: ipsecd logged ike-down with IPSECD_PEER_GONE=yes after "
              f"{took:.1f}s: {down['message'] if down else 'nothing'}")
        check(RETRANSMIT_BUDGET - 0.5 < took < bound,
              f"DPD: within dpd-delay + retransmissions ({took:.1f}s < {bound:g}s)")
        # dpd-action=restart: ipsecd initiates at once and retransmits its
        # IKE_SA_INIT while the peer comes back.  Until the peer has its
        # connection loaded, b sends nothing to a: it would answer
        # NO_PROPOSAL_CHOSEN for want of a config.
        b.ip("route", "add", "prohibit", f"{a.ip4}/32")
        try:
            peer.start()
        finally:
            b.ip("route", "del", "prohibit", f"{a.ip4}/32")
        try:
            up = d.wait_event("ike-up", connection=conn, since=mark,
                              timeout=RETRANSMIT_BUDGET + 5)
        except TimeoutError:
            up = None
    check(up is not None and up["IPSECD_SA"] != rec["IPSECD_SA"],
          f"DPD restart: ipsecd's new IKE SA with the restarted peer: "
          f"{up['message'] if up else 'nothing'}")
    # A liveness check may be under way as the capture starts and be
    # answered just before the kill; what follows the last answer must be
    # the request and its 3 retransmissions, all unanswered.
    info = [r for r in wire_rows(cap) if r[2] == INFORMATIONAL]
    answers = [i for i, r in enumerate(info) if r[0] == b.ip4 and r[3] in ("1", "True")]
    unanswered = [r for r in info[answers[-1] + 1 if answers else 0:] if r[0] == a.ip4]
    check(len(answers) <= 1 and len(unanswered) >= 4,
          f"DPD: wire: {len(unanswered)} unanswered INFORMATIONAL from ipsecd "
          f"after {len(answers)} answered as the peer was killed")
    if up is not None:
        try:
            wait_for(lambda: len(peer.sas(conn)) == 1, timeout=5,
                     what=f"{peer.name} {conn}")
        except TimeoutError:
            pass
        check(len(peer.sas(conn)) == 1,
              f"DPD restart: the restarted {peer.name} has the IKE SA")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("strongswan", "libreswan"):
        print(__doc__.split("\n\n")[1])
        return 2
    which = sys.argv[1]
    if which == "strongswan":
        peers.require_strongswan()
    else:
        peers.require_libreswan()
    started = time.monotonic()
    with Network(hosts=2) as net:
        a, b = net.hosts
        peer = (StrongSwan if which == "strongswan" else Libreswan)(b)
        d = Ipsecd(a).start()
        try:
            dpd_action_refused(net, d)
            for role in ("initiator", "responder"):
                for case, conn in ((chacha_case, f"chacha-{role[0]}"),
                                   (our_rekey_case, f"rekey-{role[0]}"),
                                   (peer_rekey_case, f"prekey-{role[0]}")):
                    case(net, d, peer, role, conn)
                    unconfigure(d, peer, conn)
            dpd_case(net, d, peer, "dpd")
        except (PeerError, ipsecd.IpsecdError, TimeoutError) as e:
            check(False, f"unexpected: {e}")
        finally:
            if check.failures:
                print("--- ipsecd log (tail)\n" + d.tail(80))
                print(f"--- {peer.name} log (tail)\n" + peer.tail())
    print(f"{which}: {time.monotonic() - started:.1f}s")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
