#!/usr/bin/python3
"""netns suite: the XFRM driver against this host's kernel (XFRM, maybe no ESP).

Everything goes through xfrm-tool (tests/xfrm/xfrm-tool.c, our driver from
the command line) inside fresh network namespaces, and is checked with
iproute2's own reading of the kernel (`ip -s xfrm policy/state`):

  policies   drop, pass and trap policies with priorities, ports and
             lifetimes; index tags; EXISTS on a clash; update keeps the index
  ours only  a foreign policy and a foreign larval SA (made with `ip xfrm`)
             are neither listed, deleted, updated nor flushed
  allocspi   SPIs inside the requested range, distinct, carrying our reqid
  acquire    a UDP packet (IPv4, then IPv6) hitting our trap policy is an
             ACQUIRE event with the packet's flow, our reqid and index; one
             hitting a foreign trap policy is not reported
  expire     a policy lifetime gives soft then hard POLEXPIRE; a larval SA
             reaching net.core.xfrm_acq_expires gives a hard EXPIRE
  larval     net.core.xfrm_larval_drop read and set per namespace
  no ESP     on a kernel without ESP, adding any ESP SA (and the probe) fails
             with the clear NO_ESP error; with ESP, the SA reads back

Skips (77) without root or iproute2.
"""
import os
import re
import subprocess
import sys
import time

import common
from netns import Network, wait_for

TOOL = os.environ.get("IPSECD_XFRM_TOOL") or os.path.join(common.build_root(), "tests/xfrm/xfrm-tool")
REQID = 0x5EC00010
GCM_KEY = "0x" + "11" * 20
CBC_KEY, SHA256_KEY = "0x" + "22" * 16, "0x" + "33" * 32


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def tool(host, *args, ok=True):
    proc = host.run([TOOL, *args], check=False, timeout=30)
    if ok and proc.returncode != 0:
        raise Fail(f"xfrm-tool {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    if not ok and proc.returncode == 0:
        raise Fail(f"xfrm-tool {' '.join(args)} should have failed: {proc.stdout.strip()}")
    return proc


def policies(host):
    """`ip -s xfrm policy` as a list of dicts (one per policy)."""
    out, blocks = host.ip("-s", "xfrm", "policy"), []
    for line in out.splitlines():
        if line.startswith("src "):
            blocks.append({"sel": line.split(" uid")[0].strip(), "text": line})
        elif blocks:
            blocks[-1]["text"] += "\n" + line
    for b in blocks:
        m = re.search(r"dir (\w+) action (\w+) index (\d+) priority (\d+)", b["text"])
        b["dir"], b["action"], b["index"], b["prio"] = m[1], m[2], int(m[3]), int(m[4])
        m = re.search(r"reqid (\d+)(?:\(0x[0-9a-f]+\))? mode (\w+)", b["text"])
        b["reqid"], b["mode"] = (int(m[1]), m[2]) if m else (None, None)
    return blocks


def by_sel(host, sel):
    found = [p for p in policies(host) if p["sel"] == sel]
    return found[0] if found else None


def index_of(proc):
    return int(re.search(r"index=(0x[0-9a-f]+)", proc.stdout)[1], 16)


def test_policies(a):
    drop = index_of(tool(a, "add-policy", "dir=out", "src=10.0.0.0/8", "dst=10.1.0.0/16",
                         "action=drop", "prio=100"))
    pas = index_of(tool(a, "add-policy", "dir=in", "src=10.1.0.0/16", "dst=10.0.0.0/8",
                        "action=pass", "prio=200", "proto=6", "dport=22"))
    trap = index_of(tool(a, "add-policy", "dir=out", "src=0.0.0.0/0", "dst=198.51.100.0/24",
                         "action=trap", "prio=300", f"reqid={REQID}"))
    p = by_sel(a, "src 10.0.0.0/8 dst 10.1.0.0/16")
    check(p and p["action"] == "block" and p["prio"] == 100 and p["index"] == drop
          and p["dir"] == "out", f"drop policy as iproute2 reads it: {p}")
    p = by_sel(a, "src 10.1.0.0/16 dst 10.0.0.0/8 proto tcp dport 22")
    check(p and p["action"] == "allow" and p["reqid"] is None and p["index"] == pas
          and p["dir"] == "in", f"pass policy: {p}")
    p = by_sel(a, "src 0.0.0.0/0 dst 198.51.100.0/24")
    check(p and p["action"] == "allow" and p["reqid"] == REQID and p["mode"] == "transport"
          and "proto esp" in p["text"] and p["prio"] == 300, f"trap policy: {p}")
    for index, d in ((drop, 1), (pas, 0), (trap, 1)):
        check(index >> 24 == 0x5E and index & 7 == d, f"index 0x{index:08x} tagged, dir {d}")

    err = tool(a, "add-policy", "dir=out", "src=10.0.0.0/8", "dst=10.1.0.0/16", "action=pass",
               ok=False).stderr
    check("error EXISTS" in err, f"a second policy with one selector: {err}")
    tool(a, "update-policy", "dir=out", "src=10.0.0.0/8", "dst=10.1.0.0/16", "action=pass",
         "prio=50")
    p = by_sel(a, "src 10.0.0.0/8 dst 10.1.0.0/16")
    check(p["action"] == "allow" and p["prio"] == 50 and p["index"] == drop,
          f"update replaces in place: {p}")
    listed = tool(a, "list-policies").stdout.splitlines()
    check(len(listed) == 3, f"three policies of ours listed: {listed}")
    tool(a, "del-policy", "dir=in", "src=10.1.0.0/16", "dst=10.0.0.0/8", "proto=6", "dport=22")
    check(by_sel(a, "src 10.1.0.0/16 dst 10.0.0.0/8 proto tcp dport 22") is None,
          "deleted policy gone")
    err = tool(a, "del-policy", "dir=in", "src=10.1.0.0/16", "dst=10.0.0.0/8", "proto=6",
               "dport=22", ok=False).stderr
    check("error NOT_FOUND" in err, f"deleting twice: {err}")


def test_ours_only(a):
    a.ip("xfrm", "policy", "add", "src", "10.9.0.0/16", "dst", "10.8.0.0/16", "dir", "out",
         "action", "block", "priority", "7")
    a.ip("xfrm", "state", "allocspi", "src", "192.0.2.9", "dst", "192.0.2.1", "proto", "esp",
         "mode", "transport", "reqid", "5", "min", "0x300", "max", "0x3ff")
    foreign_spi = re.search(r"spi (0x[0-9a-f]+) reqid 5 ", a.ip("xfrm", "state"))[1]
    listed = tool(a, "list-policies").stdout
    check("10.9.0.0" not in listed, f"foreign policy not listed: {listed}")
    check(f"spi=0x{int(foreign_spi, 16):08x}" not in tool(a, "list-sas").stdout,
          "foreign SA not listed")
    for args in (("del-policy", "dir=out", "src=10.9.0.0/16", "dst=10.8.0.0/16"),
                 ("update-policy", "dir=out", "src=10.9.0.0/16", "dst=10.8.0.0/16",
                  "action=pass"),
                 ("del-sa", "dst=192.0.2.1", f"spi={foreign_spi}")):
        err = tool(a, *args, ok=False).stderr
        check("error NOT_OURS" in err, f"{args[0]} on a foreign object: {err}")
    out = tool(a, "flush").stdout
    check("flushed policies=2" in out, f"flush took our two policies: {out}")
    left = policies(a)
    check(len(left) == 1 and left[0]["sel"] == "src 10.9.0.0/16 dst 10.8.0.0/16"
          and left[0]["action"] == "block", f"only the foreign policy is left: {left}")
    check(foreign_spi in a.ip("xfrm", "state"), "the foreign SA is left")


def test_allocspi(a):
    spis = set()
    for _ in range(20):
        out = tool(a, "alloc-spi", "src=192.0.2.2", "dst=192.0.2.1", f"reqid={REQID}",
                   "min=0x1000", "max=0x10ff").stdout
        spis.add(int(re.search(r"spi=(0x[0-9a-f]+)", out)[1], 16))
    check(len(spis) == 20 and all(0x1000 <= s <= 0x10FF for s in spis),
          f"20 distinct SPIs in range: {sorted(map(hex, spis))}")
    state = a.ip("xfrm", "state")
    for s in spis:
        check(re.search(rf"spi 0x{s:08x} reqid {REQID} ", state), f"SPI 0x{s:x} in the kernel")
    info = tool(a, "get-sa", "dst=192.0.2.1", f"spi={min(spis)}").stdout
    check(f"reqid=0x{REQID:08x}" in info, f"GETSA reads the larval SA: {info}")
    out = tool(a, "flush").stdout
    check("sas=20" in out, f"flush took our 20 larval SAs: {out}")
    check(not any(f"spi 0x{s:08x}" in a.ip("xfrm", "state") for s in spis), "SAs gone")


def watch(host, name, count, timeout=10):
    log = os.path.join(host.tmpdir, name)
    proc = host.popen([TOOL, "watch", f"count={count}", f"timeout={timeout}"], log=log)
    wait_for(lambda: os.path.exists(log) and "ready" in open(log).read(), timeout=10,
             what="xfrm-tool watch ready")
    return proc, log


def finish_watch(host, proc, log, timeout=15):
    status = proc.wait(timeout=timeout)
    host.stop(proc)
    text = open(log).read()
    check(status == 0, f"watch ended with {status}: {text}")
    return [line for line in text.splitlines() if line != "ready"]


def send_udp(host, dst, port):
    family = "AF_INET6" if ":" in dst else "AF_INET"
    code = (f"import socket; s = socket.socket(socket.{family}, socket.SOCK_DGRAM)\n"
            f"try: s.sendto(b'x', ({dst!r}, {port}))\nexcept OSError: pass")
    host.run([sys.executable, "-c", code])


def test_acquire(a, b):
    a.ip("xfrm", "policy", "add", "src", a.ip4, "dst", b.ip4, "proto", "udp", "dport", "9998",
         "dir", "out", "tmpl", "proto", "esp", "mode", "transport", "reqid", "5")
    index = index_of(tool(a, "add-policy", "dir=out", f"src={a.ip4}/32", f"dst={b.ip4}/32",
                          "proto=17", "dport=9999", "action=trap", f"reqid={REQID}"))
    index6 = index_of(tool(a, "add-policy", "dir=out", f"src={a.ip6}/128", f"dst={b.ip6}/128",
                           "proto=17", "dport=9999", "action=trap", f"reqid={REQID + 1}"))
    proc, log = watch(a, "acquire.log", 2)
    send_udp(a, b.ip4, 9998)    # the foreign trap: not ours to report
    send_udp(a, b.ip4, 9999)
    send_udp(a, b.ip6, 9999)
    lines = finish_watch(a, proc, log)
    check(len(lines) == 2 and all(line.startswith("acquire ") for line in lines),
          f"two ACQUIREs: {lines}")
    for line, src, dst, reqid, idx in ((lines[0], a.ip4, b.ip4, REQID, index),
                                       (lines[1], a.ip6, b.ip6, REQID + 1, index6)):
        ev = dict(kv.split("=", 1) for kv in line.split(" sel=")[0].split()[1:])
        check(ev["src"] == src and ev["dst"] == dst and ev["proto"] == "17"
              and ev["dport"] == "9999" and ev["sport"] != "0", f"the packet's flow: {ev}")
        check(int(ev["reqid"], 16) == reqid and int(ev["index"], 16) == idx
              and ev["dir"] == "1", f"our trap's reqid, index, direction: {ev}")


def test_expire(a):
    a.ip("xfrm", "policy", "flush")
    index = index_of(tool(a, "add-policy", "dir=out", "src=10.5.0.0/16", "dst=10.6.0.0/16",
                          "action=pass", "soft-seconds=1", "hard-seconds=2"))
    proc, log = watch(a, "polexpire.log", 2)
    lines = finish_watch(a, proc, log)
    check([line.split()[0] for line in lines] == ["polexpire", "polexpire"]
          and "hard=0" in lines[0] and "hard=1" in lines[1]
          and all(f"index=0x{index:08x}" in line for line in lines),
          f"soft then hard POLEXPIRE of our shunt: {lines}")
    check(by_sel(a, "src 10.5.0.0/16 dst 10.6.0.0/16") is None, "the kernel removed it")

    a.run(["sysctl", "-q", "-w", "net.core.xfrm_acq_expires=1"])
    proc, log = watch(a, "expire.log", 1)
    spi = re.search(r"spi=(0x[0-9a-f]+)", tool(a, "alloc-spi", "src=192.0.2.2", "dst=192.0.2.1",
                                                f"reqid={REQID}").stdout)[1]
    lines = finish_watch(a, proc, log)
    check(len(lines) == 1 and lines[0].startswith("expire ") and f"spi={spi}" in lines[0]
          and "hard=1" in lines[0] and f"reqid=0x{REQID:08x}" in lines[0],
          f"hard EXPIRE of the larval SA {spi}: {lines}")


def test_larval_drop(a, b):
    check(tool(a, "larval-drop").stdout.strip() == "1", "the kernel's default is 1")
    check(tool(a, "larval-drop", "value=0").stdout.strip() == "0", "set to 0")
    got = a.run(["sysctl", "-n", "net.core.xfrm_larval_drop"]).stdout.strip()
    check(got == "0", f"sysctl reads 0 in that namespace: {got}")
    got = b.run(["sysctl", "-n", "net.core.xfrm_larval_drop"]).stdout.strip()
    check(got == "1", f"another namespace keeps its own: {got}")


def test_esp(a):
    probe = tool(a, "probe", ok=False) if not has_esp(a) else None
    sas = [("encr=20", "bits=128", f"ekey={GCM_KEY}"),
           ("encr=28", "ekey=0x" + "44" * 36),
           ("encr=12", "bits=128", f"ekey={CBC_KEY}", "integ=12", f"ikey={SHA256_KEY}")]
    for n, suite in enumerate(sas):
        args = ("add-sa", "src=192.0.2.1", "dst=192.0.2.2", f"spi={0x4000 + n}",
                f"reqid={REQID}", "mode=tunnel") + suite
        if probe is not None:
            err = tool(a, *args, ok=False).stderr
            check("error NO_ESP" in err and "the kernel lacks ESP support" in err,
                  f"clear NO_ESP error for {suite[0]}: {err}")
        else:
            tool(a, *args)
            info = tool(a, "get-sa", "dst=192.0.2.2", f"spi={0x4000 + n}").stdout
            check(f"{suite[0]} " in info, f"SA reads back: {info}")
    if probe is not None:
        check("error NO_ESP" in probe.stderr, f"probe says NO_ESP: {probe.stderr}")
        check("192.0.2.2" not in a.ip("xfrm", "state"), "nothing half-installed")
    return probe is None


def has_esp(host):
    return host.run([TOOL, "probe"], check=False).returncode == 0


def main():
    common.require_root()
    common.require_tools("ip", "sysctl")
    if not os.access(TOOL, os.X_OK):
        common.skip(f"{TOOL} not built")
    start = time.monotonic()
    with Network(hosts=2) as net:
        a, b = net.hosts
        for name, fn in (("policies", lambda: test_policies(a)),
                         ("ours-only", lambda: test_ours_only(a)),
                         ("allocspi", lambda: test_allocspi(a)),
                         ("acquire", lambda: test_acquire(a, b)),
                         ("expire", lambda: test_expire(a)),
                         ("larval-drop", lambda: test_larval_drop(a, b)),
                         ("esp", lambda: print("  kernel has ESP:", test_esp(b)))):
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
