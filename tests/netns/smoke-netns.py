#!/usr/bin/python3
"""netns suite smoke test: tests/lib/netns.py works and cleans up after itself.

Three hosts on one wire ping each other over IPv4 and IPv6; a capture on the
wire must show every echo request and reply; afterwards no namespace and no
process of the test may remain -- also when the test is stopped by SIGTERM
(as meson does on a timeout) while background processes are running.
"""
import os
import signal
import subprocess
import sys

import common

common.require_root()
common.require_tools("ip", "ss", "dumpcap", "tshark")

from netns import Network, list_namespaces, pid_alive, wait_for  # noqa: E402

failures = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)
    return ok


def echo_seen(rows, src, dst, family):
    """Request SRC->DST and reply DST->SRC both in ROWS from the capture."""
    if family == 4:
        req = ("ip", src.ip4, dst.ip4, "8")
        rep = ("ip", dst.ip4, src.ip4, "0")
    else:
        req = ("ipv6", src.ip6, dst.ip6, "128")
        rep = ("ipv6", dst.ip6, src.ip6, "129")
    return req in rows and rep in rows


def pings_and_capture():
    with Network(hosts=3) as net:
        created = net.namespaces()
        tmpdir = net.tmpdir
        check(set(created) <= set(list_namespaces()),
              f"namespaces exist: {' '.join(created)}")
        check(all(str(os.getpid()) in ns for ns in created),
              "namespace names carry the test's pid")
        a, b, c = net.hosts
        check(a.ip4 == "192.0.2.1" and c.ip6 == "2001:db8::3",
              "addresses from the documentation ranges")
        check(all(h.ping("127.0.0.1") and h.ping("::1") for h in net.hosts),
              "loopback up in every host")

        # daemons: one tracked per host, plus a grandchild nobody tracks
        daemons = [h.popen(["sleep", "300"]) for h in net.hosts]
        c.popen(["sh", "-c", "sleep 300 & wait"])

        with net.capture("icmp or icmp6") as cap:
            for src, dst in ((a, b), (b, c), (c, a)):
                for family in (4, 6):
                    check(src.ping(dst.address(family)),
                          f"ping {src.name} -> {dst.name} "
                          f"{dst.address(family)}")
        rows = set()
        for row in cap.fields("ip.src", "ip.dst", "icmp.type",
                              "ipv6.src", "ipv6.dst", "icmpv6.type"):
            row = row + ("",) * (6 - len(row))
            if row[0]:
                rows.add(("ip",) + row[0:3])
            if row[3]:
                rows.add(("ipv6",) + row[3:6])
        for src, dst in ((a, b), (b, c), (c, a)):
            for family in (4, 6):
                check(echo_seen(rows, src, dst, family),
                      f"capture has echo request and reply {src.name} <-> "
                      f"{dst.name} over IPv{family}")
        check(cap.count("eth.type == 0x88b5") == 0,
              "capture markers stripped from the pcap")

        # the wire namespace itself has no address and forwards only
        wire_addrs = subprocess.run(
            ["ip", "-n", net.wire, "-o", "addr", "show", "dev", "br0"],
            capture_output=True, text=True).stdout
        check("inet" not in wire_addrs, "wire bridge has no address")

        pids = net.pids() | {p.pid for p in daemons} | {cap.proc.pid}
        check(len(net.pids()) >= 5, f"processes in the hosts: {sorted(net.pids())}")
    return created, pids, tmpdir


def stopped_by_sigterm():
    """A test holding a Network (and a daemon in it) gets SIGTERM."""
    code = (
        "import sys, time\n"
        "from netns import Network\n"
        "with Network(hosts=2) as net:\n"
        "    p = net.host('a').popen(['sleep', '300'])\n"
        "    print(' '.join(net.namespaces()), p.pid, flush=True)\n"
        "    time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code],
                             stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ,
                                      PYTHONPATH=os.path.dirname(common.__file__)))
    line = child.stdout.readline().split()
    if not check(len(line) >= 3, "child test set up its network"):
        child.kill()
        child.wait()
        return
    names, pid = line[:-1], int(line[-1])
    child.send_signal(signal.SIGTERM)
    try:
        status = child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        status = child.wait()
    check(status == 128 + signal.SIGTERM,
          f"SIGTERMed test exits {128 + signal.SIGTERM} (got {status})")
    check(not set(names) & set(list_namespaces()),
          "SIGTERM: its namespaces are gone")
    check(not pid_alive(pid), "SIGTERM: its daemon is gone")


def main():
    created, pids, tmpdir = pings_and_capture()
    left = set(created) & set(list_namespaces())
    check(not left, f"no namespace left after the with block {sorted(left)}")
    try:
        wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=5,
                 what="processes to disappear")
    except TimeoutError:
        pass
    alive = sorted(p for p in pids if pid_alive(p))
    check(not alive, f"no process left after the with block {alive}")
    check(not os.path.exists(tmpdir), "temporary folder removed")
    stopped_by_sigterm()
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
