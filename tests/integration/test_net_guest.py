"""The virtio_net selftest guest (tests/guests/virtio_net.c) under
build/vmm-reference --net: the path guest -> virtio-mmio -> KVM ioeventfd ->
vmm-net -> tap and back by KVM irqfd, run under /dev/kvm. Every test keeps
its traffic in a network namespace (netns.py): the tap, the vmm (so its
vmm-net) and the host-side peer (ping, an AF_PACKET capture) live there.

The guest answers ARP and ICMP echo for 10.(77+k).0.2 on its k-th net
device, sends one hello frame per device at boot, prints the MAC it read
from config space, and ends (the vmm exits 0) after virtio_net.count= echo
replies or when a device reports DEVICE_NEEDS_RESET. It drives every net
device it finds (test_two_interfaces).

The last tests need no KVM: QEMU (TCG, microvm) is the virtio-mmio
frontend, with its own virtio-net or with our vmm-net as a vhost-user
backend, to check the guest driver against a second implementation.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from blk import make_image, wait_for_socket
from conftest import BUILD, SLOW, VMM, guest
from jail import (DEFAULT_ID, VmmTree, alive, ident, jail_problems, ns,
                  signal_until_dead, supervisor_problems, wait_gone)
from netns import netns  # noqa: F401 (the fixture)

VMM_NET = BUILD / "vmm-net"
GUEST = "virtio_net-pvh.elf"
MAC = "52:54:00:ab:cd:ef"
DEFAULT_MACS = ("52:54:00:12:34:56", "52:54:00:12:34:57")
HELLO_TYPE = 0x88b5
HELLO = b"vmm-reference virtio_net hello"
ETH_P_ALL = 0x0003
AS_ROOT = os.geteuid() == 0
FORBIDDEN = ["openat", "execve", "socket", "ptrace"]
BOOT = 60          # seconds (times SLOW) for the guest to print "ready"
STATS_RE = re.compile(
    r"^vmm-net (\S+): rx (\d+) frames, tx (\d+) frames, dropped (\d+) \(short header (\d+), "
    r"writable tx (\d+), oversized (\d+), bad chain (\d+), no rx buffer (\d+)\)$", re.M)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def hello_frame(mac):
    return b"\xff" * 6 + mac_bytes(mac) + HELLO_TYPE.to_bytes(2, "big") + HELLO


# ------------------------------------------------------------------ helpers

class Proc:
    """A process started in the namespace whose stdout and stderr threads
    collect (a pipe nobody reads would block it; a regular file is no
    good for a jailed writer, whose RLIMIT_FSIZE is 0)."""

    def __init__(self, ns_, argv):
        self.argv = [str(a) for a in argv]
        self.p = ns_.popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        self.pid = self.p.pid
        self._out, self._err = [], []
        self._threads = [threading.Thread(target=self._pump, args=(f, buf), daemon=True)
                         for f, buf in ((self.p.stdout, self._out), (self.p.stderr, self._err))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(f, buf):
        for chunk in iter(lambda: f.read1(4096), b""):
            buf.append(chunk)

    def poll(self):
        return self.p.poll()

    @property
    def returncode(self):
        return self.p.returncode

    def errlog(self):
        return self.err()

    def out(self):
        return b"".join(self._out).decode(errors="replace").replace("\r", "")

    def err(self):
        return b"".join(self._err).decode(errors="replace")

    def logs(self):
        return (f"{' '.join(self.argv)}\nexit {self.p.returncode}\nstdout:\n"
                f"{self.out()[-3000:]}\nstderr:\n{self.err()[-3000:]}")

    def wait_out(self, marker, timeout=BOOT):
        """Wait until stdout holds marker; on exit or timeout: kill, fail."""
        end = time.monotonic() + timeout * SLOW
        while marker not in self.out():
            if self.p.poll() is not None or time.monotonic() > end:
                what = "timeout" if self.p.poll() is None else "exit"
                self.kill()
                raise AssertionError(f"{what} waiting for {marker!r}\n{self.logs()}")
            time.sleep(0.05)
        return self.out()

    def finish(self, timeout=60):
        """Wait for the end (kill after timeout * SLOW and fail); returns
        (stdout, stderr) as text."""
        try:
            self.p.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running after {timeout * SLOW}s\n{self.logs()}")
        for t in self._threads:
            t.join(timeout=10)
        return self.out(), self.err()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for t in self._threads:
            t.join(timeout=10)


def start_vm(ns_, nets, cmdline="", blocks=(), extra=()):
    """build/vmm-reference with the virtio_net guest, `--net SPEC` per nets
    (after `--block SPEC` per blocks), in the namespace."""
    argv = [VMM, "--kernel", f'path={guest(GUEST)},cmdline="console=ttyS0 {cmdline}"',
            "--memory", "size_mib=128"]
    for b in blocks:
        argv += ["--block", b]
    for n in nets:
        argv += ["--net", n]
    return Proc(ns_, argv + list(extra))


def assert_clean_exit(vm, out, err):
    assert vm.p.returncode == 0, vm.logs()
    assert "not ok" not in out and "GUEST_ASSERT" not in out, vm.logs()


def ping(ns_, ip, count=3):
    r = ns_.run(["ping", "-c", str(count), "-W", str(5 * SLOW), ip], timeout=60 * SLOW)
    assert r.returncode == 0 and f" {count} received" in r.stdout, \
        f"ping {ip} (exit {r.returncode}):\n{r.stdout}{r.stderr}"


def inet_csum(b):
    """RFC 1071: 0 over a header or message whose checksum is right."""
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def drain(sock, quiet=1.0):
    """Every frame queued on sock until none arrives for quiet seconds, as
    (outgoing, frame) pairs (outgoing: the namespace sent it to the guest)."""
    got = []
    sock.settimeout(quiet)
    while True:
        try:
            frame, addr = sock.recvfrom(65536)
        except socket.timeout:
            return got
        got.append((addr[2] == socket.PACKET_OUTGOING, frame))


def icmp_echo(frame):
    """(ip header, icmp message) of an IPv4 ICMP frame, else None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    ihl = (frame[14] & 0xf) * 4
    total = int.from_bytes(frame[16:18], "big")
    if frame[23] != 1 or ihl < 20 or 14 + total > len(frame):
        return None
    return frame[14:14 + ihl], frame[14 + ihl:14 + total]


def echo_problems(frames, guest_mac, guest_ip, n):
    """Check the guest's echo replies byte by byte against the requests the
    namespace sent (frames from drain()): one reply per request, from the
    guest's MAC and address to the requester's, IPv4 and ICMP checksums
    right, type 0, the request's id, sequence and payload."""
    ip = bytes(int(x) for x in guest_ip.split("."))
    reqs, replies, bad = [], {}, []
    for outgoing, f in frames:
        e = icmp_echo(f)
        if e is None:
            continue
        hdr, icmp = e
        if outgoing and icmp[0] == 8 and hdr[16:20] == ip:
            reqs.append((f, hdr, icmp))
        elif not outgoing and hdr[12:16] == ip:
            replies.setdefault(icmp[4:8], []).append((f, hdr, icmp))
    if len(reqs) != n:
        bad.append(f"{len(reqs)} echo requests to {guest_ip} captured, expected {n}")
    for f, hdr, icmp in reqs:
        key = icmp[4:8]
        got = replies.pop(key, [])
        if len(got) != 1:
            bad.append(f"id/seq {key.hex()}: {len(got)} replies")
            continue
        rf, rhdr, ricmp = got[0]
        want = {"dst mac": (rf[0:6], f[6:12]), "src mac": (rf[6:12], mac_bytes(guest_mac)),
                "ip src": (rhdr[12:16], ip), "ip dst": (rhdr[16:20], hdr[12:16]),
                "ip csum": (inet_csum(rhdr), 0), "icmp csum": (inet_csum(ricmp), 0),
                "type/code": (ricmp[0:2], b"\0\0"),
                "id/seq/payload": (ricmp[4:], icmp[4:])}
        bad += [f"id/seq {key.hex()}: {k}: got {a.hex() if isinstance(a, bytes) else a}, "
                f"want {b.hex() if isinstance(b, bytes) else b}"
                for k, (a, b) in want.items() if a != b]
    if replies:
        bad.append(f"replies to no request: {list(replies)}")
    return bad


def ping_checked(ns_, sock, guest_mac, ip, count=3):
    """ping, then the replies checked on the wire (sock: packet socket on
    the tap, opened before)."""
    ping(ns_, ip, count)
    bad = echo_problems(drain(sock), guest_mac, ip, count)
    assert not bad, "\n".join(bad)


def capture(sock, ethertype, timeout):
    """Frames of ethertype received on sock (an AF_PACKET socket bound to a
    tap: what vmm-net wrote to the tap) within timeout seconds; returns at
    the first one plus 1 s more, to see a duplicate."""
    got, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            frame, addr = sock.recvfrom(65536)
        except socket.timeout:
            break
        if addr[2] == socket.PACKET_OUTGOING or len(frame) < 14:
            continue
        if int.from_bytes(frame[12:14], "big") == ethertype:
            if not got:
                end = min(end, time.monotonic() + 1)
            got.append(frame)
    return got


def NetTree(launched, nnet, nblk=0, timeout=10):
    """The vmm's tree (jail.VmmTree) with nnet vmm-net and nblk vmm-blk."""
    return VmmTree(launched, nblk, timeout * SLOW, nnet=nnet)


def netns_inode(ns_):
    return os.stat(f"/run/netns/{ns_.name}").st_ino


# ------------------------------------------- (a) ping, the MAC, a clean end

def test_ping_answered_and_mac_reported(kvm, netns):
    netns.add_tap("tap0", "10.77.0.1/24")
    vm = start_vm(netns, [f"tap=tap0,mac={MAC}"], "virtio_net.count=3")
    out = vm.wait_out("virtio_net: ready")
    assert re.search(rf"^virtio_net: mac {MAC}$", out, re.M), vm.logs()
    assert len(re.findall(r"^virtio_net: mac ", out, re.M)) == 1, vm.logs()
    with netns.packet_socket("tap0") as sock:
        ping_checked(netns, sock, MAC, "10.77.0.2")
    out, err = vm.finish()
    assert_clean_exit(vm, out, err)
    assert "virtio_net: answered 3 echo requests" in out, vm.logs()
    # the guest took MAC and STATUS from the vmm, VERSION_1 from the backend
    m = re.search(r"^virtio_net: net 0: ip 10\.77\.0\.2, features 0x([0-9a-f]+), "
                  r"negotiated 0x([0-9a-f]+)$", out, re.M)
    assert m, vm.logs()
    neg = int(m.group(2), 16)
    assert neg & (1 << 32) and neg & (1 << 5) and neg & (1 << 16), hex(neg)
    assert re.search(r"^virtio_net: net 0: rx \d+ frames, tx \d+ frames, dropped 0$",
                     out, re.M), vm.logs()


def test_ping_without_mrg_rxbuf_and_event_idx(kvm, netns):
    """The other ring paths of vmm-net: one buffer per frame, no event index."""
    netns.add_tap("tap0", "10.77.0.1/24")
    vm = start_vm(netns, ["tap=tap0"], "virtio_net.count=3 virtio_net.mrg_rxbuf=0 "
                  "virtio_net.event_idx=0")
    out = vm.wait_out("virtio_net: ready")
    m = re.search(r"negotiated 0x([0-9a-f]+)$", out, re.M)
    assert m and not int(m.group(1), 16) & (1 << 15 | 1 << 29), vm.logs()
    ping(netns, "10.77.0.2")
    out, err = vm.finish()
    assert_clean_exit(vm, out, err)
    assert "virtio_net: answered 3 echo requests" in out, vm.logs()


# ------------------------------------------------- (b) the hello frame

def test_hello_frame_captured_on_the_tap(kvm, netns):
    netns.add_tap("tap0", "10.77.0.1/24")
    sock = netns.packet_socket("tap0")     # before the guest sends it
    try:
        vm = start_vm(netns, [f"tap=tap0,mac={MAC}"])
        vm.wait_out("virtio_net: ready")
        got = capture(sock, HELLO_TYPE, 20 * SLOW)
    finally:
        sock.close()
    vm.kill()
    assert got == [hello_frame(MAC)], f"captured {got!r}\n{vm.logs()}"


# --------------------------------------- (c) two interfaces, two subnets

def test_two_interfaces_two_subnets(kvm, netns, tmp_path):
    """Two --net (default MACs and ids) and a --block after them on the
    command line (it still takes window 0: blocks first, then nets): the
    guest drives both net devices, answers on each subnet and sends each
    hello with that device's MAC."""
    netns.add_tap("tap0", "10.77.0.1/24")
    netns.add_tap("tap1", "10.78.0.1/24")
    img = make_image(tmp_path / "d.img", 1 << 20)
    socks = [netns.packet_socket(t) for t in ("tap0", "tap1")]
    try:
        vm = start_vm(netns, ["tap=tap0", "tap=tap1"], "virtio_net.count=4",
                      extra=["--block", f"path={img}"])
        out = vm.wait_out("virtio_net: ready")
        hellos = [capture(s, HELLO_TYPE, 20 * SLOW) for s in socks]
        assert re.findall(r"^virtio_net: mac (\S+)$", out, re.M) == list(DEFAULT_MACS), \
            vm.logs()
        assert re.search(r"^virtio_net: net 1: ip 10\.78\.0\.2,", out, re.M), vm.logs()
        assert hellos == [[hello_frame(m)] for m in DEFAULT_MACS], f"{hellos!r}\n{vm.logs()}"
        for s, mac, ip in zip(socks, DEFAULT_MACS, ("10.77.0.2", "10.78.0.2")):
            drain(s, 0.2)
            ping_checked(netns, s, mac, ip, 2)
    finally:
        for s in socks:
            s.close()
    out, err = vm.finish()
    assert_clean_exit(vm, out, err)
    assert "virtio_net: answered 4 echo requests" in out, vm.logs()
    for k in (0, 1):
        m = re.search(rf"^virtio_net: net {k}: rx (\d+) frames, tx (\d+) frames, "
                      r"dropped 0$", out, re.M)
        # ARP + 2 echo requests in; hello + ARP reply + 2 echo replies out
        assert m and int(m.group(1)) >= 3 and int(m.group(2)) >= 4, vm.logs()


# ------------------------------------- (d) a dead vmm-net, the VM lives on

def test_killing_vmm_net_leaves_vmm_and_guest_alive(kvm, netns):
    netns.add_tap("tap0", "10.77.0.1/24")
    vm = start_vm(netns, [f"tap=tap0,mac={MAC}"])
    tree = None
    try:
        vm.wait_out("virtio_net: ready")
        ping(netns, "10.77.0.2", 1)           # it works before
        tree = NetTree(vm.pid, 1)
        os.kill(tree.nets[0], signal.SIGKILL)  # the jailed vmm-net
        out, err = vm.finish()
    finally:
        vm.kill()
    assert_clean_exit(vm, out, err)
    assert re.search(rf"net eth0: vmm-net \(pid {tree.net_sups[0]}\) killed by signal 9 "
                     r"\(SIGKILL\)", err), vm.logs()
    assert "virtio_net: device needs reset" in out, vm.logs()
    wait_gone(tree.idents, timeout=15)


# ------------------------------------------------- (e) vmm-net is jailed

def net_jail_problems(t, netns_, window):
    """What test_sandbox.py checks of a vmm-blk, for vmm-net 0 (device
    window `window`), plus: its namespaces are neither the vmm's nor the
    namespace holding the tap (it works on the fd it was given)."""
    uid = DEFAULT_ID + 1 + window if AS_ROOT else os.getuid()
    sup, srv = t.net_sups[0], t.nets[0]
    bad = jail_problems(sup, "vmm-net supervisor", uid=uid, gid=uid, pid_ns_new=False,
                        user_ns_new=not AS_ROOT, check_groups=AS_ROOT)
    bad += supervisor_problems(sup, "vmm-net supervisor")
    bad += jail_problems(srv, "vmm-net", uid=uid, gid=uid, pid_ns_new=True,
                         user_ns_new=not AS_ROOT, check_groups=AS_ROOT)
    if ns(sup, "pid") != ns(t.vmm, "pid"):
        bad.append("vmm-net supervisor: not in the vmm's PID namespace")
    if ns(sup, "pid_for_children") != ns(srv, "pid"):
        bad.append("vmm-net: not in its supervisor's pid_for_children namespace")
    for n in ("mnt", "net", "ipc", "uts", "pid"):
        for other, who in ((t.vmm, "the vmm"), (t.supervisor, "the vmm supervisor")):
            if ns(srv, n) == ns(other, n):
                bad.append(f"vmm-net: {n} namespace is {who}'s ({ns(srv, n)})")
    if ns(srv, "net") == f"net:[{netns_inode(netns_)}]":
        bad.append("vmm-net: in the namespace of the tap")
    for pid in (sup, srv):
        if pid_uid(pid) == 0:
            bad.append(f"pid {pid}: uid 0")
    return bad


def pid_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no Uid")


def test_vmm_net_is_jailed(kvm, netns, tmp_path):
    """One --block before the --net: the net device is window 1, so its
    processes run as --jail-id default + 2 (as root)."""
    netns.add_tap("tap0", "10.77.0.1/24")
    img = make_image(tmp_path / "d.img", 1 << 20)
    vm = start_vm(netns, [f"tap=tap0,mac={MAC}"], blocks=[f"path={img}"])
    try:
        vm.wait_out("virtio_net: ready")
        ping(netns, "10.77.0.2", 1)           # served from inside the jail
        t = NetTree(vm.pid, 1, nblk=1)
        bad = net_jail_problems(t, netns, window=1)
        assert not bad, "\n".join(bad)
    finally:
        vm.kill()
    wait_gone(t.idents, timeout=15)


@pytest.mark.parametrize("name", FORBIDDEN)
def test_forbidden_syscall_kills_only_vmm_net(kvm, netns, name):
    netns.add_tap("tap0", "10.77.0.1/24")
    vm = start_vm(netns, [f"tap=tap0,mac={MAC},x-test-forbidden={name}"])
    try:
        vm.wait_out("virtio_net: ready")
        t = NetTree(vm.pid, 1)
        vmm = ident(t.vmm)
        signal_until_dead(t.nets[0], signal.SIGUSR1)
        out, err = vm.finish()
    finally:
        vm.kill()
    assert_clean_exit(vm, out, err)
    assert re.search(rf"net eth0: vmm-net \(pid {t.net_sups[0]}\) killed by signal 31 "
                     r"\(SIGSYS\)", err), vm.logs()
    # the guest was alive to see the reset, and ended the VM itself
    assert "virtio_net: device needs reset" in out, vm.logs()
    assert vmm is not None and not alive(vmm)


# ----------------------------- (f) --net socket= to a standalone vmm-net

def standalone_vmm_net(ns_, sock, tap):
    if not VMM_NET.exists():
        pytest.fail(f"{VMM_NET} not built (run make)")
    p = Proc(ns_, [VMM_NET, "--socket", sock, "--tap", tap, "--id", tap, "--once"])
    try:
        wait_for_socket(str(sock), p)
    except AssertionError:
        p.kill()
        raise
    return p


def vmm_net_stats(p, name):
    """vmm-net --once ended after its frontend; its counters as a dict."""
    p.finish(timeout=20)
    m = [x for x in STATS_RE.finditer(p.err()) if x.group(1) == name]
    assert m, f"vmm-net {name} printed no counters:\n{p.logs()}"
    keys = ("rx", "tx", "dropped", "short_header", "writable_tx", "oversized",
            "bad_chain", "no_rx_buffer")
    return dict(zip(keys, (int(v) for v in m[-1].groups()[1:])))


def test_external_vmm_net_over_socket(kvm, netns, tmp_path):
    """`vmm-net --socket PATH --tap tap0` serving `--net socket=PATH`; the
    guest's chains are all well formed (nothing dropped as malformed)."""
    netns.add_tap("tap0", "10.77.0.1/24")
    sock = tmp_path / "net.sock"
    backend = standalone_vmm_net(netns, sock, "tap0")
    try:
        vm = start_vm(netns, [f"socket={sock},mac={MAC}"], "virtio_net.count=3")
        out = vm.wait_out("virtio_net: ready")
        assert re.search(rf"^virtio_net: mac {MAC}$", out, re.M), vm.logs()
        with netns.packet_socket("tap0") as s:
            ping_checked(netns, s, MAC, "10.77.0.2")
        out, err = vm.finish()
        assert_clean_exit(vm, out, err)
        st = vmm_net_stats(backend, "tap0")
    finally:
        backend.kill()
    assert st["dropped"] == 0 and st["rx"] >= 4 and st["tx"] >= 4, st


# --------------------------- the guest driver against QEMU's (no KVM)

QEMU = shutil.which("qemu-system-x86_64")


def qemu_argv(cmdline, netdev, mem_args=()):
    """QEMU microvm (TCG) with a modern virtio-mmio virtio-net; its
    interrupt lines are level-triggered: the guest acknowledges in its ISR
    (vmmref.virtio_ack=1). microvm appends the virtio_mmio.device= tokens."""
    return [QEMU, "-M", "microvm,acpi=off,x-option-roms=off" +
            (",memory-backend=mem" if mem_args else ""), "-accel", "tcg", "-m", "128M",
            "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
            "-monitor", "none", "-no-reboot", *mem_args,
            "-kernel", guest(GUEST),
            "-append", f"console=ttyS0 vmmref.virtio_ack=1 {cmdline}",
            "-global", "virtio-mmio.force-legacy=false", *netdev,
            "-device", f"virtio-net-device,netdev=n0,mac={MAC}"]


@pytest.mark.parametrize("backend", ["qemu", "vmm-net"])
def test_guest_driver_under_qemu(netns, tmp_path, backend):
    """backend qemu: QEMU's own virtio-net on the tap (checks the guest
    driver alone); vmm-net: QEMU as the vhost-user frontend of our vmm-net
    (shared memfd memory)."""
    if QEMU is None:
        pytest.skip("qemu-system-x86_64 is not installed (scripts/deps.sh test)")
    netns.add_tap("tap0", "10.77.0.1/24")
    sock = netns.packet_socket("tap0")
    server = None
    if backend == "qemu":
        argv = qemu_argv("virtio_net.count=3", ["-netdev", "tap,id=n0,ifname=tap0,"
                                                "script=no,downscript=no,vhost=off"])
    else:
        path = tmp_path / "net.sock"
        server = standalone_vmm_net(netns, path, "tap0")
        argv = qemu_argv("virtio_net.count=3",
                         ["-chardev", f"socket,id=c0,path={path}",
                          "-netdev", "vhost-user,id=n0,chardev=c0"],
                         ["-object", "memory-backend-memfd,id=mem,size=128M,share=on"])
    vm = Proc(netns, argv)
    try:
        out = vm.wait_out("virtio_net: ready", timeout=120)
        hello = capture(sock, HELLO_TYPE, 20)
        assert re.search(rf"^virtio_net: mac {MAC}$", out, re.M), vm.logs()
        drain(sock, 0.2)
        ping_checked(netns, sock, MAC, "10.77.0.2")
        # microvm has no i8042: the guest's reset does not end QEMU
        vm.wait_out("virtio_net: answered 3 echo requests", timeout=30)
        vm.wait_out("frames, dropped", timeout=30)
    finally:
        sock.close()
        vm.kill()
    assert hello == [hello_frame(MAC)], f"captured {hello!r}\n{vm.logs()}"
    assert "not ok" not in vm.out(), vm.logs()
    assert re.search(r"^virtio_net: net 0: rx \d+ frames, tx \d+ frames, dropped 0$",
                     vm.out(), re.M), vm.logs()
    if server is not None:
        try:
            st = vmm_net_stats(server, "tap0")
        finally:
            server.kill()
        assert st["dropped"] == 0 and st["rx"] >= 4 and st["tx"] >= 4, st
