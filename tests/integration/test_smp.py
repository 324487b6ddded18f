"""smp: the guest starts every AP in the MP table with INIT/SIPI/SIPI."""
import re

import pytest

from conftest import guest, run_vmm


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_smp_all_cpus_online(kvm, cpus):
    r = run_vmm(["--kernel", f"path={guest('smp-pvh.elf')}", "--vcpu", f"num={cpus}"])
    out = r.stdout
    assert r.returncode == 0, f"exit {r.returncode}\n{out}\n{r.stderr}"
    assert f"smp: {cpus} cpus in the MP table, BSP apic id 0" in out, out
    online = re.findall(r"^smp: cpu (\d+) \(apic id (\d+)\) online$", out, re.M)
    assert sorted(int(c) for c, _ in online) == list(range(1, cpus)), out
    assert sorted(int(a) for _, a in online) == list(range(1, cpus)), out
    assert re.search(rf"^smp: all {cpus} cpus online$", out, re.M), out
    assert "FAILED" not in out, out


@pytest.mark.parametrize("image", ["smp-elf.elf", "smp.bzImage"])
def test_smp_from_64bit_entry(kvm, image):
    """APs also start when the BSP came in through the 64-bit boot protocol."""
    r = run_vmm(["--kernel", f"path={guest(image)}", "--vcpu", "num=2"])
    assert r.returncode == 0, r.stderr
    assert re.search(r"^smp: all 2 cpus online$", r.stdout, re.M), r.stdout
