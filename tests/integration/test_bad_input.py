"""Bad input never crashes or hangs the vmm: it exits non-zero with exactly
one line on stderr, "vmm-reference: <input>: <reason>", naming the option,
key or file at fault.

CLI errors are found before /dev/kvm is opened, so those tests run
anywhere; file-level errors (kernel, initramfs, fit in guest memory) come
after the VM is created and use the `kvm` fixture. Tests built on the
selftest guests in build/guests/ fail (not skip) when those are missing.
"""
import os
import random
import struct

import pytest

from conftest import VMM, guest, run_vmm

PREFIX = "vmm-reference: "
MiB = 1 << 20


def assert_one_line_error(r, *needles):
    """r failed cleanly with one stderr line naming every needle."""
    assert r.returncode > 0, (
        f"expected a clean non-zero exit, got {r.returncode} "
        f"(negative = killed by a signal)\nstderr: {r.stderr!r}")
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line, got {lines!r}"
    line = lines[0]
    assert line.startswith(PREFIX), f"{line!r} does not start with {PREFIX!r}"
    for n in needles:
        assert n in line, f"{line!r} does not name {n!r}"
    return line


def run_bad(args, timeout=20):
    assert VMM.exists(), f"{VMM} not built (run make)"
    return run_vmm(args, timeout=timeout)


# ---------------------------------------------------------------- CLI errors

K = ["--kernel", "path=/nonexistent/vmlinux"]

CLI_CASES = [
    # (id, argv, substrings the error line must contain)
    ("no-args", [], ["--kernel"]),
    ("missing-kernel", ["--memory", "size_mib=64"], ["--kernel"]),
    ("unknown-option", K + ["--kernal", "path=x"], ["--kernal", "unknown option"]),
    ("unknown-option-eq", K + ["--foo=bar"], ["--foo", "unknown option"]),
    ("unknown-key", ["--kernel", "path=k,initrd=x"], ["--kernel", "initrd", "unknown key"]),
    ("unknown-key-memory", K + ["--memory", "size=64"], ["--memory", "size", "unknown key"]),
    ("missing-value", ["--kernel", "path"], ["--kernel", "path", "no value"]),
    ("missing-argument", ["--kernel"], ["--kernel", "missing argument"]),
    ("missing-argument-before-option", ["--memory", "--kernel", "path=k"],
     ["--memory", "missing argument"]),
    ("empty-argument", ["--kernel="], ["--kernel", "empty"]),
    ("empty-value", ["--kernel", "path="], ["--kernel", "path", "empty"]),
    ("empty-number", K + ["--vcpu", "num="], ["--vcpu", "num", "empty"]),
    ("trailing-comma", ["--kernel", "path=k,"], ["--kernel", "','"]),
    ("duplicate-option", K + ["--kernel", "path=y"], ["--kernel", "more than once"]),
    ("duplicate-option-eq", K + ["--vcpu=num=1", "--vcpu", "num=2"],
     ["--vcpu", "more than once"]),
    ("duplicate-key", ["--kernel", "path=a,path=b"], ["--kernel", "path", "more than once"]),
    ("unterminated-quote", ["--kernel", 'path=k,cmdline="console=ttyS0'],
     ["--kernel", "cmdline", "unterminated quote"]),
    ("stray-quote", ["--kernel", 'path=k,cmdline=a"b"'], ["--kernel", "cmdline", '"']),
    ("bad-number", K + ["--memory", "size_mib=12abc"], ["--memory", "size_mib=12abc"]),
    ("negative-number", K + ["--vcpu", "num=-1"], ["--vcpu", "num=-1"]),
    ("bad-hex", K + ["--memory", "size_mib=0xZZ"], ["--memory", "size_mib=0xZZ"]),
    ("number-overflow", K + ["--memory", "size_mib=99999999999999999999999"],
     ["--memory", "size_mib", "range"]),
    ("memory-zero", K + ["--memory", "size_mib=0"], ["--memory", "size_mib=0"]),
    ("memory-too-big", K + ["--memory", "size_mib=1048577"], ["--memory", "size_mib=1048577"]),
    ("memory-bytes-overflow", K + ["--memory", "size_mib=0xfffffffffff00000"],
     ["--memory", "size_mib"]),
    ("vcpu-zero", K + ["--vcpu", "num=0"], ["--vcpu", "num=0"]),
    ("vcpu-too-many", K + ["--vcpu", "num=100000"], ["--vcpu", "num=100000"]),
    ("vcpu-above-254", K + ["--vcpu", "num=255"], ["--vcpu", "num=255"]),
    ("load-addr-low", ["--kernel", "path=k,kernel_load_addr=0x1000"],
     ["--kernel", "kernel_load_addr=0x1000"]),
    ("load-addr-unaligned", ["--kernel", "path=k,kernel_load_addr=0x100001"],
     ["--kernel", "kernel_load_addr=0x100001", "aligned"]),
    ("load-addr-above-4g", ["--kernel", "path=k,kernel_load_addr=0x100000000"],
     ["--kernel", "kernel_load_addr=0x100000000"]),
    ("cmdline-too-long", ["--kernel", "path=k,cmdline=" + "a" * 4096],
     ["--kernel", "cmdline", "4095"]),
    ("missing-path", ["--kernel", "cmdline=x"], ["--kernel", "path"]),
    ("initramfs-missing-path", K + ["--initramfs", "pth=x"], ["--initramfs", "pth"]),
    ("stray-positional", K + ["vmlinux"], ["vmlinux", "unexpected argument"]),
    ("single-dash", ["-k", "path=x"], ["-k"]),
    ("block-missing-image", K + ["--block", "path=disk.img"], ["--block", "disk.img", "No such file"]),
    ("net-multicast-mac", K + ["--net", "tap=tap0,mac=01:00:00:00:00:01"],
     ["--net", "01:00:00:00:00:01", "multicast"]),
    ("control-chars", ["--kernel", "path=k,a\nb=1"], ["--kernel", "unknown key"]),
]


@pytest.mark.parametrize("args,needles", [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])
def test_cli_error(args, needles):
    r = run_bad(args, timeout=10)
    assert_one_line_error(r, *needles)
    assert r.stdout == "", f"stdout should be empty on a CLI error: {r.stdout!r}"


def test_help_prints_usage_and_exits_0():
    r = run_bad(["--help"], timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    for word in ["--kernel", "path=", "cmdline=", "kernel_load_addr=", "--memory",
                 "size_mib=", "--vcpu", "num=", "--initramfs", "--block", "--net",
                 "Examples:"]:
        assert word in r.stdout, f"usage lacks {word!r}"


def test_short_help_matches_long_help():
    a = run_bad(["--help"], timeout=10)
    b = run_bad(["-h"], timeout=10)
    assert b.returncode == 0 and b.stdout == a.stdout


# --------------------------------------------------------- file-level errors

def tiny_elf(paddr=0x100000, memsz=0x1000, code=b"\xf4" * 16):
    """A minimal ELF64 x86_64 ET_EXEC with one PT_LOAD at paddr (no PVH
    note) whose code is hlt; memsz may exceed the file to test fitting."""
    ehsize, phentsize = 64, 56
    off = ehsize + phentsize
    eh = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                     2, 0x3e, 1, paddr, ehsize, 0, 0, ehsize, phentsize, 1, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, off, paddr, paddr, len(code),
                     max(memsz, len(code)), 0x1000)
    return eh + ph + code


def write(path, data):
    path.write_bytes(data)
    return str(path)


def run_kernel(path, *extra, timeout=20):
    return run_bad(["--kernel", f"path={path}"] + list(extra), timeout=timeout)


def test_kernel_missing(kvm, tmp_path):
    p = str(tmp_path / "no-such-vmlinux")
    assert_one_line_error(run_kernel(p), p, "No such file")


def test_kernel_is_directory(kvm, tmp_path):
    assert_one_line_error(run_kernel(str(tmp_path)), str(tmp_path),
                          "not a regular file")


def test_kernel_dangling_symlink(kvm, tmp_path):
    p = tmp_path / "dangling"
    os.symlink(tmp_path / "nowhere", p)
    assert_one_line_error(run_kernel(str(p)), str(p), "No such file")


def test_kernel_empty(kvm, tmp_path):
    p = write(tmp_path / "empty", b"")
    assert_one_line_error(run_kernel(p), p, "empty")


def test_kernel_garbage(kvm, tmp_path):
    p = write(tmp_path / "garbage", random.Random(1).randbytes(64 * 1024))
    assert_one_line_error(run_kernel(p), p)


def test_kernel_truncated_elf(kvm, tmp_path):
    with open(guest("boot_state-pvh.elf"), "rb") as f:
        head = f.read(100)
    assert head[:4] == b"\x7fELF"
    p = write(tmp_path / "truncated.elf", head)
    assert_one_line_error(run_kernel(p), p, "truncated")


def test_kernel_truncated_bzimage(kvm, tmp_path):
    with open(guest("boot_state.bzImage"), "rb") as f:
        head = f.read(600)
    assert head[0x202:0x206] == b"HdrS"
    p = write(tmp_path / "truncated.bzImage", head)
    assert_one_line_error(run_kernel(p), p, "truncated")


def test_elf_segment_beyond_memory(kvm, tmp_path):
    p = write(tmp_path / "big.elf", tiny_elf(paddr=0x100000, memsz=128 * MiB))
    assert_one_line_error(run_kernel(p, "--memory", "size_mib=64"), p, "memory")


def test_elf_segment_above_ram_end(kvm, tmp_path):
    p = write(tmp_path / "high.elf", tiny_elf(paddr=0x8000000))  # 128 MiB
    assert_one_line_error(run_kernel(p, "--memory", "size_mib=64"), p, "memory")


def test_real_guest_in_1_mib(kvm):
    p = guest("boot_state-pvh.elf")
    assert_one_line_error(run_kernel(p, "--memory", "size_mib=1"), p, "memory")


def test_initramfs_missing(kvm, tmp_path):
    k = write(tmp_path / "k.elf", tiny_elf())
    i = str(tmp_path / "no-such-initramfs")
    assert_one_line_error(run_kernel(k, "--initramfs", f"path={i}"), i,
                          "No such file")


def test_initramfs_is_directory(kvm, tmp_path):
    k = write(tmp_path / "k.elf", tiny_elf())
    d = tmp_path / "dir"
    d.mkdir()
    assert_one_line_error(run_kernel(k, "--initramfs", f"path={d}"), str(d))


def test_initramfs_too_big(kvm, tmp_path):
    k = write(tmp_path / "k.elf", tiny_elf())
    i = tmp_path / "huge.cpio"
    with open(i, "wb") as f:
        f.truncate(100 * MiB)  # sparse
    r = run_kernel(k, "--initramfs", f"path={i}", "--memory", "size_mib=64")
    assert_one_line_error(r, str(i), "memory")


def test_initramfs_does_not_fit_beside_kernel(kvm, tmp_path):
    # smaller than RAM, but not than the RAM left above the kernel
    k = write(tmp_path / "k.elf", tiny_elf())
    i = tmp_path / "63m.cpio"
    with open(i, "wb") as f:
        f.truncate(63 * MiB)
    r = run_kernel(k, "--initramfs", f"path={i}", "--memory", "size_mib=64")
    assert_one_line_error(r, str(i), "memory")


def test_elf_below_kernel_load_addr(kvm, tmp_path):
    p = write(tmp_path / "low.elf", tiny_elf(paddr=0x100000))
    r = run_bad(["--kernel", f"path={p},kernel_load_addr=0x200000"])
    assert_one_line_error(r, p, "kernel_load_addr")


def test_real_guest_initramfs_too_big(kvm, tmp_path):
    i = tmp_path / "huge.cpio"
    with open(i, "wb") as f:
        f.truncate(100 * MiB)
    r = run_kernel(guest("boot_state-pvh.elf"), "--initramfs", f"path={i}",
                   "--memory", "size_mib=64")
    assert_one_line_error(r, str(i), "memory")


def test_cmdline_longer_than_the_cli_takes(kvm):
    p = guest("boot_state-pvh.elf")
    r = run_bad(["--kernel", f"path={p},cmdline=" + "x" * 4096])
    assert_one_line_error(r, "--kernel", "cmdline")


@pytest.mark.parametrize("image", ["boot_state-pvh.elf", "boot_state-elf.elf"])
def test_cmdline_longer_than_an_elf_kernel_takes(kvm, image):
    """2048 bytes pass the CLI (4095) but not Linux's COMMAND_LINE_SIZE,
    which the ELF/PVH loader enforces; 2047 boot."""
    p = guest(image)
    r = run_bad(["--kernel", f"path={p},cmdline=" + "x" * 2048])
    assert_one_line_error(r, "kernel cmdline", "2048 bytes", "2047")
    ok = run_bad(["--kernel", f"path={p},cmdline=" + "x" * 2047], timeout=60)
    assert ok.returncode == 0, ok.stderr


def test_cmdline_longer_than_the_bzimage_takes(kvm):
    """The bzImage's own cmdline_size is the limit for a bzImage."""
    p = guest("boot_state.bzImage")
    with open(p, "rb") as f:
        f.seek(0x238)
        size = struct.unpack("<I", f.read(4))[0]
    assert 0 < size < 4095, size
    r = run_bad(["--kernel", f"path={p},cmdline=" + "x" * (size + 1)])
    assert_one_line_error(r, "kernel cmdline", f"{size + 1} bytes", str(size))


def test_vcpus_above_the_mp_table_limit(kvm):
    """40 vCPUs fit the MP table below 640 KiB (and every KVM we target
    allows more), so 41 is the first refused; 40 boots."""
    p = guest("boot_state-pvh.elf")
    r = run_kernel(p, "--vcpu", "num=41")
    assert_one_line_error(r, "--vcpu", "num=41", "40")
    r = run_kernel(p, "--vcpu", "num=100000")
    assert_one_line_error(r, "--vcpu", "num=100000")
    ok = run_bad(["--kernel", f"path={p},cmdline=\"expect.cpus=40\"", "--vcpu", "num=40"],
                 timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "boot_state: all" in ok.stdout and "not ok" not in ok.stdout, ok.stdout
