"""The bus suite's fixture: a private system bus (dbus-daemon with a test
config, DBUS_SYSTEM_BUS_ADDRESS pointing at it), the polkitd mock of
polkitd_challenge.py on it, and ipsecd --bus=system on high UDP ports in
a temporary config folder (tests/lib/ipsecd.py).

Callers run as root (the bypass) or, through setpriv, as nobody: polkit
decides for them, i.e. the mock's SetAllowed/SetChallenge lists.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import common
from netns import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
BUS_NAME = "org.libreswan.IPsec"
ROOT = "/org/libreswan/IPsec"
ERROR = "org.libreswan.IPsec.Error."
ACTION = "org.libreswan.IPsec.connection."
PSK = "Jq7-wVd2xK9pLm4sT8bZ0cRf6yHn3uAe"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""


def ipsecctl_binary():
    return os.path.join(common.build_root(), "cli", "ipsecctl")


def require():
    common.require_tools("dbus-daemon")
    for path in (ipsecctl_binary(), os.path.join(common.build_root(), "service", "ipsecd")):
        if not os.access(path, os.X_OK):
            common.skip(f"{path} is not built")


class Bus:
    """A private system bus with the polkitd mock; a context manager."""

    def __init__(self, tmpdir=None):
        self.dir = tmpdir or tempfile.mkdtemp(prefix="ipsecd-bus-")
        os.chmod(self.dir, 0o755)  # nobody must reach the socket
        self.socket = os.path.join(self.dir, "bus")
        self.address = f"unix:path={self.socket}"
        self.procs = []

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self):
        conf = os.path.join(self.dir, "bus.conf")
        policy = os.path.join(common.source_root(), "data", "dbus", "org.libreswan.IPsec.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG.format(socket=self.socket, policy=policy))
        self.procs.append(subprocess.Popen(["dbus-daemon", "--config-file", conf, "--nofork"]))
        wait_for(lambda: os.path.exists(self.socket), what="the private bus")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        template = os.path.join(HERE, "polkitd_challenge.py")
        self.procs.append(subprocess.Popen(
            ["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", template],
            stdout=subprocess.DEVNULL))
        wait_for(lambda: self.has_owner("org.freedesktop.PolicyKit1"), what="the polkitd mock")
        return self

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def gdbus(self, *args, user=None, check=False):
        argv = ["gdbus", "call", "--system", *args]
        return run(argv, user=user, check=check)

    def has_owner(self, name):
        r = self.gdbus("--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                       "--method", "org.freedesktop.DBus.NameHasOwner", name)
        return r.returncode == 0 and "true" in r.stdout

    def polkit(self, method, actions):
        self.gdbus("--dest", "org.freedesktop.PolicyKit1", "--object-path",
                   "/org/freedesktop/PolicyKit1/Authority", "--method",
                   f"org.freedesktop.DBus.Mock.{method}", repr(list(actions)) if actions else "@as []",
                   check=True)

    def allow(self, *actions):
        self.polkit("SetAllowed", [ACTION + a for a in actions])

    def challenge(self, *actions):
        self.polkit("SetChallenge", [ACTION + a for a in actions])


def run(argv, user=None, check=False, env=None):
    """ARGV as root or (USER="nobody") as nobody through setpriv."""
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", "--", *argv]
    full_env = dict(os.environ)
    full_env.update(env or {})
    r = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{argv} failed ({r.returncode}): {r.stderr}")
    return r


def call(bus, path, method, *args, user=None):
    """gdbus call: (ok, output or D-Bus error name and message)."""
    iface = "Manager" if path == ROOT else "Connection"
    r = bus.gdbus("--dest", BUS_NAME, "--object-path", path, "--method",
                  f"{BUS_NAME}.{iface}.{method}", *args, user=user)
    return r.returncode == 0, (r.stdout if r.returncode == 0 else r.stderr)


def error_name(output):
    """"GDBus.Error:org...Name: message" -> "Name"."""
    marker = "GDBus.Error:" + ERROR
    if marker not in output:
        return None
    return output.split(marker, 1)[1].split(":", 1)[0]


def ipsecctl(*args, user=None, env=None):
    r = run([ipsecctl_binary(), *args], user=user, env=env)
    return r


def ipsecctl_json(*args, user=None):
    r = ipsecctl("--json", *args, user=user)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None


def conn_path(name):
    escaped = "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in name)
    return f"{ROOT}/Connection/{escaped}"


def wait_bus_name(bus, daemon):
    def owned():
        if daemon.proc is not None and daemon.proc.poll() is not None:
            raise RuntimeError(f"ipsecd exited:\n{daemon.tail()}")
        return bus.has_owner(BUS_NAME)
    wait_for(owned, what="ipsecd on the bus")


def free_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalHost:
    """Enough of netns.Host for ipsecd.Ipsecd on this host's network."""

    name = "local"

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir

    def popen(self, argv, log=None, env=None):
        out = open(log, "ab") if log else subprocess.DEVNULL
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)

    def wait_udp(self, port, timeout=10.0):
        time.sleep(0.1)

    def stop(self, proc, grace=5.0):
        proc.terminate()
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def start_ipsecd(bus, tmpdir, name="ipsecd"):
    """ipsecd --bus=system on free high ports, owning its name."""
    from ipsecd import Ipsecd
    d = Ipsecd(LocalHost(tmpdir), name=name,
               args=["--bus=system", "--ike-port", str(free_port()),
                     "--natt-port", str(free_port())])
    d.start()
    wait_bus_name(bus, d)
    return d


def settings_arg(settings):
    """A dict of strings as a gdbus a{sv} argument."""
    items = ", ".join(f"'{k}': <'{v}'>" for k, v in settings.items())
    return "{" + items + "}" if items else "@a{sv} {}"


def good_settings(name, **extra):
    s = {"name": name, "remote": "192.0.2.7", "local": "127.0.0.1", "local-auth": "psk",
         "childless": "yes", "psk": PSK}
    s.update({k.replace("_", "-"): v for k, v in extra.items()})
    return s


class Checks:
    """ok/FAIL lines; exit status."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            self.failures.append(what)
        return bool(ok)

    def status(self):
        print(f"{len(self.failures)} check(s) failed" if self.failures else "all checks passed")
        return 1 if self.failures else 0
