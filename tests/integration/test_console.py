"""The host side of the serial console: a terminal on stdin goes raw while
the guest runs and is restored on every exit path; signals end the VM
cleanly."""
import fcntl
import os
import pty
import select
import signal
import subprocess
import termios
import time

import pytest

from conftest import VMM, guest
from jail import descendants

pytestmark = pytest.mark.usefixtures("kvm")


def read_until(fd, needle, timeout=30):
    buf = b""
    end = time.monotonic() + timeout
    while needle not in buf:
        left = end - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {buf!r}"
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            assert chunk, f"EOF waiting for {needle!r}; got {buf!r}"
            buf += chunk
    return buf


class PtyVmm:
    """vmm-reference with stdin on a pty slave, stdout on a pipe."""

    def __init__(self, args, controlling=False):
        """controlling: the pty becomes the vmm's controlling terminal, with
        the vmm its foreground job (as when typed in a shell)."""
        self.master, self.slave = pty.openpty()
        self.cooked = termios.tcgetattr(self.slave)
        assert self.cooked[3] & termios.ICANON and self.cooked[3] & termios.ECHO

        def take_tty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen([str(VMM)] + args, stdin=self.slave,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=take_tty if controlling else None)

    def lflag(self):
        return termios.tcgetattr(self.slave)[3]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture(params=[False, True], ids=["tty", "controlling-tty"])
def echo_vm(request):
    v = PtyVmm(["--kernel", "path=" + guest("serial_echo-pvh.elf")], controlling=request.param)
    yield v
    v.close()


def test_tty_raw_while_running_and_restored_after_reset(echo_vm):
    out = echo_vm.proc.stdout.fileno()
    read_until(out, b"serial_echo: ready")
    lflag = echo_vm.lflag()
    assert not lflag & termios.ICANON and not lflag & termios.ECHO, "stdin tty not raw"
    os.write(echo_vm.master, b"typed on a tty\n")
    read_until(out, b"typed on a tty")
    os.write(echo_vm.master, b"quit\n")
    read_until(out, b"serial_echo: bye")
    assert echo_vm.proc.wait(timeout=30) == 0
    assert termios.tcgetattr(echo_vm.slave) == echo_vm.cooked, "tty mode not restored"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_ends_vm_cleanly_and_restores_tty(echo_vm, sig):
    read_until(echo_vm.proc.stdout.fileno(), b"serial_echo: ready")
    assert not echo_vm.lflag() & termios.ICANON
    echo_vm.proc.send_signal(sig)
    assert echo_vm.proc.wait(timeout=30) == 0
    assert echo_vm.proc.stderr.read() == b""
    assert termios.tcgetattr(echo_vm.slave) == echo_vm.cooked, "tty mode not restored"


def test_stdin_eof_does_not_end_vm():
    """Closing stdin (EOF) leaves the guest running; it ends on its own terms."""
    p = subprocess.Popen([str(VMM), "--kernel", "path=" + guest("serial_echo-pvh.elf")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read_until(p.stdout.fileno(), b"serial_echo: ready")
        p.stdin.close()
        time.sleep(0.5)
        assert p.poll() is None, "vmm exited on stdin EOF"
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


F_SETPIPE_SZ = 1031


def blocked_in_pipe_write(pid):
    """True when some thread of pid or of its descendants (the launched
    process is the vmm's supervisor; the vCPU threads are in its child, the
    vmm) sleeps writing to a full pipe."""
    for p in [pid] + descendants(pid):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/wchan") as f:
                    if "pipe_write" in f.read():
                        return True
            except OSError:
                pass
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_ends_vm_while_stdout_is_blocked(sig):
    """Nobody reads the vmm's stdout: the vCPU thread blocks writing guest
    output. A signal must still end the VM, cleanly and promptly."""
    import threading

    p = subprocess.Popen([str(VMM), "--kernel", "path=" + guest("serial_echo-pvh.elf")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        fcntl.fcntl(p.stdout.fileno(), F_SETPIPE_SZ, 4096)
        read_until(p.stdout.fileno(), b"serial_echo: ready")

        def feed():
            try:
                for _ in range(256):          # 16 KiB of input, echoed back
                    p.stdin.write(b"y" * 63 + b"\n")
                    p.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass

        t = threading.Thread(target=feed, daemon=True)
        t.start()
        end = time.monotonic() + 30
        while not blocked_in_pipe_write(p.pid):
            assert time.monotonic() < end, "vmm never blocked on its full stdout"
            time.sleep(0.05)
        p.send_signal(sig)
        assert p.wait(timeout=10) == 0
        assert p.stderr.read() == b""
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
