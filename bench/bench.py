"""scripts/bench: ipsecd beside strongSwan's charon in the same run.

See bench/README.md for what each row measures and how; bench/RESULTS.md
for a recorded run.  Never a pass/fail test: it prints a table and writes
JSON, whatever the numbers are.
"""
import argparse
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import time

import common
import oe
import sides
import status
from netns import Network
from sides import BenchError

SOURCES = "198.51.100.1-198.51.100.254"
SOURCE_NET = "198.51.100.0/24"
PROFILE = None  # --profile DIR


def versions():
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    dpkg = ["dpkg-query", "-W", "-f=${Version}"]
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "nss": cmd(dpkg + ["libnss3"]),
            "strongswan": cmd(dpkg + ["strongswan-charon"]),
            "ipsecd": cmd([os.path.join(common.build_root(), "service",
                                        "ipsecd"), "--version"]),
            "glib": cmd(dpkg + ["libglib2.0-0"])}


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def add_sources(init, resp):
    """SOURCES on the initiator's eth0 (as /32s, one batch) and the route
    back to them on the responder."""
    first, last = SOURCES.split("-")
    base, a, b = first.rsplit(".", 1)[0], int(first.rsplit(".", 1)[1]), \
        int(last.rsplit(".", 1)[1])
    batch = "".join(f"addr add {base}.{i}/32 dev eth0\n"
                    for i in range(a, b + 1))
    subprocess.run(["ip", "-n", init.ns, "-batch", "-"], input=batch,
                   text=True, check=True)
    resp.ip("route", "add", SOURCE_NET, "via", init.ip4)


def make_responder(kind, resp, auth, psk, keys, build):
    if kind == "ipsecd":
        return sides.IpsecdResponder(resp, os.path.join(build, "service",
                                                        "ipsecd"),
                                     auth, psk, keys)
    return sides.CharonResponder(resp, auth, psk, keys)


def rate_row(net, kind, auth, n, psk, keys, build, extra=None):
    """One responder, one auth method: a warm-up, then N IKE SAs with 32 in
    flight.  EXTRA(resp, driver, result) runs before the responder stops
    (the memory and scaling rows ride on the PSK run)."""
    resp_host, init = net.host("resp"), net.host("init")
    resp = make_responder(kind, resp_host, auth, psk, keys, build).start()
    driver = sides.Driver(init, os.path.join(build, "bench", "ike-load"),
                          resp_host.ip4, auth, psk, keys, [SOURCES])
    try:
        sides.measure(resp, driver, 64)
        sides.wait_settled(resp.pid)
        with sides.Profile(resp.pid, PROFILE, f"{kind}-{auth}"):
            result = sides.measure(resp, driver, n)
        result["warmup"] = 64
        if extra is not None:
            extra(resp, driver, result)
        return result
    finally:
        driver.quit()
        resp.stop()


def scaling(args):
    """The memory and rate-at-10k measurements after the PSK rate run:
    fill the responder up to args.held established SAs, read its resident
    memory, then time another args.n."""
    def extra(resp, driver, result):
        sides.wait_settled(resp.pid)
        held = result["warmup"] + result["up"]
        rss0 = sides.rss_kib(resp.pid)
        fill = sides.measure(resp, driver, args.held - held)
        sides.wait_settled(resp.pid)
        rss1 = sides.rss_kib(resp.pid)
        result["mem"] = {"held": args.held, "rss_kib_before": rss0,
                         "rss_kib_after": rss1, "added": fill["up"],
                         "kib_per_sa": (rss1 - rss0) / fill["up"]}
        if hasattr(resp, "ike_sa_count"):
            result["mem"]["responder_reports"] = resp.ike_sa_count()
        again = sides.measure(resp, driver, args.n)
        result["at_held"] = again
        result["at_held_ratio"] = again["rate"] / result["rate"]
    return extra


def run_rate_rows(net, args, psk, keysets, results):
    rows = [("psk", args.n), ("ecdsa", args.n_ecdsa), ("rsa", args.n_rsa)]
    for auth, n in rows:
        if auth not in args.rows:
            continue
        for kind in ("ipsecd", "strongswan"):
            extra = scaling(args) if auth == "psk" and args.held else None
            print(f"bench: {kind} responder, {auth}, N={n} ...",
                  file=sys.stderr, flush=True)
            results["rates"].setdefault(auth, {})[kind] = rate_row(
                net, kind, auth, n, psk, keysets.get(auth), args.build,
                extra)


def ratio(a, b):
    return a / b if a and b else None


def fmt(value, unit="", digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def table(results):
    rates, rows = results["rates"], []
    names = {"psk": "IKE SAs/s, PSK / X25519 / AES-GCM",
             "ecdsa": "IKE SAs/s, ECDSA P-256 (raw keys) / X25519",
             "rsa": "IKE SAs/s, RSA-3072 (raw keys) / X25519"}
    targets = {"psk": 3.0, "ecdsa": 3.0, "rsa": 2.0}
    for auth, name in names.items():
        if auth in rates:
            a, b = rates[auth]["ipsecd"], rates[auth]["strongswan"]
            r = ratio(a["rate"], b["rate"])
            rows.append((f"{name} (N={a['n']})", fmt(a["rate"]),
                         fmt(b["rate"]), fmt(r, "x", 2),
                         f">= {targets[auth]:g}x", r is not None
                         and r >= targets[auth]))
    if "psk" in rates:
        a, b = rates["psk"]["ipsecd"], rates["psk"]["strongswan"]
        r = ratio(a["resp_cpu_us_per_sa"], b["resp_cpu_us_per_sa"])
        rows.append(("responder CPU per IKE SA (PSK)",
                     fmt(a["resp_cpu_us_per_sa"], " us"),
                     fmt(b["resp_cpu_us_per_sa"], " us"), fmt(r, "x", 2),
                     "<= 0.33x", r is not None and r <= 1 / 3))
        if "mem" in a:
            rows.append((f"resident memory per IKE SA at {a['mem']['held']:,}",
                         fmt(a["mem"]["kib_per_sa"], " KiB", 2),
                         fmt(b["mem"]["kib_per_sa"], " KiB", 2),
                         fmt(ratio(a["mem"]["kib_per_sa"],
                                   b["mem"]["kib_per_sa"]), "x", 2),
                         "<= 4 KiB", a["mem"]["kib_per_sa"] <= 4))
            rows.append((f"rate at {a['mem']['held']:,} SAs vs at 0",
                         fmt(100 * a["at_held_ratio"], " %", 1),
                         fmt(100 * b["at_held_ratio"], " %", 1), "",
                         ">= 90 %", a["at_held_ratio"] >= 0.9))
    for row in results["other"]:
        rows.append(row)
    head = ("row", "ipsecd", "strongSwan", "ratio", "target", "met")
    cells = [head] + [(r[0], r[1], r[2], r[3], r[4],
                       "yes" if r[5] is True else "no" if r[5] is False
                       else r[5]) for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(6)]
    lines = []
    for i, c in enumerate(cells):
        lines.append("  ".join(str(v).ljust(widths[j]) if j == 0 else
                               str(v).rjust(widths[j]) if j < 5 else str(v)
                               for j, v in enumerate(c)))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    p.add_argument("--output", "-o", default=os.path.join(
        common.source_root(), "bench", "results.json"))
    p.add_argument("--build", default=common.build_root())
    p.add_argument("-n", type=int, default=3000, help="PSK row N")
    p.add_argument("--n-ecdsa", type=int, default=1000)
    p.add_argument("--n-rsa", type=int, default=500)
    p.add_argument("--held", type=int, default=10000,
                   help="established SAs for the memory row (0: skip)")
    p.add_argument("--status-connections", type=int, default=1000)
    p.add_argument("--oe-trials", type=int, default=30,
                   help="OE first-packet trials per daemon (at most "
                   f"{oe.TARGET_COUNT - oe.WARMUP})")
    p.add_argument("--vm-trials", type=int, default=10,
                   help="OE first-ping trials per daemon in the VM")
    p.add_argument("--profile", metavar="DIR",
                   help="perf record each responder's timed run into DIR")
    p.add_argument("--rows", default="psk,ecdsa,rsa,oe,vm,status",
                   type=lambda s: s.split(","))
    args = p.parse_args(argv)
    if not 1 <= args.oe_trials <= oe.TARGET_COUNT - oe.WARMUP:
        p.error(f"--oe-trials: 1 to {oe.TARGET_COUNT - oe.WARMUP}")
    if not 1 <= args.vm_trials < oe.TARGET_COUNT:
        p.error(f"--vm-trials: 1 to {oe.TARGET_COUNT - 1}")
    return args


def main(argv):
    global PROFILE
    args = parse_args(argv)
    PROFILE = args.profile
    common.require_root()
    started = time.monotonic()
    results = {"machine": versions(), "load_before": load_average(),
               "settings": {"inflight": 32, "sources": SOURCES,
                            "ike": sides.IPSECD_IKE,
                            "measured": "the responder"},
               "rates": {}, "other": []}
    psk = secrets.token_urlsafe(32)
    with Network(hosts=["resp", "init"]) as net:
        add_sources(net.host("init"), net.host("resp"))
        keysets = {kind: sides.make_keys(net.tmpdir, kind)
                   for kind in ("ecdsa", "rsa") if kind in args.rows}
        run_rate_rows(net, args, psk, keysets, results)
    results["other"] += oe.rows(args, results)
    results["other"] += status.rows(args, results)
    results["load_after"] = load_average()
    results["seconds"] = time.monotonic() - started
    text = table(results)
    m = results["machine"]
    print(f"\n{m['cpu']} ({m['cores']} cores), kernel {m['kernel']}, NSS "
          f"{m['nss']}, strongSwan {m['strongswan']}, {m['ipsecd']}")
    print(f"load average before {results['load_before']}, after "
          f"{results['load_after']}; {results['seconds']:.0f} s\n")
    print(text)
    results["table"] = text
    with open(args.output, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(1)
