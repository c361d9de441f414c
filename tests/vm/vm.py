#!/usr/bin/python3
"""Run a command inside a Debian kernel with ESP, under qemu.

Why: the machines that build ipsecd (and many CI kernels) have XFRM but no
ESP, so the `vm` suite boots Debian's own kernel (unpacked by
scripts/setup-deps into <cache>/kernel/root) under qemu with software
emulation and runs the test there.  The host's root file system is shared
read-only over 9p and used as the guest's root under an overlay whose upper
layer is a tmpfs: everything built or installed on the host runs unchanged
inside, at the same paths, and nothing the guest writes reaches the host
(except through explicit `shares`, see below).

Command line:

    tests/vm/vm.py [--timeout S] [--env K=V]... [--share DIR]... [--cwd DIR]
                   [--console] [--keep] [-v] -- CMD ARGS...

runs CMD inside the guest as root, streams its stdout and stderr to ours, and
exits with its exit status (77, a skip, passes through like any other).
When the VM itself fails the status is 125 (no kernel, boot failure, the
guest died before CMD finished) or 124 (timeout); the reason and the tail of
the kernel console go to stderr.  --console streams the kernel console to
stderr as well; --keep keeps the run directory (console.log, qemu.log, the
command's output) and prints where it is.

As a module (from a test; tests/vm is not on PYTHONPATH, so insert it):

    import vm
    vm.require()                      # skip (77) if the VM cannot run here
    r = vm.run(["/usr/bin/python3", script, "--inside"], timeout=300)
    sys.exit(r.returncode)

    vm.run(argv, timeout=300, env=None, cwd=None, shares=(), capture=False,
           stdout=None, stderr=None, console=None, keep=False) -> Result
        Result.returncode, .stdout/.stderr (bytes, when capture=True),
        .boot_seconds (qemu start to CMD start), .seconds (total).
        Raises VmUnavailable (a missing prerequisite), VmTimeout, VmError.
    vm.run_self(args, timeout) -- re-run the calling script inside the guest
        and exit with its status (the common pattern of a vm test).
    vm.in_vm() -- True inside the guest (IPSECD_IN_VM=1 is set there).

Inside the guest: the kernel is <cache>/kernel's (uname -r says which); the
initramfs has already loaded 9p, overlay, virtio, xfrm_user, esp4, esp6 and
the crypto modules ESP uses (see MODULES); any other module loads on demand
(modprobe works: /lib/modules/$(uname -r) is bound to a tree depmod made for
this kernel).  lo is up, no other network device exists.  /proc, /sys,
/dev, /dev/pts, /dev/shm, /sys/fs/cgroup are mounted; /run is an empty tmpfs;
/tmp, /var and the rest are the host's, writable through the overlay.  CMD
runs from the host's current directory (or --cwd) with a clean environment:
PATH, HOME=/root, LANG=C.UTF-8, TERM=dumb, IPSECD_IN_VM=1, plus the host's
IPSECD_*, PYTHONPATH, PYTHONDONTWRITEBYTECODE, G_DEBUG, G_MESSAGES_DEBUG,
MALLOC_PERTURB_, *SAN_OPTIONS, plus --env/env=.  Its stdin is /dev/null and
its stdout/stderr are raw virtio-serial ports (not a tty).  Each --share DIR
is the host directory DIR mounted read-write at the same path (9p,
cache=none): the way to get files out.

Cost (2 host cores, no KVM): qemu start to CMD start about 3.3 s, poweroff
0.1 s; each process start inside costs 10-70 ms and python3 0.2-0.5 s
(software emulation).  Several VMs at once share the host's cores: three
together take 7-8 s each to boot.  The kernel image (the ELF vmlinux with
its PVH entry, taken out of Debian's bzImage: 2.6 s faster per boot), the
initramfs and the module tree are built once per input (kernel package,
busybox, this file) under $IPSECD_VM_CACHE or <cache>/vm and reused;
building takes about 3 s, under a lock, so concurrent runs are fine.

Debugging: IPSECD_VM_APPEND adds kernel parameters (loglevel=7,
cryptomgr.notests=1 which saves 0.4 s of crypto self-tests, ...);
IPSECD_VM_KEEP=1 keeps the run directory of a run the VM failed.
"""
import argparse
import ctypes
import fcntl
import hashlib
import os
import platform
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

try:
    import common
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import common

# Bump when the recipe below changes in a way the hashed inputs miss.
RECIPE = "3"

# Loaded by the initramfs, dependencies first (resolved through the
# modules.dep that depmod makes for the unpacked kernel).  A name listed
# here that is neither a module nor built in stops the build: nothing is
# silently left out.  9p and virtio give the root file system, virtio_console
# the command's channels, overlay the writable root; the rest is what ESP
# needs: the XFRM netlink interface, ESP for both families and the
# algorithms behind rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305),
# authenc(hmac(sha256|sha384|sha512),cbc(aes)) and the IV generators.
# Several algorithms are templates that the crypto API instantiates at run
# time (gcm needs ctr and ghash, chacha20poly1305 needs chacha20 and
# poly1305): no module declares those, hence the explicit names.
MODULES = [
    "virtio_pci", "virtio_console", "9pnet_virtio", "9p", "overlay",
    "xfrm_algo", "xfrm_user", "esp4", "esp6",
    "aead", "geniv", "seqiv", "echainiv", "authenc", "authencesn",
    "aes_generic", "ctr", "gcm", "ghash_generic", "cbc",
    "chacha_generic", "poly1305_generic", "chacha20poly1305",
    "hmac", "sha256_generic", "sha512_generic",
]
# Faster implementations of the same algorithms.  They load only where the
# emulated CPU has the instructions (-cpu max has them); a failure is
# reported on the console and is not an error.
OPTIONAL_MODULES = [
    "aesni_intel", "ghash_clmulni_intel", "chacha_x86_64", "poly1305_x86_64",
    "sha256_ssse3", "sha512_ssse3",
]

QEMU = "qemu-system-x86_64"
QBOOT = "/usr/share/qemu/qboot.rom"
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
MSIZE = 512000           # the largest 9p message the 6.1 virtio transport takes
DEFAULT_TIMEOUT = 300
POLL = 0.05
STATUS_GRACE = 10        # seconds qemu may take to exit after the status

ENV_PASS = re.compile(r"^(IPSECD_.*|PYTHONPATH|PYTHONDONTWRITEBYTECODE|G_DEBUG|"
                      r"G_MESSAGES_DEBUG|MALLOC_PERTURB_|[A-Z]+SAN_OPTIONS)$")

RUNDIR_PREFIX = "ipsecd-vm-"
EXIT_TIMEOUT = 124
EXIT_VM_ERROR = 125


class VmError(Exception):
    """The VM did not run the command to its end."""


class VmTimeout(VmError):
    pass


class VmUnavailable(VmError):
    """Something the VM needs is missing here: a reason to skip."""


class VmInterrupted(VmError):
    """The runner got SIGTERM; qemu was killed."""


class Result:
    def __init__(self):
        self.returncode = None
        self.stdout = None
        self.stderr = None
        self.boot_seconds = None
        self.seconds = None
        self.rundir = None


def in_vm():
    return os.environ.get("IPSECD_IN_VM") == "1"


# --------------------------------------------------------------------------
# Prerequisites


def _which(name, extra=()):
    found = shutil.which(name)
    if found:
        return found
    for path in extra:
        if os.access(path, os.X_OK):
            return path
    return None


def kernel_root():
    return os.path.join(common.cache_dir("kernel"), "root")


def _kernel():
    """(version, vmlinuz path) of the unpacked kernel package."""
    root = kernel_root()
    boot = os.path.join(root, "boot")
    if not os.path.isdir(boot):
        raise VmUnavailable(f"{root} is missing: run scripts/setup-deps")
    images = sorted(n for n in os.listdir(boot) if n.startswith("vmlinuz-"))
    if len(images) != 1:
        raise VmUnavailable(f"expected one vmlinuz-* in {boot}, found {images}")
    version = images[0][len("vmlinuz-"):]
    if not os.path.isdir(os.path.join(root, "lib", "modules", version, "kernel")):
        raise VmUnavailable(f"{root}/lib/modules/{version} is missing")
    return version, os.path.join(boot, images[0])


def check():
    """Raise VmUnavailable unless everything the VM needs is here."""
    if platform.machine() != "x86_64":
        raise VmUnavailable("the vm suite runs the host's x86_64 binaries in the guest")
    if _which(QEMU) is None:
        raise VmUnavailable(f"{QEMU} is not installed (scripts/setup-deps installs it)")
    if _which("depmod", ("/sbin/depmod", "/usr/sbin/depmod")) is None:
        raise VmUnavailable("depmod is not installed (kmod; scripts/setup-deps installs it)")
    if not any(os.access(p, os.X_OK) for p in BUSYBOX_PATHS):
        raise VmUnavailable("busybox is not installed (busybox-static; scripts/setup-deps)")
    _kernel()


def require():
    """Skip the calling test (exit 77) unless the VM can run here."""
    try:
        check()
    except VmUnavailable as e:
        common.skip(str(e))


# --------------------------------------------------------------------------
# The image: kernel, initramfs, module tree.  Cached by a hash of the inputs.


def _work_dir():
    return os.environ.get("IPSECD_VM_CACHE") or common.cache_dir("vm")


def _file_digest(h, path):
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def _image_key(version, vmlinuz, busybox):
    h = hashlib.sha256()
    h.update(f"{RECIPE}\0{version}\0{MODULES}\0{OPTIONAL_MODULES}\0".encode())
    h.update(os.path.abspath(kernel_root()).encode() + b"\0")
    for path in (vmlinuz, busybox, os.path.abspath(__file__),
                 os.path.join(kernel_root(), "lib", "modules", version, "modules.order")):
        _file_digest(h, path)
    return h.hexdigest()[:16]


def _pvh_vmlinux(vmlinuz):
    """The ELF vmlinux inside a bzImage, if it carries a PVH entry note.

    qemu's -kernel boots such an ELF directly (no real-mode setup, no
    decompression in the guest), which saves a second or more of emulated
    time on every boot.  None when that is not possible.
    """
    import lzma
    import zlib

    with open(vmlinuz, "rb") as f:
        data = f.read()
    if data[0x202:0x206] != b"HdrS" or struct.unpack_from("<H", data, 0x206)[0] < 0x208:
        return None
    setup_sects = data[0x1F1] or 4
    offset, length = struct.unpack_from("<II", data, 0x248)
    start = (setup_sects + 1) * 512 + offset
    payload = data[start:start + length]
    try:
        if payload.startswith(b"\xfd7zXZ\x00"):
            elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
        elif payload.startswith(b"\x1f\x8b"):
            elf = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload)
        elif payload.startswith(b"\x28\xb5\x2f\xfd") and shutil.which("zstd"):
            elf = subprocess.run(["zstd", "-dc"], input=payload, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, check=True).stdout
        else:
            return None
    except (lzma.LZMAError, zlib.error, subprocess.CalledProcessError):
        return None
    return elf if _has_pvh_note(elf) else None


def _has_pvh_note(elf):
    """Whether a 64-bit little-endian ELF has XEN_ELFNOTE_PHYS32_ENTRY."""
    if len(elf) < 64 or elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:            # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == 18:
                return True
            pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return False


def _modname(path):
    name = os.path.basename(path)
    name = re.sub(r"\.ko(\.(xz|gz|zst))?$", "", name)
    return name.replace("-", "_")


def resolve_modules(modtree, wanted, optional=()):
    """Load order [(path relative to modtree, 'required'|'optional')].

    Reads modules.dep (every module with the modules it needs) and
    modules.builtin; a wanted module is followed by the whole closure of its
    dependencies, each loaded once and before the modules that need it.
    """
    deps = {}
    paths = {}
    with open(os.path.join(modtree, "modules.dep")) as f:
        for line in f:
            if ":" not in line:
                continue
            path, rest = line.split(":", 1)
            name = _modname(path)
            paths[name] = path
            deps[name] = [_modname(d) for d in rest.split()]
    builtin = set()
    with open(os.path.join(modtree, "modules.builtin")) as f:
        for line in f:
            if line.strip():
                builtin.add(_modname(line.strip()))

    order, kinds = [], {}

    def visit(name, kind, chain):
        if name in chain:
            raise VmError(f"module dependency cycle: {' -> '.join(chain + [name])}")
        if name in kinds:
            if kind == "required":
                kinds[name] = "required"
            return
        for dep in deps[name]:
            visit(dep, kind, chain + [name])
        kinds[name] = kind
        order.append(name)

    for kind, names in (("required", wanted), ("optional", optional)):
        for raw in names:
            name = raw.replace("-", "_")
            if name in deps:
                visit(name, kind, [])
            elif name not in builtin:
                raise VmError(f"kernel module {raw} is neither in modules.dep nor built in")
    return [(paths[n], kinds[n]) for n in order]


def _cpio(entries):
    """A newc cpio archive from (name, mode, data, rdev) entries."""
    out = bytearray()

    def add(ino, name, mode, data=b"", rdev=(0, 0)):
        nameb = name.encode() + b"\0"
        out.extend(b"070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0)).encode())
        out.extend(nameb)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, rdev) in enumerate(entries, 1):
        add(ino, name, mode, data, rdev)
    add(0, "TRAILER!!!", 0)
    return bytes(out)


# Stage 1: PID 1 in the initramfs (busybox sh).  Loads the modules, mounts
# the host root under an overlay and switches to it.
INIT = r"""#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t devtmpfs -o mode=0755 devtmpfs /dev
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
exec </dev/null >/dev/console 2>&1
mark() { read -r up _ < /proc/uptime; echo "vm-init: $up $*"; }
mark start
fail() {
    echo "vm-init: $*"
    for d in /sys/class/virtio-ports/*; do
        read -r n < "$d/name" 2>/dev/null
        [ "$n" = ipsecd.status ] && echo "error $*" > "/dev/${d##*/}"
    done
    $bb sync
    $bb poweroff -f
}
while read -r mod kind; do
    $bb insmod "/modules/$mod" || {
        [ "$kind" = required ] && fail "cannot load required module $mod"
        echo "vm-init: optional module $mod not loaded"
    }
done < /modules.load
mark modules loaded
i=0
until $bb mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=loose,msize=@MSIZE@ \
        ipsecd-root /mnt/lower 2>/dev/null; do
    i=$((i + 1))
    [ $i -ge 100 ] && fail "cannot mount the host root (9p tag ipsecd-root)"
    $bb sleep 0.05
done
$bb mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "tmpfs"
$bb mkdir /mnt/rw/upper /mnt/rw/work
$bb mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
    overlay /newroot || fail "cannot mount the overlay root"
$bb mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run || fail "/run"
$bb mkdir -p /newroot/run/ipsecd-vm/job
$bb cp /bin/busybox /stage2 /newroot/run/ipsecd-vm/
$bb mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=none,msize=@MSIZE@ \
    ipsecd-job /newroot/run/ipsecd-vm/job || fail "cannot mount the job directory"
mark root mounted
for m in dev proc sys; do $bb mount --move /$m /newroot/$m || fail "move /$m"; done
exec $bb switch_root /newroot /run/ipsecd-vm/busybox sh /run/ipsecd-vm/stage2
"""

# Stage 2: PID 1 in the new root (busybox sh copied to /run/ipsecd-vm).
# Finishes the system, runs the job and powers off.
STAGE2 = r"""bb=/run/ipsecd-vm/busybox
job=/run/ipsecd-vm/job
exec </dev/null >/dev/console 2>&1
read -r up _ < /proc/uptime; echo "vm-stage2: $up start"
finish() {
    $bb sync
    $bb poweroff -f
    $bb sleep 5
    $bb reboot -f
}
port() {
    for d in /sys/class/virtio-ports/*; do
        read -r n < "$d/name" 2>/dev/null
        [ "$n" = "$1" ] && { echo "/dev/${d##*/}"; return 0; }
    done
    return 1
}
i=0
until out=$(port ipsecd.out) && err=$(port ipsecd.err) && status=$(port ipsecd.status) \
        && [ -c "$out" ] && [ -c "$err" ] && [ -c "$status" ]; do
    i=$((i + 1))
    [ $i -ge 200 ] && { echo "vm-stage2: the virtio-serial ports did not appear"; finish; }
    $bb sleep 0.05
done
exec 3>"$status"
fail() { echo "vm-stage2: $*"; echo "error $*" >&3; finish; }
. $job/job.sh || fail "cannot read the job"
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o mode=0620,ptmxmode=0666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
$bb ln -sf /proc/self/fd /dev/fd
$bb ln -sf /proc/self/fd/0 /dev/stdin
$bb ln -sf /proc/self/fd/1 /dev/stdout
$bb ln -sf /proc/self/fd/2 /dev/stderr
$bb hostname ipsecd-vm
$bb ip link set lo up || fail "lo"
$bb mkdir -p "/lib/modules/$KVER" && $bb mount --bind "$MODTREE" "/lib/modules/$KVER" \
    || fail "cannot bind the module tree"
set -f
set -- $SHARES
while [ $# -ge 2 ]; do
    $bb mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=@MSIZE@ "$1" "$2" \
        || fail "cannot mount share $2"
    shift 2
done
mark() { read -r up _ < /proc/uptime; echo "vm-stage2: $up $*"; }
mark command start
echo start >&3
/bin/sh $job/run.sh >"$out" 2>"$err" 3>&-
echo "exit $?" >&3
mark command exit
exec 3>&-
finish
"""


def _build_image(dest, version, vmlinuz, busybox):
    """Build kernel, initrd and modtree into the new directory DEST."""
    kmods = os.path.abspath(os.path.join(kernel_root(), "lib", "modules", version))
    # The module tree the guest binds at /lib/modules/VERSION: depmod's
    # indexes beside a link to the unpacked modules (the same absolute path
    # inside the guest, whose root is the host's).
    base = os.path.join(dest, "depmod")
    modtree = os.path.join(base, "lib", "modules", version)
    os.makedirs(modtree)
    os.symlink(os.path.join(kmods, "kernel"), os.path.join(modtree, "kernel"))
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        if os.path.exists(os.path.join(kmods, name)):
            shutil.copy(os.path.join(kmods, name), modtree)
    depmod = _which("depmod", ("/sbin/depmod", "/usr/sbin/depmod"))
    subprocess.run([depmod, "-b", base, version], check=True)

    order = resolve_modules(modtree, MODULES, OPTIONAL_MODULES)
    entries = [(d, 0o040755, b"", (0, 0)) for d in (
        "bin", "dev", "proc", "sys", "mnt", "mnt/lower", "mnt/rw", "newroot", "modules")]
    entries.append(("dev/console", 0o020600, b"", (5, 1)))
    entries.append(("dev/null", 0o020666, b"", (1, 3)))
    with open(busybox, "rb") as f:
        entries.append(("bin/busybox", 0o100755, f.read(), (0, 0)))
    entries.append(("init", 0o100755, INIT.replace("@MSIZE@", str(MSIZE)).encode(), (0, 0)))
    entries.append(("stage2", 0o100644, STAGE2.replace("@MSIZE@", str(MSIZE)).encode(), (0, 0)))
    load = []
    for rel, kind in order:
        name = os.path.basename(rel)
        with open(os.path.join(modtree, rel), "rb") as f:
            entries.append((f"modules/{name}", 0o100644, f.read(), (0, 0)))
        load.append(f"{name} {kind}\n")
    entries.append(("modules.load", 0o100644, "".join(load).encode(), (0, 0)))
    with open(os.path.join(dest, "initrd"), "wb") as f:
        f.write(_cpio(entries))
    with open(os.path.join(dest, "modules.load"), "w") as f:
        f.writelines(load)

    elf = _pvh_vmlinux(vmlinuz)
    if elf is not None:
        with open(os.path.join(dest, "kernel"), "wb") as f:
            f.write(elf)
        kind = "pvh"
    else:
        shutil.copy(vmlinuz, os.path.join(dest, "kernel"))
        kind = "bzimage"
    with open(os.path.join(dest, "image"), "w") as f:
        f.write(f"version={version}\nkernel={kind}\n")


class Image:
    def __init__(self, path):
        self.path = path
        info = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(path, "image")))
        self.version = info["version"]
        self.kernel_kind = info["kernel"]
        self.modtree = os.path.join(path, "depmod", "lib", "modules", self.version)
        self.kernel = os.path.join(path, "kernel")
        self.initrd = os.path.join(path, "initrd")


def prepare():
    """The cached image for the current inputs, built if needed."""
    check()
    version, vmlinuz = _kernel()
    busybox = next(p for p in BUSYBOX_PATHS if os.access(p, os.X_OK))
    work = os.path.abspath(_work_dir())
    os.makedirs(work, exist_ok=True)
    key = _image_key(version, vmlinuz, busybox)
    final = os.path.join(work, key)
    if os.path.exists(os.path.join(final, "image")):
        try:
            os.utime(final)      # the last use, for _prune
        except OSError:
            pass
        return Image(final)
    with open(os.path.join(work, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(final, "image")):
            return Image(final)
        tmp = tempfile.mkdtemp(prefix=f".{key}-", dir=work)
        os.chmod(tmp, 0o755)
        try:
            _build_image(tmp, version, vmlinuz, busybox)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _prune(work, keep=key)
    return Image(final)


def _prune(work, keep):
    """Drop images (of other inputs) that no run used for a day."""
    now = time.time()
    for name in os.listdir(work):
        path = os.path.join(work, name)
        if name in (keep, "lock") or not os.path.isdir(path):
            continue
        try:
            if now - os.stat(path).st_mtime > 86400:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


# --------------------------------------------------------------------------
# Running


def _die_with(parent):
    """A preexec_fn: the child gets SIGKILL when PARENT (the runner) dies,
    so no qemu outlives its runner, however the runner ends."""
    def preexec():
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)      # PR_SET_PDEATHSIG
        if os.getppid() != parent:                  # it died before prctl
            os._exit(1)
    return preexec


def _terminated(signum, frame):
    raise VmInterrupted(f"terminated by signal {signum}")


def _guest_env(env):
    out = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root", "USER": "root", "LOGNAME": "root", "SHELL": "/bin/sh",
        "LANG": "C.UTF-8", "TERM": "dumb", "TMPDIR": "/tmp",
    }
    out.update({k: v for k, v in os.environ.items() if ENV_PASS.match(k)})
    out.update(env or {})
    out["IPSECD_IN_VM"] = "1"
    for k in out:
        if not k or "=" in k or "\0" in k + out[k]:
            raise ValueError(f"bad environment variable {k!r}")
    return out


def _write_job(rundir, image, argv, env, cwd, shares):
    tags = []
    for i, path in enumerate(shares):
        tags += [f"ipsecd-s{i}", path]
    with open(os.path.join(rundir, "job.sh"), "w") as f:
        f.write(f"KVER={shlex.quote(image.version)}\n")
        f.write(f"MODTREE={shlex.quote(image.modtree)}\n")
        # Word-split by stage2: share paths must not contain white space.
        f.write(f"SHARES={shlex.quote(' '.join(tags))}\n")
    envargs = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items()))
    with open(os.path.join(rundir, "run.sh"), "w") as f:
        note = shlex.quote(f"vm: cannot cd to {cwd} in the guest")
        f.write(f"cd {shlex.quote(cwd)} || {{ echo {note} >&2; exit {EXIT_VM_ERROR}; }}\n")
        f.write(f"exec /run/ipsecd-vm/busybox env -i {envargs} "
                f"{' '.join(shlex.quote(a) for a in argv)}\n")


def qemu_command(image, rundir, shares=(), memory="1G", smp=2):
    append = " ".join([
        "console=ttyS0", "quiet", "loglevel=4", "panic=-1", "reboot=t",
        "mitigations=off", "tsc=reliable", "no_timer_check", "random.trust_cpu=on",
        "8250.nr_uarts=1", "i8042.noaux", "i8042.nomux", "i8042.nopnp", "i8042.dumbkbd",
        "rdinit=/init",
    ] + os.environ.get("IPSECD_VM_APPEND", "").split())
    cmd = [
        _which(QEMU), "-nodefaults", "-no-user-config", "-display", "none",
        "-no-reboot", "-machine", "pc", "-accel", "tcg,tb-size=256", "-cpu", "max",
        "-m", memory, "-smp", str(smp), "-nic", "none",
        "-kernel", image.kernel, "-initrd", image.initrd, "-append", append,
        "-chardev", f"file,id=console,path={rundir}/console.log",
        "-serial", "chardev:console",
        "-device", "virtio-serial-pci,id=vser",
    ]
    if os.path.exists(QBOOT):
        cmd += ["-bios", QBOOT]
    for name in ("out", "err", "status"):
        cmd += ["-chardev", f"file,id={name},path={rundir}/{name}",
                "-device", f"virtserialport,bus=vser.0,chardev={name},name=ipsecd.{name}"]
    fsdevs = [("ipsecd-root", "/", True), ("ipsecd-job", rundir, True)]
    fsdevs += [(f"ipsecd-s{i}", p, False) for i, p in enumerate(shares)]
    for i, (tag, path, ro) in enumerate(fsdevs):
        opts = f"local,id=fs{i},path={path},security_model=none,multidevs=remap"
        if ro:
            opts += ",readonly=on"
        cmd += ["-fsdev", opts, "-device", f"virtio-9p-pci,fsdev=fs{i},mount_tag={tag}"]
    return cmd


class _Tail:
    """Copies what a file gains to a stream (and a buffer)."""

    def __init__(self, path, sink, keep):
        self.fd = os.open(path, os.O_RDONLY)
        self.sink = sink
        self.data = bytearray() if keep else None

    def pump(self):
        got = False
        while True:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return got
            got = True
            if self.data is not None:
                self.data.extend(chunk)
            if self.sink is not None:
                self.sink.write(chunk)
                self.sink.flush()

    def close(self):
        os.close(self.fd)


def _check_path(path, what):
    if "," in path or not os.path.isabs(path):
        raise ValueError(f"{what} {path!r}: must be absolute and free of commas (qemu options)")


def run(argv, timeout=DEFAULT_TIMEOUT, env=None, cwd=None, shares=(), capture=False,
        stdout=None, stderr=None, console=None, keep=False, memory="1G", smp=2, verbose=False):
    """Run ARGV inside the VM; see the module docstring."""
    argv = [str(a) for a in argv]
    if not argv:
        raise ValueError("no command")
    start = time.monotonic()
    image = prepare()
    env = _guest_env(env)
    cwd = os.path.abspath(cwd or os.getcwd())
    shares = [os.path.abspath(s) for s in shares]
    for s in shares:
        _check_path(s, "share")
        if any(c.isspace() for c in s) or not os.path.isdir(s):
            raise ValueError(f"share {s!r}: must be an existing directory without white space")
    if stdout is None and not capture:
        stdout = sys.stdout.buffer
    if stderr is None and not capture:
        stderr = sys.stderr.buffer

    result = Result()
    failed = True
    _reap_stale_rundirs()
    rundir = result.rundir = tempfile.mkdtemp(prefix=RUNDIR_PREFIX)
    with open(os.path.join(rundir, "runner.pid"), "w") as f:
        f.write(f"{os.getpid()}\n")
    # SIGTERM (meson's timeout, a CI runner) unwinds like an exception, so
    # qemu is killed and the run directory removed; SIGKILL cannot be
    # caught, and there the death signal set in the child kills qemu.
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    try:
        _check_path(rundir, "run directory")
        _write_job(rundir, image, argv, env, cwd, shares)
        _supervise(result, image, rundir, shares, timeout, memory, smp, capture,
                   stdout, stderr, console)
        failed = False
    except VmError as e:
        raise type(e)(f"{e}\n{_diagnostics(rundir)}") from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old_term)
        result.seconds = time.monotonic() - start
        if keep or (failed and os.environ.get("IPSECD_VM_KEEP") == "1"):
            os.unlink(os.path.join(rundir, "runner.pid"))
            print(f"vm: run directory kept: {rundir}", file=sys.stderr)
        else:
            shutil.rmtree(rundir, ignore_errors=True)
        if verbose:
            boot = f"{result.boot_seconds:.1f} s" if result.boot_seconds else "-"
            print(f"vm: kernel {image.version} ({image.kernel_kind}), boot {boot}, "
                  f"total {result.seconds:.1f} s", file=sys.stderr)
    return result


def _reap_stale_rundirs():
    """Remove run directories whose runner died without cleaning up (SIGKILL)."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if not name.startswith(RUNDIR_PREFIX):
            continue
        try:
            with open(os.path.join(path, "runner.pid")) as f:
                pid = int(f.read())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (OSError, ValueError):
            pass


def _supervise(result, image, rundir, shares, timeout, memory, smp, capture,
               stdout, stderr, console):
    """Start qemu, copy the guest's output as it comes, end qemu in any case."""
    for name in ("out", "err", "status", "console.log"):
        open(os.path.join(rundir, name), "wb").close()
    tails = {
        "out": _Tail(os.path.join(rundir, "out"), stdout, capture),
        "err": _Tail(os.path.join(rundir, "err"), stderr, capture),
        "console": _Tail(os.path.join(rundir, "console.log"), console, False),
    }
    status_tail = _Tail(os.path.join(rundir, "status"), None, True)
    proc = None
    try:
        cmd = qemu_command(image, rundir, shares, memory, smp)
        with open(os.path.join(rundir, "qemu.cmd"), "w") as f:
            f.write(shlex.join(cmd) + "\n")
        qstart = time.monotonic()
        with open(os.path.join(rundir, "qemu.log"), "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT,
                                    preexec_fn=_die_with(os.getpid()),
                                    start_new_session=True)
        deadline = qstart + timeout
        done_at = final = None
        while True:
            exited = proc.poll() is not None
            for t in tails.values():
                t.pump()
            status_tail.pump()
            status = bytes(status_tail.data)
            if result.boot_seconds is None and b"start\n" in status:
                result.boot_seconds = time.monotonic() - qstart
            final = re.search(rb"^(exit -?\d+|error .*)\n", status, re.M)
            if exited:
                break
            now = time.monotonic()
            if final and done_at is None:
                done_at = now
            if done_at is not None and now - done_at > STATUS_GRACE:
                break            # the guest is done but did not power off
            if now > deadline:
                raise VmTimeout(f"timed out after {timeout:g} s"
                                + ("" if result.boot_seconds else " (still booting)"))
            time.sleep(POLL)
        if final is None:
            raise VmError("the guest stopped before the command finished "
                          f"(qemu exit status {proc.returncode})")
        word, value = final.group(1).decode(errors="replace").split(" ", 1)
        if word == "error":
            raise VmError(f"guest setup failed: {value}")
        result.returncode = int(value)
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for t in tails.values():
            t.pump()
            t.close()
        status_tail.close()
        if capture:
            result.stdout = bytes(tails["out"].data)
            result.stderr = bytes(tails["err"].data)


def _diagnostics(rundir, lines=40):
    parts = []
    for name in ("qemu.log", "console.log"):
        try:
            with open(os.path.join(rundir, name), "rb") as f:
                text = f.read().decode(errors="replace").replace("\r", "")
        except OSError:
            continue
        tail = text.splitlines()[-lines:]
        if tail:
            parts.append(f"--- {name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "\n".join(parts) or "(no qemu or console output)"


def run_self(args=(), timeout=DEFAULT_TIMEOUT, **kwargs):
    """Re-run the calling script inside the VM with ARGS, exit with its status."""
    script = os.path.abspath(sys.argv[0])
    kwargs.setdefault("verbose", True)
    try:
        r = run([sys.executable, script, *args], timeout=timeout, **kwargs)
    except VmUnavailable as e:
        common.skip(str(e))
    except VmError as e:
        print(f"vm: {e}", file=sys.stderr, flush=True)
        sys.exit(EXIT_VM_ERROR)
    sys.exit(r.returncode)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="vm.py", description="Run a command as root inside a Debian kernel with ESP "
        "(qemu; the host root shared read-only under a tmpfs overlay).",
        usage="%(prog)s [options] -- CMD [ARGS...]")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds for the whole run, boot included (default {DEFAULT_TIMEOUT})")
    p.add_argument("--env", action="append", default=[], metavar="K=V",
                   help="set a variable in the command's environment")
    p.add_argument("--share", action="append", default=[], metavar="DIR",
                   help="mount host directory DIR read-write at the same path")
    p.add_argument("--cwd", help="directory to run in (default: the current one)")
    p.add_argument("--console", action="store_true", help="stream the kernel console to stderr")
    p.add_argument("--keep", action="store_true", help="keep the run directory")
    p.add_argument("--memory", default="1G")
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--prepare", action="store_true", help="only build the cached image")
    p.add_argument("-v", "--verbose", action="store_true", help="report timings on stderr")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    try:
        if a.prepare:
            image = prepare()
            print(image.path)
            return 0
        if not cmd:
            p.error("no command given")
        env = {}
        for kv in a.env:
            k, sep, v = kv.partition("=")
            if not sep:
                p.error(f"--env {kv}: expected K=V")
            env[k] = v
        r = run(cmd, timeout=a.timeout, env=env, cwd=a.cwd, shares=a.share,
                console=sys.stderr.buffer if a.console else None, keep=a.keep,
                memory=a.memory, smp=a.smp, verbose=a.verbose)
        return r.returncode
    except VmUnavailable as e:
        print(f"SKIP: {e}", file=sys.stderr)
        return common.SKIP
    except VmTimeout as e:
        print(f"vm: {e}", file=sys.stderr)
        return EXIT_TIMEOUT
    except VmError as e:
        print(f"vm: {e}", file=sys.stderr)
        return EXIT_VM_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
