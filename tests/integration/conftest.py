"""Shared fixtures for the integration tests.

Tests that run guests under /dev/kvm take the `kvm` (or `hw_kvm`) fixture,
which also marks them `kvm`, so `-m kvm` / `-m "not kvm"` select them. Where
/dev/kvm is missing they skip with that reason; .ci/run never lets them skip:
on a host without /dev/kvm it runs `make test KVM_IN_TCG=1`, which runs the
`kvm` tests inside scripts/kvm-in-tcg.sh (a QEMU TCG guest with a real
/dev/kvm). Linux-guest tests additionally need a hardware-backed KVM
(VMX/SVM); on kvm-pvm they skip with the reason.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
VMM = BUILD / "vmm-reference"
GUESTS = BUILD / "guests"
LINUX = BUILD / "guest"


def _under_kvm_in_tcg():
    try:
        with open("/proc/cmdline") as f:
            return "kvmtcg.cmd64=" in f.read()
    except OSError:
        return False


# Under scripts/kvm-in-tcg.sh every guest runs nested on an emulated CPU,
# several times slower than on hardware KVM: timeouts of guest runs are
# multiplied by SLOW there (they bound hangs; they measure nothing).
SLOW = 4 if _under_kvm_in_tcg() else 1


def kvm_missing_reason():
    if not os.path.exists("/dev/kvm"):
        return "/dev/kvm is missing"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not readable and writable by this user"
    return None


def hw_kvm_missing_reason():
    """Why an unmodified Linux kernel cannot boot under our vmm here, or None."""
    r = kvm_missing_reason()
    if r:
        return r
    if os.path.exists("/sys/module/kvm_pvm"):
        return ("kvm-pvm detected (/sys/module/kvm_pvm): no VMX/SVM, guest CPL0 is "
                "emulated and unmodified Linux does not boot; needs hardware KVM")
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = line
                break
    if " vmx" not in flags and " svm" not in flags:
        return "host CPU has no vmx/svm flag: hardware KVM unavailable"
    return None


@pytest.fixture
def kvm():
    r = kvm_missing_reason()
    if r:
        pytest.skip(r)


@pytest.fixture
def hw_kvm():
    r = hw_kvm_missing_reason()
    if r:
        pytest.skip(r)


def pytest_configure(config):
    config.addinivalue_line("markers", "kvm: needs /dev/kvm (set by the kvm and hw_kvm fixtures)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "kvm" in item.fixturenames or "hw_kvm" in item.fixturenames:
            item.add_marker(pytest.mark.kvm)


def guest(name):
    """Path of a built selftest guest, e.g. guest('boot_state-pvh.elf')."""
    p = GUESTS / name
    assert p.exists(), f"{p} not built (run make)"
    return str(p)


def run_vmm(args, input=None, timeout=60):
    """Run build/vmm-reference with args; returns CompletedProcess (text).

    stdin is a pipe (never a tty), so the vmm does not touch terminal modes.
    """
    return subprocess.run([str(VMM)] + list(args), input=input, capture_output=True,
                          text=True, timeout=timeout * SLOW, errors="replace")
