"""Bad --net input and tap errors: one exact line naming the option and the
value, exit 1, no VM started (the vmm stops before it opens /dev/kvm, so
none of these needs it), no tap left behind.

The tap cases run inside a network namespace (the `netns` fixture), as root.
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import VMM, guest, run_vmm
from netns import netns  # noqa: F401  (the fixture)

PREFIX = "vmm-reference: "
HOLD_TAP = r"""
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
# TUNSETIFF, IFF_TAP | IFF_NO_PI: one queue, no IFF_MULTI_QUEUE
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", sys.argv[1].encode(), 0x1002))
print("held", flush=True)
time.sleep(60)
"""


def vmm_args(*nets, block=()):
    args = ["--kernel", f"path={guest('hello-pvh.elf')}"]
    for b in block:
        args += ["--block", b]
    for n in nets:
        args += ["--net", n]
    return args


def assert_refused(r, line):
    assert r.returncode == 1, f"exit {r.returncode}: {r.stdout[-500:]} {r.stderr}"
    assert r.stderr.splitlines() == [PREFIX + line], r.stderr
    assert "hello" not in r.stdout, "the VM ran"


def run_in(ns, *nets, env=None):
    return ns.run([VMM] + vmm_args(*nets), env=env, timeout=30, errors="replace")


def tap_exists(ns, name):
    return ns.run(["ip", "link", "show", name]).returncode == 0


@pytest.mark.parametrize("spec,line", [
    ("mac=52:54:00:12:34:56", "--net: missing tap=NAME or socket=PATH"),
    ("tap=", "--net: tap=: empty value"),
    ("tap=0123456789abcdef", "--net: tap= is 16 bytes, longer than the 15-byte limit"),
    ("tap=a/b", "--net: tap=a/b: not an interface name (no '/', ':', '%', white "
     "space; not . or ..)"),
    ("tap=t0,socket=/s", "--net: tap= and socket= are mutually exclusive"),
    ("tap=t0,mac=52:54:00:12:34", "--net: mac=52:54:00:12:34: expected 6 hex pairs "
     "XX:XX:XX:XX:XX:XX"),
    ("tap=t0,mac=52:54:00:12:34:zz", "--net: mac=52:54:00:12:34:zz: expected 6 hex "
     "pairs XX:XX:XX:XX:XX:XX"),
    ("tap=t0,mac=01:00:5e:00:00:01", "--net: mac=01:00:5e:00:00:01: a multicast "
     "address (the first byte is odd); a NIC needs a unicast one"),
    ("tap=t0,mac=00:00:00:00:00:00", "--net: mac=00:00:00:00:00:00: the all-zero "
     "address"),
    ("tap=t0,read_only=on", "--net: unknown key 'read_only'"),
])
def test_bad_net_option(spec, line):
    assert_refused(run_vmm(vmm_args(spec), timeout=30), line)


def test_duplicate_id():
    assert_refused(run_vmm(vmm_args("tap=a,id=eth1", "tap=b"), timeout=30),
                   "--net: id=eth1 used by two interfaces (defaults are eth0, eth1, "
                   "... by position)")


def test_too_many_devices():
    r = run_vmm(vmm_args(*[f"tap=t{i}" for i in range(4)], block=["path=/x"] * 4),
                timeout=30)
    assert_refused(r, "--net: at most 7 virtio devices (IRQs 5..11), --block and "
                   "--net together")


def test_socket_nobody_listens_on(tmp_path):
    path = tmp_path / "none.sock"
    assert_refused(run_vmm(vmm_args(f"socket={path}"), timeout=30),
                   f"--net socket={path}: connect: No such file or directory (no "
                   "vhost-user backend accepted within 5 s)")


def test_busy_tap(netns):
    netns.add_tap("tap0", "10.77.0.1/24")
    holder = netns.popen([sys.executable, "-c", HOLD_TAP, "tap0"],
                         stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert_refused(run_in(netns, "tap=tap0"), "--net tap=tap0: TUNSETIFF: Device or "
                   "resource busy (another process has the tap open)")


def test_busy_second_tap(netns):
    """The first interface is fine (its vmm-net starts), the second is held:
    the vmm still says only the one line, and ends the first vmm-net."""
    netns.add_tap("tap0", "10.77.0.1/24")
    netns.add_tap("tap1", "10.78.0.1/24")
    holder = netns.popen([sys.executable, "-c", HOLD_TAP, "tap1"],
                         stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    r = run_in(netns, "tap=tap0", "tap=tap1")
    assert r.returncode == 1, f"exit {r.returncode}: {r.stderr}"
    lines = r.stderr.splitlines()
    assert lines[0] == PREFIX + "--net tap=tap1: TUNSETIFF: Device or resource busy " \
        "(another process has the tap open)", r.stderr
    # eth0's vmm-net saw its connection end (EOF) and said what it moved
    # (unless the vmm's 100 ms grace ran out first and SIGTERM ended it)
    assert lines[1:] in ([], ["vmm-net eth0: rx 0 frames, tx 0 frames, dropped 0 "
                              "(short header 0, writable tx 0, oversized 0, bad "
                              "chain 0, no rx buffer 0)"]), r.stderr
    # tap0 is free again: nothing of the vmm holds it
    holder0 = netns.popen([sys.executable, "-c", HOLD_TAP, "tap0"],
                          stdout=subprocess.PIPE, text=True)
    assert holder0.stdout.readline().strip() == "held"


def test_not_a_tap(netns):
    assert_refused(run_in(netns, "tap=lo"), "--net tap=lo: TUNSETIFF: Invalid argument "
                   "(an interface of that name exists but is not a single-queue tap)")


def test_no_dev_net_tun(netns):
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    netns.add_tap("tap0")
    # a private mount namespace where /dev/net is an empty tmpfs
    r = subprocess.run(["unshare", "-m", "sh", "-c", 'mount -t tmpfs none /dev/net && '
                        'exec "$@"', "sh"] + netns.argv([VMM] + vmm_args("tap=tap0")),
                       capture_output=True, text=True, timeout=30)
    assert_refused(r, "--net tap=tap0: /dev/net/tun: No such file or directory (no "
                   "tun/tap support: modprobe tun?)")


def test_vmm_net_missing(netns):
    """The tap is created by the vmm (it did not exist) and goes away with
    it; the missing binary is named with the option."""
    env = dict(os.environ, VMM_NET_BIN="/nonexistent")
    assert not tap_exists(netns, "tapnew")
    assert_refused(run_in(netns, "tap=tapnew", env=env), "--net tap=tapnew: vmm-net: "
                   "/nonexistent: No such file or directory (build it with make, or "
                   "set VMM_NET_BIN)")
    assert not tap_exists(netns, "tapnew")
