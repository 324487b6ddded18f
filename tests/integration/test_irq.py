"""The selftest guests' interrupt library (tests/guests/lib/irq.c): the IDT
stubs save and restore the interrupted registers, LAPIC interrupts are taken
in wait_for_interrupt() and EOI'd, and an exception nobody handles is
reported (vector, error code, rip) instead of ending in a silent triple
fault."""
import re

import pytest

from conftest import guest, run_vmm

TIMEOUT = 30   # a lost interrupt or EOI leaves the guest asleep in hlt


def run_selftest(image="irq_selftest-pvh.elf", cmdline=None):
    arg = f"path={guest(image)}" + (f",cmdline={cmdline}" if cmdline else "")
    r = run_vmm(["--kernel", arg], timeout=TIMEOUT)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.mark.parametrize("image", ["irq_selftest-pvh.elf", "irq_selftest-elf.elf",
                                   "irq_selftest.bzImage"])
def test_irq_selftest_passes(kvm, image):
    out = run_selftest(image)
    assert out == ("irq_selftest: #UD handler ok\n"
                   "irq_selftest: 2 self-IPIs ok\n"
                   "irq_selftest: all passed\n"), out


@pytest.mark.parametrize("kind, vector, name, cr2", [
    ("ud", 6, "#UD", None),
    ("gp", 13, "#GP", None),
    ("pf", 14, "#PF", "0x400000000000"),
])
def test_unhandled_exception_is_reported_then_resets(kvm, kind, vector, name, cr2):
    out = run_selftest(cmdline=f"fault={kind}")
    lines = out.splitlines()
    assert lines[0] == f"irq_selftest: raising {kind}", out
    m = re.fullmatch(r"GUEST_ASSERT failed: exception (\d+) \((\S+)\) error (0x[0-9a-f]+) "
                     r"at rip (0x[0-9a-f]+) \(cs 0x10 rflags 0x[0-9a-f]+ rsp 0x[0-9a-f]+ "
                     r"cr2 (0x[0-9a-f]+)\)", lines[1])
    assert m, out
    assert (int(m.group(1)), m.group(2)) == (vector, name), out
    assert int(m.group(4), 16) >= 0x100000, out        # inside the guest image
    if cr2:
        assert m.group(5) == cr2, out
    assert len(lines) == 2, "guest kept running after the fatal exception:\n" + out
