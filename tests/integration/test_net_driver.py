"""build/vu-driver (host-side guest + vhost-user frontend) against build/vmm-net
on a tap, in a network namespace per test (netns.py): frames both ways byte for
byte (the peer is an AF_PACKET socket on the tap), offloads, hostile chains
(vmm-net alive, its drop counters equal to what the driver sent, no spinning
without RX buffers), the jail, a killed vmm-net, bad arguments. Host-side
only: no /dev/kvm needed.
"""
import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from blk import children_of, driver_checks as checks
from conftest import BUILD
from jail import (DEFAULT_ID, NOBODY, alive, ident, jail_problems, ns, only_child,
                  signal_until_dead, supervisor_problems, wait_for, wait_gone)
from netns import netns  # noqa: F401  (fixture)

VMM_NET = BUILD / "vmm-net"
DRIVER = BUILD / "vu-driver"
NET_JAIL_ID = DEFAULT_ID + 200        # vmm-net's default --jail-id (400200)
AS_ROOT = os.geteuid() == 0
SUMMARY = re.compile(r"vmm-net (\S+): rx (\d+) frames, tx (\d+) frames, dropped (\d+) "
                     r"\(short header (\d+), writable tx (\d+), oversized (\d+), "
                     r"bad chain (\d+), no rx buffer (\d+)\)")


def quiet_tap(ns_, name="tap0"):
    """A tap without addresses and without IPv6, so the kernel sends nothing
    on it by itself (the driver skips foreign frames anyway)."""
    ns_.add_tap(name, up=False)
    ns_.run(["sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1"], check=True)
    ns_.run(["ip", "link", "set", name, "up"], check=True)
    return name


@contextlib.contextmanager
def vmm_net(ns_, sock, *args, tap="tap0"):
    """vmm-net --socket SOCK --tap TAP [args] inside the namespace; p.errlog()
    reads its stderr. The launched pid is the jail's supervisor (ip netns
    exec execs it); p.server() waits for its jailed child."""
    err = tempfile.TemporaryFile(mode="w+")
    p = ns_.popen([VMM_NET, "--socket", sock, "--tap", tap] + list(args),
                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)

    def errlog():
        err.seek(0)
        return err.read()
    p.errlog = errlog
    p.server = lambda: wait_for(lambda: only_child(p.pid, "vmm-net supervisor"),
                                "the jailed child of vmm-net")
    try:
        end = time.monotonic() + 10
        while not os.path.exists(sock):
            assert p.poll() is None, f"vmm-net exited {p.returncode}: {errlog()}"
            assert time.monotonic() < end, f"{sock} did not appear: {errlog()}"
            time.sleep(0.01)
        yield p
    finally:
        kids = [ident(c) for c in [p.pid] + children_of(p.pid)]
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        wait_gone(kids)


def drive(ns_, *args, timeout=120):
    r = ns_.run([DRIVER] + [str(a) for a in args], timeout=timeout, errors="replace")
    return r


def run_func(ns_, sock, *extra):
    r = drive(ns_, "net-func", "--socket", sock, "--peer-if", "tap0", *extra)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"exit {r.returncode}\n{out[-4000:]}"
    res = checks(r.stdout)
    assert len(res) >= 24 and all(res.values()), r.stdout
    return r.stdout


def summaries(text):
    return [tuple([m.group(1)] + [int(x) for x in m.groups()[1:]])
            for m in SUMMARY.finditer(text)]


FUNC_CONFIGS = {
    "plain": [],
    "csum": ["--offloads", "csum"],
    "tso": ["--offloads", "tso"],
    "tso_mrg_small_buffers": ["--offloads", "tso", "--mrg-rxbuf", "--rx-buf-size", "512"],
    "mrg_no_event_idx_no_indirect": ["--mrg-rxbuf", "--no-event-idx", "--no-indirect"],
}


def test_func_every_configuration_on_one_vmm_net(netns, tmp_path):
    """One vmm-net serves five connections in turn, each with other
    features: every check passes, nothing is dropped."""
    quiet_tap(netns)
    sock = str(tmp_path / "s")
    outs = {}
    with vmm_net(netns, sock) as p:
        for name, extra in FUNC_CONFIGS.items():
            outs[name] = run_func(netns, sock, *extra)
        time.sleep(0.3)
        log = p.errlog()
    # the offload checks really ran where the features were acked
    assert "ok rx_gso\n" in outs["tso"] and "ok tx_gso\n" in outs["tso"], outs["tso"]
    assert "ok rx_gso_segmented\n" in outs["csum"] and "ok tx_csum\n" in outs["csum"]
    assert "ok rx_merged\n" in outs["tso_mrg_small_buffers"]
    s = summaries(log)
    assert len(s) == len(FUNC_CONFIGS), log
    for _, rx, tx, dropped, *_ in s:
        assert dropped == 0 and rx >= 650 and tx >= 650, log


def test_once_exits_after_one_connection(netns, tmp_path):
    quiet_tap(netns)
    sock = str(tmp_path / "s")
    with vmm_net(netns, sock, "--once") as p:
        run_func(netns, sock)
        p.wait(timeout=10)
        assert p.returncode == 0, p.errlog()
        assert len(summaries(p.errlog())) == 1, p.errlog()


def test_hostile_chains_leave_vmm_net_alive_and_counting(netns, tmp_path):
    quiet_tap(netns)
    sock = str(tmp_path / "s")
    with vmm_net(netns, sock) as p:
        srv = p.server()
        r = drive(netns, "net-hostile", "--socket", sock, "--peer-if", "tap0",
                  "--seed", 1234, "--count", 5000, "--backend-pid", srv, timeout=300)
        alive_after = p.poll() is None and alive(ident(srv))
        if alive_after:            # and correct afterwards, on a new connection
            run_func(netns, sock, "--offloads", "tso")
        time.sleep(0.3)
        log = p.errlog()
    out = r.stdout + r.stderr
    assert alive_after, f"vmm-net died: {log[-2000:]}"
    assert r.returncode == 0, out[-4000:]
    m = re.search(r"sent short header (\d+), writable tx (\d+), oversized (\d+), "
                  r"bad chain (\d+) ", out)
    assert m, out
    sent = [int(x) for x in m.groups()]
    assert min(sent) > 0, m.group(0)
    m = re.search(r"net-hostile: (\d+) malformed, (\d+) good frames verified", out)
    assert int(m.group(1)) >= 5000 and int(m.group(2)) > 0, m.group(0)
    # the backend spent at most a quarter of the no-RX-buffer phase on CPU
    m = re.search(r"no rx buffers: \d+ frames in ([\d.]+) s, backend cpu ([\d.]+) s", out)
    assert m and float(m.group(2)) <= 0.25 * float(m.group(1)), out
    s = summaries(log)
    assert s, log
    # the first connection is the hostile one: vmm-net counted exactly the
    # drops the driver caused, per reason
    _, rx, tx, dropped, short, writable, oversized, bad, nobuf = s[0]
    assert [short, writable, oversized, bad] == sent, (s[0], sent)
    assert dropped == short + writable + oversized + bad + nobuf, s[0]


def test_standalone_vmm_net_is_jailed(netns, tmp_path):
    """The /proc checks test_sandbox.py makes for vmm-blk. ip netns exec
    already gives the launched process another network namespace than the
    test's (and a mount namespace of its own), so the network namespace is
    also compared with the test's namespace with the tap: the jail's own
    (empty) one holds no interface, the tap fd was opened before."""
    quiet_tap(netns)
    sock = str(tmp_path / "s")
    uid = NET_JAIL_ID if AS_ROOT else os.getuid()
    with vmm_net(netns, sock) as p:
        srv = p.server()
        run_func(netns, sock)        # it serves from inside the jail
        bad = jail_problems(p.pid, "vmm-net supervisor", uid=uid, gid=uid,
                            pid_ns_new=False, user_ns_new=not AS_ROOT,
                            check_groups=AS_ROOT)
        bad += supervisor_problems(p.pid, "vmm-net supervisor")
        bad += jail_problems(srv, "vmm-net", uid=uid, gid=uid, pid_ns_new=True,
                             user_ns_new=not AS_ROOT, check_groups=AS_ROOT)
        tap_ns = netns.run(["readlink", "/proc/self/ns/net"], check=True).stdout.strip()
        for pid, who in ((p.pid, "vmm-net supervisor"), (srv, "vmm-net")):
            if ns(pid, "net") == tap_ns:
                bad.append(f"{who}: in the tap's network namespace {tap_ns}")
        if ns(p.pid, "pid_for_children") != ns(srv, "pid"):
            bad.append("vmm-net: not in its supervisor's pid_for_children namespace")
        assert not bad, "\n".join(bad)


def test_killed_vmm_net_is_reported_in_one_line(netns, tmp_path):
    quiet_tap(netns)
    sock = str(tmp_path / "s")
    with vmm_net(netns, sock, "--once") as p:
        srv = p.server()
        d = netns.popen([DRIVER, "net-bench", "--socket", sock, "--peer-if", "tap0",
                         "--dir", "tx", "--frame-size", "1514", "--seconds", "30"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert d.poll() is None, d.communicate()
        signal_until_dead(srv, signal.SIGKILL)
        out, err = d.communicate(timeout=15)
    assert d.returncode == 1, (d.returncode, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("vu-driver: net-bench: ") and sock in lines[0], lines[0]
    assert "closed the connection" in lines[0], lines[0]


def one_line_error(r, *words):
    assert r.returncode > 0, f"exit {r.returncode}\nstderr: {r.stderr!r}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    assert lines[0].startswith("vmm-net: "), lines[0]
    for w in words:
        assert re.search(w, lines[0], re.I), f"{lines[0]!r} does not name {w!r}"
    return lines[0]


@pytest.mark.skipif(not AS_ROOT, reason="switching to uid 65534 needs root")
def test_missing_tap_that_may_not_be_created(netns, tmp_path):
    """As root vmm-net creates a missing tap; as a user that may not, it
    says so in one line naming the tap."""
    r = netns.run(["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY),
                   "--clear-groups", VMM_NET, "--socket", "/tmp/vmmref-none.sock",
                   "--tap", "nosuchtap", "--once"], timeout=10)
    one_line_error(r, "nosuchtap")


def test_tun_device_is_not_a_tap(netns, tmp_path):
    netns.run(["ip", "tuntap", "add", "dev", "tun0", "mode", "tun"], check=True)
    r = netns.run([VMM_NET, "--socket", tmp_path / "s", "--tap", "tun0", "--once"],
                  timeout=10)
    one_line_error(r, "tun0", "not a tap")


def test_busy_tap(netns, tmp_path):
    quiet_tap(netns)
    with vmm_net(netns, str(tmp_path / "a")):
        r = netns.run([VMM_NET, "--socket", tmp_path / "b", "--tap", "tap0", "--once"],
                      timeout=10)
    one_line_error(r, "tap0", "busy")


def test_tap_fd_that_is_not_a_tap(netns):
    r = netns.run(["bash", "-c", f"exec {VMM_NET} --socket-fd 3 --tap-fd 4 "
                   "3</dev/null 4</etc/hostname"], timeout=10)
    one_line_error(r, "fd 4", "not a tap")


def test_no_tap_given(netns, tmp_path):
    r = netns.run([VMM_NET, "--socket", tmp_path / "s"], timeout=10)
    one_line_error(r, "tap")
