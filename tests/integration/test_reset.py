"""Ways a guest ends: i8042 reset (outb 0xfe to port 0x64) and a triple
fault (KVM_EXIT_SHUTDOWN). The vmm exits 0 for both."""
import pytest

from conftest import guest, run_vmm


@pytest.mark.parametrize("image", ["hello-pvh.elf", "hello-elf.elf", "hello.bzImage"])
def test_hello_prints_one_byte_and_resets(kvm, image):
    r = run_vmm(["--kernel", f"path={guest(image)}"])
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stderr}"
    assert r.stdout == "!", repr(r.stdout)


def test_boot_state_ends_with_i8042_reset(kvm):
    r = run_vmm(["--kernel", f"path={guest('boot_state-pvh.elf')}"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().splitlines()[-1].startswith("boot_state: all"), r.stdout


@pytest.mark.parametrize("image", ["triple_fault-pvh.elf", "triple_fault.bzImage"])
def test_triple_fault_exits_zero(kvm, image):
    r = run_vmm(["--kernel", f"path={guest(image)}"])
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert r.stdout == "triple_fault: faulting now\n", repr(r.stdout)
