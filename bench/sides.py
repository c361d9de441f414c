"""The two responders the benchmark measures and the load driver.

Both responders run in the host "resp" pinned to one core, the driver in the
host "init" pinned to the other.  Each responder gets the same settings:
childless IKE SAs, no rekey, no DPD, no logging, no DoS cookies, any peer
identity with the same PSK or the same raw public keys.
"""
import base64
import json
import os
import select
import subprocess
import time

import peers
from netns import wait_for

RESP_CPU = "0"
INIT_CPU = "1"

# the same algorithms on every side: AES-GCM-256, PRF SHA-256, X25519
IPSECD_IKE = "aes_gcm16_256-prfsha256-x25519"
CHARON_IKE = "aes256gcm16-prfsha256-x25519"
RESP_ID = "resp.example"
LOAD_ID = "load.example"

# charon's plugins, openssl first: the crypto factory prefers the first
# plugin that registers an algorithm, and openssl has AES-NI, the fastest
# SHA-2 and X25519 here.  Its own curve25519 and gcm come after as spares.
CHARON_PLUGINS = ("random nonce openssl aesni aes sha1 sha2 hmac kdf gmp "
                  "curve25519 gcm pem pkcs1 pkcs8 pubkey x509 revocation "
                  "constraints kernel-netlink socket-default vici").split()

# strongSwan as the issue asks: no DoS protection (no cookies, no
# half-open limits), no IKE SA reuse, a large IKE SA table, logging off.
CHARON_SETTINGS = """\
	dos_protection = no
	reuse_ikesa = no
	ikesa_table_size = 65536
	ikesa_table_segments = 16
	init_limit_half_open = 0
	block_threshold = 100000
	cookie_threshold = 1000000
	half_open_timeout = 60
"""
CHARON_QUIET = {"default": -1, "ike": -1, "cfg": -1, "enc": -1, "net": -1,
                "knl": -1, "job": -1, "mgr": -1, "lib": -1}


class BenchError(RuntimeError):
    pass


def pin(pid, cpu):
    """Pin every thread of PID (threads started later inherit it)."""
    subprocess.run(["taskset", "-a", "-p", "-c", cpu, str(pid)], check=True,
                   capture_output=True)


def cpu_ns(pid):
    """CPU time of every thread of PID so far, in nanoseconds (schedstat:
    exact, unlike the 10 ms ticks of /proc/PID/stat)."""
    total = 0
    tasks = f"/proc/{pid}/task"
    for tid in os.listdir(tasks):
        try:
            with open(f"{tasks}/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):
            pass  # a thread that just ended
    return total


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def make_keys(tmpdir, kind):
    """A private key (PKCS#8 PEM), its public key (PEM) and its
    SubjectPublicKeyInfo in base64, for KIND "ecdsa" (P-256) or "rsa"
    (3072 bits), made with openssl: test keys, thrown away with TMPDIR."""
    opts = {"ecdsa": ["-algorithm", "EC", "-pkeyopt",
                      "ec_paramgen_curve:P-256"],
            "rsa": ["-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:3072"]}[kind]
    keys = {}
    for who in ("resp", "load"):
        key = os.path.join(tmpdir, f"{who}-{kind}.key")
        pub = os.path.join(tmpdir, f"{who}-{kind}.pub")
        subprocess.run(["openssl", "genpkey", *opts, "-out", key],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout",
                              "-outform", "DER"], check=True,
                             capture_output=True).stdout
        os.chmod(key, 0o600)
        keys[who] = {"key": key, "pub": pub,
                     "spki": base64.b64encode(der).decode()}
    return keys


def ipsecd_auth_lines(auth, who, other, keys):
    """The auth keys of an ipsecd connection file for side WHO."""
    if auth == "psk":
        return "local-auth=psk\n"
    return (f"local-auth=pubkey\nlocal-key={keys[who]['key']}\n"
            f"remote-pubkey={keys[other]['spki']}\n")


def write_conn(confdir, name, text, psk=None):
    for sub in ("connections", "secrets"):
        os.makedirs(os.path.join(confdir, sub), mode=0o700, exist_ok=True)
    with open(os.path.join(confdir, "connections", f"{name}.conf"), "w") as f:
        f.write(text)
    if psk is not None:
        path = os.path.join(confdir, "secrets", f"{name}.psk")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(psk)
    return os.path.join(confdir, "connections", f"{name}.conf")


class IpsecdResponder:
    name = "ipsecd"

    def __init__(self, host, binary, auth, psk, keys):
        self.host, self.binary = host, binary
        self.dir = os.path.join(host.tmpdir, "ipsecd")
        conf = (f"[connection]\nremote=%any\nlocal={host.ip4}\n"
                f"local-id=@{RESP_ID}\n"
                + ipsecd_auth_lines(auth, "resp", "load", keys)
                + f"ike={IPSECD_IKE}\nchildless=yes\n")
        write_conn(os.path.join(self.dir, "etc"), "bench", conf,
                   psk if auth == "psk" else None)
        self.proc = None

    def start(self):
        for sub in ("state", "run"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        argv = ["taskset", "-c", RESP_CPU, self.binary, "--bus=none",
                "--config-dir", os.path.join(self.dir, "etc"),
                "--state-dir", os.path.join(self.dir, "state"),
                "--runtime-dir", os.path.join(self.dir, "run")]
        # logging off: the daemon has no quieter level than its events, so
        # they go to /dev/null (the cost of formatting them stays counted)
        self.proc = self.host.popen(argv, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        self.host.wait_udp(500, timeout=15)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        # SIGKILL: SIGTERM would send thousands of Deletes to no one
        self.host.stop(self.proc, grace=0.1, sig=9)


class CharonResponder:
    name = "strongswan"

    def __init__(self, host, auth, psk, keys):
        self.host, self.auth, self.psk, self.keys = host, auth, psk, keys
        peers.CHARON_PLUGINS = CHARON_PLUGINS
        self.charon = peers.Charon(host, levels=CHARON_QUIET,
                                   settings=CHARON_SETTINGS)

    def _conf(self):
        if self.auth == "psk":
            local = f"auth = psk\n\t\t\tid = @{RESP_ID}"
            remote = "auth = psk"
            secrets = f'secrets {{\n\tike-bench {{\n\t\tsecret = "{self.psk}"\n\t}}\n}}\n'
        else:
            local = f"auth = pubkey\n\t\t\tid = @{RESP_ID}\n\t\t\tpubkeys = resp.pub"
            remote = f"auth = pubkey\n\t\t\tid = @{LOAD_ID}\n\t\t\tpubkeys = load.pub"
            secrets = ""
        return f"""\
connections {{
	bench {{
		version = 2
		local_addrs = {self.host.ip4}
		proposals = {CHARON_IKE}
		encap = no
		mobike = no
		fragmentation = yes
		unique = never
		rekey_time = 0
		reauth_time = 0
		dpd_delay = 0
		local {{
			{local}
		}}
		remote {{
			{remote}
		}}
	}}
}}
{secrets}"""

    def start(self):
        self.charon._write_config()
        swan = self.charon.swanctl_dir
        if self.auth != "psk":
            for who in ("resp", "load"):
                with open(self.keys[who]["pub"]) as src, \
                        open(os.path.join(swan, "pubkey", f"{who}.pub"), "w") as dst:
                    dst.write(src.read())
            with open(self.keys["resp"]["key"]) as src, \
                    open(os.path.join(swan, "pkcs8", "resp.key"), "w") as dst:
                dst.write(src.read())
        self.charon.start()
        pin(self.charon.proc.pid, RESP_CPU)
        self.charon.load(self._conf(), name="bench")
        return self

    @property
    def pid(self):
        return self.charon.proc.pid

    def ike_sa_count(self):
        out = self.charon.swanctl("--stats").stdout
        for line in out.splitlines():
            if "IKE_SAs:" in line:
                return int(line.split()[1])
        return -1

    def stop(self):
        self.host.stop(self.charon.proc, grace=0.1, sig=9)


class Driver:
    """bench/ike-load in the host "init", from SOURCES to the responder."""

    def __init__(self, host, binary, resp_ip, auth, psk, keys, sources):
        self.host = host
        confdir = os.path.join(host.tmpdir, f"load-{auth}")
        conf = (f"[connection]\nremote={resp_ip}\nlocal-id=@{LOAD_ID}\n"
                f"remote-id=@{RESP_ID}\n"
                + ipsecd_auth_lines(auth, "load", "resp", keys)
                + f"ike={IPSECD_IKE}\nchildless=yes\n"
                "retransmit-timeout=2s\nretransmit-limit=3\n")
        path = write_conn(confdir, "load", conf,
                          psk if auth == "psk" else None)
        self.log = open(os.path.join(host.tmpdir, f"load-{auth}.log"), "ab")
        self.proc = host.popen(["taskset", "-c", INIT_CPU, binary, confdir,
                                path, *sources], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=self.log)
        ready = self._read(15)
        if not ready.get("ready"):
            raise BenchError(f"ike-load did not start: {ready}")

    def _read(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise BenchError(f"ike-load gave no answer in {timeout:g}s")
        line = self.proc.stdout.readline()
        if not line:
            raise BenchError(f"ike-load exited {self.proc.poll()}")
        return json.loads(line)

    def run(self, n, inflight=32, timeout=300):
        self.proc.stdin.write(f"run {n} {inflight}\n".encode())
        self.proc.stdin.flush()
        return self._read(timeout)

    def quit(self):
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        self.host.stop(self.proc, grace=2)
        self.log.close()


def measure(resp, driver, n, inflight=32):
    """One timed run of N IKE SAs: the driver's view (rate, latency) and the
    responder's CPU time over it."""
    cpu0, t0 = cpu_ns(resp.pid), time.monotonic()
    result = driver.run(n, inflight)
    wall, cpu = time.monotonic() - t0, cpu_ns(resp.pid) - cpu0
    result["resp_cpu_s"] = cpu / 1e9
    result["resp_cpu_us_per_sa"] = cpu / 1e3 / max(result["up"], 1)
    result["resp_busy"] = cpu / 1e9 / wall if wall > 0 else 0
    # what the responder alone could do: SAs per second of its CPU time
    result["resp_capacity"] = result["up"] / (cpu / 1e9) if cpu else 0
    if result["failed"]:
        raise BenchError(f"{resp.name}: {result['failed']} of {n} IKE SAs "
                         f"failed: {result['first_error']}")
    return result


def wait_settled(pid, seconds=0.5, timeout=10):
    """Wait until PID used no CPU for SECONDS (the last SAs' work done)."""
    def idle():
        before = cpu_ns(pid)
        time.sleep(seconds)
        return cpu_ns(pid) - before < 5e6
    wait_for(idle, timeout=timeout, what="the responder to go idle")


class Profile:
    """perf record -g of PID over a with block into DIR/NAME.data (no-op
    when DIR is None): the profiles behind bench/RESULTS.md."""

    def __init__(self, pid, directory, name):
        self.pid, self.dir, self.name, self.proc = pid, directory, name, None

    def __enter__(self):
        if self.dir is None:
            return self
        os.makedirs(self.dir, exist_ok=True)
        out = os.path.join(self.dir, f"{self.name}.data")
        self.proc = subprocess.Popen(
            ["perf", "record", "-q", "-g", "-F", "4999", "-p", str(self.pid),
             "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # perf attaches before the run starts
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.send_signal(2)
            self.proc.wait(timeout=30)
        return False
