"""A real Linux virtio-blk driver against our vmm-blk.

Here (kvm-pvm, no VMX/SVM) Linux cannot boot under our own vmm, so QEMU under
TCG plays the vhost-user frontend: `-M microvm` with guest RAM in a shared
memfd and a vhost-user-blk device on vmm-blk's socket; the guest is the
`make guest` kernel and initramfs, whose /init runs the command given in
vmmref.cmd64= (see guest/init). Data is checked by sha256 both ways.
Where hardware KVM exists, the same is done under our own vmm with the root
filesystem on /dev/vda.
"""
import base64
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from blk import sha256_file, vmm_blk
from conftest import BUILD, LINUX, ROOT, run_vmm

MIB = 1 << 20
ARTIFACTS = ("vmlinux", "bzImage", "initramfs.cpio.gz", "rootfs.ext4")


@pytest.fixture(scope="session")
def linux_artifacts():
    """`make guest` output (built here when missing: minutes once, then cached)."""
    if not all((LINUX / a).exists() for a in ARTIFACTS):
        r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT),
                            f"BUILD={BUILD}", "guest"], capture_output=True,
                           text=True, timeout=3600)
        assert r.returncode == 0, f"make guest failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return LINUX


def qemu_linux(sock, cmd, timeout=600):
    """Boot the guest under QEMU TCG with vhost-user-blk on SOCK; run CMD.
    Returns the command's output; asserts it exited 0."""
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        pytest.fail("qemu-system-x86_64 missing (scripts/deps.sh bench installs it)")
    b64 = base64.b64encode(cmd.encode()).decode()
    append = f"console=ttyS0 quiet reboot=t panic=-1 pci=off vmmref.cmd64={b64}"
    args = [qemu, "-M", "microvm,acpi=off,memory-backend=mem",
            "-global", "virtio-mmio.force-legacy=false", "-accel", "tcg", "-cpu", "max",
            "-m", "256", "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
            "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
            "-chardev", f"socket,id=c0,path={sock}", "-device", "vhost-user-blk,chardev=c0",
            "-kernel", str(LINUX / "bzImage"), "-initrd", str(LINUX / "initramfs.cpio.gz"),
            "-append", append]
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, errors="replace")
    out = r.stdout.replace("\r", "")
    m = re.search(r"^vmmref: cmd start\n(.*?)^vmmref: cmd exit (\d+)$", out, re.S | re.M)
    assert m, f"no command output; qemu exit {r.returncode}\n{out[-4000:]}\n{r.stderr[-2000:]}"
    assert m.group(2) == "0", f"guest command failed:\n{m.group(1)}"
    return m.group(1)


def test_linux_reads_and_writes_through_vmm_blk(linux_artifacts, tmp_path):
    size = 32 * MIB
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.write(os.urandom(size))
    want_read = sha256_file(img)
    # The guest: checksum the whole disk it sees, then write 8 MiB of fresh
    # random data at 4 MiB, checksum what it wrote, flush and power off.
    cmd = ("set -e; echo sectors=$(cat /sys/block/vda/size); "
           "echo read=$(sha256sum /dev/vda | cut -d' ' -f1); "
           "head -c 8388608 /dev/urandom > /tmp/w; "
           "echo wrote=$(sha256sum /tmp/w | cut -d' ' -f1); "
           "dd if=/tmp/w of=/dev/vda bs=1048576 seek=4 conv=fsync 2>/dev/null; "
           "echo 3 > /proc/sys/vm/drop_caches; "
           "echo reread=$(dd if=/dev/vda bs=1048576 skip=4 count=8 2>/dev/null | sha256sum | cut -d' ' -f1)")
    with vmm_blk(tmp_path / "blk.sock", img, "--id", "linux-disk") as p:
        out = qemu_linux(tmp_path / "blk.sock", cmd)
        assert p.poll() is None or p.returncode == 0, p.errlog()
    lines = dict(l.split("=", 1) for l in out.splitlines()
                 if re.match(r"^(sectors|read|wrote|reread)=", l))
    assert lines["sectors"] == str(size // 512), out
    assert lines["read"] == want_read, out
    assert lines["reread"] == lines["wrote"], out
    with open(img, "rb") as f:
        f.seek(4 * MIB)
        got = hashlib.sha256(f.read(8 * MIB)).hexdigest()
    assert got == lines["wrote"], "the file does not hold what the guest wrote"


def test_linux_root_on_vda_under_our_vmm(hw_kvm, linux_artifacts, tmp_path):
    """Root filesystem on /dev/vda served by vmm-blk, under our own vmm."""
    root = tmp_path / "rootfs.ext4"
    shutil.copyfile(LINUX / "rootfs.ext4", root)
    cmd = "mount | grep ' on / '; echo hello > /root/written; sync; cat /root/written"
    b64 = base64.b64encode(cmd.encode()).decode()
    cmdline = (f"console=ttyS0 i8042.nokbd reboot=t panic=1 pci=off root=/dev/vda rw "
               f"init=/sbin/init vmmref.cmd64={b64}")
    r = run_vmm(["--kernel", f'path={LINUX / "bzImage"},cmdline="{cmdline}"',
                 "--block", f"path={root}"], timeout=300)
    out = r.stdout.replace("\r", "")
    assert "vmmref: cmd exit 0" in out, out[-3000:] + r.stderr[-2000:]
    assert "/dev/root on / type ext4" in out or "/dev/vda on / type ext4" in out, out
