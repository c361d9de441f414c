#!/usr/bin/python3
"""vm suite: the runner itself (tests/vm/vm.py) keeps its promises.

Three boots:
  1. a shell command that writes known bytes to stdout (1 MB of random data)
     and stderr, checks its environment, working directory, root, that a
     module loads on demand and that the root is writable but the host is
     not written, drops a file into a --share directory, and exits 3: the
     runner must return 3 and exactly those bytes, and the file must be on
     the host;
  2. exit 77 inside must come back as 77 (a skip inside is a skip);
  3. `sleep` past the timeout: VmTimeout, and no qemu left behind.

Skips (77) when not root or when the VM cannot run (no kernel cache, qemu).
"""
import hashlib
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402
import common  # noqa: E402

failures = []


def check(ok, what):
    print(f"{'ok' if ok else 'FAIL'}: {what}", flush=True)
    if not ok:
        failures.append(what)


def children():
    """Pids of our live child processes."""
    me, found = str(os.getpid()), []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            found.append(int(pid))
    return found


SCRIPT = r"""
set -e
head -c 1048576 /dev/urandom > /tmp/blob
sha256sum < /tmp/blob | cut -d' ' -f1 >&2
echo "err-marker" >&2
[ "$(id -u)" = 0 ]
[ "$IPSECD_IN_VM" = 1 ]
[ "$VM_SELFTEST" = "two words; 'quoted' \$x" ]
[ "$(pwd)" = "$EXPECT_CWD" ]
[ "$(uname -r)" = "$EXPECT_KERNEL" ]
ip link add vmtest0 type dummy          # loads dummy.ko on demand
ip link del vmtest0
touch "$EXPECT_CWD/written-in-guest" /etc/written-in-guest
echo from-guest > "$SHARE/from-guest"
cat /tmp/blob
exit 3
"""


def main():
    common.require_root()
    vm.require()
    version = vm._kernel()[0]
    timeout = float(os.environ.get("IPSECD_VM_TIMEOUT", 240))

    with tempfile.TemporaryDirectory(prefix="vm-runner-") as cwd, \
            tempfile.TemporaryDirectory(prefix="vm-share-") as share:
        env = {"VM_SELFTEST": "two words; 'quoted' $x", "EXPECT_CWD": cwd,
               "EXPECT_KERNEL": version, "SHARE": share}
        r = vm.run(["sh", "-c", SCRIPT], timeout=timeout, env=env, cwd=cwd,
                   shares=[share], capture=True)
        print(f"boot 1: {r.boot_seconds:.1f} s to the command, {r.seconds:.1f} s in all",
              flush=True)
        check(r.returncode == 3, f"exit status 3 comes back (got {r.returncode})")
        lines = r.stderr.decode(errors="replace").splitlines()
        check(len(r.stdout) == 1048576 and lines[:1] == [hashlib.sha256(r.stdout).hexdigest()],
              f"1 MB of binary stdout arrives intact ({len(r.stdout)} bytes)")
        check(lines[1:] == ["err-marker"], f"stderr is separate and complete: {lines[1:]}")
        check(not os.path.exists(os.path.join(cwd, "written-in-guest"))
              and not os.path.exists("/etc/written-in-guest"),
              "the guest wrote its root (overlay) without touching the host")
        try:
            with open(os.path.join(share, "from-guest")) as f:
                shared = f.read()
        except OSError:
            shared = None
        check(shared == "from-guest\n", "a --share directory is written through to the host")

    r = vm.run(["sh", "-c", "echo skipping inside; exit 77"], timeout=timeout, capture=True)
    check(r.returncode == 77 and r.stdout == b"skipping inside\n",
          f"exit 77 inside comes back as 77 (got {r.returncode})")

    start = time.monotonic()
    try:
        vm.run(["sleep", "600"], timeout=10, capture=True)
        check(False, "a command past the timeout raises VmTimeout")
    except vm.VmTimeout:
        took = time.monotonic() - start
        check(took < 30, f"a command past the timeout raises VmTimeout ({took:.1f} s)")
    check(children() == [], "no qemu (no child process) is left behind")

    if failures:
        print(f"FAIL: {len(failures)} check(s) failed", flush=True)
        return 1
    print("PASS: the vm runner", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
