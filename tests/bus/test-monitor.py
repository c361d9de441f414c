#!/usr/bin/python3
"""bus suite: `ipsecctl monitor` follows the daemon live.

Two ipsecd in network namespaces, the one on the private bus in the
test-only --record-kernel mode (this host has no ESP), so that its Child
SAs appear on the bus.  Two monitors run meanwhile, one with --json: each
change made through ipsecctl must come out as one line with a timestamp:

  connection added, settings changed, state changes (connecting, up, down,
  failed with its LastError), IKE SA up with peer and algorithms, Child SA
  up with its SPIs, IKE SA down, connection removed;

SIGINT ends a monitor with 0; the daemon stopping ends one with 7 after a
single daemon-gone line (its objects going are not reported one by one).
"""
import datetime
import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import common

common.require_root()
common.require_tools("ip", "gdbus")

import buslib  # noqa: E402
import ipsecd  # noqa: E402
from buslib import PSK, ipsecctl  # noqa: E402
from ipsecd import Ipsecd  # noqa: E402
from netns import Network  # noqa: E402

buslib.require()
ipsecd.require_ipsecd()
check = buslib.Checks()
IKE = "aes_gcm16_256-prfsha384-ecp384"
HUMAN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ")


class Monitor:
    """ipsecctl [--json] monitor with its lines read into a queue."""

    def __init__(self, json_lines):
        argv = [buslib.ipsecctl_binary()] + (["--json"] if json_lines else []) + ["monitor"]
        self.json = json_lines
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = queue.Queue()
        self.seen = []
        self.backlog = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout=10.0):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is not None:
            self.seen.append(line)
        return json.loads(line) if self.json and line is not None else line

    def wait(self, predicate, what, timeout=15.0):
        """The first line PREDICATE accepts, in any order (the daemon may
        announce an SA's Child SA and its connection's state in either
        order); a line is accepted once.  None if none comes."""
        deadline = time.monotonic() + timeout
        for i, item in enumerate(self.backlog):
            if predicate(item):
                return self.backlog.pop(i)
        while time.monotonic() < deadline:
            item = self.next(timeout=max(0.1, deadline - time.monotonic()))
            if item is None and self.proc.poll() is not None:
                break
            if item is not None and predicate(item):
                return item
            if item is not None:
                self.backlog.append(item)
        print(f"     (no line for {what}; lines so far: {self.seen[-8:]})")
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def event(name, **fields):
    return lambda e: e["event"] == name and all(e.get(k) == v for k, v in fields.items())


def add(name, conf, psk):
    r = ipsecctl("add", name, *[f"{k}={v}" for k, v in conf.items() if v is not None],
                 "psk=" + psk)
    check(r.returncode == 0, f"ipsecctl add {name} ({r.stderr.strip()})")


def lifecycle(net, js, human):
    a, b = net.hosts
    first = js.next()
    check(first is not None and first["event"] == "watching" and first["connections"] == 0,
          f"the first line says what is watched ({first})")
    stamp = first and datetime.datetime.fromisoformat(first["time"])
    check(stamp and stamp.tzinfo is not None
          and abs(stamp.timestamp() - time.time()) < 60, f"an ISO 8601 time ({first})")
    check(HUMAN.match(human.next() or ""), f"human lines start with the time ({human.seen})")
    add("child", Ipsecd.psk_conn(a, b, ike=IKE, childless=False, local_id="@a.child",
                                 remote_id="@b.child", local_ts="203.0.113.0/24",
                                 remote_ts="198.51.100.0/24"), PSK)
    e = js.wait(event("connection-added", connection="child"), "connection-added")
    check(e and e["state"] == "down", f"connection-added with its state ({e})")
    ipsecctl("modify", "child", "dpd-delay=30s")
    check(js.wait(event("settings", connection="child"), "settings"), "settings changed")
    r = ipsecctl("up", "child")
    check(r.returncode == 0, f"up child ({r.stdout.strip()} {r.stderr.strip()})")
    check(js.wait(event("state", connection="child", state="connecting"), "connecting"),
          "state connecting")
    e = js.wait(event("sa-up", connection="child"), "sa-up")
    check(e and e["peer"] == b.address(4) and e["port"] == 500 and e["ike"] == IKE
          and e["initiator"] is True and e["remote-identity"] == "@b.child",
          f"sa-up: peer, port, algorithms, role, identity ({e})")
    e = js.wait(event("child-up", connection="child"), "child-up")
    child = e["child"] if e else {}
    check(child.get("spi-in") and child.get("spi-out") and child.get("mode") == "tunnel"
          and child.get("esp"), f"child-up: SPIs, mode and ESP suite ({child})")
    check(js.wait(event("state", connection="child", state="up"), "state up"), "state up")
    ipsecctl("down", "child")
    e = js.wait(event("sa-down", connection="child"), "sa-down")
    check(e and e["peer"] == b.address(4), f"sa-down with the peer ({e})")
    check(js.wait(event("state", connection="child", state="down"), "state down"), "state down")


def failure(net, js):
    a, b = net.hosts
    add("wrong", Ipsecd.psk_conn(a, b, ike=IKE), PSK[::-1])
    js.wait(event("connection-added", connection="wrong"), "connection-added wrong")
    ipsecctl("up", "wrong")
    e = js.wait(event("state", connection="wrong", state="failed"), "failed")
    check(e and e["last-error"], f"state failed with its last error ({e})")
    ipsecctl("delete", "wrong")
    check(js.wait(event("connection-removed", connection="wrong"), "connection-removed"),
          "connection-removed")


def human_lines(human):
    human.proc.send_signal(signal.SIGINT)
    try:
        status = human.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        status = None
    while human.next(timeout=1) is not None:
        pass
    text = "\n".join(human.seen)
    check(status == 0, f"SIGINT ends monitor with 0 ({status})")
    check(all(HUMAN.match(line) for line in human.seen), "every human line has the time")
    for needle in ("connection child added (down)", "connection child: settings changed",
                   "child: IKE SA up with", "connection child: up",
                   "connection wrong: failed (", "connection wrong removed"):
        check(needle in text, f"human: “{needle}”")


def main():
    with buslib.Bus() as bus, Network(hosts=2) as net:
        a, b = net.hosts
        ours = Ipsecd(a, name="bus", args=["--bus=system"])
        theirs = Ipsecd(b, name="peer")
        theirs.add("child", Ipsecd.psk_conn(b, a, ike=IKE, childless=False, local_id="@b.child",
                                            remote_id="@a.child", local_ts="198.51.100.0/24",
                                            remote_ts="203.0.113.0/24"), psk=PSK)
        theirs.add("to-a", Ipsecd.psk_conn(b, a, ike=IKE), psk=PSK)
        js = human = None
        try:
            theirs.start()
            ours.start()
            buslib.wait_bus_name(bus, ours)
            js, human = Monitor(True), Monitor(False)
            lifecycle(net, js, human)
            failure(net, js)
            human_lines(human)
            status = ours.stop()
            check(status == 0, f"ipsecd stops ({status})")
            if status != 0:
                print(ours.tail(60))
            gone = js.wait(lambda e: e["event"] in ("daemon-gone", "connection-removed"),
                           "daemon-gone")
            check(gone and gone["event"] == "daemon-gone",
                  f"the daemon stopping: one daemon-gone line, no removals ({gone})")
            try:
                status = js.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                status = None
            check(status == 7, f"and monitor exits 7 ({status})")
            check(PSK not in "\n".join(js.seen + human.seen), "no PSK in the monitor's lines")
        except Exception:
            print(ours.tail())
            raise
        finally:
            for m in (js, human):
                if m is not None:
                    m.stop()
            ours.stop()
            theirs.stop()
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
