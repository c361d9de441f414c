#!/usr/bin/python3
"""bus suite: ipsecctl modify and the bash completion.

  - modify: KEY=VALUE changes the file, KEY= removes a key, a refused value
    (InvalidSetting, exit 5) or a bad command line (exit 2) changes nothing,
    an unknown connection is exit 3;
  - psk=- reads the new key from standard input: it lands in the secrets
    file and never in ipsecctl's output or the daemon's log; on a terminal
    the key typed is not echoed; nothing on standard input is exit 2;
  - data/completion/ipsecctl sourced in bash: commands, options, connection
    names from the running daemon, groups, every key the store knows
    (service/store/store-connection.c) and some values.

Runs as any user: the polkit mock allows everything here.
"""
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time

import common
import buslib
from buslib import PSK, call, conn_path, good_settings, ipsecctl, settings_arg, ROOT

buslib.require()
common.require_tools("bash")
check = buslib.Checks()
NEW_PSK = "Vb5-qTz8Lw2nXe7rKd4mPs9yHc6uJf3a"


def conf_text(d, name):
    with open(os.path.join(d.config_dir, "connections", f"{name}.conf")) as f:
        return f.read()


def psk_text(d, name):
    with open(os.path.join(d.config_dir, "secrets", f"{name}.psk")) as f:
        return f.read().strip()


def modify(d):
    r = ipsecctl("modify", "m1", "dpd-delay=30s", "local-id=@m1.example")
    text = conf_text(d, "m1")
    check(r.returncode == 0 and r.stdout.strip() == "m1 modified"
          and "dpd-delay=30s" in text and "local-id=@m1.example" in text,
          f"modify sets keys ({r.stdout.strip()} {r.stderr.strip()})")
    r = ipsecctl("modify", "m1", "local-id=")
    text = conf_text(d, "m1")
    check(r.returncode == 0 and "local-id" not in text and "dpd-delay=30s" in text,
          "modify KEY= removes the key, keeps the others")
    before = conf_text(d, "m1")
    code, data = buslib.ipsecctl_json("modify", "m1", "dpd-delay=10s", "remote=192.0.2.300")
    check(code == 5 and data["error"]["name"] == "org.libreswan.IPsec.Error.InvalidSetting"
          and "remote" in data["error"]["message"],
          f"a refused value: exit 5, InvalidSetting naming it ({data})")
    check(conf_text(d, "m1") == before, "a refused modify changes nothing (not even dpd-delay)")
    for argv, what in ((["modify", "m1"], "no KEY=VALUE"),
                       (["modify", "m1", "dpd-delay"], "not KEY=VALUE"),
                       (["modify", "m1", "auto=add", "auto=start"], "a key twice")):
        r = ipsecctl(*argv)
        check(r.returncode == 2 and r.stderr.strip() and conf_text(d, "m1") == before,
              f"{what}: exit 2, nothing changed ({r.stderr.strip()})")
    code, data = buslib.ipsecctl_json("modify", "nope", "auto=add")
    check(code == 3 and data["error"]["name"] == "org.libreswan.IPsec.Error.NotFound",
          f"modify an unknown connection: exit 3 ({data})")
    code, data = buslib.ipsecctl_json("modify", "m1", "auto=start")
    check(code == 0 and data == {"path": conn_path("m1")}, f"modify --json: {data}")
    buslib.ipsecctl("modify", "m1", "auto=add")


def psk_stdin(d):
    r = subprocess.run([buslib.ipsecctl_binary(), "modify", "m1", "psk=-"],
                       input=NEW_PSK + "\n", capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and psk_text(d, "m1") == NEW_PSK,
          f"psk=- from a pipe replaces the key ({r.stderr.strip()})")
    check(NEW_PSK not in r.stdout + r.stderr, "the key read is not in ipsecctl's output")
    r = subprocess.run([buslib.ipsecctl_binary(), "modify", "m1", "psk=-"], input="",
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "standard input" in r.stderr and psk_text(d, "m1") == NEW_PSK,
          f"psk=- with nothing on stdin: exit 2, key kept ({r.stderr.strip()})")
    typed_on_terminal(d)
    check(NEW_PSK not in d.log_text() and PSK not in d.log_text(), "no key in the daemon's log")


def read_until(fd, pattern, deadline):
    seen = b""
    while time.monotonic() < deadline and pattern not in seen:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def typed_on_terminal(d):
    """psk=- on a terminal: a prompt, and the key typed is not echoed."""
    other = PSK[::-1]
    master, slave = pty.openpty()
    proc = subprocess.Popen([buslib.ipsecctl_binary(), "modify", "m1", "psk=-"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    deadline = time.monotonic() + 20
    shown = read_until(master, b"Pre-shared key: ", deadline)
    os.write(master, other.encode() + b"\n")
    out, _ = proc.communicate(timeout=20)
    shown += read_until(master, b"\n", time.monotonic() + 2)
    os.close(master)
    check(b"Pre-shared key: " in shown, f"a prompt on the terminal ({shown!r})")
    check(other.encode() not in shown and other.encode() not in out,
          "the key typed is not echoed")
    check(proc.returncode == 0 and psk_text(d, "m1") == other, "and it is the new key")


def complete(line, env):
    """What the completion offers for LINE (the cursor at its end)."""
    source = os.path.join(common.source_root(), "data", "completion", "ipsecctl")
    script = (f"source {source}\n"
              "COMP_LINE=$1; COMP_POINT=${#COMP_LINE}\n"
              "read -r -a COMP_WORDS <<< \"$COMP_LINE\"; COMP_CWORD=${#COMP_WORDS[@]}\n"
              "_ipsecctl\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", line],
                       capture_output=True, text=True, env=env, timeout=30)
    return sorted(w for w in r.stdout.split("\n") if w)


def store_keys():
    """known_keys of service/store/store-connection.c, "name" left out."""
    path = os.path.join(common.source_root(), "service", "store", "store-connection.c")
    with open(path) as f:
        text = f.read()
    block = re.search(r"known_keys\[\] = \{(.*?)NULL", text, re.S).group(1)
    return sorted(set(re.findall(r'"([a-z-]+)"', block)) - {"name"})


def completion():
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(buslib.ipsecctl_binary()) + ":" + env["PATH"]
    got = complete("ipsecctl ", env)
    check({"status", "modify", "policy", "monitor", "delete"} <= set(got)
          and "--json" not in got, f"commands ({got})")
    check(complete("ipsecctl mo", env) == ["modify", "monitor"], "ipsecctl mo → modify monitor")
    check(complete("ipsecctl --", env) == ["--help", "--json", "--version"], "global options")
    check(complete("ipsecctl list --", env) == ["--json", "--names"], "list's options")
    check(complete("ipsecctl show ", env) == ["c-2", "m1"], "connection names from the daemon")
    check(complete("ipsecctl --json modify m", env) == ["m1"], "names after a global option")
    check(complete("ipsecctl up m1 ", env) == [], "nothing after up NAME")
    check(complete("ipsecctl policy p", env) == ["private", "private-or-clear"], "group names")
    check(complete("ipsecctl policy private --", env) == ["--add", "--clear", "--json",
                                                          "--remove"], "policy's options")
    keys = complete("ipsecctl add new ", env)
    missing = [k for k in store_keys() if k + "=" not in keys]
    check(not missing and "psk=" in keys, f"add: every key of the store, and psk ({missing})")
    check(complete("ipsecctl modify m1 remote-a", env) == ["remote-auth="], "modify: a key")
    check(complete("ipsecctl modify m1 auto=", env) == ["add", "start"], "auto's values")
    check(complete("ipsecctl add x local-auth=p", env) == ["psk", "pubkey"],
          "local-auth's values")
    check(complete("ipsecctl add ", env) == [], "no completion for a new name")
    conf = os.path.join(tempfile.mkdtemp(prefix="ipsecd-compl-"), "ipsec.conf")
    open(conf, "w").close()
    check(complete(f"ipsecctl import {conf[:-4]}", env) == [conf], "import: file names")
    check(complete("ipsecctl import x --d", env) == ["--dry-run"], "import's options")


def main():
    with buslib.Bus() as bus:
        bus.allow("manage", "toggle")
        tmp = tempfile.mkdtemp(prefix="ipsecd-cli-")
        d = buslib.start_ipsecd(bus, tmp)
        try:
            for name in ("m1", "c-2"):
                ok, out = call(bus, ROOT, "AddConnection", settings_arg(good_settings(name)))
                check(ok, f"AddConnection {name} ({out.strip()})")
            modify(d)
            psk_stdin(d)
            completion()
        finally:
            d.stop()
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
