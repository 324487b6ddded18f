"""The virtio_blk selftest guests under build/vmm-reference: the whole path
guest -> virtio-mmio -> KVM ioeventfd -> vmm-blk -> KVM irqfd -> guest, run
under /dev/kvm. Disks are images holding THE pattern (blk.py); the guest
checks what it reads and writes sectors 16..23 of disk d with the pattern of
disk d + 100, which the tests then find in the file.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from blk import make_image, pattern, qsd, qsd_missing_reason, read_sectors
from conftest import SLOW, VMM, guest, run_vmm
from jail import VmmTree, wait_gone

MIB = 1 << 20
GUEST = "virtio_blk-pvh.elf"


def blk_args(disks, extra=()):
    args = []
    for spec in disks:
        args += ["--block", spec]
    return args + list(extra)


def boot(disks, cmdline="", kernel=GUEST, timeout=120, extra=()):
    kargs = f"path={guest(kernel)}"
    if cmdline:
        kargs += f',cmdline="console=ttyS0 {cmdline}"'
    return run_vmm(["--kernel", kargs, "--memory", "size_mib=128"]
                   + blk_args(disks, extra), timeout=timeout)


def assert_passed(r, name="virtio_blk"):
    out = r.stdout.replace("\r", "")
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{out[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    assert "not ok" not in out, out[-3000:]
    assert re.search(rf"^{name}: all \d+ checks passed$", out, re.M), out[-3000:]
    return out


def mmio_exits(stderr, name="vda"):
    m = re.search(rf"stats: block {name}: mmio_exits=(\d+)", stderr)
    assert m, f"no stats line for {name} in:\n{stderr}"
    return int(m.group(1))


def read_until(p, marker, timeout=60):
    """Read the vmm's stdout until marker appears; returns what was read."""
    out = b""
    end = time.monotonic() + timeout * SLOW
    while marker not in out and time.monotonic() < end:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        out += chunk
    assert marker in out, out.decode(errors="replace")
    return out


def test_one_disk_reads_writes_flushes(kvm, tmp_path):
    img = make_image(tmp_path / "d0.img", MIB)
    r = boot([f"path={img}"])
    out = assert_passed(r)
    assert re.search(r"^virtio_blk: disk 0: capacity 2048 sectors", out, re.M), out
    assert "virtio_blk: disk 0: flushed" in out
    # the guest's writes are in the file, byte for byte, after the VM exits
    assert read_sectors(img, 16, 8) == pattern(100, 16, 8)
    # and nothing else changed
    assert read_sectors(img, 0, 16) == pattern(0, 0, 16)
    assert read_sectors(img, 24, 2048 - 24) == pattern(0, 24, 2048 - 24)


def test_get_id_returns_the_cli_id(kvm, tmp_path):
    img = make_image(tmp_path / "d0.img", MIB)
    out = assert_passed(boot([f"path={img},id=serial-1234"]))
    assert "virtio_blk: disk 0: id serial-1234" in out, out


def test_four_disks(kvm, tmp_path):
    imgs = [make_image(tmp_path / f"d{i}.img", MIB * (i + 1), d=i) for i in range(4)]
    r = boot([f"path={p}" for p in imgs], extra=["--stats"])
    out = assert_passed(r)
    for i, p in enumerate(imgs):
        assert re.search(rf"^virtio_blk: disk {i}: capacity {2048 * (i + 1)} sectors",
                         out, re.M), out
        assert f"virtio_blk: disk {i}: id vd{'abcd'[i]}" in out, out
        assert read_sectors(p, 16, 8) == pattern(i + 100, 16, 8)
        assert read_sectors(p, 0, 16) == pattern(i, 0, 16)
    for name in ("vda", "vdb", "vdc", "vdd"):
        mmio_exits(r.stderr, name)


def test_read_only_disk_refuses_writes(kvm, tmp_path):
    img = make_image(tmp_path / "ro.img", MIB)
    before = img.read_bytes()
    out = assert_passed(boot([f"path={img},read_only=on"]))
    assert "virtio_blk: disk 0: read-only write refused" in out, out
    assert img.read_bytes() == before


def test_without_event_idx(kvm, tmp_path):
    img = make_image(tmp_path / "d0.img", MIB)
    assert_passed(boot([f"path={img}"], cmdline="vmmref.blk_event_idx=0"))
    assert read_sectors(img, 16, 8) == pattern(100, 16, 8)


@pytest.mark.parametrize("kernel", ["virtio_blk-elf.elf", "virtio_blk.bzImage"])
def test_other_boot_protocols(kvm, tmp_path, kernel):
    img = make_image(tmp_path / "d0.img", MIB)
    assert_passed(boot([f"path={img}"], kernel=kernel))


def test_mmio_exits_do_not_grow_with_io(kvm, tmp_path):
    """After setup, I/O causes no exit to the vmm: the kick is a KVM ioeventfd
    and the completion a KVM irqfd. 1 and 200 rounds of read+write+verify
    must leave the device's MMIO-exit count unchanged."""
    counts = {}
    for iters in (1, 200):
        img = make_image(tmp_path / f"d{iters}.img", MIB)
        r = boot([f"path={img}"], cmdline=f"vmmref.blk_iters={iters}", extra=["--stats"])
        assert_passed(r)
        counts[iters] = mmio_exits(r.stderr)
    assert counts[1] == counts[200], counts
    assert counts[200] < 200, counts


def test_data_survives_sigkill_after_flush(kvm, tmp_path):
    img = make_image(tmp_path / "d0.img", MIB)
    p = subprocess.Popen([str(VMM), "--kernel",
                          f'path={guest(GUEST)},cmdline="console=ttyS0 vmmref.blk_mode=flush_wait"',
                          "--memory", "size_mib=128", "--block", f"path={img}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        read_until(p, b"virtio_blk: flushed, waiting")
        tree = VmmTree(p.pid, 1)
        p.send_signal(signal.SIGKILL)   # the launched process: the vmm's supervisor
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # the vmm, the vmm-blk supervisor and the jailed vmm-blk die with it
    # (PDEATHSIG; the vmm is pid 1 of the PID namespace they live in) ...
    wait_gone(tree.idents, timeout=10)
    # ... and what the guest flushed is in the file
    assert read_sectors(img, 16, 8) == pattern(100, 16, 8)


def test_killing_vmm_blk_leaves_vmm_and_guest_alive(kvm, tmp_path):
    imgs = [make_image(tmp_path / f"d{i}.img", MIB, d=i) for i in range(2)]
    p = subprocess.Popen([str(VMM), "--kernel",
                          f'path={guest(GUEST)},cmdline="console=ttyS0 vmmref.blk_mode=wait_kill"',
                          "--memory", "size_mib=128"] + blk_args([f"path={i}" for i in imgs]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out = read_until(p, b"virtio_blk: ready for kill")
        # p is the vmm's supervisor; the vmm its child; each device a
        # vmm-blk supervisor (child of the vmm) with its jailed vmm-blk
        tree = VmmTree(p.pid, 2)
        sup = tree.msg_pid(0)   # vda's supervisor (host pid)
        os.kill(tree.blks[0], signal.SIGKILL)   # the jailed vmm-blk serving vda
        rest, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = (out + rest).decode(errors="replace").replace("\r", "")
    err = err.decode(errors="replace")
    assert p.returncode == 0, f"exit {p.returncode}\n{out[-2000:]}\n{err}"
    assert "virtio_blk: disk 0: device needs reset, guest alive" in out, out[-2000:]
    assert "virtio_blk: other disks still work" in out, out[-2000:]
    assert re.search(rf"block vda: vmm-blk \(pid {sup}\) killed by signal 9 \(SIGKILL\)",
                     err), err


def test_qemu_storage_daemon_as_backend(kvm, tmp_path):
    reason = qsd_missing_reason()
    if reason:
        pytest.skip(reason)
    img = make_image(tmp_path / "d0.img", MIB)
    sock = tmp_path / "qsd.sock"
    with qsd(sock, img):
        out = assert_passed(boot([f"socket={sock}"]))
    assert "virtio_blk: disk 0: flushed" in out
    assert read_sectors(img, 16, 8) == pattern(100, 16, 8)


def test_hostile_guest(kvm, tmp_path):
    img = make_image(tmp_path / "d0.img", MIB)
    r = boot([f"path={img}"], kernel="virtio_blk_hostile-pvh.elf")
    out = r.stdout.replace("\r", "")
    assert r.returncode == 0, f"exit {r.returncode}\n{out[-3000:]}\n{r.stderr[-3000:]}"
    assert "not ok" not in out, out
    assert re.search(r"^virtio_blk_hostile: device survived all \d+ hostile inputs$",
                     out, re.M), out[-3000:]
    assert "broken by the guest" in r.stderr, r.stderr
    # the vmm-blk process survived: no death message
    assert "killed by signal" not in r.stderr and "exited with status" not in r.stderr, r.stderr
