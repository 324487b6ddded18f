"""Bad --block input and bad vmm-blk arguments: one clear line naming the
input, exit 1, no VM started, no process left behind."""
import os
import socket
import subprocess

import pytest

from blk import VMM_BLK, make_image
from conftest import guest, run_vmm

MIB = 1 << 20


def vmm(*block):
    args = ["--kernel", f"path={guest('hello-pvh.elf')}"]
    for b in block:
        args += ["--block", b]
    return run_vmm(args, timeout=30)


def assert_refused(r, *words):
    assert r.returncode == 1, f"exit {r.returncode}: {r.stdout[-500:]} {r.stderr}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert "hello" not in r.stdout, "the VM ran"


def test_missing_image(kvm, tmp_path):
    assert_refused(vmm(f"path={tmp_path}/nope.img"), "--block", "nope.img",
                   "No such file")


def test_unreadable_image(kvm, tmp_path):
    img = make_image(tmp_path / "d.img", MIB)
    os.chmod(img, 0)
    if os.geteuid() == 0:
        # root reads anything: use a directory instead, which is not a disk
        assert_refused(vmm(f"path={tmp_path}"), "--block", str(tmp_path))
    else:
        assert_refused(vmm(f"path={img}"), "--block", "Permission denied")


def test_size_not_multiple_of_512(kvm, tmp_path):
    img = tmp_path / "odd.img"
    img.write_bytes(b"\0" * 1000)
    assert_refused(vmm(f"path={img}"), "--block", "odd.img", "512")


def test_empty_image(kvm, tmp_path):
    img = tmp_path / "empty.img"
    img.write_bytes(b"")
    assert_refused(vmm(f"path={img}"), "--block", "empty.img")


@pytest.mark.parametrize("spec,words", [
    ("", ["--block"]),
    ("read_only=on", ["--block", "path"]),
    ("path=/x,socket=/y", ["--block"]),
    ("path=/x,read_only=maybe", ["--block", "read_only"]),
    ("path=/x,bogus=1", ["--block", "bogus"]),
    ("path=/x,id=123456789012345678901", ["--block", "id"]),
])
def test_bad_block_options(kvm, spec, words):
    assert_refused(vmm(spec), *words)


def test_too_many_devices(kvm, tmp_path):
    img = make_image(tmp_path / "d.img", MIB)
    assert_refused(vmm(*[f"path={img}"] * 8), "--block")


def test_socket_nobody_listens_on(kvm, tmp_path):
    assert_refused(vmm(f"socket={tmp_path}/none.sock"), "--block", "none.sock")


def test_socket_that_does_not_answer(kvm, tmp_path):
    path = str(tmp_path / "mute.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    try:
        assert_refused(vmm(f"socket={path}"), "--block", "mute.sock")
    finally:
        s.close()


def test_socket_that_hangs_up(kvm, tmp_path):
    import threading
    path = str(tmp_path / "hup.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)

    def serve():
        c, _ = s.accept()
        c.recv(12)
        c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        assert_refused(vmm(f"socket={path}"), "--block", "hup.sock")
    finally:
        s.close()


@pytest.mark.parametrize("args,words", [
    ([], ["vmm-blk"]),
    (["--socket", "/tmp/x.sock"], ["--disk"]),
    (["--socket", "/tmp/x.sock", "--disk", "/nonexistent.img"], ["/nonexistent.img"]),
    (["--socket-fd", "3"], ["--disk"]),
    (["--socket", "/tmp/x.sock", "--disk", "/dev/null", "--queues", "99"], ["--queues"]),
    (["--frobnicate"], ["--frobnicate"]),
])
def test_vmm_blk_bad_arguments(args, words):
    r = subprocess.run([str(VMM_BLK)] + args, capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, (r.returncode, r.stderr)
    line = r.stderr.strip().splitlines()[0]
    for w in words:
        assert w in line, line


def test_vmm_blk_odd_size(tmp_path):
    img = tmp_path / "odd.img"
    img.write_bytes(b"\0" * 777)
    r = subprocess.run([str(VMM_BLK), "--socket", str(tmp_path / "s"), "--disk", str(img)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "512" in r.stderr and "odd.img" in r.stderr, r.stderr
