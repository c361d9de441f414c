#!/usr/bin/python3
"""interop suite: certificates from the NSS database on the wire.

    ipsecd-certs.py strongswan|libreswan

A test CA per key type (ECDSA P-256, RSA-3072), a rogue CA nobody trusts,
and one certificate per side and type (subject DN plus subjectAltNames) are
made with openssl at test time.  ipsecd gets them the way an admin would:
pk12util and certutil into sql:<state-dir>/nss, connections naming them by
nickname (local-cert, remote-ca).  strongSwan gets PEM files in swanctl's
folders, libreswan its own NSS database (tests/lib/peers.py).

With the peer, ipsecd as initiator and as responder must:

  - establish an IKE SA with ECDSA P-256 certificates (FQDN and DN
    identities, the peer's identity checked against its certificate);
  - establish one with RSA-3072 certificates, whose IKE_AUTH messages do
    not fit a datagram: ipsecd's go out as RFC 7383 fragments (SKF, seen
    on the wire with tshark), and the peer's are reassembled;
  - fail cleanly when a certificate comes from the rogue CA: the refusing
    responder (the peer when ipsecd initiates, ipsecd when it responds)
    sends AUTHENTICATION_FAILED, ipsecd logs ike-failed in bounded time,
    no IKE SA on either side.

First, connection files that misuse the certificate keys are refused with
errors naming file and key, and a certificate imported while ipsecd runs
is used after SIGHUP.  Every IKE SA is childless (no ESP in this kernel).
"""
import os
import subprocess
import sys
import time

import common

common.require_root()
common.require_tools("ip", "ss", "dumpcap", "tshark", "openssl", "certutil",
                     "pk12util")

import ipsecd  # noqa: E402

ipsecd.require_ipsecd()

from ipsecd import (IKE_AUTH, IKE_SA_INIT, Checks, Ipsecd,  # noqa: E402
                    exchange_seen)
from netns import Network  # noqa: E402
from peers import Charon, PeerError, Pluto, nss_run  # noqa: E402

P12_PASSWORD = "ipsecd-test"
ORG = "ipsecd test"
SKF = "53"  # RFC 7383 Encrypted Fragment payload
EVENT_TIMEOUT = 10.0
FAIL_BOUND = 8.0
# ipsecd offers one suite; both peers accept it.
IKE = ("aes_gcm16_256-prfsha256-ecp256", "aes256gcm16-prfsha256-ecp256",
       "aes_gcm_16_256-sha2_256;dh19")

check = Checks()


# --- a small PKI, made with openssl ------------------------------------------

def openssl(*args):
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {proc.stderr}")


def dn(cn):
    """A DN as ipsecd, swanctl and ipsec.conf write it."""
    return f"C=US, O={ORG}, CN={cn}"


def key_args(kind):
    if kind == "rsa":
        return ["-newkey", "rsa:3072"]
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


class Pki:
    """CAs and certificates in FOLDER: NAME.pem, NAME.key, NAME.p12."""

    def __init__(self, folder):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)

    def path(self, name, ext):
        return os.path.join(self.dir, f"{name}.{ext}")

    def ca(self, name, kind):
        openssl("req", "-x509", "-new", "-nodes", *key_args(kind),
                "-keyout", self.path(name, "key"), "-out", self.path(name, "pem"),
                "-days", "2", "-subj", f"/C=US/O={ORG}/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return name

    def cert(self, name, kind, ca, names, address):
        """End entity NAME (CN=NAME) issued by CA, with subjectAltNames
        NAME and each of NAMES (DNS) and ADDRESS (IP)."""
        ext = self.path(name, "ext")
        sans = ",".join(f"DNS:{n}" for n in [name, *names]) + f",IP:{address}"
        with open(ext, "w") as f:
            f.write(f"subjectAltName={sans}\n"
                    "keyUsage=critical,digitalSignature\n"
                    "basicConstraints=CA:FALSE\n")
        openssl("req", "-new", "-nodes", *key_args(kind),
                "-keyout", self.path(name, "key"), "-out", self.path(name, "csr"),
                "-subj", f"/C=US/O={ORG}/CN={name}")
        openssl("x509", "-req", "-in", self.path(name, "csr"),
                "-CA", self.path(ca, "pem"), "-CAkey", self.path(ca, "key"),
                "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
                "-days", "2", "-extfile", ext, "-out", self.path(name, "pem"))
        openssl("pkcs12", "-export", "-inkey", self.path(name, "key"),
                "-in", self.path(name, "pem"), "-name", name,
                "-passout", f"pass:{P12_PASSWORD}", "-out", self.path(name, "p12"))
        return name


def make_pki(net):
    a, b = net.host("a"), net.host("b")
    pki = Pki(os.path.join(net.tmpdir, "pki"))
    cas = {"ec": pki.ca("Test EC CA", "ec"), "rsa": pki.ca("Test RSA CA", "rsa")}
    pki.ca("Rogue CA", "ec")
    for side, host in (("a", a), ("b", b)):
        for kind in ("ec", "rsa"):
            name = f"{side}-{kind}.test"
            pki.cert(name, kind, cas[kind], [f"i.{name}", f"r.{name}"],
                     host.ip4)
        name = f"{side}-rogue.test"
        pki.cert(name, "ec", "Rogue CA", [f"i.{name}", f"r.{name}"], host.ip4)
    return pki


def ipsecd_nss(d, pki, certs, cas):
    """What an admin does: certificates with their keys by pk12util, CAs
    by certutil, into the daemon's database sql:<state-dir>/nss."""
    db = f"sql:{os.path.join(d.state_dir, 'nss')}"
    os.makedirs(os.path.join(d.state_dir, "nss"), mode=0o700, exist_ok=True)
    if not os.path.exists(os.path.join(d.state_dir, "nss", "cert9.db")):
        nss_run(["certutil", "-N", "--empty-password", "-d", db])
    for name in certs:
        nss_run(["pk12util", "-i", pki.path(name, "p12"), "-d", db,
                 "-W", P12_PASSWORD])
    for name in cas:
        nss_run(["certutil", "-A", "-d", db, "-n", name, "-t", ",,", "-a",
                 "-i", pki.path(name, "pem")])


# --- configuration errors and reload ------------------------------------------

def config_errors(net, d, pki):
    """Bad uses of the certificate keys: each file refused, naming the key."""
    a, b = net.host("a"), net.host("b")
    good = Ipsecd.psk_conn(a, b, auth="pubkey", local_cert="a-ec.test",
                           remote_ca="Test EC CA")
    cases = {
        "nocert": ({**good, "local-cert": "nobody.test"},
                   ["nocert.conf", "“local-cert”", "nobody.test"]),
        "nokey": ({**good, "local-cert": "Test EC CA"},
                  ["nokey.conf", "“local-cert”", "no private key"]),
        "twokeys": ({**good, "local-key": "/nonexistent.pem"},
                    ["twokeys.conf", "“local-cert”", "local-key"]),
        "twotrusts": ({**good, "remote-pubkey": "MFkw"},
                      ["twotrusts.conf", "“remote-ca”", "remote-pubkey"]),
        "pinandca": ({**good, "remote-cert": "b-ec.test"},
                     ["pinandca.conf", "“remote-cert”", "remote-ca"]),
        "notca": ({**good, "remote-ca": "a-rsa.test"},
                  ["notca.conf", "“remote-ca”", "not a CA"]),
        "nosuchca": ({**good, "remote-ca": "Test EC CA, Nobody CA"},
                     ["nosuchca.conf", "“remote-ca”", "Nobody CA"]),
        "badsend": ({**good, "send-cert": "sometimes"},
                    ["badsend.conf", "“send-cert”", "sometimes"]),
        "sendnocert": ({**Ipsecd.psk_conn(a, b), "send-cert": "always"},
                       ["sendnocert.conf", "“send-cert”", "local-cert"]),
        "certpsk": ({**Ipsecd.psk_conn(a, b), "local-cert": "a-ec.test"},
                    ["certpsk.conf", "“local-cert”", "local-auth=pubkey"]),
        "baddn": ({**good, "remote-id": "C=US, XYZ=ipsecd, CN=b"},
                  ["baddn.conf", "“remote-id”", "distinguished name"]),
    }
    mark = d.mark()
    for name, (conf, _) in cases.items():
        d.add(name, conf, psk="Jq7-wVd2xK9pLm4sT8bZ0cRf6yHn3uAe"
              if conf.get("local-auth") == "psk" else None)
    d.reload()
    d.wait_event("reload", since=mark)
    errors = [r["message"] for r in d.events("config-error", since=mark)]
    for name, (_, words) in cases.items():
        found = [m for m in errors if f"/{name}.conf:" in m]
        check(len(found) == 1 and all(w in found[0] for w in words),
              f"config: {name} refused naming {words[1:]}: {found}")
        d.remove(name)
    secrets = os.path.join(d.config_dir, "secrets")
    for name in os.listdir(secrets):
        os.unlink(os.path.join(secrets, name))


def reload_picks_up_cert(net, d, pki):
    """A connection whose certificate is not in the database yet is refused;
    after pk12util and SIGHUP it loads."""
    a, b = net.host("a"), net.host("b")
    conf = Ipsecd.psk_conn(a, b, auth="pubkey", local_cert="a-rogue.test",
                           remote_ca="Test EC CA", local_id="@x.a-rogue.test",
                           remote_id="@x.b-ec.test")
    mark = d.mark()
    d.add("late", conf)
    d.reload()
    d.wait_event("reload", since=mark)
    refused = [r["message"] for r in d.events("config-error", since=mark)
               if "late.conf" in r["message"]]
    check(len(refused) == 1 and "a-rogue.test" in refused[0],
          f"reload: a missing certificate is named: {refused}")
    ipsecd_nss(d, pki, ["a-rogue.test"], [])
    mark = d.mark()
    d.reload()
    d.wait_event("reload", since=mark)
    added = d.events("config-change", connection="late", since=mark)
    check(not d.events("config-error", since=mark) and added,
          "reload: after pk12util the connection loads")
    d.remove("late")


# --- the peers ----------------------------------------------------------------

class StrongSwan:
    name = "strongSwan"

    def __init__(self, host, pki):
        # level 1 still logs each authentication; 2 would log every payload
        self.d = Charon(host, debug=1).start()
        self.certs = {}
        cas = [pki.path(n, "pem") for n in ("Test EC CA", "Test RSA CA")]
        for name in ("b-ec.test", "b-rsa.test", "b-rogue.test"):
            self.certs[name] = self.d.add_credentials(
                cert=pki.path(name, "pem"), key=pki.path(name, "key"), cas=cas)

    def add(self, conn, b, a, cert, lid, rid):
        self.d.load(Charon.cert_conn(conn, b, a, self.certs[cert], lid, rid,
                                     proposals=IKE[1]), name=conn)

    def initiate(self, conn):
        proc = self.d.swanctl("--initiate", "--ike", conn, "--timeout", "1",
                              check=False, timeout=20)
        return proc.returncode == 0

    def established(self, conn):
        return self.d.ike_state(conn) == "ESTABLISHED"

    def gone(self, conn):
        return self.d.ike_state(conn) is None

    def signed_with(self, kind):
        """Did it verify ipsecd's AUTH with that kind of key?"""
        want = "ECDSA" if kind == "ec" else "RSA"
        return any("authentication of" in line and "successful" in line
                   and want in line for line in self.d.log_text().splitlines())

    def tail(self):
        return self.d.log_text()[-6000:]


class Libreswan:
    name = "libreswan"

    def __init__(self, host, pki):
        self.d = Pluto(host)
        self.d.import_certs(
            p12s=[(pki.path(n, "p12"), P12_PASSWORD)
                  for n in ("b-ec.test", "b-rsa.test", "b-rogue.test")],
            cas=[(n, pki.path(n, "pem")) for n in ("Test EC CA", "Test RSA CA")])
        self.d.start()

    def add(self, conn, b, a, cert, lid, rid):
        self.d.load(Pluto.cert_conn(conn, b, a, cert,
                                    local_id=lid or "%fromcert",
                                    remote_id=rid or "%fromcert",
                                    authby="rsasig" if "rsa" in cert else "ecdsa",
                                    ike=IKE[2]))

    def initiate(self, conn):
        return self.d.whack("--name", conn, "--initiate", "--asynchronous",
                            check=False).returncode == 0

    def established(self, conn):
        return self.d.ike_established(conn)

    def gone(self, conn):
        return not self.d.ike_established(conn)

    def signed_with(self, kind):
        want = "ECDSA" if kind == "ec" else "RSA"
        return any("authenticated" in line and want in line
                   for line in self.d.log_text().splitlines())

    def tail(self):
        return self.d.log_text()[-6000:]


# --- one handshake --------------------------------------------------------------

# (label, key type, ipsecd's certificate, the peer's, ipsecd's local-id,
#  its remote-id, the peer's local id (None: its DN), the peer's remote id,
#  what ipsecd must log as the peer's identity; None for a refusal).
# Identities differ per connection: a responder finds the connection by the
# peer's identity, and INITIAL_CONTACT clears SAs with the same ones.
def cases(role):
    r, init = role[0], role == "initiator"
    return [
        # ipsecd: its certificate's DN by default, the peer's FQDN
        ("ecdsa", "ec", "a-ec.test", "b-ec.test", None, f"@{r}.b-ec.test",
         f"@{r}.b-ec.test", dn("a-ec.test"), f"@{r}.b-ec.test"),
        # initiating, the peer's DN as ipsecd's remote-id
        ("rsa3072", "rsa", "a-rsa.test", "b-rsa.test", f"@{r}.a-rsa.test",
         dn("b-rsa.test") if init else f"@{r}.b-rsa.test",
         None if init else f"@{r}.b-rsa.test", f"@{r}.a-rsa.test",
         dn("b-rsa.test") if init else f"@{r}.b-rsa.test"),
        # initiating, ipsecd shows a rogue certificate the peer refuses;
        # responding, ipsecd refuses the peer's
        ("rogue", "ec",
         "a-rogue.test" if init else "a-ec.test",
         "b-ec.test" if init else "b-rogue.test",
         f"@{r}.a-rogue.test" if init else None,
         f"@{r}.b-ec.test" if init else f"@{r}.b-rogue.test",
         f"@{r}.b-ec.test" if init else f"@{r}.b-rogue.test",
         f"@{r}.a-rogue.test" if init else dn("a-ec.test"),
         None),
    ]


def bring_up(net, d, peer, role, case):
    a, b = net.host("a"), net.host("b")
    label, kind, ours, theirs, lid, rid, peer_lid, peer_rid, _ = case
    conn = f"{role[0]}-{label}"
    peer.add(conn, b, a, theirs, peer_lid, peer_rid)
    d.add(conn, Ipsecd.psk_conn(
        a, b, auth="pubkey", ike=IKE[0], local_cert=ours,
        remote_ca="Test EC CA, Test RSA CA", local_id=lid, remote_id=rid,
        auto="start" if role == "initiator" else "add"))
    started = time.monotonic()
    with net.capture("udp port 500 or udp port 4500") as cap:
        mark = d.reload()
        d.wait_event("reload", since=mark)
        rec = d.await_ike(conn, mark, EVENT_TIMEOUT,
                          initiate=(lambda: peer.initiate(conn)) if role == "responder" else None,
                          peer_up=lambda: peer.established(conn))
    return conn, rec, cap, time.monotonic() - started


def wire(cap):
    """Every IKE datagram (IPv4 here) as (src, dst, exchange, response flag,
    first payload), from one tshark run: it takes a second or more."""
    rows = cap.fields("ip.src", "ip.dst", "isakmp.exchangetype",
                      "isakmp.flag_r", "isakmp.nextpayload",
                      display_filter="isakmp")
    return [(r[0], r[1], r[2], r[3], r[4].split(",")[0]) for r in rows]


def fragments_from(rows, src):
    """IKE_AUTH datagrams from SRC whose first payload is SKF."""
    return [r for r in rows if r[0] == src and r[2] == IKE_AUTH and r[4] == SKF]


def success_case(net, d, peer, role, case):
    a, b = net.host("a"), net.host("b")
    label, kind, want_id = case[0], case[1], case[8]
    conn, rec, cap, took = bring_up(net, d, peer, role, case)
    up = rec is not None and rec["IPSECD_EVENT"] == "ike-up"
    check(up, f"{label} {role}: ipsecd logged ike-up for {conn} ({took:.2f}s): "
          f"{rec['message'] if rec else 'nothing'}")
    if not up:
        return
    check(rec.get("IPSECD_LOCAL_AUTH") == "pubkey"
          and rec.get("IPSECD_REMOTE_AUTH") == "pubkey"
          and rec.get("IPSECD_AUTHENTICATED") == "yes",
          f"{label} {role}: certificates both ways, peer authenticated")
    check(rec.get("IPSECD_REMOTE_ID") == want_id,
          f"{label} {role}: peer identity {rec.get('IPSECD_REMOTE_ID')!r} == {want_id!r}")
    check(peer.established(conn), f"{label} {role}: {peer.name} has the IKE SA")
    check(peer.signed_with(kind),
          f"{label} {role}: {peer.name} verified a {kind.upper()} signature")
    rows = wire(cap)
    src, dst = (a.ip4, b.ip4) if role == "initiator" else (b.ip4, a.ip4)
    for exchange, what in ((IKE_SA_INIT, "IKE_SA_INIT"), (IKE_AUTH, "IKE_AUTH")):
        check(exchange_seen(rows, src, dst, exchange, False)
              and exchange_seen(rows, dst, src, exchange, True),
              f"{label} {role}: wire: {what} {src} -> {dst} and its response")
    ours, theirs = fragments_from(rows, a.ip4), fragments_from(rows, b.ip4)
    if kind == "rsa":
        check(len(ours) > 1, f"{label} {role}: ipsecd's IKE_AUTH went out in "
              f"{len(ours)} SKF fragments")
        check(len(theirs) > 1, f"{label} {role}: {peer.name}'s IKE_AUTH came in "
              f"{len(theirs)} SKF fragments, reassembled by ipsecd")


def refused_case(net, d, peer, role, case):
    label = case[0]
    conn, rec, cap, took = bring_up(net, d, peer, role, case)
    check(rec is not None and rec["IPSECD_EVENT"] == "ike-failed",
          f"{label} {role}: ipsecd logged ike-failed ({took:.2f}s): "
          f"{rec['message'] if rec else 'nothing'}")
    if rec is not None:
        want_from = "peer" if role == "initiator" else "us"
        check(rec.get("IPSECD_NOTIFY") == "AUTHENTICATION_FAILED"
              and rec.get("IPSECD_NOTIFY_FROM") == want_from,
              f"{label} {role}: AUTHENTICATION_FAILED from {want_from} "
              f"(notify {rec.get('IPSECD_NOTIFY')} from {rec.get('IPSECD_NOTIFY_FROM')})")
        if role == "responder":
            check("not issued by a configured CA" in rec["message"],
                  f"{label} {role}: ipsecd says why: {rec['message']}")
    check(took < FAIL_BOUND, f"{label} {role}: over within {FAIL_BOUND:g}s")
    time.sleep(0.3)
    check(peer.gone(conn), f"{label} {role}: {peer.name} has no IKE SA")
    check(not d.events("ike-up", conn), f"{label} {role}: ipsecd has no IKE SA")
    check(any(r[2] == IKE_AUTH for r in wire(cap)), f"{label} {role}: IKE_AUTH on the wire")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("strongswan", "libreswan"):
        print(__doc__.split("\n\n")[1])
        return 2
    which = sys.argv[1]
    import peers
    if which == "strongswan":
        peers.require_strongswan()
    else:
        peers.require_libreswan()
    started = time.monotonic()
    with Network(hosts=2) as net:
        pki = make_pki(net)
        print(f"pki: {time.monotonic() - started:.1f}s", flush=True)
        d = Ipsecd(net.host("a"))
        ipsecd_nss(d, pki, ["a-ec.test", "a-rsa.test"],
                   ["Test EC CA", "Test RSA CA"])
        peer = None
        try:
            d.start()
            config_errors(net, d, pki)
            reload_picks_up_cert(net, d, pki)
            peer = (StrongSwan if which == "strongswan" else Libreswan)(
                net.host("b"), pki)
            for role in ("initiator", "responder"):
                for case in cases(role):
                    (success_case if case[8] else refused_case)(
                        net, d, peer, role, case)
            check(d.stop() == 0, "ipsecd exited 0 on SIGTERM")
        except (PeerError, ipsecd.IpsecdError, TimeoutError) as e:
            check(False, f"unexpected: {e}")
        finally:
            if check.failures:
                print("--- ipsecd log (tail)\n" + d.tail(60))
                if peer is not None:
                    print(f"--- {peer.name} log (tail)\n" + peer.tail())
    print(f"{which}: {time.monotonic() - started:.1f}s")
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
