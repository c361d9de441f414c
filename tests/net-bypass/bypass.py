#!/usr/bin/python3
"""IKE sockets are never caught by IPsec policies (service/net/).

Two hosts on a wire, each with a global policy that requires ESP for every
UDP packet in and out (there is no SA, so such packets cannot leave).  An
ordinary UDP socket then cannot reach the other host (the control); the
sockets of service/net/, with their per-socket bypass policies, still
exchange datagrams on the IKE port and, behind the non-ESP marker, on the
NAT-T port, over IPv4 and IPv6."""
import os
import sys

from common import build_root, require_root, require_tools
from netns import Network, wait_for

PROBE = os.path.join(build_root(), "tests", "net-bypass", "net-probe")
IKE_PORT, NATT_PORT = 5500, 5501


def require_esp_for_udp(host):
    for any_net in ("0.0.0.0/0", "::/0"):
        for direction in ("out", "in"):
            host.ip("xfrm", "policy", "add", "src", any_net, "dst", any_net, "proto", "udp",
                    "dir", direction, "tmpl", "proto", "esp", "mode", "transport",
                    "level", "required")


def probe(host, peer, port, *flags):
    proc = host.run([PROBE, "send", peer, str(port), "--timeout-ms", "1500", *flags], check=False)
    return proc.returncode, proc.stdout.strip()


def start_server(host, port, *flags):
    proc = host.popen([PROBE, "serve", str(port), *flags], log=f"serve-{port}.log")
    host.wait_udp(port)
    return proc


def main():
    require_root()
    require_tools("ip", "ss")
    failures = []
    with Network(hosts=2) as net:
        a, b = net.host("a"), net.host("b")
        start_server(b, IKE_PORT)
        start_server(b, NATT_PORT, "--natt")

        rc, out = probe(a, b.ip4, IKE_PORT, "--plain")
        if rc != 0:
            failures.append(f"without policies a plain socket must get through: {rc} {out}")

        require_esp_for_udp(a)
        require_esp_for_udp(b)
        rc, out = probe(a, b.ip4, IKE_PORT, "--plain")
        if rc == 0:
            failures.append("with ESP required, a plain UDP socket still got through")
        else:
            print(f"ok: control: a plain UDP socket is blocked by the policy ({out})")

        for family, peer in ((4, b.ip4), (6, b.ip6)):
            for port, flags in ((IKE_PORT, ()), (NATT_PORT, ("--natt",))):
                rc, out = probe(a, peer, port, *flags)
                what = f"IPv{family} port {port}{' NAT-T' if flags else ''}"
                if rc != 0:
                    failures.append(f"bypass socket, {what}: {rc} {out}")
                else:
                    print(f"ok: bypass socket passes the ESP-only policy, {what}")

        log = wait_for(lambda: open(os.path.join(b.tmpdir, f"serve-{NATT_PORT}.log")).read(),
                       what="the NAT-T server's log")
        if "received 17 bytes" not in log:
            failures.append(f"NAT-T server did not see the marker stripped: {log!r}")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
