"""Network namespaces for the virtio-net tests.

Every network test keeps its traffic inside a namespace it creates and
deletes: the tap, the vmm / vmm-net / QEMU side that needs the tap, and the
host-side peer (ping, a TCP peer, an AF_PACKET capture) live there, and no
packet leaves it. Deleting the namespace deletes its taps.

    with NetNS() as ns:
        ns.add_tap("tap0", "10.77.0.1/24")
        p = ns.popen([VMM_NET, "--socket", path, "--tap", "tap0"])
        ns.run(["ping", "-c", "1", "10.77.0.2"])
        s = ns.socket(socket.AF_PACKET, socket.SOCK_RAW, ETH_P_ALL)

or the `netns` fixture (skips with the reason unless root with `ip`).
"""
import ctypes
import itertools
import os
import shutil
import socket
import subprocess

import pytest

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
_libc = ctypes.CDLL(None, use_errno=True)
_counter = itertools.count()


def netns_missing_reason():
    if os.geteuid() != 0:
        return "network namespaces and taps need root"
    if shutil.which("ip") is None:
        return "ip (iproute2) is not installed: scripts/deps.sh test"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing"
    return None


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


class NetNS:
    """A fresh network namespace `vmmref-PID-N`, deleted on close()."""

    def __init__(self, name=None):
        self.name = name or f"vmmref-{os.getpid()}-{next(_counter)}"
        subprocess.run(["ip", "netns", "add", self.name], check=True,
                       capture_output=True, text=True)
        self.procs = []
        self.run(["ip", "link", "set", "lo", "up"], check=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def argv(self, args):
        return ["ip", "netns", "exec", self.name] + [str(a) for a in args]

    def run(self, args, check=False, timeout=60, **kw):
        """subprocess.run(args) inside the namespace (text, output captured)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.argv(args), check=check, timeout=timeout, **kw)

    def popen(self, args, **kw):
        """subprocess.Popen(args) inside the namespace; killed at close()."""
        p = subprocess.Popen(self.argv(args), **kw)
        self.procs.append(p)
        return p

    def add_tap(self, name="tap0", addr=None, up=True):
        """Create tap `name` in the namespace (IFF_VNET_HDR capable, like every
        tap), give it `addr` ("10.77.0.1/24") and bring it up."""
        self.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"], check=True)
        if addr:
            self.run(["ip", "addr", "add", addr, "dev", name], check=True)
        if up:
            self.run(["ip", "link", "set", name, "up"], check=True)
        return name

    def socket(self, *args):
        """A socket created inside the namespace (it stays there)."""
        own = os.open("/proc/self/ns/net", os.O_RDONLY)
        try:
            target = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
            try:
                _setns(target)
                try:
                    return socket.socket(*args)
                finally:
                    _setns(own)
            finally:
                os.close(target)
        finally:
            os.close(own)

    def packet_socket(self, ifname):
        """An AF_PACKET socket bound to ifname, seeing every frame."""
        s = self.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((ifname, ETH_P_ALL))
        return s

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        self.procs = []
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@pytest.fixture
def netns():
    r = netns_missing_reason()
    if r:
        pytest.skip(r)
    ns = NetNS()
    try:
        yield ns
    finally:
        ns.close()
