"""serial_echo: bytes typed on the vmm's stdin reach the guest's COM1, raise
IRQ 4 (IOAPIC pin 4 -> the guest's ISR, no polling fallback in the guest),
and the ISR's echo comes back on stdout."""
import random
import re

import pytest

from conftest import guest, run_vmm

# The guest sleeps in hlt until COM1's interrupt: if the IRQ never arrives
# it never answers, and run_vmm raises TimeoutExpired.
TIMEOUT = 30
IRQ_LINE = re.compile(r"serial_echo: (\d+) rx interrupts\n")


def run_echo(text, image="serial_echo-pvh.elf"):
    r = run_vmm(["--kernel", f"path={guest(image)}"], input=text, timeout=TIMEOUT)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def split_echo(out):
    """(echoed text, rx interrupt count) from serial_echo's whole output."""
    head = "serial_echo: ready\n"
    assert out.startswith(head), out
    m = IRQ_LINE.search(out)
    assert m, f"no rx interrupt count line:\n{out}"
    assert out[m.end():] == "serial_echo: bye\n", out
    return out[len(head):m.start()], int(m.group(1))


@pytest.mark.parametrize("image", ["serial_echo-pvh.elf", "serial_echo-elf.elf",
                                   "serial_echo.bzImage"])
def test_serial_echo_answers_a_typed_line_by_interrupt(kvm, image):
    echoed, irqs = split_echo(run_echo("hello from the host 0123\nquit\n", image))
    assert echoed == "hello from the host 0123\nquit\n"
    assert irqs >= 1


def test_serial_echo_ignores_lines_other_than_quit(kvm):
    """'quitx' and 'xquit' must not end it; only the final 'quit' does."""
    echoed, irqs = split_echo(run_echo("quitx\nxquit\nquit\n"))
    assert echoed == "quitx\nxquit\nquit\n"
    assert irqs >= 1


def test_serial_echo_ignores_bytes_after_quit(kvm):
    echoed, _ = split_echo(run_echo("quit\nnot echoed\n"))
    assert echoed == "quit\n"


def burst_text(size, seed=4096):
    """size bytes of printable text in lines of 1-120 characters."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_=+*/"
    out = []
    while len(out) < size:
        n = min(rng.randint(1, 120), size - len(out))
        out.extend(rng.choice(alphabet) for _ in range(n - 1))
        out.append("\n")
    return "".join(out)


def test_serial_echo_long_burst_survives_the_64_byte_rx_fifo(kvm):
    """4 KiB in one write: the vmm must stop reading stdin while the guest's
    RX FIFO is full and resume as the ISR drains it; nothing is lost,
    duplicated or reordered."""
    burst = burst_text(4096)
    assert len(burst) == 4096 and "quit" not in burst
    echoed, irqs = split_echo(run_echo(burst + "quit\n"))
    assert len(echoed) == len(burst) + 5
    assert echoed == burst + "quit\n"
    assert irqs >= 1
