"""A real Linux virtio-net driver against our vmm-net.

Here (no hardware KVM) Linux cannot boot under our own vmm, so QEMU under
TCG plays the vhost-user frontend: `-M microvm` with guest RAM in a shared
memfd, `-netdev vhost-user` on the socket of a `vmm-net --socket PATH --tap
tapN --once`, and a virtio-net-device on it; the guest is the `make guest`
kernel and initramfs, whose /init runs the shell command given in
vmmref.cmd64= (see guest/init). The taps, every vmm-net and the host-side
peers (ping, TCP sockets, an AF_PACKET capture) live in one network
namespace per test (netns.py); QEMU talks to vmm-net over a unix socket only.

The guest announces the steps the host side must act on with console lines
`vmmref-net: STEP`, read as they arrive. Each test checks the guest's own
view (ping output, ICMP counters, sha256 of what it received and sent, the
virtio features its driver negotiated) and the host's (ping, sha256, the
largest frame seen on the tap in each direction: above 1514 bytes only when
the TSO offloads work end to end), and the per-connection counters vmm-net
prints when QEMU goes away.

Where hardware KVM exists, the same checks run under our own vmm with
`--net tap=tap0`.
"""
import base64
import contextlib
import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from blk import stop, wait_for_socket
from conftest import BUILD, LINUX, ROOT, SLOW, VMM
from netns import netns  # noqa: F401 (the fixture)

VMM_NET = BUILD / "vmm-net"
MIB = 1 << 20
ETH_FRAME_MAX = 1514            # a 1500-byte MTU frame without FCS
MACS = ("52:54:00:12:34:56", "52:54:00:12:34:57")
TAPS = (("tap0", "10.77.0.1", "10.77.0.2"), ("tap1", "10.78.0.1", "10.78.0.2"))
QEMU_BOOT_TIMEOUT = 600         # TCG: boot ~3 s, 64 MiB each way ~1 min

# virtio 1.x / virtio-net feature bits, as printed by the guest driver in
# /sys/class/net/ethN/device/features ('0'/'1' per bit, bit 0 first).
FEATURE_NAMES = {
    0: "CSUM", 1: "GUEST_CSUM", 2: "CTRL_GUEST_OFFLOADS", 3: "MTU", 5: "MAC",
    6: "GSO", 7: "GUEST_TSO4", 8: "GUEST_TSO6", 9: "GUEST_ECN", 10: "GUEST_UFO",
    11: "HOST_TSO4", 12: "HOST_TSO6", 13: "HOST_ECN", 14: "HOST_UFO",
    15: "MRG_RXBUF", 16: "STATUS", 17: "CTRL_VQ", 18: "CTRL_RX", 19: "CTRL_VLAN",
    20: "CTRL_RX_EXTRA", 21: "GUEST_ANNOUNCE", 22: "MQ", 23: "CTRL_MAC_ADDR",
    24: "NOTIFY_ON_EMPTY", 27: "ANY_LAYOUT", 28: "RING_INDIRECT_DESC",
    29: "RING_EVENT_IDX", 30: "VHOST_USER_PROTOCOL_FEATURES", 32: "VERSION_1",
    33: "ACCESS_PLATFORM", 34: "RING_PACKED", 35: "IN_ORDER", 36: "ORDER_PLATFORM",
    37: "SR_IOV", 38: "NOTIFICATION_DATA", 40: "RING_RESET", 53: "NOTF_COAL",
    54: "GUEST_USO4", 55: "GUEST_USO6", 56: "HOST_USO", 57: "HASH_REPORT",
    61: "RSC_EXT", 62: "STANDBY", 63: "SPEED_DUPLEX",
}
# What the Linux 6.1 driver must take when vmm-net offers it (devices/net:
# VERSION_1, checksum and TSO offloads both ways, merged RX buffers, event
# index) and the frontend serves MAC and STATUS from its config space.
WANT_FEATURES = {"VERSION_1", "MAC", "STATUS", "CSUM", "GUEST_CSUM", "HOST_TSO4",
                 "HOST_TSO6", "GUEST_TSO4", "GUEST_TSO6", "MRG_RXBUF", "RING_EVENT_IDX"}

STATS_RE = re.compile(
    r"^vmm-net (\S+): rx (\d+) frames, tx (\d+) frames, dropped (\d+) \(short header (\d+), "
    r"writable tx (\d+), oversized (\d+), bad chain (\d+), no rx buffer (\d+)\)$", re.M)


@pytest.fixture(scope="session")
def guest_artifacts():
    """`make guest` output (built here when missing: minutes once, then cached)."""
    if not all((LINUX / a).exists() for a in ("bzImage", "initramfs.cpio.gz")):
        r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT),
                            f"BUILD={BUILD}", "guest"], capture_output=True,
                           text=True, timeout=3600)
        assert r.returncode == 0, f"make guest failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return LINUX


# ---------------------------------------------------------------------------
# The guest side: shell functions every guest command starts with.

GUEST_LIB = r"""set -e
# icmp NAME: the Icmp counter NAME of /proc/net/snmp.
icmp() {
	awk -v k="$1" '$1 == "Icmp:" { if (!c) { for (i = 2; i <= NF; i++) if ($i == k) c = i } else { print $c; exit } }' /proc/net/snmp
}
# nic MAC ADDR: give the interface with MAC the address ADDR, bring it up,
# print its name and the virtio features its driver negotiated.
nic() {
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address")" = "$1" ] || continue
		n=${d##*/}
		ip addr add "$2" dev "$n"
		ip link set "$n" up
		echo "nic $n mac=$1 features=$(cat "$d/device/features")"
		return 0
	done
	echo "no interface with MAC $1 among: $(ls /sys/class/net)"
	return 1
}
# wait_echos N: wait (60 s at most) until N ICMP echo requests have arrived.
wait_echos() {
	i=0
	while [ "$(icmp InEchos)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "only $(icmp InEchos) of $1 echo requests arrived"; return 1; }
		sleep 0.2
	done
	echo "icmp echo requests in=$(icmp InEchos) replies out=$(icmp OutEchoReps)"
}
"""


def guest_ping(host_ip):
    """Guest pings HOST_IP, then waits for 3 echo requests from the host."""
    return (f"ping -c 3 -W 10 {host_ip}\n"
            f"echo 'vmmref-net: wait-ping'\n"
            f"wait_echos 3\n")


def guest_tcp(host_ip, size):
    """SIZE bytes from the host (port 5001) hashed in the guest, then SIZE
    fresh random bytes from the guest's tmpfs to the host (port 5002)."""
    return (f"echo 'vmmref-net: rx-listen'\n"
            f"nc -l -p 5001 </dev/null >/tmp/rx\n"
            f"echo rx-bytes=$(wc -c </tmp/rx) rx-sha=$(sha256sum </tmp/rx | cut -d' ' -f1)\n"
            f"rm /tmp/rx\n"
            f"head -c {size} /dev/urandom >/tmp/tx\n"
            f"echo tx-bytes=$(wc -c </tmp/tx) tx-sha=$(sha256sum </tmp/tx | cut -d' ' -f1)\n"
            f"echo 'vmmref-net: tx-send'\n"
            f"nc {host_ip} 5002 </tmp/tx\n"
            f"echo 'vmmref-net: tx-done'\n")


def features_of(out, mac):
    """The names of the virtio features the guest printed for MAC (`nic`)."""
    m = re.search(rf"^nic (\S+) mac={re.escape(mac)} features=([01]+)$", out, re.M)
    assert m, f"the guest printed no features for {mac}:\n{out}"
    bits = m.group(2)
    return m.group(1), {FEATURE_NAMES.get(i, f"bit{i}") for i, b in enumerate(bits) if b == "1"}


def check_features(out, mac):
    name, feats = features_of(out, mac)
    print(f"{name} ({mac}) negotiated: {' '.join(sorted(feats))}")
    missing = WANT_FEATURES - feats
    assert not missing, f"{name}: the driver did not negotiate {sorted(missing)}; it has {sorted(feats)}"
    assert "VHOST_USER_PROTOCOL_FEATURES" not in feats, "bit 30 leaked to the guest"
    return feats


# ---------------------------------------------------------------------------
# The VM: QEMU (TCG) or our vmm, its console read line by line as it comes.

class Console:
    """A VM process whose stdout is the guest console; lines are collected
    by a thread so the test can wait for the guest's `vmmref-net:` steps."""

    def __init__(self, argv, popen=subprocess.Popen):
        self.lines = []
        self.err = []
        self.eof = False
        self.cv = threading.Condition()
        # stderr is a pipe, not a file: jailed processes (our vmm, vmm-net)
        # run with RLIMIT_FSIZE 0, so their writes to a regular file fail.
        self.p = popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace")
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        self.t_err = threading.Thread(target=lambda: self.err.extend(self.p.stderr), daemon=True)
        self.t_err.start()

    def _read(self):
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n").replace("\r", ""))
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def errlog(self):
        if self.p.poll() is not None:
            self.t_err.join(timeout=5)
        return "".join(self.err)

    def tail(self, n=60):
        with self.cv:
            return "\n".join(self.lines[-n:])

    def wait_for(self, line, timeout):
        """Wait until the console printed LINE (exactly)."""
        end = time.monotonic() + timeout * SLOW
        with self.cv:
            while line not in self.lines:
                left = end - time.monotonic()
                if self.eof or left <= 0:
                    why = "the VM ended" if self.eof else f"{timeout * SLOW}s passed"
                    raise AssertionError(f"{why} before the guest printed {line!r}; console:\n"
                                         f"{self.tail()}\nstderr:\n{self.errlog()[-2000:]}")
                self.cv.wait(left)

    def finish(self, timeout):
        """Wait for the VM to end; return the guest command's output, asserting
        it ran to `vmmref: cmd exit 0`."""
        try:
            self.p.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the VM did not end within {timeout * SLOW}s; console:\n"
                                 f"{self.tail()}") from None
        self.t.join(timeout=10)
        out = "\n".join(self.lines) + "\n"
        m = re.search(r"^vmmref: cmd start\n(.*?)^vmmref: cmd exit (\d+)$", out, re.S | re.M)
        assert m, (f"no command output; exit {self.p.returncode}\n{out[-4000:]}\n"
                   f"stderr:\n{self.errlog()[-2000:]}")
        assert m.group(2) == "0", f"guest command failed:\n{m.group(1)}"
        return m.group(1)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def guest_command(script):
    return base64.b64encode((GUEST_LIB + script).encode()).decode()


def qemu(socks_macs, script, mem_mib=512):
    """QEMU TCG microvm with one vhost-user virtio-net device per (sock, mac)."""
    exe = shutil.which("qemu-system-x86_64")
    if exe is None:
        pytest.fail("qemu-system-x86_64 missing (scripts/deps.sh bench installs it)")
    append = ("console=ttyS0 quiet reboot=t panic=-1 pci=off "
              f"vmmref.cmd64={guest_command(script)}")
    args = [exe, "-M", "microvm,acpi=off,memory-backend=mem",
            "-global", "virtio-mmio.force-legacy=false", "-accel", "tcg", "-cpu", "max",
            "-m", str(mem_mib),
            "-object", f"memory-backend-memfd,id=mem,size={mem_mib}M,share=on",
            "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio"]
    for i, (sock, mac) in enumerate(socks_macs):
        args += ["-chardev", f"socket,id=c{i},path={sock}",
                 "-netdev", f"vhost-user,id=n{i},chardev=c{i}",
                 "-device", f"virtio-net-device,netdev=n{i},mac={mac}"]
    args += ["-kernel", LINUX / "bzImage", "-initrd", LINUX / "initramfs.cpio.gz",
             "-append", append]
    return Console(args)


# ---------------------------------------------------------------------------
# The host side.

@contextlib.contextmanager
def vmm_net(ns, sock, tap, name, jail_id):
    """vmm-net --socket SOCK --tap TAP --once in the namespace; yields the
    process (net_stats() reads its end-of-connection line once it ended)."""
    if not VMM_NET.exists():
        pytest.fail(f"{VMM_NET} not built (run make)")
    # stderr is a pipe, not a file: the jail's RLIMIT_FSIZE of 0 makes every
    # write to a regular file fail (EFBIG), the counters line included.
    p = ns.popen([VMM_NET, "--socket", sock, "--tap", tap, "--id", name, "--once",
                  "--jail-id", str(jail_id)],
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                 text=True, errors="replace")
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(p.stderr), daemon=True)
    reader.start()

    def errlog():
        if p.poll() is not None:
            reader.join(timeout=5)
        return "".join(chunks)
    p.errlog = errlog
    try:
        wait_for_socket(str(sock), p)
        yield p
    finally:
        stop(p)


def net_stats(p, name):
    """After QEMU ended: wait for vmm-net --once to end, return its counters."""
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    log = stop(p)
    m = [x for x in STATS_RE.finditer(log) if x.group(1) == name]
    assert m, f"vmm-net {name} printed no end-of-connection counters:\n{log}"
    keys = ("rx", "tx", "dropped", "short_header", "writable_tx", "oversized",
            "bad_chain", "no_rx_buffer")
    st = dict(zip(keys, (int(v) for v in m[-1].groups()[1:])))
    print(f"vmm-net {name}: {st}; exit {p.returncode}")
    assert p.returncode == 0, f"vmm-net {name} exited {p.returncode}:\n{log}"
    assert st["rx"] > 0 and st["tx"] > 0, f"vmm-net {name} moved no frames: {st}"
    bad = {k: st[k] for k in ("short_header", "writable_tx", "oversized", "bad_chain") if st[k]}
    assert not bad, f"vmm-net {name} dropped chains of the Linux driver as malformed: {bad}"
    return st


def host_ping(ns, ip):
    r = ns.run(["ping", "-c", "3", "-i", "0.2", "-W", "5", ip], timeout=60)
    assert r.returncode == 0 and " 3 received" in r.stdout, \
        f"host ping {ip} failed (exit {r.returncode}):\n{r.stdout}{r.stderr}"


def assert_guest_pinged(out, ip):
    assert re.search(r"^3 packets transmitted, 3 packets received", out, re.M), \
        f"guest ping {ip} lost packets:\n{out}"
    m = re.search(r"^icmp echo requests in=(\d+) replies out=(\d+)$", out, re.M)
    assert m and int(m.group(1)) >= 3 and int(m.group(2)) >= 3, out


class Capture(threading.Thread):
    """The largest frame seen on TAP in each direction (AF_PACKET)."""

    def __init__(self, ns, tap):
        super().__init__(daemon=True)
        self.s = ns.packet_socket(tap)
        self.s.settimeout(0.2)
        self.stopping = threading.Event()
        self.max_to_guest = self.max_from_guest = self.frames = 0

    def run(self):
        buf = bytearray(256 * 1024)
        while not self.stopping.is_set():
            try:
                n, addr = self.s.recvfrom_into(buf)
            except socket.timeout:
                continue
            self.frames += 1
            if addr[2] == socket.PACKET_OUTGOING:
                self.max_to_guest = max(self.max_to_guest, n)
            else:
                self.max_from_guest = max(self.max_from_guest, n)

    def stop(self):
        self.stopping.set()
        self.join(timeout=5)
        self.s.close()


class Receiver(threading.Thread):
    """Accept one TCP connection on IP:PORT in the namespace; hash all it sends."""

    def __init__(self, ns, ip, port):
        super().__init__(daemon=True)
        self.srv = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((ip, port))
        self.srv.listen(1)
        self.srv.settimeout(QEMU_BOOT_TIMEOUT * SLOW)
        self.sha = hashlib.sha256()
        self.bytes = 0
        self.seconds = None
        self.error = None

    def run(self):
        try:
            conn, _ = self.srv.accept()
            with conn:
                conn.settimeout(120 * SLOW)
                start = time.monotonic()
                buf = bytearray(MIB)
                while True:
                    n = conn.recv_into(buf)
                    if n == 0:
                        break
                    self.sha.update(memoryview(buf)[:n])
                    self.bytes += n
                self.seconds = time.monotonic() - start
        except OSError as e:
            self.error = e
        finally:
            self.srv.close()


def send_to_guest(ns, ip, port, data, timeout=60):
    """Connect to IP:PORT (retrying until the guest listens), send DATA, wait
    for the guest to close; returns the seconds it took."""
    end = time.monotonic() + timeout * SLOW
    while True:
        s = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10 * SLOW)
        try:
            s.connect((ip, port))
            break
        except ConnectionRefusedError:
            s.close()
            assert time.monotonic() < end, f"the guest never listened on {ip}:{port}"
            time.sleep(0.2)
    with s:
        s.settimeout(120 * SLOW)
        start = time.monotonic()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):
            pass
        return time.monotonic() - start


def tcp_both_ways(ns, vm, host_ip, guest_ip, size):
    """Drive guest_tcp(): SIZE random bytes each way. Returns (data sha256,
    host->guest seconds, Receiver of guest->host)."""
    rx = Receiver(ns, host_ip, 5002)
    rx.start()
    data = os.urandom(size)
    vm.wait_for("vmmref-net: rx-listen", 120)
    secs = send_to_guest(ns, guest_ip, 5001, data)
    vm.wait_for("vmmref-net: tx-done", 300)
    rx.join(timeout=60 * SLOW)
    assert not rx.is_alive(), "the host receiver did not see the guest's data end"
    assert rx.error is None, f"host receiver: {rx.error}"
    return hashlib.sha256(data).hexdigest(), secs, rx


def check_tcp(out, size, sent_sha, rx):
    m = re.search(r"^rx-bytes=(\d+) rx-sha=([0-9a-f]{64})$", out, re.M)
    assert m, f"the guest printed no rx-sha:\n{out}"
    assert int(m.group(1)) == size, f"guest received {m.group(1)} of {size} bytes"
    assert m.group(2) == sent_sha, "host->guest: the guest's sha256 differs from what was sent"
    m = re.search(r"^tx-bytes=(\d+) tx-sha=([0-9a-f]{64})$", out, re.M)
    assert m, f"the guest printed no tx-sha:\n{out}"
    assert int(m.group(1)) == size, out
    assert rx.bytes == size, f"guest->host: host received {rx.bytes} of {size} bytes"
    assert rx.sha.hexdigest() == m.group(2), "guest->host: the host's sha256 differs from the guest's"


def check_tso(cap):
    print(f"tap: {cap.frames} frames captured; largest to guest {cap.max_to_guest}, "
          f"from guest {cap.max_from_guest} bytes")
    assert cap.max_from_guest > ETH_FRAME_MAX, (
        f"no frame from the guest above {ETH_FRAME_MAX} bytes (largest {cap.max_from_guest}): "
        "HOST_TSO does not reach the tap")
    assert cap.max_to_guest > ETH_FRAME_MAX, (
        f"no frame to the guest above {ETH_FRAME_MAX} bytes (largest {cap.max_to_guest}): "
        "the tap has no TSO offload (TUNSETOFFLOAD)")


# ---------------------------------------------------------------------------
# QEMU (TCG) + vmm-net: runs on any host with root, a tap and QEMU.

def test_linux_ping_both_ways(netns, guest_artifacts, tmp_path):
    tap, host_ip, guest_ip = TAPS[0]
    netns.add_tap(tap, f"{host_ip}/24")
    sock = tmp_path / "net0.sock"
    with vmm_net(netns, sock, tap, "eth0", 400200) as p:
        vm = qemu([(sock, MACS[0])], f"nic {MACS[0]} {guest_ip}/24\n" + guest_ping(host_ip))
        try:
            vm.wait_for("vmmref-net: wait-ping", 120)
            host_ping(netns, guest_ip)
            out = vm.finish(60)
        finally:
            vm.kill()
        st = net_stats(p, "eth0")
    check_features(out, MACS[0])
    assert_guest_pinged(out, host_ip)
    assert st["rx"] >= 4 and st["tx"] >= 4, st   # ARP + 3 echoes each way at least


def test_linux_tcp_64mib_each_way(netns, guest_artifacts, tmp_path):
    size = 64 * MIB
    tap, host_ip, guest_ip = TAPS[0]
    netns.add_tap(tap, f"{host_ip}/24")
    sock = tmp_path / "net0.sock"
    cap = Capture(netns, tap)
    cap.start()
    with vmm_net(netns, sock, tap, "eth0", 400200) as p:
        vm = qemu([(sock, MACS[0])], f"nic {MACS[0]} {guest_ip}/24\n" + guest_tcp(host_ip, size))
        try:
            sent_sha, secs, rx = tcp_both_ways(netns, vm, host_ip, guest_ip, size)
            out = vm.finish(60)
        finally:
            vm.kill()
            cap.stop()
        net_stats(p, "eth0")
    print(f"host->guest {size / MIB / secs:.1f} MiB/s, guest->host "
          f"{size / MIB / rx.seconds:.1f} MiB/s")
    check_features(out, MACS[0])
    check_tcp(out, size, sent_sha, rx)
    check_tso(cap)


def test_linux_two_interfaces_two_subnets(netns, guest_artifacts, tmp_path):
    socks = [tmp_path / f"net{i}.sock" for i in range(2)]
    for tap, host_ip, _ in TAPS:
        netns.add_tap(tap, f"{host_ip}/24")
    script = "".join(f"nic {mac} {g}/24\n" for mac, (_, _, g) in zip(MACS, TAPS))
    script += "".join(f"ping -c 3 -W 10 {h}\n" for _, h, _ in TAPS)
    script += "echo 'vmmref-net: wait-ping'\nwait_echos 6\n"
    with contextlib.ExitStack() as stack:
        procs = [stack.enter_context(vmm_net(netns, socks[i], TAPS[i][0], f"eth{i}", 400200 + i))
                 for i in range(2)]
        vm = qemu(list(zip(socks, MACS)), script)
        try:
            vm.wait_for("vmmref-net: wait-ping", 120)
            for _, _, guest_ip in TAPS:
                host_ping(netns, guest_ip)
            out = vm.finish(60)
        finally:
            vm.kill()
        stats = [net_stats(p, f"eth{i}") for i, p in enumerate(procs)]
    for mac in MACS:
        check_features(out, mac)
    names = {features_of(out, mac)[0] for mac in MACS}
    assert len(names) == 2, f"both MACs on one interface? {names}"
    assert len(re.findall(r"^3 packets transmitted, 3 packets received", out, re.M)) == 2, out
    m = re.search(r"^icmp echo requests in=(\d+) replies out=(\d+)$", out, re.M)
    assert m and int(m.group(1)) >= 6 and int(m.group(2)) >= 6, out
    for st in stats:   # each backend carried its own subnet's traffic
        assert st["rx"] >= 4 and st["tx"] >= 4, stats


# ---------------------------------------------------------------------------
# Our own vmm: `--net tap=tap0` (the vmm opens the tap, spawns vmm-net).

def test_linux_net_under_our_vmm(hw_kvm, netns, guest_artifacts):
    size = 8 * MIB
    mac = "52:54:00:ab:cd:01"
    tap, host_ip, guest_ip = TAPS[0]
    netns.add_tap(tap, f"{host_ip}/24")
    cap = Capture(netns, tap)
    cap.start()
    script = f"nic {mac} {guest_ip}/24\n" + guest_ping(host_ip) + guest_tcp(host_ip, size)
    cmdline = f"console=ttyS0 i8042.nokbd reboot=t panic=1 vmmref.cmd64={guest_command(script)}"
    vm = Console([VMM, "--kernel", f'path={LINUX / "bzImage"},cmdline="{cmdline}"',
                  "--initramfs", f"path={LINUX / 'initramfs.cpio.gz'}",
                  "--memory", "size_mib=256", "--net", f"tap={tap},mac={mac}"],
                 popen=netns.popen)
    try:
        vm.wait_for("vmmref-net: wait-ping", 120)
        host_ping(netns, guest_ip)
        sent_sha, secs, rx = tcp_both_ways(netns, vm, host_ip, guest_ip, size)
        out = vm.finish(60)
    finally:
        vm.kill()
        cap.stop()
    assert vm.p.returncode == 0, f"vmm exit {vm.p.returncode}: {vm.errlog()[-2000:]}"
    print(f"host->guest {size / MIB / secs:.1f} MiB/s, guest->host "
          f"{size / MIB / rx.seconds:.1f} MiB/s")
    print("vmm stderr:", vm.errlog()[-1000:])
    check_features(out, mac)
    assert_guest_pinged(out, host_ip)
    check_tcp(out, size, sent_sha, rx)
    check_tso(cap)
