"""Real IKEv2 peers (strongSwan's charon, libreswan's pluto) in a netns host.

    with Network(hosts=2) as net:
        a, b = net.hosts
        sw, ls = Charon(a).start(), Pluto(b).start()
        ls.load(Pluto.psk_conn("to-a", b, a), Pluto.psk_secret(b, a, PSK))
        sw.load(Charon.psk_conn("to-b", a, b, PSK))
        sw.initiate(ike="to-b")
        assert sw.ike_state("to-b") == "ESTABLISHED"
        assert ls.ike_established("to-a")

Neither peer touches the machine's /etc, /run or routing: every file lives in
the host's private temporary folder (net.tmpdir/<host>/charon or .../pluto).

charon: `charon-systemd` (or /usr/lib/ipsec/charon) with STRONGSWAN_CONF
pointing at a generated strongswan.conf that lists the plugins to load
(load_modular = no: nothing from /etc/strongswan.d), puts the vici socket in
the folder, logs to a file (journal and syslog off) and neither installs
routes nor virtual IPs (routing_table = 0).  swanctl talks to it with --uri
and finds swanctl.conf through SWANCTL_DIR.

pluto: from libreswan's unpacked .deb (scripts/setup-deps), with its own
--config, --secretsfile, --ipsecdir, --nssdir (a fresh empty-password NSS
database), --rundir and --nofork --stderrlog.  pluto checks for
/usr/libexec/ipsec/addconn, so it runs in a private mount namespace
(`unshare -m --propagation private`) where /usr/libexec is an overlay of the
unpacked root's usr/libexec over the real one (or, where overlayfs is
refused, a tmpfs of symlinks; the vm suite's guest takes the overlay).  whack and addconn run
inside pluto's mount namespace (nsenter -t <pluto pid> -m).
"""
import os
import re
import shlex
import shutil
import signal
import subprocess

import common
from netns import wait_for

# Plugins of Debian 12's strongswan-libcharon and libstrongswan-standard- and
# -extra-plugins that a PSK or certificate host-to-host peer needs: openssl
# (ECP, MODP, AES, SHA-2), gcm (AES-GCM), chapoly (ChaCha20-Poly1305),
# curve25519 (X25519).  Absent ones are dropped at start.  No resolve
# (resolv.conf), updown (scripts), attr, stroke (/run/charon.ctl).
CHARON_PLUGINS = ("random nonce aes sha1 sha2 hmac kdf gmp curve25519 "
                  "gcm chapoly openssl pem pkcs1 pkcs8 pubkey x509 "
                  "revocation constraints kernel-netlink socket-default "
                  "vici").split()
SWANCTL_PLUGINS = "pem pkcs1 pkcs8 x509 pubkey random openssl".split()
CHARON_PLUGIN_DIR = "/usr/lib/ipsec/plugins"

# IKE proposal that both peers can do even without charon's openssl, gcm and
# curve25519 plugins (MODP from gmp, AES-CBC from aes), in swanctl and
# ipsec.conf syntax.
DEFAULT_IKE_PROPOSAL = ("aes256-sha256-modp2048", "aes256-sha2_256;modp2048")
# The strongest proposal both do with those plugins (libreswan 4.10 calls
# X25519 dh31; after an AEAD cipher, its sha2_256 is the PRF).
AEAD_IKE_PROPOSAL = ("aes256gcm16-prfsha256-x25519",
                     "aes_gcm_16_256-sha2_256;dh31")

# charon's log levels per subsystem (filelog): Charon(levels=...) overrides.
# SECRET_LOG_LEVELS makes charon log every IKE key it derives ("SKEYSEED",
# "Sk_d secret", ...): only ever for test keys, into the test's own folder.
SECRET_LOG_LEVELS = {"ike": 4}


class PeerError(RuntimeError):
    pass


def _tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


def nss_run(argv):
    """certutil/pk12util ARGV on a test NSS database; raises on failure."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise PeerError(f"{' '.join(argv)} exited {proc.returncode}: "
                        f"{proc.stdout}{proc.stderr}")
    return proc


# --- strongSwan -------------------------------------------------------------

def charon_binary():
    """charon-systemd, or the classic /usr/lib/ipsec/charon; None if none."""
    for path in (shutil.which("charon-systemd"), "/usr/sbin/charon-systemd",
                 "/usr/lib/ipsec/charon", "/usr/libexec/ipsec/charon"):
        if path and os.access(path, os.X_OK):
            return path
    return None


def require_strongswan():
    """Skip the test unless charon and swanctl are installed."""
    if charon_binary() is None:
        common.skip("strongSwan's charon-systemd is not installed "
                    "(scripts/setup-deps installs it)")
    common.require_tools("swanctl")


def parse_pretty(text):
    """Parse `swanctl ... --pretty` output into nested dicts and lists.

    Sections become dicts ("name {" ... "}"), lists become lists
    ("name [" ... "]"), "key = value" pairs strings.  Messages
    ("list-sa event { ... }") appear under their name in a list, since a
    message type can repeat."""
    root = {}
    stack = [root]
    current_list = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if current_list is not None:
            if line == "]":
                current_list = None
            else:
                current_list.append(line)
            continue
        if line == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            section = {}
            top = stack[-1]
            if top is root:
                root.setdefault(name, []).append(section)
            else:
                top[name] = section
            stack.append(section)
            continue
        if line.endswith("["):
            current_list = []
            stack[-1][line[:-1].strip()] = current_list
            continue
        key, sep, value = line.partition(" = ")
        if sep:
            stack[-1][key.strip()] = value
    return root


class Charon:
    """strongSwan's IKE daemon in HOST with all state in a private folder."""

    def __init__(self, host, name="charon", debug=2, settings="",
                 levels=None):
        """DEBUG: log level of the ike, cfg, enc and net subsystems.
        SETTINGS: extra strongswan.conf text placed inside charon { }.
        LEVELS: {subsystem: level} over those, e.g. SECRET_LOG_LEVELS."""
        self.host = host
        self.name = name
        self.debug = debug
        self.levels = {"default": 1, "ike": debug, "cfg": debug,
                       "enc": debug, "net": debug, "knl": 1}
        self.levels.update(levels or {})
        self.settings = settings
        self.dir = os.path.join(host.tmpdir, name)
        self.conf = os.path.join(self.dir, "strongswan.conf")
        self.swanctl_dir = os.path.join(self.dir, "swanctl")
        self.socket = os.path.join(self.dir, "charon.vici")
        self.uri = f"unix://{self.socket}"
        self.log = os.path.join(self.dir, "charon.log")
        self.proc = None

    def __repr__(self):
        return f"<Charon in {self.host.name}>"

    @property
    def env(self):
        env = dict(os.environ)
        env["STRONGSWAN_CONF"] = self.conf
        env["SWANCTL_DIR"] = self.swanctl_dir
        return env

    def _write_config(self):
        def present(names):
            if not os.path.isdir(CHARON_PLUGIN_DIR):  # not Debian's layout
                return " ".join(names)
            return " ".join(n for n in names if os.path.exists(
                os.path.join(CHARON_PLUGIN_DIR, f"libstrongswan-{n}.so")))
        os.makedirs(self.dir, exist_ok=True)
        for sub in ("", "conf.d", "x509", "x509ca", "x509aa", "x509ocsp",
                    "x509crl", "x509ac", "pubkey", "private", "rsa", "ecdsa",
                    "bliss", "pkcs8", "pkcs12"):
            os.makedirs(os.path.join(self.swanctl_dir, sub), exist_ok=True)
        with open(os.path.join(self.swanctl_dir, "swanctl.conf"), "w") as f:
            f.write("include conf.d/*.conf\n")
        levels = "\n".join(f"\t\t\t{subsystem} = {level}"
                           for subsystem, level in self.levels.items())
        with open(self.conf, "w") as f:
            f.write(f"""\
# generated by tests/lib/peers.py for one test; nothing from /etc
charon {{
	load_modular = no
	load = {present(CHARON_PLUGINS)}
	install_routes = no
	install_virtual_ip = no
	routing_table = 0
	port = 500
	port_nat_t = 4500
	retransmit_tries = 3
	retransmit_timeout = 1.0
	retransmit_base = 1.4
	plugins {{
		vici {{
			socket = {self.uri}
		}}
		kernel-netlink {{
			# no routing rules or roaming reactions outside our needs
			roam_events = no
		}}
	}}
	filelog {{
		main {{
			path = {self.log}
			time_format = %T
			time_add_ms = yes
			ike_name = yes
			append = no
			flush_line = yes
{levels}
		}}
	}}
	syslog {{
		daemon {{
			default = -1
		}}
		auth {{
			default = -1
		}}
	}}
{self.settings}
}}
charon-systemd {{
	journal {{
		default = -1
	}}
}}
swanctl {{
	load = {present(SWANCTL_PLUGINS)}
	socket = {self.uri}
}}
""")

    def start(self, timeout=15.0):
        """Start charon and wait until vici answers and UDP 500 is bound."""
        binary = charon_binary()
        if binary is None:
            raise PeerError("no charon binary")
        self._write_config()
        self.proc = self.host.popen([binary], env=self.env,
                                    log=os.path.join(self.dir, "stdout.log"))

        def ready():
            if self.proc.poll() is not None:
                raise PeerError(f"charon exited {self.proc.returncode}:\n"
                                + _tail(self.log))
            if not os.path.exists(self.socket):
                return False
            return self.swanctl("--stats", check=False).returncode == 0
        wait_for(ready, timeout=timeout, what="charon's vici socket")
        self.host.wait_udp(500, timeout=timeout)
        return self

    def swanctl(self, *args, check=True, timeout=60):
        """Run swanctl ARGS against this charon; returns CompletedProcess."""
        argv = ["swanctl", *args, "--uri", self.uri]
        proc = self.host.run(argv, check=False, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise PeerError(f"swanctl {' '.join(args)} exited "
                            f"{proc.returncode}: {proc.stdout}{proc.stderr}")
        return proc

    def load(self, conf, name="test"):
        """Write swanctl.conf text CONF as conf.d/NAME.conf and load all."""
        with open(os.path.join(self.swanctl_dir, "conf.d", f"{name}.conf"),
                  "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(conf)
        return self.swanctl("--load-all", "--noprompt").stdout

    def initiate(self, ike=None, child=None, timeout=10, check=True):
        """Initiate IKE_SA IKE (childless unless CHILD is given); wait up to
        TIMEOUT seconds.  Returns True on success, raises if CHECK."""
        args = ["--initiate"]
        if ike:
            args += ["--ike", ike]
        if child:
            args += ["--child", child]
        args += ["--timeout", str(timeout)]
        proc = self.swanctl(*args, check=False, timeout=timeout + 30)
        if proc.returncode != 0 and check:
            raise PeerError(f"initiate {ike or child} failed: {proc.stdout}"
                            f"{proc.stderr}\n--- charon.log:\n{_tail(self.log)}")
        return proc.returncode == 0

    def terminate(self, ike, timeout=10):
        return self.swanctl("--terminate", "--ike", ike, "--timeout",
                            str(timeout), check=False).returncode == 0

    def rekey_child(self, child):
        """Ask charon to rekey Child SA CHILD (CREATE_CHILD_SA); returns at
        once, the caller waits for what it needs."""
        return self.swanctl("--rekey", "--child", child)

    def child_spis(self, ike):
        """{(in SPI, out SPI)} (ints) of connection IKE's installed Child
        SAs, from list_sas()."""
        sa = self.list_sas(ike).get(ike) or {}
        found = set()
        for child in (sa.get("child-sas") or {}).values():
            if isinstance(child, dict) and child.get("state") == "INSTALLED":
                found.add((int(child.get("spi-in", "0"), 16),
                           int(child.get("spi-out", "0"), 16)))
        return found

    def rekey(self, ike, timeout=10):
        """Rekey the IKE SA of connection IKE (CREATE_CHILD_SA) and wait until
        the new one is ESTABLISHED and the old one gone; returns the new
        one's list_sas() dict."""
        old = [sa.get("uniqueid") for sa in self.ike_sas(ike)]
        self.swanctl("--rekey", "--ike", ike)

        def rekeyed():
            sas = self.ike_sas(ike)
            return len(sas) == 1 and sas[0].get("uniqueid") not in old \
                and sas[0].get("state") == "ESTABLISHED"
        wait_for(rekeyed, timeout=timeout, what=f"charon IKE_SA {ike} rekeyed")
        return self.ike_sas(ike)[0]

    def list_sas(self, ike=None):
        """{ike name: dict} from `swanctl --list-sas --pretty`, e.g.
        sas["to-b"]["state"] == "ESTABLISHED", ...["child-sas"]."""
        args = ["--list-sas", "--pretty", "--noblock"]
        if ike:
            args += ["--ike", ike]
        msgs = parse_pretty(self.swanctl(*args).stdout)
        sas = {}
        for event in msgs.get("list-sa event", []):
            sas.update(event)
        return sas

    def ike_sas(self, ike):
        """Every IKE SA of connection IKE (several while one is rekeyed), as
        list_sas() dicts: "uniqueid", "state", "initiator-spi", ..."""
        args = ["--list-sas", "--pretty", "--noblock", "--ike", ike]
        msgs = parse_pretty(self.swanctl(*args).stdout)
        return [event[ike] for event in msgs.get("list-sa event", [])
                if ike in event]

    def ike_state(self, ike):
        """State of the IKE_SA of connection IKE (e.g. "ESTABLISHED"), or
        None if there is none."""
        sa = self.list_sas(ike).get(ike)
        return sa.get("state") if sa else None

    def wait_established(self, ike, timeout=10.0):
        wait_for(lambda: self.ike_state(ike) == "ESTABLISHED",
                 timeout=timeout, what=f"charon IKE_SA {ike} ESTABLISHED")

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, grace=5.0):
        """SIGTERM charon (it deletes its SAs) and wait; returns its status."""
        if self.proc is None:
            return None
        status = self.host.stop(self.proc, grace=grace)
        self.proc = None
        return status

    def kill(self):
        """SIGKILL charon (by its pid): it vanishes without a Delete."""
        if self.proc is not None:
            self.host.stop(self.proc, grace=0, sig=signal.SIGKILL)
            self.proc = None

    def add_credentials(self, cert=None, key=None, cas=()):
        """Copy PEM files into swanctl's folders (loaded by the next
        load()): CERT our certificate (x509/), KEY its private key
        (private/, PKCS#8 or traditional), CAS trusted CA certificates
        (x509ca/).  Returns the file name of CERT, for cert_conn()."""
        for path, sub in [(cert, "x509"), (key, "private")] + \
                [(ca, "x509ca") for ca in cas]:
            if path is None:
                continue
            folder = os.path.join(self.swanctl_dir, sub)
            os.makedirs(folder, exist_ok=True)
            shutil.copy(path, folder)
            if sub == "private":
                os.chmod(os.path.join(folder, os.path.basename(path)), 0o600)
        return os.path.basename(cert) if cert else None

    @staticmethod
    def cert_conn(name, local, remote, cert, local_id=None, remote_id=None,
                  family=4, proposals=DEFAULT_IKE_PROPOSAL[0],
                  send_cert=None, extra="", child=None):
        """swanctl.conf text: IKEv2 host-to-host connection NAME with
        certificate authentication both ways, childless.  CERT: our
        certificate's file name in x509/ (add_credentials()).  LOCAL_ID
        (default: the certificate's subject DN) and REMOTE_ID (default:
        any identity the peer's certificate names, from any CA in
        x509ca/) in swanctl syntax; DNs are quoted here.  CHILD: (mode,
        ESP proposals) of one Child SA, also named NAME, between the two
        addresses, instead of childless."""
        lo, re_ = local.address(family), remote.address(family)

        def ident(value):
            return f'\n\t\t\tid = "{value}"' if value else ""
        send = f"\n\t\t\tsend_cert = {send_cert}" if send_cert else ""
        children = "\t\tchildless = force" if child is None else f"""\
\t\tchildren {{
\t\t\t{name} {{
\t\t\t\tmode = {child[0]}
\t\t\t\tesp_proposals = {child[1]}
\t\t\t}}
\t\t}}"""
        return f"""\
connections {{
	{name} {{
		version = 2
		local_addrs = {lo}
		remote_addrs = {re_}
		proposals = {proposals}
{children}
		encap = no
		mobike = no
		fragmentation = yes
		local {{
			auth = pubkey
			certs = {cert}{ident(local_id)}{send}
		}}
		remote {{
			auth = pubkey{ident(remote_id)}
		}}
{extra}
	}}
}}
"""

    @staticmethod
    def cert_child_conn(name, local, remote, cert, local_id, remote_id,
                        family=4, mode="transport", esp="aes256gcm16",
                        proposals=AEAD_IKE_PROPOSAL[0]):
        """swanctl.conf text: like cert_conn() (certificates both ways,
        LOCAL_ID and REMOTE_ID required here) but with one Child SA, also
        named NAME, between the two addresses: MODE, ESP proposals ESP."""
        return Charon.cert_conn(name, local, remote, cert, local_id, remote_id, family,
                                proposals, child=(mode, esp))

    @staticmethod
    def psk_conn(name, local, remote, psk, family=4, childless=True,
                 proposals=DEFAULT_IKE_PROPOSAL[0], extra="", local_id=None,
                 remote_id=None, local_addrs=None):
        """swanctl.conf text: IKEv2 host-to-host PSK connection NAME from
        Host LOCAL to Host REMOTE, identities = addresses (or LOCAL_ID and
        REMOTE_ID), no children (childless = force) unless CHILDLESS is
        false.  CHILDLESS "allow": no children either, but a peer that
        cannot do without (libreswan 4.10 initiating) gets its IKE SA, its
        Child SA refused.  LOCAL_ADDRS replaces LOCAL's address (%any)."""
        lo, re_ = local.address(family), remote.address(family)
        lid, rid = local_id or lo, remote_id or re_
        mode = {True: "force", False: "allow"}.get(childless, childless)
        child = "" if childless else f"""
		children {{
			{name} {{
				mode = transport
				esp_proposals = aes256-sha256
			}}
		}}"""
        return f"""\
connections {{
	{name} {{
		version = 2
		local_addrs = {local_addrs or lo}
		remote_addrs = {re_}
		proposals = {proposals}
		childless = {mode}
		encap = no
		mobike = no
		fragmentation = yes
		local {{
			auth = psk
			id = {lid}
		}}
		remote {{
			auth = psk
			id = {rid}
		}}{child}
{extra}
	}}
}}
secrets {{
	ike-{name} {{
		id-local = {lid}
		id-remote = {rid}
		secret = "{psk}"
	}}
}}
"""

    @staticmethod
    def child_conn(name, local, remote, psk, family=4, mode="transport",
                   esp="aes256gcm16", local_ts=None, remote_ts=None,
                   proposals=AEAD_IKE_PROPOSAL[0]):
        """swanctl.conf text: IKEv2 PSK connection NAME from Host LOCAL to
        Host REMOTE (identities = addresses) with one Child SA, also named
        NAME: MODE, ESP proposals ESP (no PFS), traffic selectors LOCAL_TS and
        REMOTE_TS (CIDR; default: the two addresses).  charon installs its
        SAs and policies, never routes (install_routes = no)."""
        lo, re_ = local.address(family), remote.address(family)
        ts = "".join(f"\n\t\t\t\t{k} = {v}" for k, v in
                     (("local_ts", local_ts), ("remote_ts", remote_ts)) if v)
        return f"""\
connections {{
\t{name} {{
\t\tversion = 2
\t\tlocal_addrs = {lo}
\t\tremote_addrs = {re_}
\t\tproposals = {proposals}
\t\tencap = no
\t\tmobike = no
\t\tfragmentation = yes
\t\tlocal {{
\t\t\tauth = psk
\t\t\tid = {lo}
\t\t}}
\t\tremote {{
\t\t\tauth = psk
\t\t\tid = {re_}
\t\t}}
\t\tchildren {{
\t\t\t{name} {{
\t\t\t\tmode = {mode}
\t\t\t\tesp_proposals = {esp}{ts}
\t\t\t}}
\t\t}}
\t}}
}}
secrets {{
\tike-{name} {{
\t\tid-local = {lo}
\t\tid-remote = {re_}
\t\tsecret = "{psk}"
\t}}
}}
"""



# --- libreswan --------------------------------------------------------------

def libreswan_root():
    """The unpacked libreswan .deb, or skip the test."""
    root = common.require_cache("libreswan")
    if not os.access(os.path.join(root, "usr/libexec/ipsec/pluto"), os.X_OK):
        common.skip(f"{root} has no usr/libexec/ipsec/pluto: "
                    "run scripts/setup-deps")
    return root


def require_libreswan():
    common.require_tools("certutil", "unshare", "nsenter", "mount")
    return libreswan_root()


class Pluto:
    """libreswan's pluto in HOST, private files, private mount namespace."""

    def __init__(self, host, name="pluto", root=None, debug=False, setup=""):
        """ROOT: the unpacked libreswan (default: the setup-deps cache).
        DEBUG: plutodebug=all.  SETUP: extra `config setup` lines."""
        self.host = host
        self.name = name
        self.root = root or libreswan_root()
        self.debug = debug
        self.setup = setup
        self.dir = os.path.join(host.tmpdir, name)
        self.config = os.path.join(self.dir, "ipsec.conf")
        self.secrets = os.path.join(self.dir, "ipsec.secrets")
        self.ipsecdir = os.path.join(self.dir, "ipsec.d")
        self.nssdir = os.path.join(self.dir, "nss")
        self.rundir = os.path.join(self.dir, "run")
        self.ctlsocket = os.path.join(self.rundir, "pluto.ctl")
        self.log = os.path.join(self.dir, "pluto.log")
        self.conns = ""
        self.psks = []
        self.proc = None

    def __repr__(self):
        return f"<Pluto in {self.host.name}>"

    def _libexec(self, tool):
        # valid inside pluto's mount namespace (and the same file outside)
        return os.path.join(self.root, "usr/libexec/ipsec", tool)

    def _write_config(self):
        with open(self.config, "w") as f:
            f.write(f"""\
# generated by tests/lib/peers.py for one test; nothing from /etc
config setup
	dumpdir={self.rundir}
	plutodebug={"all" if self.debug else "none"}
	nhelpers=1
	uniqueids=yes
{self.setup}
{self.conns}""")
        with open(self.secrets, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write("".join(self.psks))

    def _mount_script(self):
        """Shell run in the fresh mount namespace before exec'ing pluto."""
        q = shlex.quote
        lib = os.path.join(self.root, "usr/libexec")
        orig = os.path.join(self.dir, "libexec-orig")
        return f"""\
set -e
if mount -t overlay ipsecd-libexec -o lowerdir={q(lib)}:/usr/libexec /usr/libexec 2>/dev/null; then
	echo "peers.py: /usr/libexec/ipsec from an overlay" >&2
else
	echo "peers.py: /usr/libexec/ipsec from a tmpfs of symlinks" >&2
	mkdir -p {q(orig)}
	mount --bind /usr/libexec {q(orig)}
	mount -t tmpfs -o mode=0755 ipsecd-libexec /usr/libexec
	for entry in {q(orig)}/*; do
		[ -e "$entry" ] || continue
		[ "$(basename "$entry")" = ipsec ] && continue
		ln -s "$entry" /usr/libexec/
	done
	ln -s {q(lib)}/ipsec /usr/libexec/ipsec
fi
test -x /usr/libexec/ipsec/addconn
exec /usr/libexec/ipsec/pluto "$@"
"""

    def start(self, timeout=15.0):
        """Start pluto; wait until whack answers and UDP 500 is bound."""
        for d in (self.dir, self.ipsecdir, self.nssdir, self.rundir):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.rundir, 0o755)
        self._write_config()
        self._create_nss()
        argv = ["unshare", "-m", "--propagation", "private",
                "sh", "-c", self._mount_script(), "pluto",
                "--nofork", "--stderrlog",
                "--config", self.config, "--secretsfile", self.secrets,
                "--ipsecdir", self.ipsecdir, "--nssdir", self.nssdir,
                "--rundir", self.rundir]
        self.proc = self.host.popen(argv, log=self.log)

        def ready():
            if self.proc.poll() is not None:
                raise PeerError(f"pluto exited {self.proc.returncode}:\n"
                                + _tail(self.log))
            if not os.path.exists(self.ctlsocket):
                return False
            return self.whack("--status", check=False).returncode == 0
        wait_for(ready, timeout=timeout, what="pluto's control socket")
        self.host.wait_udp(500, timeout=timeout)
        return self

    def _create_nss(self):
        """A fresh empty-password NSS database, unless there is one."""
        os.makedirs(self.nssdir, exist_ok=True)
        if os.path.exists(os.path.join(self.nssdir, "cert9.db")):
            return
        subprocess.run(["certutil", "-N", "--empty-password", "-d",
                        f"sql:{self.nssdir}"], check=True,
                       capture_output=True, timeout=60)

    def import_certs(self, p12s=(), cas=()):
        """Put certificates into pluto's NSS database, before start() (pluto
        reads a conn's certificate when the conn is added): P12S
        [(path, password)], each a certificate with its private key
        (pk12util; the nickname is the PKCS#12 friendly name), CAS
        [(nickname, PEM path)], CA certificates trusted for IKE."""
        self._create_nss()
        db = f"sql:{self.nssdir}"
        for path, password in p12s:
            nss_run(["pk12util", "-i", path, "-d", db, "-W", password])
        for nickname, path in cas:
            nss_run(["certutil", "-A", "-d", db, "-n", nickname,
                     "-t", "CT,,", "-a", "-i", path])

    def _in_mountns(self, argv):
        if self.proc is None or self.proc.poll() is not None:
            raise PeerError("pluto is not running")
        return ["nsenter", "-t", str(self.proc.pid), "-m", "--"] + argv

    def whack(self, *args, check=True, timeout=60):
        """Run whack ARGS against this pluto; returns CompletedProcess."""
        argv = self._in_mountns([self._libexec("whack"), "--ctlsocket",
                                 self.ctlsocket, *args])
        proc = self.host.run(argv, check=False, timeout=timeout)
        if check and proc.returncode != 0:
            raise PeerError(f"whack {' '.join(args)} exited "
                            f"{proc.returncode}: {proc.stdout}{proc.stderr}")
        return proc

    def load(self, conn_text, secrets="", names=None):
        """Add ipsec.conf `conn` sections CONN_TEXT and ipsec.secrets lines
        SECRETS, reread the secrets and add the conns with addconn; NAMES
        defaults to every conn in CONN_TEXT."""
        self.conns += conn_text if conn_text.endswith("\n") else conn_text + "\n"
        if secrets:
            self.psks.append(secrets if secrets.endswith("\n") else secrets + "\n")
        self._write_config()
        if names is None:
            names = re.findall(r"^conn\s+(\S+)", conn_text, re.M)
            names = [n for n in names if n != "%default"]
        self.whack("--rereadsecrets")
        for name in names:
            proc = self.host.run(self._in_mountns(
                [self._libexec("addconn"), "--config", self.config,
                 "--ctlsocket", self.ctlsocket, name]), check=False)
            if proc.returncode != 0:
                raise PeerError(f"addconn {name} exited {proc.returncode}: "
                                f"{proc.stdout}{proc.stderr}")
        return names

    @staticmethod
    def psk_secret(local, remote, psk, family=4):
        """ipsec.secrets line: PSK between Hosts LOCAL and REMOTE (by address)."""
        return f'{local.address(family)} {remote.address(family)} : PSK "{psk}"\n'

    def initiate(self, name, timeout=10, check=True):
        """whack --initiate NAME and wait for the IKE SA (up to TIMEOUT)."""
        proc = self.whack("--name", name, "--initiate", check=False,
                          timeout=timeout + 30)
        ok = self.ike_established(name)
        if not ok:
            try:
                wait_for(lambda: self.ike_established(name), timeout=timeout,
                         what=f"pluto IKE SA {name}")
                ok = True
            except TimeoutError:
                ok = False
        if check and not ok:
            raise PeerError(f"initiate {name} failed: {proc.stdout}"
                            f"{proc.stderr}\n--- pluto.log:\n{_tail(self.log)}")
        return ok

    def showstates(self):
        return self.whack("--showstates").stdout

    def status(self):
        return self.whack("--status").stdout

    def states(self, name=None):
        """[(serial, conn name, state)] from whack --showstates, e.g.
        (1, "to-a", "V2_ESTABLISHED_IKE_SA")."""
        found = []
        for line in self.showstates().splitlines():
            # e.g. '000 #1: "to-a":500 STATE_V2_ESTABLISHED_IKE_SA (...); ...'
            m = re.match(r'^(?:\d{3} )?#(\d+): "([^"]+)"\S*\s+'
                         r'(?:STATE_)?(\S+)', line)
            if m and (name is None or m.group(2) == name):
                found.append((int(m.group(1)), m.group(2), m.group(3)))
        return found

    def ike_established(self, name):
        """True if connection NAME has an established IKE SA."""
        return any(state == "V2_ESTABLISHED_IKE_SA"
                   for _, _, state in self.states(name))

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, grace=5.0):
        """Shut pluto down (SIGTERM) and wait; returns its status."""
        if self.proc is None:
            return None
        status = self.host.stop(self.proc, grace=grace)
        self.proc = None
        return status

    def kill(self):
        """SIGKILL pluto (by its pid; `unshare` and `sh` exec it): it
        vanishes without a Delete."""
        if self.proc is not None:
            self.host.stop(self.proc, grace=0, sig=signal.SIGKILL)
            self.proc = None

    def rekey_ike(self, name):
        """whack --rekey-ike for connection NAME, in the background: pluto
        sends CREATE_CHILD_SA for a new IKE SA, then deletes the old one."""
        return self.whack("--name", name, "--rekey-ike", "--asynchronous",
                          check=False).returncode == 0

    @staticmethod
    def cert_conn(name, local, remote, cert, local_id="%fromcert",
                  remote_id="%fromcert", authby="rsasig", family=4,
                  ike=DEFAULT_IKE_PROPOSAL[1], extra=""):
        """ipsec.conf text: IKEv2 host-to-host conn NAME authenticated by
        certificates both ways.  CERT: our certificate's NSS nickname
        (import_certs()).  AUTHBY: "rsasig" or "ecdsa", as our key is
        (libreswan 4.10 with its default "rsasig,ecdsa" tries RSA-PSS with
        an EC key).  LOCAL_ID, REMOTE_ID in ipsec.conf syntax (quoted here).
        rightca=%same: the peer's certificate must come from our own
        certificate's CA, which must be in the database; set explicitly,
        since only then does pluto initiating send CERTREQ (and a peer that
        sends its certificate only when asked, as pluto and strongSwan do
        by default, needs one)."""
        lo, re_ = local.address(family), remote.address(family)
        return f"""\
conn {name}
	left={lo}
	leftid="{local_id}"
	leftcert={cert}
	right={re_}
	rightid="{remote_id}"
	rightca=%same
	authby={authby}
	ikev2=insist
	ike={ike}
	esp=aes256-sha2_256
	type=transport
	encapsulation=no
	fragmentation=yes
	keyingtries=1
	{extra}
"""

    @staticmethod
    def psk_conn(name, local, remote, family=4, childless=True,
                 ike=DEFAULT_IKE_PROPOSAL[1], extra=""):
        """ipsec.conf text: IKEv2 host-to-host PSK conn NAME from Host LOCAL
        to Host REMOTE, identities = addresses.  Pair with psk_secret()."""
        lo, re_ = local.address(family), remote.address(family)
        return f"""\
conn {name}
	left={lo}
	leftid={lo}
	right={re_}
	rightid={re_}
	authby=secret
	ikev2=insist
	ike={ike}
	esp=aes256-sha2_256
	type=transport
	encapsulation=no
	fragmentation=yes
	{extra}
"""

    def rekey_child(self, name):
        """whack --rekey-ipsec for connection NAME, in the background."""
        return self.whack("--name", name, "--rekey-ipsec", "--asynchronous",
                          check=False).returncode == 0

    @staticmethod
    def child_conn(name, local, remote, family=4, mode="transport",
                   esp="aes_gcm256", leftsubnet=None, rightsubnet=None,
                   ike=AEAD_IKE_PROPOSAL[1], extra=""):
        """ipsec.conf text: IKEv2 PSK conn NAME from Host LOCAL to Host
        REMOTE (identities = addresses; pair with psk_secret()) with a Child
        SA: MODE (type=), ESP (esp=, pfs=no), the subnets (default: the two
        addresses).  No updown script: pluto installs SAs and policies but
        no routes."""
        lo, re_ = local.address(family), remote.address(family)
        subnets = "".join(f"\t{k}={v}\n" for k, v in
                          (("leftsubnet", leftsubnet),
                           ("rightsubnet", rightsubnet)) if v)
        return f"""\
conn {name}
\tleft={lo}
\tleftid={lo}
\tright={re_}
\trightid={re_}
{subnets}\tauthby=secret
\tikev2=insist
\tike={ike}
\tesp={esp}
\tpfs=no
\ttype={mode}
\tleftupdown=""
\tencapsulation=no
\tfragmentation=yes
\tkeyingtries=1
\t{extra}
"""

    # --- opportunistic encryption (libreswan's "OE" groups) -------------

    OE_GROUPS = ("private-or-clear", "clear-or-private", "private", "clear",
                 "block")

    @staticmethod
    def oe_conns(local, mode="transport", family=4):
        """ipsec.conf text: libreswan's opportunistic conns with NULL
        authentication, as its oe-authnull.conf example has them, for Host
        LOCAL: `private-or-clear` (trap; hold while negotiating, clear on
        failure) and `clear-or-private` (answer only).  Differences: left=
        is LOCAL's address (a test namespace has no %defaultroute), no
        updown script, and TYPE MODE: the example's tunnel mode refuses
        the transport mode an ipsecd initiator asks for (docs/interop.md)."""
        common_keys = f"""\
\ttype={mode}
\tauthby=null
\tleftid=%null
\trightid=%null
\tleft={local.address(family)}
\tright=%opportunisticgroup
\tnegotiationshunt=hold
\tfailureshunt=passthrough
\tikev2=insist
\tleftupdown=""
\tkeyingtries=1
"""
        return (f"conn private-or-clear\n{common_keys}\tauto=ondemand\n"
                f"\tretransmit-timeout=10s\n\n"
                f"conn clear-or-private\n{common_keys}\tauto=add\n")

    def load_oe(self, groups, mode="transport", family=4):
        """Opportunistic encryption in a running pluto: GROUPS {group:
        [CIDR lines]} into <ipsec.d>/policies/ (groups not named empty),
        the oe_conns() added, the groups read (whack --listen) and the
        private-or-clear trap policies installed (whack --route)."""
        folder = os.path.join(self.ipsecdir, "policies")
        os.makedirs(folder, exist_ok=True)
        for group in self.OE_GROUPS:
            with open(os.path.join(folder, group), "w") as f:
                f.write("".join(f"{line}\n" for line in groups.get(group, [])))
        self.load(self.oe_conns(self.host, mode=mode, family=family))
        self.whack("--listen")
        self.whack("--name", "private-or-clear", "--route")
