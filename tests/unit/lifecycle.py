#!/usr/bin/python3
"""The skeleton binaries behave: ipsecd starts, logs through GLib, and exits
0 on SIGTERM and SIGINT; ipsecctl prints its version and rejects bad usage
with exit code 2."""
import os
import signal
import subprocess
import sys
import tempfile
import time

from common import build_root

IPSECD = os.path.join(build_root(), "service", "ipsecd")
IPSECCTL = os.path.join(build_root(), "cli", "ipsecctl")


def wait_for_line(proc, needle, timeout=10):
    deadline = time.monotonic() + timeout
    seen = []
    os.set_blocking(proc.stderr.fileno(), False)
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line:
            seen.append(line)
            if needle in line:
                return seen
        else:
            time.sleep(0.02)
    raise AssertionError(f"no {needle!r} from ipsecd within {timeout}s; got {seen}")


def daemon_stops_on(signum):
    env = dict(os.environ, G_MESSAGES_DEBUG="")
    # no system bus here: the D-Bus face is tested in tests/bus/; the NSS
    # database goes to a temporary state directory, never /var/lib
    state = tempfile.TemporaryDirectory(prefix="ipsecd-lifecycle-")
    proc = subprocess.Popen([IPSECD, "--bus=none", "--state-dir", state.name],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for_line(proc, "started")
        proc.send_signal(signum)
        rc = proc.wait(timeout=10)
        rest = proc.stderr.read() or ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        state.cleanup()
    assert rc == 0, f"ipsecd exited {rc} on {signum.name}"
    assert "stopping on" in rest, f"no stop message on {signum.name}: {rest!r}"
    print(f"ok: ipsecd exits 0 on {signum.name}")


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=10)


def main():
    version = os.environ["IPSECD_VERSION"]
    daemon_stops_on(signal.SIGTERM)
    daemon_stops_on(signal.SIGINT)

    out = run([IPSECD, "--version"])
    assert out.returncode == 0 and out.stdout == f"ipsecd {version}\n", out
    out = run([IPSECD, "--no-such-option"])
    assert out.returncode == 1 and "no-such-option" in out.stderr, out

    out = run([IPSECCTL, "--version"])
    assert out.returncode == 0 and out.stdout == f"ipsecctl {version}\n", out
    out = run([IPSECCTL, "--json", "version"])
    assert out.returncode == 0 and out.stdout == f'{{"client":"{version}"}}\n', out
    for bad in ([], ["frobnicate"], ["version", "extra"]):
        out = run([IPSECCTL] + bad)
        assert out.returncode == 2 and out.stderr.startswith("ipsecctl"), (bad, out)
    print("ok: ipsecctl --version, --json version, usage errors exit 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
