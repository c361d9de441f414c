#!/usr/bin/python3
"""interop suite: ipsecd's configuration, reload and kernel modes, with two
ipsecd on the wire.

  - bad connection files are each reported once, naming file, key and why,
    and skipped; the good ones load (docs/ipsecd.conf.5.md);
  - a secrets file that group or others may read is refused;
  - SIGHUP reports added, changed and removed connections;
  - two ipsecd with raw ECDSA P-256 public keys (local-key PKCS#8 PEM,
    remote-pubkey SPKI base64) establish an IKE SA with a Child SA; the one
    in the test-only --record-kernel mode records it (no keys in the
    record), the other says that kernel SA installation is not available
    and reports the Child SA as failed instead of pretending, then deletes
    it on the other side (INFORMATIONAL Delete), which removes it.
"""
import base64
import os
import subprocess
import sys

import common

common.require_root()
common.require_tools("ip", "ss", "dumpcap", "tshark", "openssl")

import ipsecd  # noqa: E402

ipsecd.require_ipsecd()

from ipsecd import IKE_AUTH, Checks, Ipsecd, exchange_seen, isakmp_rows  # noqa: E402
from netns import Network  # noqa: E402

PSK = "Jq7-wVd2xK9pLm4sT8bZ0cRf6yHn3uAe"
check = Checks()


def bad_files(d, a, b):
    """name -> (connection text, the words its error must contain)."""
    good = Ipsecd.psk_conn(a, b)
    cases = {
        "typo": ({**good, "remtoe": "x"}, ["typo.conf", "remtoe", "unknown key"]),
        "badike": ({**good, "ike": "aes999-sha256-x25519"}, ["badike.conf", "“ike”"]),
        "weakike": ({**good, "ike": "3des-sha1-modp1024"}, ["weakike.conf", "“ike”"]),
        "badaddr": ({**good, "remote": "192.0.2.300"}, ["badaddr.conf", "“remote”",
                                                        "not an IPv4 or IPv6"]),
        "badid": ({**good, "remote-id": "%bogus"}, ["badid.conf", "“remote-id”"]),
        "badts": ({**good, "local-ts": "192.0.2.0/33"}, ["badts.conf", "“local-ts”"]),
        "badauto": ({**good, "auto": "sometimes"}, ["badauto.conf", "“auto”"]),
        "nokey": ({**good, "local-auth": "pubkey"}, ["nokey.conf", "“local-key”"]),
        "nopsk": (good, ["nopsk.psk", "cannot open"]),
        "weakpsk": (good, ["weakpsk", "refused"]),
        "openpsk": (good, ["openpsk.psk", "group or others"]),
    }
    for name, (conf, _) in cases.items():
        psk = None if name == "nopsk" else ("aaaaaaaaaaaaaaaaaaaaaaaa"
                                            if name == "weakpsk" else PSK)
        d.add(name, conf, psk=psk)
    os.chmod(os.path.join(d.config_dir, "secrets", "openpsk.psk"), 0o644)
    with open(os.path.join(d.config_dir, "connections", "broken.conf"), "w") as f:
        f.write("[connection\nremote=1\n")
    cases["broken"] = (None, ["broken.conf"])
    return cases


def config_errors(net):
    a, b = net.hosts
    d = Ipsecd(a, name="config")
    d.add("good", Ipsecd.psk_conn(a, b), psk=PSK)
    cases = bad_files(d, a, b)
    d.start()
    start = d.events("start")[0]
    check("1 connections" in start["message"],
          f"only the good connection loaded: {start['message']}")
    errors = [r["message"] for r in d.events("config-error")]
    check(len(errors) == len(cases), f"{len(errors)} errors for {len(cases)} bad files")
    for name, (_, words) in cases.items():
        hits = [e for e in errors if all(w in e for w in words)]
        check(len(hits) == 1, f"{name}: one error naming {words}: {hits or errors}")
    check(PSK not in d.log_text() and "aaaaaaaaaaaa" not in d.log_text(),
          "no PSK in the log")
    check(d.events("record-kernel"), "the record mode warns at start")

    # reload: one removed, one changed, one added
    d.remove("typo")
    d.add("good", {**Ipsecd.psk_conn(a, b), "dpd-delay": "30s"}, psk=PSK)
    d.add("fresh", Ipsecd.psk_conn(a, b, family=6), psk=PSK)
    d.remove("badike")
    mark = d.reload()
    d.wait_event("reload", since=mark)
    changes = {r["IPSECD_CONNECTION"]: r["IPSECD_CHANGE"]
               for r in d.events("config-change", since=mark)}
    check(changes == {"good": "changed", "fresh": "added"},
          f"SIGHUP: good changed, fresh added ({changes})")
    d.remove("fresh")
    mark = d.reload()
    d.wait_event("reload", since=mark)
    changes = {r["IPSECD_CONNECTION"]: r["IPSECD_CHANGE"]
               for r in d.events("config-change", since=mark)}
    check(changes == {"fresh": "removed"}, f"SIGHUP: fresh removed ({changes})")
    check(d.stop() == 0, "ipsecd exits 0 on SIGTERM")


def make_key(directory, name):
    """An ECDSA P-256 key: (PKCS#8 PEM path, SPKI in base64)."""
    pem = os.path.join(directory, f"{name}.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", pem], check=True,
                   capture_output=True)
    os.chmod(pem, 0o600)
    spki = subprocess.run(["openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER"],
                          check=True, capture_output=True).stdout
    return pem, base64.b64encode(spki).decode()


def pubkey_pair(net):
    a, b = net.hosts
    ours = Ipsecd(a, name="responder", record=False)
    theirs = Ipsecd(b, name="initiator")
    key_a, spki_a = make_key(ours.dir, "a")
    key_b, spki_b = make_key(theirs.dir, "b")
    ours.add("pk", {**Ipsecd.psk_conn(a, b, auth="pubkey", childless=False,
                                      ike="aes_gcm16_256-prfsha256-ecp256"),
                    "local-key": key_a, "remote-pubkey": spki_b,
                    "local-id": "@a.test", "remote-id": "@b.test"})
    theirs.add("pk", {**Ipsecd.psk_conn(b, a, auth="pubkey", childless=False,
                                        auto="start",
                                        ike="aes_gcm16_256-prfsha256-ecp256"),
                      "local-key": key_b, "remote-pubkey": "0s" + spki_a,
                      "local-id": "@b.test", "remote-id": "@a.test",
                      "mode": "tunnel"})
    ours.start()
    with net.capture("udp port 500 or udp port 4500") as cap:
        theirs.start()
        up = theirs.wait_any(("ike-up", "ike-failed"), timeout=10)
        mine = ours.wait_any(("ike-up", "ike-failed"), timeout=10)
        child = ours.wait_any(("child-up", "child-failed"), timeout=10)
        their_child = theirs.wait_any(("child-up", "child-failed"), timeout=10)
    check(up["IPSECD_EVENT"] == "ike-up" and up["IPSECD_REMOTE_AUTH"] == "pubkey"
          and up["IPSECD_AUTHENTICATED"] == "yes",
          f"pubkey: initiator ike-up, peer authenticated: {up['message']}")
    check(mine["IPSECD_EVENT"] == "ike-up" and mine["IPSECD_REMOTE_ID"] == "@b.test",
          f"pubkey: responder ike-up with @b.test: {mine['message']}")
    check(not ours.events("record-kernel"), "no record mode: no test-mode warning")
    check(child["IPSECD_EVENT"] == "child-failed"
          and "not available" in child.get("IPSECD_REASON", ""),
          f"no XFRM driver: the Child SA is reported failed: {child['message']}")
    check(ours.events("kernel-failed"), "no XFRM driver: the install is refused in the log")
    check(their_child["IPSECD_EVENT"] == "child-up",
          f"record mode: the initiator's Child SA is up: {their_child['message']}")
    # the responder could not install it, so it deletes it on the initiator
    gone = theirs.wait_any(("child-down",), timeout=10)
    check(gone.get("IPSECD_SPI_IN") == their_child.get("IPSECD_SPI_IN"),
          f"the responder deleted the Child SA it could not install: {gone['message']}")
    records = theirs.kernel_records()
    check([r["op"] for r in records] == ["install", "remove"]
          and all(r["spi_in"] == their_child.get("IPSECD_SPI_IN") for r in records)
          and records[0]["mode"] == "tunnel",
          f"record mode: the install, then its removal, with the event's SPI ({records})")
    fields = {k for r in records for k in r}
    check(not any(("key" in k and k != "key_bits") or "secret" in k for k in fields),
          f"the record has no keys ({sorted(fields)})")
    rows = isakmp_rows(cap)
    check(exchange_seen(rows, b.ip4, a.ip4, IKE_AUTH, False)
          and exchange_seen(rows, a.ip4, b.ip4, IKE_AUTH, True),
          "wire: IKE_AUTH b -> a and back")
    check(theirs.stop() == 0 and ours.events("ike-down"),
          "SIGTERM on one side: the other logs ike-down")
    ours.stop()


def main():
    with Network(hosts=2) as net:
        try:
            config_errors(net)
            pubkey_pair(net)
        except (ipsecd.IpsecdError, TimeoutError) as e:
            check(False, f"unexpected: {e}")
        if check.failures:
            for name in ("config", "responder", "initiator"):
                for host in net.hosts:
                    path = os.path.join(host.tmpdir, name, "ipsecd.log")
                    if os.path.exists(path):
                        print(f"--- {host.name}/{name}\n" + open(path).read()[-4000:])
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
