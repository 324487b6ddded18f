"""Linux guests under build/vmm-reference.

An unmodified Linux needs hardware KVM (VMX/SVM): on kvm-pvm every test here
skips with that reason (the `hw_kvm` fixture). Where they run, the guest
artifacts come from `make guest` (built once per session when missing;
minutes the first time, then cached). Each test boots Linux with its busybox
initramfs, whose /init runs the command given base64-encoded in
vmmref.cmd64= (see guest/init), prints "vmmref: cmd exit N" and reboots,
which ends the vmm.
"""
import base64
import re
import subprocess

import pytest

from conftest import LINUX, ROOT, BUILD, hw_kvm_missing_reason, run_vmm

BASE_CMDLINE = "console=ttyS0 i8042.nokbd reboot=t panic=1"
ARTIFACTS = ("vmlinux", "bzImage", "initramfs.cpio.gz")


@pytest.fixture(scope="session")
def linux():
    """The Linux guest artifacts, built with `make guest` if any is missing."""
    reason = hw_kvm_missing_reason()
    if reason:
        pytest.skip(reason)
    if not all((LINUX / a).exists() for a in ARTIFACTS):
        r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT),
                            f"BUILD={BUILD}", "guest"], capture_output=True,
                           text=True, timeout=3600)
        assert r.returncode == 0, f"make guest failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return LINUX


def boot_linux(kernel, cmd, vcpus=1, mem_mib=256, extra_cmdline=""):
    """Boot KERNEL with the initramfs, run CMD in the guest; return its output.

    Asserts the command ran to `vmmref: cmd exit 0` and the vmm exited 0.
    """
    b64 = base64.b64encode(cmd.encode()).decode()
    cmdline = f"{BASE_CMDLINE} {extra_cmdline} vmmref.cmd64={b64}".replace("  ", " ")
    r = run_vmm(["--kernel", f'path={kernel},cmdline="{cmdline}"',
                 "--initramfs", f"path={LINUX / 'initramfs.cpio.gz'}",
                 "--vcpu", f"num={vcpus}", "--memory", f"size_mib={mem_mib}"],
                timeout=120)
    out = r.stdout.replace("\r", "")
    m = re.search(r"^vmmref: cmd start\n(.*?)^vmmref: cmd exit (\d+)$", out, re.S | re.M)
    assert m, f"no command output; exit {r.returncode}\nstdout tail:\n{out[-3000:]}\nstderr:\n{r.stderr[-2000:]}"
    assert m.group(2) == "0", f"guest command failed:\n{m.group(1)}"
    assert r.returncode == 0, f"vmm exit {r.returncode}: {r.stderr[-2000:]}"
    return m.group(1)


def test_bzimage_boots_to_initramfs(hw_kvm, linux):
    out = boot_linux(linux / "bzImage", "echo vmmref-bzimage-$((6 * 7)); uname -m")
    assert out.splitlines() == ["vmmref-bzimage-42", "x86_64"]


def test_vmlinux_pvh_boots_to_initramfs(hw_kvm, linux):
    out = boot_linux(linux / "vmlinux", "echo vmmref-vmlinux-$((6 * 7)); uname -m")
    assert out.splitlines() == ["vmmref-vmlinux-42", "x86_64"]


@pytest.mark.parametrize("kernel", ["bzImage", "vmlinux"])
def test_nproc_matches_vcpu_num(hw_kvm, linux, kernel):
    out = boot_linux(linux / kernel, "nproc; grep -c ^processor /proc/cpuinfo", vcpus=3)
    assert out.splitlines() == ["3", "3"]


def test_memtotal_matches_memory_size(hw_kvm, linux):
    mib = 512
    out = boot_linux(linux / "bzImage", "grep MemTotal /proc/meminfo", mem_mib=mib)
    kib = int(re.search(r"MemTotal:\s+(\d+) kB", out).group(1))
    # The kernel keeps its own image, page tables and struct pages out of
    # MemTotal: a few percent plus a few MiB, never more than was given.
    assert mib * 1024 * 0.9 - 32 * 1024 <= kib <= mib * 1024, f"MemTotal {kib} kB for {mib} MiB"


def test_custom_cmdline_arrives(hw_kvm, linux):
    token = "vmmref_test_token=7331 vmmref.extra=a,b"
    out = boot_linux(linux / "vmlinux", "cat /proc/cmdline", extra_cmdline=token)
    assert token in out, out
