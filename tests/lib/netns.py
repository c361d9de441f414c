"""Hosts as network namespaces on one bridged wire, for ipsecd's root tests.

    with Network(hosts=3) as net:          # hosts a, b, c
        a, b = net.host("a"), net.host("b")
        with net.capture("udp port 500") as cap:
            a.run([...])                       # a command inside host a
            daemon = b.popen([...], log="b.log")
        print(cap.fields("ip.src", "isakmp.exchtype"))

Each host is a namespace with loopback up and one interface, eth0, whose
peer is a port of the bridge br0 in a separate "wire" namespace: every frame
between hosts crosses br0, where Network.capture() listens with dumpcap (the
capture engine of tshark) and tshark decodes.  Addresses come from the
documentation ranges only: host number i (0-based) gets the (i+1)th address
of 192.0.2.0/24 and of 2001:db8::/64 (IPv6 without DAD, usable at once).

Names carry the process id (ipsecd-<pid>-<n>-<host>), so tests run in
parallel never collide.  Teardown always happens: on leaving the with block
(also by an exception), on SIGTERM/SIGINT/SIGHUP (meson stops a test that
timed out with SIGTERM; the signal becomes SystemExit(128+signo) so the with
block unwinds), and at interpreter exit.  It stops the processes each host
started (by pid), then any process still inside one of our namespaces (also
by pid: they can only be children of ours), then deletes the namespaces.

Needs only iproute2 (ip, ss) and tshark/dumpcap, so it works the same on a
developer's machine and inside the `vm` suite's guest.  Run as a program it
offers two helpers used from inside namespaces:
    netns.py ping ADDRESS [COUNT] [TIMEOUT]    ICMP/ICMPv6 echo, exit 0 on reply
    netns.py mark IFACE HEXTOKEN               send one capture marker frame
"""
import atexit
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HOST_IF = "eth0"
BRIDGE = "br0"
PREFIX = "ipsecd"
DEFAULT_V4 = "192.0.2.0/24"
DEFAULT_V6 = "2001:db8::/64"
# IEEE 802 "local experimental" ethertype for capture markers.
MARK_ETHERTYPE = 0x88B5
MARK_MAGIC = b"ipsecd-capture-mark:"
KEEP_FILE = ".keep"
_HOST_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

_active = []            # Networks not yet torn down
_seq = 0                # Networks created by this process
_old_handlers = {}


class NetnsError(RuntimeError):
    pass


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll PREDICATE until it returns something true; return that value.

    Raises TimeoutError naming WHAT after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def _run(argv, check=True, input=None, timeout=60):
    proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise NetnsError(f"{' '.join(argv)} failed ({proc.returncode}): "
                         f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _ip_batch(commands, ns=None):
    """Run iproute2 COMMANDS (one per line) in one `ip -batch` process."""
    argv = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
    _run(argv, input="".join(c + "\n" for c in commands))


def list_namespaces():
    """Names of all named network namespaces (`ip netns list`)."""
    out = _run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def namespace_pids(ns):
    """Pids of the processes inside network namespace NS."""
    out = _run(["ip", "netns", "pids", ns], check=False).stdout
    return {int(p) for p in out.split() if p.isdigit()}


def pid_alive(pid):
    """True while PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _kill_pids(pids, grace=3.0):
    """SIGTERM each pid, then SIGKILL whatever is still alive after GRACE."""
    pids = {p for p in pids if p != os.getpid()}
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=grace,
                 what="processes to exit")
    except TimeoutError:
        for pid in pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _stop_all(procs, grace=5.0, sig=signal.SIGTERM):
    """Stop Popens we started, all at once: SIG to each, then SIGKILL to
    those still running after GRACE seconds; reap them all."""
    procs = [p for p in procs if p.poll() is None]
    for proc in procs:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
    try:
        wait_for(lambda: all(p.poll() is not None for p in procs),
                 timeout=grace, interval=0.01, what="processes to exit")
    except TimeoutError:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc in procs:
        proc.wait()


def _stop_popen(proc, grace=5.0, sig=signal.SIGTERM):
    """Stop one Popen we started; returns its exit status."""
    _stop_all([proc], grace=grace, sig=sig)
    return proc.returncode


def reap_stale():
    """Delete what earlier test processes killed with SIGKILL left behind.

    Only namespaces and temporary folders named ipsecd-<pid>-<n>-... whose
    pid no longer exists are removed: namespaces only if no process is
    inside, folders only if not kept on purpose (keep=True)."""
    pattern = re.compile(rf"^{PREFIX}-(\d+)-\d+-")

    def stale(name):
        m = pattern.match(name)
        return m and not os.path.exists(f"/proc/{m.group(1)}")
    for ns in list_namespaces():
        if stale(ns) and not namespace_pids(ns):
            _run(["ip", "netns", "delete", ns], check=False)
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        path = os.path.join(tmp, name)
        if stale(name) and os.path.isdir(path) and not os.path.islink(path) \
                and not os.path.exists(os.path.join(path, KEEP_FILE)):
            shutil.rmtree(path, ignore_errors=True)


# --- signals and exit -------------------------------------------------------

_signalled = False


def _on_signal(signo, frame):
    global _signalled
    _signalled = True
    raise SystemExit(128 + signo)


def _install_handlers():
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in _SIGNALS:
        if sig not in _old_handlers:
            _old_handlers[sig] = signal.signal(sig, _on_signal)


def _restore_handlers():
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, old in list(_old_handlers.items()):
        signal.signal(sig, old if old is not None else signal.SIG_DFL)
    _old_handlers.clear()


@atexit.register
def _close_all():
    for net in list(_active):
        net.close()


class _SignalsBlocked:
    """Hold off SIGTERM/SIGINT/SIGHUP during teardown; they arrive after."""

    def __enter__(self):
        self.old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_SETMASK, self.old)


# --- hosts ------------------------------------------------------------------

class Host:
    """One network namespace with eth0 on the wire.

    Attributes: name, ns (namespace name), ifname, ip4, ip6 (address
    strings), prefix4, prefix6 (prefix lengths), tmpdir (a private folder)."""

    def __init__(self, net, name, ns, ip4, ip6, prefix4, prefix6):
        self.net = net
        self.name = name
        self.ns = ns
        self.ifname = HOST_IF
        self.ip4 = ip4
        self.ip6 = ip6
        self.prefix4 = prefix4
        self.prefix6 = prefix6
        self.tmpdir = os.path.join(net.tmpdir, name)
        os.makedirs(self.tmpdir, exist_ok=True)
        self._procs = []

    def __repr__(self):
        return f"<Host {self.name} ns={self.ns} {self.ip4} {self.ip6}>"

    def address(self, family=4):
        return self.ip4 if family == 4 else self.ip6

    def command(self, argv):
        """ARGV prefixed so that it runs inside this host's namespace."""
        return ["ip", "netns", "exec", self.ns] + [str(a) for a in argv]

    def run(self, argv, check=True, timeout=60, input=None, env=None,
            text=True):
        """Run ARGV in this host and wait; returns CompletedProcess with
        stdout and stderr captured. Raises NetnsError if CHECK and it fails."""
        proc = subprocess.run(self.command(argv), input=input,
                              capture_output=True, text=text, env=env,
                              timeout=timeout)
        if check and proc.returncode != 0:
            err = proc.stderr if text else proc.stderr.decode(errors="replace")
            raise NetnsError(f"[{self.name}] {' '.join(map(str, argv))} "
                             f"exited {proc.returncode}: {err.strip()}")
        return proc

    def popen(self, argv, log=None, env=None, stdin=subprocess.DEVNULL,
              stdout=None, stderr=None, **kwargs):
        """Start ARGV in this host, in the background; returns the Popen.

        LOG: a file name (relative to this host's tmpdir) that receives
        stdout and stderr.  The process is stopped by stop() or cleanup(),
        and in any case when the Network is torn down.  `ip netns exec`
        execs ARGV, so the Popen's pid is the program's own pid."""
        logf = None
        if log is not None:
            path = log if os.path.isabs(log) else os.path.join(self.tmpdir, log)
            logf = open(path, "ab")
            stdout = stderr = logf
        try:
            proc = subprocess.Popen(self.command(argv), env=env, stdin=stdin,
                                    stdout=stdout, stderr=stderr, **kwargs)
        finally:
            if logf is not None:
                logf.close()
        self._procs.append(proc)
        return proc

    def stop(self, proc, grace=5.0, sig=signal.SIGTERM):
        """Stop one process that popen() started; returns its exit status."""
        status = _stop_popen(proc, grace=grace, sig=sig)
        if proc in self._procs:
            self._procs.remove(proc)
        return status

    def cleanup(self, grace=5.0):
        """Stop every process this host started (SIGTERM, then SIGKILL
        after GRACE seconds)."""
        procs, self._procs = self._procs, []
        _stop_all(procs, grace=grace)

    def pids(self):
        """Pids of all processes inside this host's namespace."""
        return namespace_pids(self.ns)

    def ip(self, *args, check=True):
        """Run `ip -n <ns> ARGS`; returns its stdout."""
        return _run(["ip", "-n", self.ns] + [str(a) for a in args],
                    check=check).stdout

    def ping(self, address, count=1, timeout=2.0):
        """Send ICMP(v6) echo to ADDRESS; True if a reply came back."""
        proc = self.run([sys.executable, os.path.abspath(__file__), "ping",
                         address, str(count), str(timeout)], check=False,
                        timeout=count * timeout + 30)
        return proc.returncode == 0

    def udp_listening(self, port):
        """True if some socket in this host listens on UDP PORT."""
        out = self.run(["ss", "-H", "-u", "-a", "-n", f"sport = :{port}"],
                       check=False).stdout
        return bool(out.strip())

    def wait_udp(self, port, timeout=10.0):
        wait_for(lambda: self.udp_listening(port), timeout=timeout,
                 what=f"UDP port {port} in host {self.name}")


# --- captures ---------------------------------------------------------------

def _strip_markers(path):
    """Rewrite pcapng file PATH without our marker frames."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 12:
        return
    out = bytearray()
    off = 0
    endian = "<"
    while off + 12 <= len(data):
        btype = struct.unpack_from(endian + "I", data, off)[0]
        if btype == 0x0A0D0D0A:  # section header: learn its byte order
            endian = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack_from(endian + "I", data, off + 4)[0]
        if blen < 12 or off + blen > len(data):
            break  # truncated tail: drop it
        block = data[off:off + blen]
        off += blen
        if btype == 6 and blen >= 28:  # enhanced packet block
            caplen = struct.unpack_from(endian + "I", block, 20)[0]
            frame = block[28:28 + caplen]
            if frame[12:14] == struct.pack("!H", MARK_ETHERTYPE) \
                    and frame[14:14 + len(MARK_MAGIC)] == MARK_MAGIC:
                continue
        out += block
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, path)


class Capture:
    """A running dumpcap on the wire's bridge; see Network.capture().

    stop() returns the pcapng path; fields()/count()/summary() decode it
    with tshark (stopping first if still running)."""

    def __init__(self, net, cfilter="", name=None):
        self.net = net
        self.cfilter = cfilter
        net._capture_seq += 1
        base = name or f"wire-{net._capture_seq}"
        self.path = os.path.join(net.tmpdir, base + ".pcapng")
        self.log = os.path.join(net.tmpdir, base + ".dumpcap.log")
        self.proc = None
        self.stopped = False

    def start(self, timeout=15.0):
        # Markers must pass the filter so that stop() can see them arrive.
        bpf = f"({self.cfilter}) or (ether proto {MARK_ETHERTYPE:#06x})" \
            if self.cfilter else ""
        argv = ["dumpcap", "-q", "-n", "-i", BRIDGE, "-w", self.path]
        if bpf:
            argv += ["-f", bpf]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.net.wire] + argv,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.net._captures.append(self)

        # dumpcap opens the interface and sets the filter before it writes
        # and flushes the file header, so a non-empty file means capturing.
        def ready():
            if self.proc.poll() is not None:
                raise NetnsError(f"dumpcap exited {self.proc.returncode}: "
                                 f"{self._log_text()}")
            return os.path.exists(self.path) and os.path.getsize(self.path) > 0
        wait_for(ready, timeout=timeout, what="dumpcap to start capturing")
        return self

    def _log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read().strip()
        except OSError:
            return ""

    def _mark(self, token):
        _run(["ip", "netns", "exec", self.net.wire, sys.executable,
              os.path.abspath(__file__), "mark", BRIDGE, token.hex()],
             timeout=30)

    def _seen(self, token):
        with open(self.path, "rb") as f:
            return token in f.read()

    def stop(self, timeout=10.0):
        """Stop capturing once everything sent so far is in the file.

        A marker frame goes onto the bridge; once dumpcap has written it,
        every earlier frame is written too.  Returns the pcapng path, with
        the markers removed."""
        if self.stopped:
            return self.path
        self.stopped = True
        try:
            if self.proc.poll() is None:
                token = MARK_MAGIC + secrets.token_bytes(12)
                deadline = time.monotonic() + timeout
                while not self._seen(token):
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise NetnsError("capture marker never reached the "
                                         f"file: {self._log_text()}")
                    self._mark(token)
                    try:
                        wait_for(lambda: self._seen(token), timeout=1.0,
                                 what="capture marker")
                    except TimeoutError:
                        pass
        finally:
            _stop_popen(self.proc)
            if self in self.net._captures:
                self.net._captures.remove(self)
        _strip_markers(self.path)
        return self.path

    def kill(self):
        """Stop without waiting for pending frames (teardown)."""
        self.stopped = True
        if self.proc is not None:
            _stop_popen(self.proc, grace=3.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self.kill()

    def tshark(self, args, display_filter=None):
        """Run `tshark -r <pcap> [-Y FILTER] ARGS`; returns stdout."""
        self.stop()
        argv = ["tshark", "-r", self.path, "-n"]
        if display_filter:
            argv += ["-Y", display_filter]
        return _run(argv + list(args)).stdout

    def fields(self, *names, display_filter=None):
        """One tuple per frame with the values of the tshark fields NAMES
        (several occurrences of a field are joined with ',')."""
        args = ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]
        for name in names:
            args += ["-e", name]
        out = self.tshark(args, display_filter)
        return [tuple(line.split("\t")) for line in out.splitlines()]

    def count(self, display_filter=None):
        """Number of frames matching DISPLAY_FILTER."""
        return len(self.fields("frame.number", display_filter=display_filter))

    def summary(self, display_filter=None):
        """tshark's one-line-per-frame text, for failure messages."""
        return self.tshark([], display_filter)


# --- the network ------------------------------------------------------------

class Network:
    """N hosts joined by a bridge; a context manager that always cleans up.

    hosts: a count (hosts are named a, b, c, ...) or a list of names
    ([a-z][a-z0-9]{0,9}).  v4/v6: the documentation prefixes to number
    hosts from.  keep: keep the temporary folder (logs, captures); also
    IPSECD_KEEP_TMP=1 in the environment."""

    def __init__(self, hosts=2, v4=DEFAULT_V4, v6=DEFAULT_V6, keep=None):
        global _seq
        if isinstance(hosts, int):
            if not 1 <= hosts <= 26:
                raise ValueError("hosts must be between 1 and 26")
            names = [chr(ord("a") + i) for i in range(hosts)]
        else:
            names = list(hosts)
        for name in names:
            if not _HOST_NAME.match(name) or name == "wire":
                raise ValueError(f"bad host name {name!r}")
        if len(set(names)) != len(names):
            raise ValueError("host names must be unique")
        self.names = names
        self.v4 = ipaddress.ip_network(v4)
        self.v6 = ipaddress.ip_network(v6)
        _seq += 1
        self.prefix = f"{PREFIX}-{os.getpid()}-{_seq}"
        self.wire = f"{self.prefix}-wire"
        self.keep = keep if keep is not None else \
            os.environ.get("IPSECD_KEEP_TMP", "") not in ("", "0")
        self.tmpdir = None
        self.hosts = []
        self._by_name = {}
        self._captures = []
        self._capture_seq = 0
        self._created = []      # namespaces that exist, in creation order
        self._closed = False

    # context manager
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        _install_handlers()
        _active.append(self)
        try:
            reap_stale()
            self.tmpdir = tempfile.mkdtemp(prefix=self.prefix + "-")
            os.chmod(self.tmpdir, 0o755)
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def _setup(self):
        namespaces = [self.wire] + [f"{self.prefix}-{n}" for n in self.names]
        # Record first: a failure half-way must still delete what exists.
        self._created = list(namespaces)
        _ip_batch([f"netns add {ns}" for ns in namespaces])

        wire = [f"link add {BRIDGE} type bridge stp_state 0 forward_delay 0 "
                "mcast_snooping 0",
                # the wire itself never speaks: no IPv6 link-local there
                f"link set {BRIDGE} addrgenmode none",
                "link set lo up"]
        for i, name in enumerate(self.names):
            port = f"p-{name}"
            wire += [f"link add {port} type veth peer name {HOST_IF} "
                     f"netns {self.prefix}-{name}",
                     f"link set {port} addrgenmode none",
                     f"link set {port} master {BRIDGE}",
                     f"link set {port} up"]
        wire.append(f"link set {BRIDGE} up")
        _ip_batch(wire, ns=self.wire)

        for i, name in enumerate(self.names):
            ns = f"{self.prefix}-{name}"
            ip4 = str(self.v4[i + 1])
            ip6 = str(self.v6[i + 1])
            _ip_batch(["link set lo up",
                       f"addr add {ip4}/{self.v4.prefixlen} dev {HOST_IF}",
                       f"addr add {ip6}/{self.v6.prefixlen} dev {HOST_IF} nodad",
                       f"link set {HOST_IF} up"], ns=ns)
            host = Host(self, name, ns, ip4, ip6, self.v4.prefixlen,
                        self.v6.prefixlen)
            self.hosts.append(host)
            self._by_name[name] = host

    def host(self, name):
        return self._by_name[name]

    __getitem__ = host

    def namespaces(self):
        """The namespaces this network created and has not yet deleted."""
        return list(self._created)

    def capture(self, cfilter="", name=None, timeout=15.0):
        """Start capturing frames on the wire that match the libpcap filter
        CFILTER (all frames when empty); returns a started Capture."""
        return Capture(self, cfilter, name).start(timeout=timeout)

    def pids(self):
        """Pids of all processes in any of our namespaces."""
        found = set()
        for ns in self._created:
            found |= namespace_pids(ns)
        return found

    def close(self):
        """Tear everything down; safe to call more than once.

        Fast after a signal: meson sends SIGKILL 0.5 s after SIGTERM."""
        if self._closed:
            return
        self._closed = True
        grace = 0.3 if _signalled else 5.0
        errors = []
        with _SignalsBlocked():
            # every process we started, all at once
            procs = [c.proc for c in self._captures if c.proc is not None]
            for cap in self._captures:
                cap.stopped = True
            self._captures.clear()
            for host in self.hosts:
                procs += host._procs
                host._procs = []
            try:
                _stop_all(procs, grace=grace)
            except Exception as e:  # keep tearing down
                errors.append(e)
            # then whatever those left behind inside our namespaces
            try:
                leftovers = self.pids()
                if leftovers:
                    _kill_pids(leftovers, grace=min(grace, 2.0))
            except Exception as e:
                errors.append(e)
            if self._created:
                _run(["ip", "-force", "-batch", "-"], check=False,
                     input="".join(f"netns delete {ns}\n"
                                   for ns in reversed(self._created)))
                left = set(self._created) & set(list_namespaces())
                if left:
                    errors.append(NetnsError(f"could not delete {sorted(left)}"))
            self._created = []
            if self.tmpdir and os.path.isdir(self.tmpdir):
                if self.keep:
                    with open(os.path.join(self.tmpdir, KEEP_FILE), "w") as f:
                        f.write("kept on purpose (IPSECD_KEEP_TMP): "
                                "not reaped by later tests\n")
                    print(f"netns: kept {self.tmpdir}", file=sys.stderr)
                else:
                    shutil.rmtree(self.tmpdir, ignore_errors=True)
            if self in _active:
                _active.remove(self)
            if not _active:
                _restore_handlers()
        if errors:
            print(f"netns: teardown problems: {errors}", file=sys.stderr)


# --- helpers run inside a namespace ----------------------------------------

def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _ping(address, count=1, timeout=2.0):
    """ICMP echo over a raw socket; True if any reply arrived."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    if family == socket.AF_INET:
        sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        req_type, rep_type = 8, 0
    else:
        sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        req_type, rep_type = 128, 129
    ident = os.getpid() & 0xFFFF
    payload = b"ipsecd-netns-ping"
    for seq in range(1, count + 1):
        header = struct.pack("!BBHHH", req_type, 0, 0, ident, seq)
        if family == socket.AF_INET:
            header = struct.pack("!BBHHH", req_type, 0,
                                 _checksum(header + payload), ident, seq)
        # (the kernel fills in ICMPv6 checksums on raw sockets)
        sock.sendto(header + payload, (address, 0))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                break
            if family == socket.AF_INET:
                data = data[(data[0] & 0x0F) * 4:]  # strip the IPv4 header
            if len(data) >= 8:
                typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
                if typ == rep_type and rid == ident and rseq == seq:
                    return True
    return False


def _send_mark(iface, token_hex):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    # locally administered unicast destination that no host owns
    frame = (b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02"
             + struct.pack("!H", MARK_ETHERTYPE) + bytes.fromhex(token_hex))
    sock.send(frame.ljust(60, b"\0"))


def _main(argv):
    if len(argv) >= 2 and argv[0] == "ping":
        count = int(argv[2]) if len(argv) > 2 else 1
        timeout = float(argv[3]) if len(argv) > 3 else 2.0
        return 0 if _ping(argv[1], count, timeout) else 1
    if len(argv) == 3 and argv[0] == "mark":
        _send_mark(argv[1], argv[2])
        return 0
    print(__doc__.split("\n\n")[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
