"""The row beside the handshake rates and OE (bench/oe.py): `ipsecctl
--json status` with many connections beside `swanctl --list-conns` with as
many."""
import json
import os
import re
import secrets
import statistics
import subprocess
import tempfile
import time


RUNS = 15


def timed(argv, env=None, runs=RUNS):
    """Median wall time of ARGV in milliseconds over RUNS runs (after one
    untimed run), and the last run's output."""
    out = subprocess.run(argv, env=env, capture_output=True, text=True,
                         check=True)
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        out = subprocess.run(argv, env=env, capture_output=True, text=True,
                             check=True)
        times.append((time.monotonic() - t0) * 1000)
    return statistics.median(times), out.stdout


def ipsecd_status(n):
    import buslib
    from ipsecd import Ipsecd
    with tempfile.TemporaryDirectory(prefix="ipsecd-bench-") as tmp:
        os.makedirs(os.path.join(tmp, "bus"))
        with buslib.Bus(os.path.join(tmp, "bus")) as bus:
            return _ipsecd_status(bus, tmp, n)


def _ipsecd_status(bus, tmp, n):
    import buslib
    from ipsecd import Ipsecd
    d = Ipsecd(buslib.LocalHost(tmp), record=True,
               args=["--bus=system", "--ike-port", str(buslib.free_port()),
                     "--natt-port", str(buslib.free_port())])
    psk = secrets.token_urlsafe(32)
    for i in range(n):
        d.add(f"c{i}", f"[connection]\nremote=198.51.100.{i % 250 + 1}\n"
              f"local=127.0.0.1\nlocal-auth=psk\nlocal-id=@c{i}.example\n"
              "childless=yes\n", psk=psk)
    d.start(timeout=60)
    buslib.wait_bus_name(bus, d)
    try:
        ms, out = timed([buslib.ipsecctl_binary(), "--json", "status"])
    finally:
        d.stop()
    return ms, len(json.loads(out)["connections"])


def charon_conns(n):
    import peers
    from netns import Network
    conns = "".join(f"""
	c{i} {{
		remote_addrs = 198.51.100.{i % 250 + 1}
		local {{
			auth = psk
			id = @c{i}.example
		}}
		remote {{
			auth = psk
		}}
	}}""" for i in range(n))
    with Network(hosts=["sw"]) as net:
        charon = peers.Charon(net.host("sw"), levels={"default": -1})
        charon.start()
        charon.load(f"connections {{{conns}\n}}\n", name="many")
        argv = charon.host.command(["swanctl", "--list-conns", "--uri",
                                    charon.uri])
        ms, out = timed(argv, env=charon.env)
        charon.stop()
        return ms, len(re.findall(r"^\S+: IKE", out, re.M))


def status_row(n):
    a, got_a = ipsecd_status(n)
    b, got_b = charon_conns(n)
    note = (f"ipsecctl --json status listed {got_a}, swanctl --list-conns "
            f"{got_b}")
    return ([(f"ipsecctl --json status, {n:,} conns (swanctl --list-conns)",
              f"{a:.1f} ms", f"{b:.1f} ms", f"{a / b:.2f}x", "< 50 ms",
              a < 50)],
            {"connections": n, "ipsecctl_ms": a, "swanctl_ms": b,
             "note": note})


def rows(args, results):
    out = []
    if "status" in args.rows:
        row, detail = status_row(args.status_connections)
        results["status"] = detail
        out += row
    return out
