"""A vCPU that KVM cannot run ends the VM with status 1 and one message
naming the reason and the guest rip (plus, on kvm-pvm, the VMX/SVM hint).

The guest executes int3 with an empty IDT. On kvm-pvm that is an emulation
failure (KVM_EXIT_INTERNAL_ERROR); on VMX/SVM it is a #BP that escalates to
a triple fault, which must end the VM with status 0."""
import os
import re

import pytest

from conftest import guest, run_vmm

pytestmark = pytest.mark.usefixtures("kvm")

KVM_PVM = os.path.exists("/sys/module/kvm_pvm")


@pytest.mark.parametrize("kind", ["-pvh.elf", "-elf.elf", ".bzImage"])
def test_unrunnable_guest_instruction(kind):
    r = run_vmm(["--kernel", "path=" + guest("emulation_fail" + kind)], timeout=60)
    m = re.search(r"emulation_fail: int3 at (0x[0-9a-f]+)", r.stdout)
    assert m, r.stdout
    assert "FAILED" not in r.stdout
    if not KVM_PVM:
        assert r.returncode == 0, r.stderr   # triple fault on VMX/SVM
        return
    assert r.returncode == 1, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("vmm-reference: vCPU 0: KVM_EXIT_INTERNAL_ERROR (emulation failure"), line
    assert f"at rip {m.group(1)}" in line, (m.group(1), line)
    assert "kvm-pvm" in line and "VMX/SVM" in line, line
