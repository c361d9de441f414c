#!/usr/bin/python3
"""interop suite smoke test: the real peers of tests/lib/peers.py work.

strongSwan (host a) and libreswan (host b) establish a childless IKEv2 SA
with a pre-shared key: both sides must report the IKE SA established, and
the capture on the wire must show IKE_SA_INIT and IKE_AUTH, request and
response, between the two addresses.  Then the same over IPv6 with a PSK
that differs between the sides must fail, with AUTHENTICATION_FAILED, and
leave no SA on either side.  (No Child SA: this kernel may lack ESP.)
"""
import secrets
import sys

import common

common.require_root()
common.require_tools("ip", "ss", "dumpcap", "tshark")

import peers  # noqa: E402

peers.require_strongswan()
peers.require_libreswan()

from netns import Network  # noqa: E402
from peers import Charon, Pluto, PeerError  # noqa: E402

IKE_SA_INIT, IKE_AUTH = "34", "35"
failures = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)
    return ok


def psk():
    """A fresh strong PSK for each run (32 random URL-safe characters)."""
    return secrets.token_urlsafe(24)


def established(net, sw, ls):
    a, b = net.host("a"), net.host("b")
    key = psk()
    ls.load(Pluto.psk_conn("ls-sw", b, a), Pluto.psk_secret(b, a, key))
    sw.load(Charon.psk_conn("sw-ls", a, b, key), name="sw-ls")

    with net.capture("udp port 500 or udp port 4500") as cap:
        try:
            sw.initiate(ike="sw-ls", timeout=10)
            check(True, "strongSwan initiated sw-ls")
        except PeerError as e:
            check(False, f"strongSwan initiated sw-ls: {e}")
    sa = sw.list_sas("sw-ls").get("sw-ls", {})
    check(sa.get("state") == "ESTABLISHED",
          f"strongSwan: IKE SA ESTABLISHED (state {sa.get('state')})")
    check(sa.get("remote-host") == b.ip4 and sa.get("remote-id") == b.ip4,
          f"strongSwan: peer is {b.ip4}")
    check(sa.get("child-sas") == {}, "strongSwan: childless")
    check(ls.ike_established("ls-sw"),
          f"libreswan: IKE SA established ({ls.states('ls-sw')})")

    rows = cap.fields("ip.src", "ip.dst", "udp.dstport",
                      "isakmp.exchangetype", "isakmp.flag_r",
                      display_filter="isakmp")
    for exchange, label in ((IKE_SA_INIT, "IKE_SA_INIT"),
                            (IKE_AUTH, "IKE_AUTH")):
        request = any(r[0] == a.ip4 and r[1] == b.ip4 and r[2] in ("500", "4500")
                      and r[3] == exchange and r[4] == "0" for r in rows)
        response = any(r[0] == b.ip4 and r[1] == a.ip4 and r[3] == exchange
                       and r[4] == "1" for r in rows)
        check(request and response,
              f"wire: {label} request a->b and response b->a")
    if failures:
        print(cap.summary())


def wrong_psk(net, sw, ls):
    a, b = net.host("a"), net.host("b")
    ls.load(Pluto.psk_conn("bad-ls", b, a, family=6),
            Pluto.psk_secret(b, a, psk(), family=6))
    sw.load(Charon.psk_conn("bad-sw", a, b, psk(), family=6), name="bad-sw")
    mark = len(sw.log_text())
    with net.capture("udp port 500 or udp port 4500") as cap:
        ok = sw.initiate(ike="bad-sw", timeout=10, check=False)
    check(not ok, "IPv6, PSKs differ: strongSwan's initiate fails")
    check(sw.ike_state("bad-sw") is None, "strongSwan: no IKE SA bad-sw")
    check(not ls.ike_established("bad-ls"), "libreswan: no IKE SA bad-ls")
    check("received AUTHENTICATION_FAILED notify" in sw.log_text()[mark:],
          "strongSwan was told AUTHENTICATION_FAILED")
    check(cap.count(f"ipv6.src == {a.ip6} && isakmp.exchangetype == "
                    f"{IKE_AUTH}") >= 1, "wire: IKE_AUTH over IPv6")


def main():
    with Network(hosts=2) as net:
        sw = Charon(net.host("a")).start()
        ls = Pluto(net.host("b")).start()
        try:
            established(net, sw, ls)
            wrong_psk(net, sw, ls)
        finally:
            if failures:
                print("--- charon.log (tail)\n" + peers._tail(sw.log, 60))
                print("--- pluto.log (tail)\n" + peers._tail(ls.log, 60))
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
