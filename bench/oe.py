"""The two opportunistic-encryption rows of scripts/bench (issue 7): how long
the first packet to a new peer waits for its SAs, ipsecd beside strongSwan.

Host row: two hosts over veth on this machine's kernel, which has XFRM (trap
policies, ACQUIREs) but no ESP.  The interval is read from the kernel's own
clock (an ftrace instance of ours: syscall and netlink tracepoints), never
from a daemon's log, so neither daemon's bookkeeping can shorten it:

    t0   the trigger's sendto() enters the kernel; the packet hits the trap
         and the kernel sends the ACQUIRE inside that call;
    t1   the initiating daemon's first IKE message leaves (IKE_SA_INIT);
    t2   its second (IKE_AUTH);
    t3   its first netlink request after t2: the Child SA handed to the
         kernel (see bench/README.md for what that request is per daemon).

VM row: the same two hosts inside tests/vm/vm.py (Debian's kernel with ESP,
emulated by qemu TCG): the first ping to a new peer waits for the
negotiation; its RTT minus the median RTT of the pings that follow on the
established SA is the extra time the first packet paid.

Each trial goes to a new address of the responder (192.0.2.10-49), so each
is a fresh ACQUIRE and a fresh IKE SA.
"""
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

import common
import peers
import sides
from netns import Network, wait_for

# the same suite on both daemons: ipsecd's OE default's first choice
IKE = (sides.IPSECD_IKE, sides.CHARON_IKE)
ESP = ("aes_gcm16_256", "aes256gcm16")
COVERED = "192.0.2.0/24"
TARGET_BASE, TARGET_COUNT = "192.0.2.", 40       # .10-.49 on the responder
TARGET_FIRST = 10
SINK_PORT = 9
WARMUP = 2
INIT_CPU, RESP_CPU = "0", "1"
TRACEFS = "/sys/kernel/tracing"
TRIAL_TIMEOUT = 5.0
# strongSwan 5.9.8 has no RFC 7619 NULL authentication: its side uses one
# PSK for any peer, which costs the same (one prf MAC each way)
PSK = "bench-oe-not-a-secret-0123456789abcdef"
CHARON_LEVELS = {"default": 1, "ike": 1, "cfg": 1, "enc": 0, "net": 0,
                 "knl": 1}

# One UDP datagram per address read on stdin: the first packet of a trial.
TRIGGER = """\
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for line in sys.stdin:
    s.sendto(b"first", (line.strip(), %d))
    print("sent", flush=True)
""" % SINK_PORT

# Takes the datagrams without answering: an ICMP port unreachable would be
# traffic back to a covered address, and a negotiation of its own.
SINK = """\
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", %d))
time.sleep(100000)
""" % SINK_PORT

# VM: per address, one echo request on an empty path (held while the
# daemons negotiate), then N more on the established SA; one JSON line
# {address: [first RTT, RTT, ...]} in ms (None: no reply in time).
PINGER = """\
import json, os, select, socket, struct, sys, time
n, addrs = int(sys.argv[1]), sys.argv[2:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xFFFF)
    return ~(t + (t >> 16)) & 0xFFFF
def ping(dst, seq, timeout):
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"bench-oe-ping-16"
    h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
    t0 = time.monotonic(); s.sendto(h, (dst, 0))
    while True:
        left = t0 + timeout - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        pkt = s.recv(2048); icmp = pkt[(pkt[0] & 15) * 4:]
        if icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq):
            return (time.monotonic() - t0) * 1000
out, seq = {}, 0
for dst in addrs:
    rtts = []
    for i in range(n + 1):
        seq += 1
        rtts.append(ping(dst, seq, 20.0 if i == 0 else 5.0))
        time.sleep(0.02)
    out[dst] = rtts
    time.sleep(0.2)
print(json.dumps(out), flush=True)
"""


def targets(count):
    """The responder's addresses the trials go to, one each."""
    return [f"{TARGET_BASE}{TARGET_FIRST + i}" for i in range(count)]


def add_targets(resp):
    batch = "".join(f"addr add {a}/24 dev eth0\n"
                    for a in targets(TARGET_COUNT))
    subprocess.run(["ip", "-n", resp.ns, "-batch", "-"], input=batch,
                   text=True, check=True)


def larval_drop_off(host):
    """Packets that hit a trap wait for the SA instead of being dropped:
    ipsecd sets this itself in its namespace (docs/oe.md); strongSwan's
    hosts get the same setting, so the first packet is treated alike."""
    host.run(["sysctl", "-q", "-w", "net.core.xfrm_larval_drop=0"])


def quantile(values, q):
    """Nearest-rank quantile (p99 of 30 values is their maximum)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary(values):
    if not values:
        return {"n": 0}
    return {"n": len(values), "median": statistics.median(values),
            "p99": quantile(values, 0.99), "min": min(values),
            "max": max(values)}


# --- the two daemons ----------------------------------------------------------

class IpsecdOe:
    """ipsecd in both hosts with one group file line and no connection."""

    name = "ipsecd"

    def __init__(self, host, initiator):
        from ipsecd import Ipsecd
        self.host = host
        self.d = Ipsecd(host, name="ipsecd-oe", record=False)
        folder = os.path.join(self.d.config_dir, "policies")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "private-or-clear"), "w") as f:
            f.write(COVERED + "\n")
        with open(os.path.join(self.d.config_dir, "oe.conf"), "w") as f:
            f.write(f"[oe]\nike={IKE[0]}\nesp={ESP[0]}\n")

    def start(self):
        self.d.start(timeout=60)
        return self

    @property
    def pid(self):
        return self.d.proc.pid

    def stop(self):
        self.d.stop(grace=10)


class CharonOe:
    """charon with a trap policy for the covered prefix (initiator) or a
    connection that answers any peer (responder); transport mode, the same
    proposals as ipsecd's instances, PSK for NULL (see PSK)."""

    name = "strongswan"

    def __init__(self, host, initiator):
        self.host, self.initiator = host, initiator
        self.charon = peers.Charon(host, name="charon-oe",
                                   levels=CHARON_LEVELS)

    def _conf(self):
        if self.initiator:
            ends = f"local_addrs = {self.host.ip4}\n\t\tremote_addrs = %any"
            child = (f"local_ts = dynamic\n\t\t\t\tremote_ts = {COVERED}\n"
                     "\t\t\t\tstart_action = trap")
        else:
            ends = "local_addrs = %any\n\t\tremote_addrs = %any"
            child = "local_ts = dynamic\n\t\t\t\tremote_ts = dynamic"
        return f"""\
connections {{
	oe {{
		version = 2
		{ends}
		proposals = {IKE[1]}
		encap = no
		mobike = no
		local {{
			auth = psk
		}}
		remote {{
			auth = psk
		}}
		children {{
			oe {{
				mode = transport
				esp_proposals = {ESP[1]}
				{child}
			}}
		}}
	}}
}}
secrets {{
	ike-oe {{
		secret = "{PSK}"
	}}
}}
"""

    def start(self):
        larval_drop_off(self.host)
        self.charon.start()
        self.charon.load(self._conf(), name="oe")
        return self

    @property
    def pid(self):
        return self.charon.proc.pid

    def stop(self):
        self.charon.stop(grace=10)


DAEMONS = {"ipsecd": IpsecdOe, "strongswan": CharonOe}


def start_pair(kind, net):
    """Responder first, so the initiator's first ACQUIRE finds it."""
    resp = DAEMONS[kind](net.host("resp"), False).start()
    init = DAEMONS[kind](net.host("init"), True).start()
    sides.pin(init.pid, INIT_CPU)
    sides.pin(resp.pid, RESP_CPU)
    return init, resp


# --- kernel-side timestamps ---------------------------------------------------

class KernelTrace:
    """A private ftrace instance (instances/ipsecd-bench-PID) recording,
    with the kernel's monotonic clock, the sendto()/sendmsg() entries and
    netlink error messages of the processes given to follow(), and their
    threads.  Mounts tracefs if nobody has; undoes what it did."""

    EVENTS = ("syscalls/sys_enter_sendto", "syscalls/sys_enter_sendmsg",
              "netlink/netlink_extack")
    _LINE = re.compile(r"^\s*.+?-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[\d+\]\s+\S+"
                       r"\s+([\d.]+):\s+(\w+)(.*)$")

    def __init__(self):
        self.path = os.path.join(TRACEFS, "instances",
                                 f"ipsecd-bench-{os.getpid()}")
        self.mounted = False

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def __enter__(self):
        if not os.path.exists(os.path.join(TRACEFS, "instances")):
            subprocess.run(["mount", "-t", "tracefs", "tracefs", TRACEFS],
                           check=True, capture_output=True)
            self.mounted = True
        os.mkdir(self.path)
        self._write("trace_clock", "mono")
        self._write("options/event-fork", "1")
        self._write("set_event_pid", "")
        for event in self.EVENTS:
            self._write(f"events/{event}/enable", "1")
        return self

    def follow(self, pids):
        """Record only PIDS (all their threads, and threads started later)
        and forget what was recorded so far."""
        tids = []
        for pid in pids:
            tids += os.listdir(f"/proc/{pid}/task")
        self._write("set_event_pid", " ".join(tids))
        self._write("trace", "")

    def events(self):
        """[(seconds, tid, event name, rest of the line)], in order."""
        found = []
        with open(os.path.join(self.path, "trace")) as f:
            for line in f:
                m = self._LINE.match(line)
                if m:
                    found.append((float(m[2]), int(m[1]), m[3], m[4]))
        return sorted(found)

    def __exit__(self, *exc):
        try:
            self._write("tracing_on", "0")
            for event in self.EVENTS:
                self._write(f"events/{event}/enable", "0")
        finally:
            os.rmdir(self.path)
            if self.mounted:
                subprocess.run(["umount", TRACEFS], capture_output=True)
        return False


def trial_marks(events, trigger, t0, until):
    """t1-t3 (module docstring) of the trial that began at T0, from the
    traced EVENTS before UNTIL; None for a mark not (yet) seen."""
    ike, handed = [], None
    for ts, tid, name, _ in events:
        if ts <= t0 or ts >= until or tid == trigger:
            continue
        if name == "sys_sendmsg":
            ike.append(ts)
        elif name == "sys_sendto" and len(ike) >= 2 and handed is None:
            handed = ts
    return (ike[0] if ike else None, ike[1] if len(ike) > 1 else None,
            handed)


def trigger_times(events, trigger):
    return [ts for ts, tid, name, _ in events
            if tid == trigger and name == "sys_sendto"]


def run_host_trials(trace, trigger, addrs):
    """One datagram per address; waits for each trial's t3 (or
    TRIAL_TIMEOUT) before the next.  Returns per trial the marks relative
    to t0, in ms, or None for a trial whose t3 never came."""
    out = []
    for addr in addrs:
        trigger.stdin.write(f"{addr}\n".encode())
        trigger.stdin.flush()
        trigger.stdout.readline()

        def done():
            ev = trace.events()
            starts = trigger_times(ev, trigger.pid)
            if not starts:
                return None
            marks = trial_marks(ev, trigger.pid, starts[-1], float("inf"))
            return (starts[-1], marks) if marks[2] is not None else None
        try:
            t0, marks = wait_for(done, timeout=TRIAL_TIMEOUT, interval=0.005,
                                 what=f"the Child SA for {addr}")
            out.append([(m - t0) * 1000 for m in marks])
        except TimeoutError:
            out.append(None)
        time.sleep(0.2)  # the daemons finish the trial (Deletes, shunts)
    return out


def host_side(kind, n):
    """One daemon kind's host trials in fresh namespaces."""
    addrs = targets(WARMUP + n)
    with Network(hosts=["resp", "init"]) as net:
        resp_host, init_host = net.host("resp"), net.host("init")
        add_targets(resp_host)
        resp_host.popen([sys.executable, "-c", SINK])
        init, resp = start_pair(kind, net)
        trigger = init_host.popen([sys.executable, "-c", TRIGGER],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        try:
            with KernelTrace() as trace:
                trace.follow([init.pid, trigger.pid])
                raw = run_host_trials(trace, trigger, addrs)
        finally:
            init.stop()
            resp.stop()
    return host_result(raw[WARMUP:], n)


def host_result(trials, n):
    ok = [t for t in trials if t is not None]
    return {"trials": n, "warmup": WARMUP, "failed": n - len(ok),
            "acquire_to_sa_ms": summary([t[2] for t in ok]),
            "acquire_to_ike_sa_init_ms": summary([t[0] for t in ok]),
            "ike_sa_init_exchange_ms": summary([t[1] - t[0] for t in ok]),
            "ike_auth_to_sa_ms": summary([t[2] - t[1] for t in ok]),
            "raw_ms": trials}


# --- the VM row ----------------------------------------------------------------

def vm_side(kind, n, pings):
    """Inside the VM: one daemon kind, N trials of PINGER."""
    addrs = targets(1 + n)
    with Network(hosts=["resp", "init"]) as net:
        add_targets(net.host("resp"))
        init, resp = start_pair(kind, net)
        try:
            proc = net.host("init").run(
                [sys.executable, "-c", PINGER, str(pings), *addrs],
                check=False, timeout=60 + 30 * len(addrs))
        finally:
            init.stop()
            resp.stop()
    rtts = json.loads(proc.stdout.strip().splitlines()[-1]) \
        if proc.returncode == 0 and proc.stdout.strip() else {}
    return vm_result([rtts.get(a) for a in addrs[1:]], n)


def vm_result(trials, n):
    """Per trial: first RTT minus the median of the established ones."""
    extra, first, later, failed = [], [], [], 0
    for rtts in trials:
        rest = [r for r in (rtts or [None])[1:] if r is not None]
        if not rtts or rtts[0] is None or not rest:
            failed += 1
            continue
        first.append(rtts[0])
        later += rest
        extra.append(rtts[0] - statistics.median(rest))
    return {"trials": n, "warmup": 1, "failed": failed,
            "extra_ms": summary(extra), "first_rtt_ms": summary(first),
            "established_rtt_ms": summary(later), "raw_ms": trials}


def vm_inside(n, pings):
    """Runs in the guest: both daemons, one JSON line."""
    out = {kind: vm_side(kind, n, pings) for kind in DAEMONS}
    out["kernel"] = os.uname().release
    print(json.dumps(out), flush=True)
    return 0


def vm_row(n, pings):
    """Boots the VM once for both daemons; the guest's JSON, or an error."""
    sys.path.insert(0, os.path.join(common.source_root(), "tests", "vm"))
    import vm
    try:
        vm.check()
        started = time.monotonic()
        r = vm.run([sys.executable, os.path.abspath(__file__), "--vm-inside",
                    str(n), str(pings)], timeout=240, capture=True)
    except vm.VmError as e:
        return {"error": str(e).splitlines()[0]}
    if r.returncode != 0:
        tail = r.stderr.decode(errors="replace").strip().splitlines()[-3:]
        return {"error": f"exit {r.returncode}: {' / '.join(tail)}"}
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    out["seconds"] = time.monotonic() - started
    out["boot_seconds"] = r.boot_seconds
    return out


# --- bench.py's side ------------------------------------------------------------

def ms(s):
    return f"{s['median']:.2f} / {s['p99']:.2f} ms" if s.get("n") else "-"


def ratio_text(a, b):
    return f"{a / b:.2f}x" if a and b else ""


def failures(res):
    bad = {k: res[k]["failed"] for k in DAEMONS if res[k]["failed"]}
    return "".join(f"; {k}: {v} failed" for k, v in bad.items())


def host_table_row(res):
    a, b = res["ipsecd"]["acquire_to_sa_ms"], res["strongswan"]["acquire_to_sa_ms"]
    met = a.get("n", 0) > 0 and a["median"] <= 2 and a["p99"] <= 5
    return ("OE first packet: ACQUIRE to SA handed to the kernel, median / p99",
            ms(a), ms(b), ratio_text(a.get("median"), b.get("median")),
            "<= 2 / 5 ms", ("yes" if met else "no") + failures(res))


def vm_table_row(res):
    name = "OE first ping extra RTT in the VM (emulated), median / p99"
    if "error" in res:
        return (name, "-", "-", "", "(ratio)", f"not measured: {res['error']}")
    a, b = res["ipsecd"]["extra_ms"], res["strongswan"]["extra_ms"]
    return (name, ms(a), ms(b), ratio_text(a.get("median"), b.get("median")),
            "(ratio)", "reported" + failures(res))


def rows(args, results):
    """The table rows asked for in args.rows; details into RESULTS["oe"]."""
    out, detail = [], results.setdefault("oe", {})
    if "oe" in args.rows:
        for kind in DAEMONS:
            print(f"bench: OE first packet, {kind}, {args.oe_trials} trials "
                  "...", file=sys.stderr, flush=True)
            detail.setdefault("host", {})[kind] = host_side(kind,
                                                           args.oe_trials)
        out.append(host_table_row(detail["host"]))
    if "vm" in args.rows:
        print(f"bench: OE first ping in the VM, {args.vm_trials} trials per "
              "daemon ...", file=sys.stderr, flush=True)
        detail["vm"] = vm_row(args.vm_trials, VM_PINGS)
        out.append(vm_table_row(detail["vm"]))
    return out


VM_PINGS = 5

if __name__ == "__main__" and sys.argv[1:2] == ["--vm-inside"]:
    sys.exit(vm_inside(int(sys.argv[2]), int(sys.argv[3])))
