#!/usr/bin/python3
"""netns suite: policy/'s footprint on this host's kernel, through policy-tool
(tests/policy/policy-tool.c: the library and the real XFRM driver).

Three hosts on a wire; host a gets group files and applies them:

  footprint  `ip -s xfrm policy` shows each group's actions in both
             directions, with the priorities of policy_priority(), the
             loopback and neighbour-discovery bypasses, and nothing for
             clear-or-private
  idempotent a second apply changes nothing (same indexes, same add times)
  reload     one line changed: only its two policies are replaced, the
             others keep their index and add time
  acquire    UDP to a `private` host (IPv4 and IPv6) is an ACQUIRE that
             decides "initiate OE, hold, drop on failure", and none of it
             crosses the wire in clear; UDP to a `clear` host does (control)
  inbound    plaintext from the `private` host is refused; from the `clear`
             host it is delivered (control)

Skips (77) without root, iproute2 or dumpcap/tshark.
"""
import os
import re
import subprocess
import sys
import time

import common
from netns import Network, wait_for

TOOL = os.environ.get("IPSECD_POLICY_TOOL") or os.path.join(common.build_root(),
                                                            "tests/policy/policy-tool")


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def prio(klass, prefix, bits, proto=False, template=True):
    """policy_priority() of policy.h, restated: a second reading of the rule."""
    classes = {"bypass": 0, "static": 1, "oe-auth": 2, "oe-anon": 3}
    return (0x1000 + classes[klass] * 0x400 + (bits - prefix) * 4 + (0 if proto else 2)
            + (1 if template else 0))


def write_groups(host, groups):
    d = os.path.join(host.tmpdir, "etc")
    os.makedirs(os.path.join(d, "policies"), exist_ok=True)
    for name, text in groups.items():
        with open(os.path.join(d, "policies", name), "w") as f:
            f.write(text)
    return d


def apply(host, d):
    proc = host.run([TOOL, "apply", d], check=False, timeout=30)
    check(proc.returncode == 0, f"policy-tool apply: {proc.returncode}: {proc.stderr.strip()}")
    check("policies/private-or-clear:1: bad CIDR \"this\"" in proc.stderr,
          f"the bad line is reported, the rest applied: {proc.stderr.strip()}")
    return dict(kv.split("=") for kv in proc.stdout.split())


def policies(host):
    """`ip -s xfrm policy` as {(selector, dir): dict}."""
    out, blocks = host.ip("-s", "xfrm", "policy"), []
    for line in out.splitlines():
        if line.startswith("src "):
            blocks.append({"sel": line.split(" uid")[0].strip(), "text": line})
        elif blocks:
            blocks[-1]["text"] += "\n" + line
    found = {}
    for b in blocks:
        m = re.search(r"dir (\w+) action (\w+) index (\d+) priority (\d+)", b["text"])
        b["dir"], b["action"], b["index"], b["prio"] = m[1], m[2], int(m[3]), int(m[4])
        b["tmpl"] = "tmpl " in b["text"]
        m = re.search(r"^\s*add (\S+ \S+)", b["text"], re.M)
        b["added"] = m[1] if m else None
        found[(b["sel"], b["dir"])] = b
    return found


def expect(pols, sel, direction, action, priority, tmpl=False):
    p = pols.get((sel, direction))
    check(p is not None, f"no {direction} policy for {sel}: {sorted(pols)}")
    check(p["action"] == action and p["prio"] == priority and p["tmpl"] == tmpl,
          f"{sel} {direction}: want {action} prio {priority} tmpl {tmpl}: {p['text']}")


def test_footprint(a, b, c, d):
    stats = apply(a, d)
    pols = policies(a)
    check(stats["added"] == str(len(pols)) and stats["removed"] == "0",
          f"first apply adds everything: {stats}, kernel has {len(pols)}")
    p32, p24, p128 = prio("oe-anon", 32, 32), prio("oe-anon", 24, 32), prio("oe-anon", 128, 128)
    expect(pols, f"src 0.0.0.0/0 dst {b.ip4}/32", "out", "allow", p32, tmpl=True)  # private: trap
    expect(pols, f"src {b.ip4}/32 dst 0.0.0.0/0", "in", "allow", p32, tmpl=True)   # ESP required
    expect(pols, f"src ::/0 dst {b.ip6}/128", "out", "allow", p128, tmpl=True)
    expect(pols, "src 0.0.0.0/0 dst 192.0.2.0/24", "out", "allow", p24)           # clear
    expect(pols, "src 192.0.2.0/24 dst 0.0.0.0/0", "in", "allow", p24)
    expect(pols, "src 0.0.0.0/0 dst 198.51.100.0/24", "out", "block", p24)        # block
    expect(pols, "src 198.51.100.0/24 dst 0.0.0.0/0", "in", "block", p24)
    expect(pols, "src 0.0.0.0/0 dst 203.0.113.0/24", "out", "allow", prio("oe-anon", 24, 32))
    expect(pols, "src 203.0.113.0/24 dst 0.0.0.0/0", "in", "allow", prio("oe-anon", 24, 32))
    expect(pols, "src 0.0.0.0/0 dst 127.0.0.0/8", "out", "allow", prio("bypass", 8, 32))
    expect(pols, "src ::1/128 dst ::/0", "in", "allow", prio("bypass", 128, 128))
    check(not any("192.0.2.128/25" in s for s, _ in pols), "clear-or-private installs nothing")
    nd = [k for k in pols if "ipv6-icmp" in k[0]]
    check(len(nd) == 8, f"neighbour discovery bypass, 4 types both ways: {nd}")
    return pols


def test_idempotent(a, d, before):
    stats = apply(a, d)
    check(stats["added"] == stats["updated"] == stats["removed"] == "0"
          and stats["kept"] == str(len(before)), f"second apply does nothing: {stats}")
    after = policies(a)
    check({k: (p["index"], p["added"]) for k, p in after.items()}
          == {k: (p["index"], p["added"]) for k, p in before.items()},
          "same policies, same indexes, same add times")


def test_reload(a, d, before):
    time.sleep(1.1)  # so that a re-added policy would show a later add time
    with open(os.path.join(d, "policies", "clear"), "w") as f:
        f.write("192.0.2.0/25  # was /24\n203.0.113.0/24\n")
    stats = apply(a, d)
    check(stats["added"] == "2" and stats["removed"] == "2" and stats["updated"] == "0",
          f"one line: its two policies: {stats}")
    after = policies(a)
    gone = {k for k in before if k not in after}
    new = {k for k in after if k not in before}
    check({s for s, _ in gone} == {"src 0.0.0.0/0 dst 192.0.2.0/24", "src 192.0.2.0/24 dst 0.0.0.0/0"}
          and {s for s, _ in new} == {"src 0.0.0.0/0 dst 192.0.2.0/25",
                                      "src 192.0.2.0/25 dst 0.0.0.0/0"},
          f"only the changed line: gone {gone}, new {new}")
    for k in before.keys() & after.keys():
        check((before[k]["index"], before[k]["added"]) == (after[k]["index"], after[k]["added"]),
              f"{k} untouched: {before[k]['text']} / {after[k]['text']}")


def send_udp(host, dst, port):
    family = "AF_INET6" if ":" in dst else "AF_INET"
    code = (f"import socket; s = socket.socket(socket.{family}, socket.SOCK_DGRAM)\n"
            f"try: s.sendto(b'plaintext', ({dst!r}, {port}))\nexcept OSError: pass")
    host.run([sys.executable, "-c", code])


def test_acquire(net, a, b, c, d):
    log = os.path.join(a.tmpdir, "acquire.log")
    watch = a.popen([TOOL, "watch", d, "2", "10"], log=log)
    wait_for(lambda: os.path.exists(log) and "ready" in open(log).read(), timeout=10,
             what="policy-tool watch ready")
    with net.capture("udp port 9999") as cap:
        send_udp(a, b.ip4, 9999)
        send_udp(a, b.ip6, 9999)
        send_udp(a, c.ip4, 9999)  # clear: must show up, or the capture proves nothing
        status = watch.wait(timeout=15)
    a.stop(watch)
    lines = [x for x in open(log).read().splitlines() if x.startswith("acquire ")]
    check(status == 0 and len(lines) == 2, f"two ACQUIREs: {open(log).read()}")
    for line, remote in zip(lines, (b.ip4, b.ip6)):
        check(f"initiate=1 group=private local={a.ip4 if '.' in remote else a.ip6} "
              f"remote={remote} negotiation=hold failure=drop" in line, f"decision: {line}")
    check(cap.count(f"ip.dst == {c.ip4}") == 1, f"clear traffic seen: {cap.summary()}")
    leaked = cap.count(f"ip.dst == {b.ip4} || ipv6.dst == {b.ip6}")
    check(leaked == 0, f"no plaintext to the private host: {cap.summary()}")


def test_inbound(a, b, c):
    log = os.path.join(a.tmpdir, "recv.log")
    code = ("import socket, sys\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 9998))\n"
            "s.settimeout(3); print('ready', flush=True)\n"
            "try:\n"
            "    while True: print('from', s.recvfrom(100)[1][0], flush=True)\n"
            "except socket.timeout: pass\n")
    recv = a.popen([sys.executable, "-c", code], log=log)
    wait_for(lambda: "ready" in open(log).read(), timeout=10, what="receiver ready")
    send_udp(b, a.ip4, 9998)
    send_udp(c, a.ip4, 9998)
    recv.wait(timeout=15)
    got = open(log).read()
    check(f"from {c.ip4}" in got, f"clear host delivered (control): {got}")
    check(f"from {b.ip4}" not in got, f"plaintext from the private host refused: {got}")


def main():
    common.require_root()
    common.require_tools("ip", "dumpcap", "tshark")
    if not os.access(TOOL, os.X_OK):
        common.skip(f"{TOOL} not built")
    start = time.monotonic()
    with Network(hosts=3) as net:
        a, b, c = net.hosts
        d = write_groups(a, {
            "private": f"# the peers that must never see clear text\n{b.ip4}\n{b.ip6}\n",
            "clear": "192.0.2.0/24\n203.0.113.0/24\n",
            "block": "198.51.100.0/24\n",
            "clear-or-private": "192.0.2.128/25\n",
            "private-or-clear": "this line is bad\n",
        })
        pols = {}
        for name, fn in (("footprint", lambda: pols.update(test_footprint(a, b, c, d))),
                         ("idempotent", lambda: test_idempotent(a, d, pols)),
                         ("reload", lambda: test_reload(a, d, pols)),
                         ("acquire", lambda: test_acquire(net, a, b, c, d)),
                         ("inbound", lambda: test_inbound(a, b, c))):
            t = time.monotonic()
            fn()
            print(f"ok {name} ({time.monotonic() - t:.1f} s)", flush=True)
    print(f"all passed in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    try:
        main()
    except (Fail, subprocess.SubprocessError) as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
