"""serial_echo: bytes typed on the vmm's stdin reach the guest's COM1 and
its echo comes back on stdout."""
from conftest import guest, run_vmm


def test_serial_echo_answers_a_typed_line(kvm):
    r = run_vmm(["--kernel", f"path={guest('serial_echo-pvh.elf')}"],
                input="hello from the host 0123\nquit\n")
    out = r.stdout
    assert r.returncode == 0, f"exit {r.returncode}\n{out}\n{r.stderr}"
    assert out.startswith("serial_echo: ready\n"), out
    assert "serial_echo: ready\nhello from the host 0123\nquit\nserial_echo: bye\n" in out, out


def test_serial_echo_ignores_lines_other_than_quit(kvm):
    """'quitx' and 'xquit' must not end it; only the final 'quit' does."""
    r = run_vmm(["--kernel", f"path={guest('serial_echo-pvh.elf')}"],
                input="quitx\nxquit\nquit\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "serial_echo: ready\nquitx\nxquit\nquit\nserial_echo: bye\n", r.stdout
