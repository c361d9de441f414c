#!/usr/bin/python3
"""robust suite: ipsecd killed with SIGKILL mid-handshake and mid-rekey,
then restarted, must come back and leave no kernel state of the dead
process behind (service/daemon-leftovers.c).

    crash-restart.py            in namespaces on this host (suite netns)
    crash-restart.py vm         the same inside the VM, with Child SAs in a
                                kernel with ESP (suite vm)

Host a runs ipsecd (auto=start, PSK, without --record-kernel so that its
XFRM driver is live), host b strongSwan as the responder (unique=replace,
so the IKE SAs of a killed ipsecd do not pile up there).  RUNS times each:

  handshake  ipsecd is started and killed after a random delay within the
             time a clean start and handshake take (calibrated first);
  rekey      with the IKE SA up (VM: and its Child SA), strongSwan is told
             to rekey it (VM: the Child SA) and ipsecd is killed after a
             random delay within the time a clean rekey takes.

The random delays come from one seed, printed (IPSECD_CRASH_SEED repeats a
run).  After each kill:
  - on this host, whose kernel has no ESP, the dead process had no Child
    SA; what it would have left is planted with the driver's own tool
    (tests/xfrm/xfrm-tool): a larval SA with a reqid of ours and a Child
    SA policy of ours.  In the VM it left real SAs and policies (when the
    kill came late enough), which are counted;
  - ipsecd is started again and must bring the IKE SA (VM: the Child SA)
    up again, and log kernel-leftovers when something was left;
  - then the kernel holds only what the new process owns: on this host
    nothing of ours; in the VM exactly the two SAs of the new Child SA and
    policies with their reqid; and the foreign SA and policy planted at the
    start (another IKE daemon's) are still there, untouched.
"""
import os
import random
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "vm"))
import common  # noqa: E402
import ipsecd  # noqa: E402
from ipsecd import Checks, Ipsecd  # noqa: E402

# Under emulation one run takes seconds, not a tenth of one: fewer in the VM.
RUNS_HOST, RUNS_VM = 10, 4
RUNS = int(os.environ.get("IPSECD_CRASH_RUNS", str(RUNS_HOST)))
PSK = "Vt4-qN8xLp2sK7mZ9wRb3cYf6hJd0uAe"
FOREIGN_REQID = 7
check = Checks()


def xfrm_tool():
    return os.environ.get("IPSECD_XFRM_TOOL") or os.path.join(
        common.build_root(), "tests", "xfrm", "xfrm-tool")


def ours(host):
    """(SAs, policies) of ours in HOST, as the driver lists them: lists of
    dicts with the tool's key=value fields."""
    def parse(kind):
        out = host.run([xfrm_tool(), f"list-{kind}"]).stdout
        return [dict(re.findall(r"(\w+)=(\S+)", line))
                for line in out.splitlines() if line.strip()]
    return parse("sas"), parse("policies")


def foreign(host):
    """Whether the foreign larval SA and policy (reqid 7) are still there."""
    state = host.ip("xfrm", "state")
    policy = host.ip("xfrm", "policy")
    return (f"reqid {FOREIGN_REQID} " in state,
            f"reqid {FOREIGN_REQID} " in policy)


def plant_foreign(a, b):
    # A larval SA lives net.core.xfrm_acq_expires (30 s) unless told longer.
    a.run(["sysctl", "-qw", "net.core.xfrm_acq_expires=3600"])
    a.ip("xfrm", "state", "allocspi", "src", b.ip4, "dst", a.ip4, "proto",
         "esp", "reqid", str(FOREIGN_REQID), "mode", "transport")
    a.ip("xfrm", "policy", "add", "dir", "in", "src", "203.0.113.9",
         "dst", a.ip4, "tmpl", "proto", "esp", "reqid", str(FOREIGN_REQID),
         "mode", "transport")


def plant_ours(a, b, n):
    """What a killed ipsecd with a Child SA leaves, as far as a kernel
    without ESP can hold it: a larval inbound SA and a Child SA policy."""
    reqid = str(0x5EC00100 + n)
    a.run([xfrm_tool(), "alloc-spi", f"src={b.ip4}", f"dst={a.ip4}",
           f"reqid={reqid}"])
    a.run([xfrm_tool(), "add-policy", "dir=out", f"src={a.ip4}",
           f"dst={b.ip4}", "action=ipsec", "prio=1200", f"reqid={reqid}",
           "mode=transport"])


class Rig:
    def __init__(self, net, esp):
        from peers import Charon
        self.a, self.b = net.hosts
        self.esp = esp
        self.up = "child-up" if esp else "ike-up"
        self.d = Ipsecd(self.a, record=False)
        conf = Ipsecd.psk_conn(self.a, self.b, auto="start",
                               childless=not esp,
                               ike="aes_gcm16_256-prfsha256-x25519")
        if esp:
            # under emulation, with another test on the other core, the
            # peer's IKE_AUTH answer once took longer than 3
            # retransmissions (7.5 s); 5 give it 31.5 s
            conf.update({"esp": "aes_gcm16_256", "mode": "transport",
                         "retransmit-limit": "5"})
        self.d.add("to-b", conf, psk=PSK)
        self.sw = Charon(self.b, debug=1).start()
        child = "" if not esp else "aes256gcm16"
        text = Charon.psk_conn("to-a", self.b, self.a, PSK,
                               childless=not esp,
                               proposals="aes256gcm16-prfsha256-x25519",
                               extra="\t\tunique = replace")
        if esp:
            text = text.replace("esp_proposals = aes256-sha256",
                                f"esp_proposals = {child}")
        self.sw.load(text)

    def launch(self):
        """ipsecd started, not waited for; returns (log mark, launch time)."""
        mark = self.d.mark()
        t = time.monotonic()
        self.d.proc = self.a.popen(self.d.argv(), log=self.d.log)
        return mark, t

    def wait_up(self, mark, timeout=20.0):
        ev = self.d.wait_any((self.up, "child-failed", "ike-failed"),
                             since=mark, timeout=timeout)
        return ev["IPSECD_EVENT"] == self.up, ev

    def kill(self):
        self.a.stop(self.d.proc, sig=signal.SIGKILL)
        self.d.proc = None

    def rekey(self):
        what = ["--child", "to-a"] if self.esp else ["--ike", "to-a"]
        return self.b.popen(["swanctl", "--rekey", *what, "--uri",
                             self.sw.uri], env=self.sw.env, log="rekey.log")

    def rekeyed(self, mark):
        """A rekey completed at a since MARK (the new SA's up event)."""
        return self.d.events(self.up, since=mark)


def calibrate(rig):
    mark, t = rig.launch()
    ok, ev = rig.wait_up(mark)
    t_up = time.monotonic() - t
    check(ok, f"calibration: a clean start comes up in {t_up:.2f} s")
    mark = rig.d.mark()
    t = time.monotonic()
    proc = rig.rekey()
    from netns import wait_for
    wait_for(lambda: rig.rekeyed(mark), timeout=20, what="a clean rekey")
    t_rekey = time.monotonic() - t
    proc.wait()
    print(f"calibration: start+handshake {t_up:.2f} s, rekey {t_rekey:.2f} s",
          flush=True)
    return t_up, t_rekey


def leftovers_before_restart(rig, n):
    """What the killed process left (VM), or the planted stand-in."""
    if not rig.esp:
        plant_ours(rig.a, rig.b, n)
    return ours(rig.a)


def restart_and_check(rig, label, left):
    mark, _ = rig.launch()
    ok, ev = rig.wait_up(mark, timeout=30)
    check(ok, f"{label}: up again after the restart ({ev['message'].strip()})")
    cleaned = rig.d.events("kernel-leftovers", since=mark)
    n_sas, n_pol = len(left[0]), len(left[1])
    if n_sas + n_pol:
        got = cleaned[0] if cleaned else {}
        check(int(got.get("IPSECD_SAS", -1)) == n_sas
              and int(got.get("IPSECD_POLICIES", -1)) == n_pol,
              f"{label}: kernel-leftovers removed {got.get('IPSECD_SAS')} SAs"
              f", {got.get('IPSECD_POLICIES')} policies of the {n_sas} and "
              f"{n_pol} left")
    sas, policies = ours(rig.a)
    if rig.esp and ok:
        spis = {int(ev.get("IPSECD_SPI_IN", "0"), 16),
                int(ev.get("IPSECD_SPI_OUT", "0"), 16)}
        reqids = {s["reqid"] for s in sas}
        check({int(s["spi"], 16) for s in sas} == spis and len(reqids) == 1
              and policies and all(p["reqid"] in reqids for p in policies),
              f"{label}: only the new Child SA's SAs {sorted(map(hex, spis))} "
              f"and its {len(policies)} policies are ours: {sas} {policies}")
    else:
        check(not sas and not policies,
              f"{label}: nothing of ours in the kernel: {sas} {policies}")
    check(foreign(rig.a) == (True, True),
          f"{label}: the foreign SA and policy are untouched")


def handshake_run(rig, rng, i, window):
    delay = rng.uniform(0.0, window)
    mark, t = rig.launch()
    time.sleep(max(0.0, t + delay - time.monotonic()))
    rig.kill()
    phase = "after up" if rig.d.events(rig.up, since=mark) else "before up"
    label = f"handshake {i + 1}/{RUNS} (kill at {delay:.3f} s, {phase})"
    restart_and_check(rig, label, leftovers_before_restart(rig, i))


def rekey_run(rig, rng, i, window):
    delay = rng.uniform(0.0, window)
    mark = rig.d.mark()
    t = time.monotonic()
    proc = rig.rekey()
    time.sleep(max(0.0, t + delay - time.monotonic()))
    rig.kill()
    proc.wait()
    phase = "rekeyed" if rig.rekeyed(mark) else "not rekeyed"
    label = f"rekey {i + 1}/{RUNS} (kill at {delay:.3f} s, {phase})"
    restart_and_check(rig, label, leftovers_before_restart(rig, 100 + i))


def scenario(esp):
    from netns import Network
    seed = int(os.environ.get("IPSECD_CRASH_SEED", str(random.randrange(1 << 32))))
    print(f"seed {seed} (IPSECD_CRASH_SEED={seed} repeats it)", flush=True)
    rng = random.Random(seed)
    with Network(hosts=2) as net:
        rig = Rig(net, esp)
        plant_foreign(*net.hosts)
        try:
            t_up, t_rekey = calibrate(rig)
            for i in range(RUNS):
                rig.kill()
                handshake_run(rig, rng, i, t_up * 1.2)
            for i in range(RUNS):
                rekey_run(rig, rng, i, t_rekey * 1.2)
            check(rig.d.stop() == 0, "ipsecd exits 0 on SIGTERM at the end")
        except (ipsecd.IpsecdError, TimeoutError, subprocess.SubprocessError) as e:
            check(False, f"unexpected: {e}")
        if check.failures:
            print(f"--- ipsecd log\n{rig.d.tail(60)}", flush=True)
    return check.status()


def main():
    args = sys.argv[1:]
    if args == ["--inside"]:
        return scenario(esp=True)
    common.require_root()
    common.require_tools("ip", "swanctl")
    ipsecd.require_ipsecd()
    import peers
    peers.require_strongswan()
    if not os.access(xfrm_tool(), os.X_OK):
        common.skip(f"{xfrm_tool()} is not built")
    if args == ["vm"]:
        import vm
        vm.require()
        runs = os.environ.get("IPSECD_CRASH_RUNS", str(RUNS_VM))
        vm.run_self(["--inside"], env={"IPSECD_CRASH_RUNS": runs},
                    timeout=float(os.environ.get("IPSECD_VM_TIMEOUT", 280)))
    return scenario(esp=False)


if __name__ == "__main__":
    sys.exit(main())
