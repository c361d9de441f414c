"""ipsecd itself in a netns host, like peers.py's Charon and Pluto.

    with Network(hosts=2) as net:
        a, b = net.hosts
        d = Ipsecd(a)
        d.add("to-b", Ipsecd.psk_conn(a, b, auto="start"), psk=PSK)
        d.start()
        up = d.wait_event("ike-up", connection="to-b")
        assert up["IPSECD_AUTHENTICATED"] == "yes"
        d.stop()                         # SIGTERM: Deletes, exit 0

Everything lives in the host's private folder (<net.tmpdir>/<host>/ipsecd):
etc/connections/*.conf and etc/secrets/*.psk (mode 0600, as the daemon
demands), state/, run/, the log (stderr) and kernel.jsonl, where the
test-only --record-kernel mode writes the kernel requests it did not carry
out.

The daemon's stderr has one line per log record: time, level, message, then
the structured fields as KEY="value" with C escapes (service/daemon-log.c).
events() parses those lines into dicts; "IPSECD_EVENT" says which event
(start, ike-up, ike-failed, ike-down, child-up, child-failed, config-error,
config-change, reload, stopping, stop, ...).
"""
import codecs
import json
import os
import re
import signal

import common
from netns import wait_for

_FIELD = re.compile(r' (IPSECD_[A-Z_]+)="((?:[^"\\]|\\.)*)"')
_LINE = re.compile(r"^(\S+) ipsecd (\w+): (.*)$")


class IpsecdError(RuntimeError):
    pass


def binary():
    """The ipsecd under test: $IPSECD_BINARY or <build>/service/ipsecd."""
    return os.environ.get("IPSECD_BINARY") or \
        os.path.join(common.build_root(), "service", "ipsecd")


def require_ipsecd():
    if not os.access(binary(), os.X_OK):
        common.skip(f"{binary()} is not built")


def _unescape(value):
    return codecs.decode(value.encode("latin-1", "backslashreplace"),
                         "unicode_escape").encode("latin-1").decode(
                             "utf-8", "replace")


def parse_line(line):
    """One stderr line as a dict: "time", "level", "message" and the
    IPSECD_* fields; None for a line that is not a log record."""
    m = _LINE.match(line.rstrip("\n"))
    if not m:
        return None
    rest = m.group(3)
    fields = {k: _unescape(v) for k, v in _FIELD.findall(rest)}
    first = _FIELD.search(rest)
    message = rest[:first.start()] if first else rest
    record = {"time": m.group(1), "level": m.group(2), "message": message}
    record.update(fields)
    return record


class Ipsecd:
    """ipsecd in HOST with a temporary config, state and runtime folder."""

    def __init__(self, host, name="ipsecd", debug=False, record=True,
                 args=()):
        """DEBUG: --debug.  RECORD: --record-kernel (test-only mode; the
        host kernel here has no ESP).  ARGS: more command-line options."""
        self.host = host
        self.name = name
        self.debug = debug
        self.record = record
        self.args = list(args)
        self.dir = os.path.join(host.tmpdir, name)
        self.config_dir = os.path.join(self.dir, "etc")
        self.state_dir = os.path.join(self.dir, "state")
        self.runtime_dir = os.path.join(self.dir, "run")
        self.kernel_file = os.path.join(self.dir, "kernel.jsonl")
        self.log = os.path.join(self.dir, "ipsecd.log")
        self.proc = None
        for sub in ("connections", "secrets"):
            os.makedirs(os.path.join(self.config_dir, sub), exist_ok=True)
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(self.runtime_dir, exist_ok=True)
        os.chmod(os.path.join(self.config_dir, "secrets"), 0o700)

    def __repr__(self):
        return f"<Ipsecd in {self.host.name}>"

    # --- configuration ---------------------------------------------------

    def add(self, name, conf, psk=None):
        """Write connections/NAME.conf (text CONF, or a dict of keys) and,
        with PSK, secrets/NAME.psk, both mode 0600."""
        if isinstance(conf, dict):
            conf = "[connection]\n" + "".join(
                f"{k}={v}\n" for k, v in conf.items() if v is not None)
        path = os.path.join(self.config_dir, "connections", f"{name}.conf")
        self._write(path, conf)
        if psk is not None:
            self._write(os.path.join(self.config_dir, "secrets",
                                     f"{name}.psk"), psk + "\n")
        return path

    def remove(self, name):
        os.unlink(os.path.join(self.config_dir, "connections", f"{name}.conf"))

    @staticmethod
    def _write(path, text):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(text)

    @staticmethod
    def psk_conn(local, remote, family=4, auth="psk", ike=None,
                 childless=True, auto="add", **extra):
        """A connection dict from Host LOCAL to Host REMOTE, identities =
        addresses (for PSK), childless by default.  EXTRA keys are written
        with '_' turned into '-'."""
        conf = {
            "local": local.address(family),
            "remote": remote.address(family),
            "local-auth": auth,
            "ike": ike,
            "childless": "yes" if childless else "no",
            "auto": auto,
            "retransmit-timeout": "0.5s",
            "retransmit-limit": "3",
        }
        conf.update({k.replace("_", "-"): v for k, v in extra.items()})
        return conf

    # --- running ---------------------------------------------------------

    def argv(self):
        argv = [binary(), "--config-dir", self.config_dir,
                "--state-dir", self.state_dir,
                "--runtime-dir", self.runtime_dir]
        if self.record:
            argv += ["--record-kernel", self.kernel_file]
        if self.debug:
            argv.append("--debug")
        # no bus unless a test asks for one (tests/bus/ run a private one)
        if not any(a.startswith("--bus") for a in self.args):
            argv.append("--bus=none")
        return argv + self.args

    def start(self, timeout=10.0):
        """Start ipsecd; wait for its "start" event and UDP 500."""
        require_ipsecd()
        env = dict(os.environ)
        env.setdefault("G_DEBUG", "fatal-criticals")
        self.proc = self.host.popen(self.argv(), log=self.log, env=env)
        self.wait_event("start", timeout=timeout)
        self.host.wait_udp(500, timeout=timeout)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def reload(self):
        """SIGHUP; returns the log mark from before it (for wait_event)."""
        mark = self.mark()
        self.proc.send_signal(signal.SIGHUP)
        return mark

    def stop(self, grace=5.0):
        """SIGTERM (ipsecd deletes its IKE SAs first); returns the status."""
        if self.proc is None:
            return None
        status = self.host.stop(self.proc, grace=grace)
        self.proc = None
        return status

    # --- what it said ----------------------------------------------------

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def mark(self):
        """A position in the log: events(since=mark) sees only later ones."""
        return len(self.log_text().splitlines())

    def events(self, event=None, connection=None, since=0):
        """Parsed log records with IPSECD_EVENT (== EVENT if given)."""
        found = []
        for line in self.log_text().splitlines()[since:]:
            rec = parse_line(line)
            if rec is None or "IPSECD_EVENT" not in rec:
                continue
            if event is not None and rec["IPSECD_EVENT"] != event:
                continue
            if connection is not None and \
                    rec.get("IPSECD_CONNECTION") != connection:
                continue
            found.append(rec)
        return found

    def wait_event(self, event, connection=None, since=0, timeout=10.0):
        """The first EVENT record (after SINCE); raises IpsecdError if ipsecd
        exits first, TimeoutError after TIMEOUT seconds."""
        def seen():
            recs = self.events(event, connection, since)
            if recs:
                return recs[0]
            if self.proc is not None and self.proc.poll() is not None:
                raise IpsecdError(f"ipsecd exited {self.proc.returncode} "
                                  f"before {event}:\n{self.tail()}")
            return None
        return wait_for(seen, timeout=timeout,
                        what=f"ipsecd event {event} {connection or ''}")

    def wait_any(self, events, connection=None, since=0, timeout=10.0):
        """The first record whose event is one of EVENTS."""
        def seen():
            recs = [r for r in self.events(None, connection, since)
                    if r["IPSECD_EVENT"] in events]
            return recs[0] if recs else None
        return wait_for(seen, timeout=timeout,
                        what=f"ipsecd event in {events}")

    def await_ike(self, conn, since, timeout, initiate=None, peer_up=None):
        """CONN's first ike-up or ike-failed record after log mark SINCE,
        None after TIMEOUT.  INITIATE (when ipsecd responds: the peer
        starting it) is called first; after an ike-up, PEER_UP () is waited
        for up to 5 s, so that the peer's side is up too (not required:
        the caller checks what it needs)."""
        if initiate is not None:
            initiate()
        try:
            rec = self.wait_any(("ike-up", "ike-failed"), connection=conn,
                                since=since, timeout=timeout)
        except TimeoutError:
            return None
        if rec["IPSECD_EVENT"] == "ike-up" and peer_up is not None:
            try:
                wait_for(peer_up, timeout=5, what=f"{conn} up at the peer")
            except TimeoutError:
                pass
        return rec

    def kernel_records(self):
        """The --record-kernel JSON lines, as dicts."""
        try:
            with open(self.kernel_file) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])


# --- for the interop tests ---------------------------------------------------

IKE_SA_INIT, IKE_AUTH, INFORMATIONAL = "34", "35", "37"


class Checks:
    """Collects failed checks; each check prints one ok/FAIL line."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            self.failures.append(what)
        return bool(ok)

    def status(self):
        if self.failures:
            print(f"{len(self.failures)} check(s) failed", flush=True)
            return 1
        return 0


def isakmp_rows(cap):
    """(src, dst, exchange, response flag) of every IKE message on the wire,
    IPv4 or IPv6."""
    rows = cap.fields("ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
                      "isakmp.exchangetype", "isakmp.flag_r",
                      display_filter="isakmp")
    return [(r[0] or r[1], r[2] or r[3], r[4], r[5]) for r in rows]


def exchange_seen(rows, src, dst, exchange, response):
    flag = "1" if response else "0"
    return any(r[0] == src and r[1] == dst and r[2] == exchange
               and r[3] in (flag, "True" if response else "False")
               for r in rows)
