"""boot_state: the guest checks, from inside, what each boot protocol promised.

One guest source packaged three ways (PVH ELF, plain ELF64, bzImage), booted
at 128 MiB, 1 GiB and 5 GiB (split around the MMIO hole) with 1 and 2 vCPUs.
The guest prints one TAP-like line per check and a summary; expect.* tokens
on the command line tell it what the vmm was asked for.
"""
import re

import pytest

from conftest import guest, run_vmm

KINDS = {"pvh": "boot_state-pvh.elf", "elf": "boot_state-elf.elf",
         "bzImage": "boot_state.bzImage"}
# checks printed with no initramfs, no expect.* tokens, RAM below 3 GiB
BASE_CHECKS = {"pvh": 31, "elf": 33, "bzImage": 37}
INITRD_MAGIC = "INITRD-MAGIC-0123"


def expected_checks(kind, mem_mib, initrd, expect_tokens):
    n = BASE_CHECKS[kind]
    if mem_mib * 1024 * 1024 > 0xC0000000:
        n += 2          # high RAM at 4 GiB + nothing at 0xc0000000
    if initrd:
        # "none reported" becomes present/aligned/in RAM/below max/no overlap/
        # magic, plus the modlist check for PVH
        n += 5 + (kind == "pvh")
    if expect_tokens:
        n += 2          # expect.mem_mib and expect.cmdline_len
    return n


def with_cmdline_len(tokens):
    """Append expect.cmdline_len=L where L is the length of the whole line."""
    base = " ".join(tokens)
    n = len(base) + len(" expect.cmdline_len=")
    length = n + len(str(n))
    if len(str(length)) != len(str(n)):
        length = n + len(str(length))
    line = f"{base} expect.cmdline_len={length}"
    assert len(line) == length
    return line


def make_initrd(tmp_path, size=70001):
    p = tmp_path / "initrd.img"
    data = INITRD_MAGIC.encode() + bytes(i % 251 for i in range(size - len(INITRD_MAGIC)))
    p.write_bytes(data)
    return p, len(data)


def parse(out):
    m = re.search(r"^boot_state: all (\d+) checks passed$", out, re.M)
    return int(m.group(1)) if m else None


@pytest.mark.parametrize("cpus", [1, 2])
@pytest.mark.parametrize("mem_mib", [128, 1024, 5120])
@pytest.mark.parametrize("kind", list(KINDS))
def test_boot_state(kvm, tmp_path, kind, mem_mib, cpus):
    tokens = [f"expect.mem_mib={mem_mib}", f"expect.cpus={cpus}"]
    args = []
    initrd = cpus == 2 or mem_mib == 5120     # an initramfs in half the cases
    if initrd:
        path, size = make_initrd(tmp_path)
        tokens += [f"expect.initrd_size={size}", f"expect.initrd_magic={INITRD_MAGIC}"]
        args += ["--initramfs", f"path={path}"]
    cmdline = with_cmdline_len(tokens)
    r = run_vmm(["--kernel", f'path={guest(KINDS[kind])},cmdline="{cmdline}"',
                 "--memory", f"size_mib={mem_mib}", "--vcpu", f"num={cpus}"] + args)
    out = r.stdout
    assert r.returncode == 0, f"exit {r.returncode}\n{out}\n{r.stderr}"
    assert "not ok" not in out, out
    n = parse(out)
    assert n is not None, f"no 'all N checks passed' line:\n{out}\n{r.stderr}"
    assert n >= expected_checks(kind, mem_mib, initrd, True), out
    assert len(re.findall(r"^ok \d+ - ", out, re.M)) == n, out


@pytest.mark.parametrize("kind", list(KINDS))
def test_boot_state_default_cmdline(kvm, kind):
    """No expect.* tokens: the vmm's default command line, generic checks."""
    r = run_vmm(["--kernel", f"path={guest(KINDS[kind])}", "--memory", "size_mib=128"])
    assert r.returncode == 0, r.stderr
    assert "not ok" not in r.stdout, r.stdout
    n = parse(r.stdout)
    assert n is not None and n >= expected_checks(kind, 128, False, False), r.stdout
    assert 'cmdline "console=ttyS0' in r.stdout, r.stdout


def test_boot_state_detects_wrong_expectations(kvm):
    """The checks can fail: tell the guest the wrong RAM size and CPU count."""
    r = run_vmm(["--kernel", f'path={guest(KINDS["pvh"])},'
                 'cmdline="expect.mem_mib=256 expect.cpus=3 expect.initrd_size=4096"',
                 "--memory", "size_mib=128", "--vcpu", "num=2"])
    out = r.stdout
    assert r.returncode == 0, r.stderr
    assert re.search(r"^not ok \d+ - memmap: RAM total", out, re.M), out
    assert re.search(r"^not ok \d+ - mp: processor entries", out, re.M), out
    assert re.search(r"^not ok \d+ - initramfs: present", out, re.M), out
    assert re.search(r"^boot_state: \d+ of \d+ checks FAILED$", out, re.M), out
    assert parse(out) is None
