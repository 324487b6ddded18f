"""Helpers for the virtio-blk integration tests: disk images holding THE
pattern, and the backends (our vmm-blk, qemu-storage-daemon) as managed
processes.

THE pattern (shared with the selftest guests and build/vu-driver): the byte
at offset o (0..511) of 512-byte sector s of disk number d is
(s * 13 + o * 7 + d * 101 + 1) mod 256.
"""
import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from conftest import BUILD

VMM_BLK = BUILD / "vmm-blk"
DRIVER = BUILD / "vu-driver"
SECTOR = 512


def _rows():
    """The 256 distinct sector contents: row c is (c + o * 7) mod 256."""
    return [bytes((c + o * 7) & 0xFF for o in range(SECTOR))
            for c in range(256)]


def pattern(d, first_sector, nsectors):
    """THE pattern of disk d for sectors [first_sector, first_sector+nsectors)."""
    rows = _rows()
    base = d * 101 + 1
    return b"".join(rows[(s * 13 + base) & 0xFF]
                    for s in range(first_sector, first_sector + nsectors))


def make_image(path, size, d=0):
    """Write a disk image of `size` bytes (a multiple of 512) with THE pattern."""
    assert size % SECTOR == 0
    with open(path, "wb") as f:
        f.write(pattern(d, 0, size // SECTOR))
    return path


def read_sectors(path, first, n):
    with open(path, "rb") as f:
        f.seek(first * SECTOR)
        return f.read(n * SECTOR)


def sha256_file(path, length=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = length
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
    return h.hexdigest()


def spawn(argv):
    """Start a backend with stderr in a temporary file (a pipe nobody reads
    would block it once full); proc.errlog() reads what it wrote so far."""
    err = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=err, text=True)

    def errlog():
        err.seek(0)
        return err.read()
    p.errlog = errlog
    return p


def wait_for_socket(path, proc, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            raise AssertionError(f"backend exited with {proc.returncode} before "
                                 f"creating {path}: {proc.errlog()}")
        time.sleep(0.01)
    raise AssertionError(f"{path} did not appear within {timeout}s")


def stop(proc, timeout=10):
    """SIGTERM then SIGKILL; returns what the process wrote on stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.errlog()


@contextlib.contextmanager
def vmm_blk(sock, disk, *args):
    """build/vmm-blk --socket SOCK --disk DISK [args]: serving until the block ends.

    p is the launched process, which became the jail's supervisor: it ends
    as its only child, the jailed server (jail.blk_server(p.pid)), does, and
    a SIGTERM to it ends both. When the block ends both must be gone."""
    from jail import ident, wait_gone   # jail.py imports this module
    p = spawn([str(VMM_BLK), "--socket", str(sock), "--disk", str(disk)] + list(args))
    try:
        wait_for_socket(str(sock), p)
        yield p
    finally:
        kids = [ident(c) for c in children_of(p.pid)]
        stop(p)
        wait_gone(kids)


def qsd_cmd(sock, disk, writable=True):
    return ["qemu-storage-daemon",
            "--blockdev", f"driver=file,node-name=d0,filename={disk},cache.direct=off",
            "--export", f"type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,"
                        f"addr.path={sock},writable={'on' if writable else 'off'}"]


def qsd_missing_reason():
    if shutil.which("qemu-storage-daemon") is None:
        return "qemu-storage-daemon missing (Debian package qemu-system-common)"
    return None


@contextlib.contextmanager
def qsd(sock, disk, writable=True):
    """qemu-storage-daemon exporting DISK as vhost-user-blk on SOCK."""
    p = spawn(qsd_cmd(sock, disk, writable))
    try:
        wait_for_socket(str(sock), p)
        yield p
    finally:
        stop(p)


def driver(*args, timeout=120):
    """Run build/vu-driver ARGS; returns CompletedProcess (text)."""
    return subprocess.run([str(DRIVER)] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout, errors="replace")


def children_of(pid):
    """PIDs whose parent is pid (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == pid:
            out.append(int(d))
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def driver_checks(out):
    """{check name: passed} from build/vu-driver's ok / not ok lines (func,
    net-func)."""
    res = {}
    for line in out.splitlines():
        m = re.match(r"^(ok|not ok) ([^:]+?)(?::.*)?$", line)
        if m:
            res[m.group(2)] = m.group(1) == "ok"
    return res
