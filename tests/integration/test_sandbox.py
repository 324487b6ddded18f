"""Every process is jailed (sandbox/sandbox.h, STYLE.md "Sandbox"): looked at
from outside through /proc while it runs, and proved by making a jailed
vmm-blk attempt a syscall its profile forbids (the hidden test-only
x-test-forbidden= / --x-test-forbidden).

Tests that boot a guest take the `kvm` fixture; standalone vmm-blk tests
(served to build/vu-driver) need no KVM. The non-root tests switch to uid
65534 with setpriv(1), so they need root; whether they must work or must fail
naming user namespaces is decided beforehand (jail.userns_unavailable_reason).
"""
import contextlib
import os
import pathlib
import re
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from blk import VMM_BLK, make_image, spawn, stop, vmm_blk, wait_for_socket
from conftest import ROOT, VMM, guest, run_vmm
from jail import (DEFAULT_ID, NOBODY, SIGSYS, STANDALONE_ID, VmmTree, alive, as_user,
                  blk_server, ident, jail_problems, limit, ns, own_ns, signal_until_dead,
                  status, supervisor_problems, userns_unavailable_reason, vu_connect,
                  wait_for, wait_gone)
from test_blk_driver import SIZE, run_func

MIB = 1 << 20
GUEST = "virtio_blk-pvh.elf"
AS_ROOT = os.geteuid() == 0
FORBIDDEN = ["openat", "execve", "socket", "ptrace"]

needs_root = pytest.mark.skipif(not AS_ROOT, reason="switching to another uid needs root")


# ------------------------------------------------------------------ helpers

def read_until(p, marker, timeout=120):
    """Read the vmm's stdout until marker; returns what was read. On EOF or
    timeout: kill the vmm and fail with its stdout and stderr."""
    out = b""
    end = time.monotonic() + timeout
    while marker not in out:
        left = end - time.monotonic()
        chunk = None
        if left > 0 and select.select([p.stdout], [], [], left)[0]:
            chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            p.kill()
            rest, err = p.communicate()
            raise AssertionError(
                f"{'EOF' if left > 0 else 'timeout'} waiting for {marker!r}; exit "
                f"{p.returncode}\nstdout:\n{(out + rest).decode(errors='replace')[-3000:]}"
                f"\nstderr:\n{err.decode(errors='replace')[-3000:]}")
        out += chunk
    return out


@contextlib.contextmanager
def wait_kill_vm(disks, prefix=(), extra=()):
    """The virtio_blk guest with `--block SPEC` per disk in wait_kill mode,
    started under prefix (e.g. setpriv ...). Yields (p, tree) once the guest
    printed "ready for kill" (so every process is jailed: the devices have
    served requests, the vmm started its vCPUs); p.out holds the stdout so
    far. Afterwards the launched process is killed if still running and
    every process of the tree must be gone."""
    argv = list(prefix) + [str(VMM), "--kernel",
                           f'path={guest(GUEST)},cmdline="console=ttyS0 '
                           f'vmmref.blk_mode=wait_kill"', "--memory", "size_mib=128"]
    for d in disks:
        argv += ["--block", d]
    p = subprocess.Popen(argv + list(extra), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tree = None
    try:
        p.out = read_until(p, b"virtio_blk: ready for kill")
        tree = VmmTree(p.pid, len(disks))
        yield p, tree
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if tree is not None:
            wait_gone(tree.idents)


def finish(p, timeout=120):
    """Let the vmm run to its end; returns (stdout incl. p.out, stderr) as text."""
    rest, err = p.communicate(timeout=timeout)
    out = (p.out + rest).decode(errors="replace").replace("\r", "")
    return out, err.decode(errors="replace")


def vm_tree_problems(t, vmm_uid, dev_uid, new_user_ns):
    """Everything test 1 checks on a running vmm's tree; dev_uid(i) is the
    expected uid of device i's processes."""
    bad = supervisor_problems(t.supervisor, "vmm supervisor", want_fds=(2, 4))
    # The vmm's supervisor is the launched process: it keeps its uid (the
    # vmm drops to --jail-id; the supervisor passes signals on through a
    # pipe, so it needs no kill permission) and its PID namespace, but is
    # jailed otherwise: no capabilities, own mount/net/ipc/uts namespaces,
    # an empty root.
    bad += jail_problems(t.supervisor, "vmm supervisor", pid_ns_new=False,
                         user_ns_new=new_user_ns)
    # no supplementary groups: dropped as root; in a user namespace they
    # cannot be (setgroups is denied there), so only checked as root
    groups = not new_user_ns
    bad += jail_problems(t.vmm, "vmm", uid=vmm_uid, gid=vmm_uid, pid_ns_new=True,
                         user_ns_new=new_user_ns, check_groups=groups)
    # the vCPU threads exist (and jail_problems checked each thread's
    # Seccomp/NoNewPrivs; the vCPU filter differs from the main thread's
    # but /proc cannot tell which filter a thread has)
    if len(os.listdir(f"/proc/{t.vmm}/task")) < 2:
        bad.append(f"vmm: threads {os.listdir(f'/proc/{t.vmm}/task')}: no vCPU thread?")
    if limit(t.vmm, "Max processes")[0] != "0":
        bad.append(f"vmm: RLIMIT_NPROC {limit(t.vmm, 'Max processes')}, expected 0 "
                   f"(sandbox_limit_procs)")
    for i, (sup, blk) in enumerate(zip(t.blk_sups, t.blks)):
        u = dev_uid(i)
        # A supervisor entered the jail's namespaces but, as the process that
        # forks the PID-namespace child, stays in its parent's PID namespace:
        # here the vmm's (itself not the test's).
        bad += jail_problems(sup, f"vmm-blk supervisor {i}", uid=u, gid=u, pid_ns_new=False,
                             user_ns_new=new_user_ns, check_groups=groups)
        bad += supervisor_problems(sup, f"vmm-blk supervisor {i}")
        if ns(sup, "pid") != ns(t.vmm, "pid"):
            bad.append(f"vmm-blk supervisor {i}: not in the vmm's PID namespace")
        bad += jail_problems(blk, f"vmm-blk {i}", uid=u, gid=u, pid_ns_new=True,
                             user_ns_new=new_user_ns, check_groups=groups)
        if ns(blk, "pid") in (ns(sup, "pid"), ns(t.vmm, "pid")):
            bad.append(f"vmm-blk {i}: shares a PID namespace with its supervisor or the vmm")
        if ns(sup, "pid_for_children") != ns(blk, "pid"):
            bad.append(f"vmm-blk {i}: not in its supervisor's pid_for_children namespace")
    # the vmm and each device have namespaces of their own
    for n in ("mnt", "net", "ipc", "uts"):
        mine = [ns(x, n) for x in [t.vmm] + t.blk_sups]
        if len(set(mine)) != len(mine):
            bad.append(f"{n} namespaces shared between the vmm and devices: {mine}")
    return bad


def standalone_problems(sup, srv, uid, new_user_ns):
    """Test 2's checks on a standalone vmm-blk: supervisor sup, jailed srv."""
    # The supervisor stays in our PID namespace (it is the launched process;
    # only its child gets a new one); everything else is jailed.
    bad = jail_problems(sup, "vmm-blk supervisor", uid=uid, gid=uid, pid_ns_new=False,
                        user_ns_new=new_user_ns, check_groups=not new_user_ns)
    bad += supervisor_problems(sup, "vmm-blk supervisor")
    if ns(sup, "pid") != own_ns("pid"):
        bad.append("vmm-blk supervisor: left the test's PID namespace")
    bad += jail_problems(srv, "vmm-blk", uid=uid, gid=uid, pid_ns_new=True,
                         user_ns_new=new_user_ns, check_groups=not new_user_ns)
    if ns(sup, "pid_for_children") != ns(srv, "pid"):
        bad.append("vmm-blk: not in its supervisor's pid_for_children namespace")
    return bad


def images(dirpath, n, size=MIB):
    return [make_image(dirpath / f"d{i}.img", size, d=i) for i in range(n)]


def one_line_error(r, prefix, *words):
    """r failed cleanly (exit > 0) with exactly one stderr line starting with
    prefix and containing every word; returns the line."""
    assert r.returncode > 0, f"exit {r.returncode}\nstderr: {r.stderr!r}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    assert lines[0].startswith(prefix), lines[0]
    for w in words:
        assert re.search(w, lines[0], re.I), f"{lines[0]!r} does not name {w!r}"
    return lines[0]


@contextlib.contextmanager
def nobody_dir():
    """A directory uid NOBODY owns (pytest's tmp_path is root's, 0700)."""
    d = tempfile.mkdtemp(prefix="vmmref-nobody-")
    try:
        os.chown(d, NOBODY, NOBODY)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def nobody_images(d, n, size=MIB):
    imgs = images(pathlib.Path(d), n, size)
    for i in imgs:
        os.chown(i, NOBODY, NOBODY)
    return imgs


@contextlib.contextmanager
def kvm_for_nobody():
    """Let uid NOBODY open /dev/kvm; yields the supplementary groups to give
    it. A group with rw access (not root's) is used as is; else o+rw is
    added for the test and the mode restored afterwards."""
    st = os.stat("/dev/kvm")
    if st.st_mode & 0o060 == 0o060 and st.st_gid != 0:
        yield [st.st_gid]
        return
    mode = stat.S_IMODE(st.st_mode)
    os.chmod("/dev/kvm", mode | 0o006)
    try:
        yield []
    finally:
        os.chmod("/dev/kvm", mode)


# ------------------------------------------- 1, 2: what the jail looks like

def test_vm_processes_are_jailed(kvm, tmp_path):
    """The vmm, both vmm-blk supervisors and both jailed vmm-blk of a
    running VM: no capabilities, no_new_privs, a seccomp filter, their own
    uid (as root), namespaces and an empty root."""
    with wait_kill_vm([f"path={i}" for i in images(tmp_path, 2)]) as (p, t):
        if AS_ROOT:
            bad = vm_tree_problems(t, DEFAULT_ID, lambda i: DEFAULT_ID + 1 + i, False)
        else:
            bad = vm_tree_problems(t, os.getuid(), lambda i: os.getuid(), True)
        assert not bad, "\n".join(bad)


def test_jail_id_moves_every_uid(kvm, tmp_path):
    if not AS_ROOT:
        pytest.skip("--jail-id is for root")
    base = 500000
    with wait_kill_vm([f"path={i}" for i in images(tmp_path, 2)],
                      extra=["--jail-id", str(base)]) as (p, t):
        got = {pid: status(pid)["Uid"].split()[0] for pid in t.all()[1:]}
        want = {t.vmm: str(base)}
        for i in range(2):
            want[t.blk_sups[i]] = want[t.blks[i]] = str(base + 1 + i)
        assert got == want


def test_sigterm_ends_jailed_vm_and_every_process(kvm, tmp_path):
    """The jailed vmm cannot signal its devices (other uids, no CAP_KILL):
    SIGTERM must still end the VM, exit 0, and leave no process behind."""
    with wait_kill_vm([f"path={i}" for i in images(tmp_path, 2)]) as (p, t):
        p.send_signal(signal.SIGTERM)
        out, err = finish(p, timeout=60)
        assert p.returncode == 0, f"exit {p.returncode}\n{out[-2000:]}\n{err}"
        wait_gone(t.idents, timeout=15)


def test_standalone_vmm_blk_is_jailed(tmp_path):
    img = make_image(tmp_path / "d.img", SIZE)
    sock = tmp_path / "s"
    uid = STANDALONE_ID if AS_ROOT else os.getuid()
    with vmm_blk(sock, img) as p:
        srv = blk_server(p.pid)
        idents = [ident(p.pid), ident(srv)]
        with vu_connect(sock):     # accepted: the jail is complete
            bad = standalone_problems(p.pid, srv, uid, not AS_ROOT)
            fsize = limit(srv, "Max file size")[0]
            nofile = limit(srv, "Max open files")[0]
        assert not bad, "\n".join(bad)
        # it writes only its disk and never extends it; few fds
        assert fsize != "unlimited" and int(fsize) >= SIZE, fsize
        assert nofile != "unlimited" and int(nofile) <= 1024, nofile
        run_func(sock)             # and it serves from inside it
    wait_gone(idents)


# ----------------------------------------------- 3, 4: forbidden syscalls

@pytest.mark.parametrize("name", FORBIDDEN)
def test_forbidden_syscall_kills_only_that_vmm_blk(kvm, tmp_path, name):
    imgs = images(tmp_path, 2)
    with wait_kill_vm([f"path={imgs[0]},x-test-forbidden={name}",
                       f"path={imgs[1]}"]) as (p, t):
        sup = t.msg_pid(0)
        signal_until_dead(t.blks[0], signal.SIGUSR1)
        out, err = finish(p)
    assert p.returncode == 0, f"exit {p.returncode}\n{out[-2000:]}\n{err}"
    assert re.search(rf"block vda: vmm-blk \(pid {sup}\) killed by signal 31 \(SIGSYS\)",
                     err), err
    assert "virtio_blk: disk 0: device needs reset, guest alive" in out, out[-2000:]
    assert "virtio_blk: other disks still work" in out, out[-2000:]


@pytest.mark.parametrize("name", FORBIDDEN)
def test_forbidden_syscall_kills_standalone_vmm_blk(tmp_path, name):
    img = make_image(tmp_path / "d.img", MIB)
    sock = tmp_path / "s"
    with vmm_blk(sock, img, "--x-test-forbidden", name) as p:
        srv = blk_server(p.pid)
        with vu_connect(sock):
            signal_until_dead(srv, signal.SIGUSR1)
            p.wait(timeout=10)
        # the supervisor ends as its child did
        assert p.returncode == -SIGSYS, (p.returncode, p.errlog())


def test_seccomp_log_reports_and_keeps_serving(tmp_path):
    img = make_image(tmp_path / "d.img", SIZE)
    sock = tmp_path / "s"
    msg = "seccomp: blocked syscall socket"
    with vmm_blk(sock, img, "--seccomp-log", "--x-test-forbidden", "socket") as p:
        srv = blk_server(p.pid)
        me = ident(srv)
        with vu_connect(sock):
            def reported():
                if msg not in p.errlog():
                    os.kill(srv, signal.SIGUSR1)   # again: pid 1 drops signals
                    return False                   # sent before its handler is set
                return True
            wait_for(reported, f"{msg!r} on vmm-blk's stderr", timeout=10, interval=0.2)
        assert p.poll() is None and alive(me), p.errlog()
        run_func(sock)
        assert p.poll() is None and alive(me), p.errlog()
    assert re.search(rf"^vmm-blk: {msg} \(nr \d+\)$", p.errlog(), re.M), p.errlog()


# ----------------------------------------------------------- 5: non-root

@needs_root
def test_vm_as_non_root(kvm, tmp_path):
    """Run by uid 65534: the jail keeps that uid in user namespaces, or,
    where unprivileged user namespaces are unavailable, the vmm refuses with
    one line naming them."""
    reason = userns_unavailable_reason()
    with nobody_dir() as d, kvm_for_nobody() as groups:
        imgs = nobody_images(d, 2)
        disks = [f"path={i}" for i in imgs]
        prefix = as_user(NOBODY, groups)
        if reason is not None:
            r = subprocess.run(prefix + [str(VMM), "--kernel", f"path={guest(GUEST)}",
                                         "--block", disks[0]],
                               capture_output=True, text=True, timeout=60, cwd="/")
            one_line_error(r, "vmm-reference: ", "user namespace")
            return
        with wait_kill_vm(disks, prefix=prefix) as (p, t):
            bad = vm_tree_problems(t, NOBODY, lambda i: NOBODY, True)
            assert not bad, "\n".join(bad)
            signal_until_dead(t.blks[0], signal.SIGKILL)
            out, err = finish(p)
    assert p.returncode == 0, f"exit {p.returncode}\n{out[-2000:]}\n{err}"
    assert "virtio_blk: disk 0: device needs reset, guest alive" in out, out[-2000:]
    assert re.search(r"^virtio_blk: all \d+ checks passed$", out, re.M), out[-2000:]


@needs_root
def test_standalone_vmm_blk_as_non_root():
    reason = userns_unavailable_reason()
    with nobody_dir() as d:
        img = nobody_images(d, 1, SIZE)[0]
        sock = os.path.join(d, "s")
        argv = as_user(NOBODY) + [str(VMM_BLK), "--socket", sock, "--disk", str(img)]
        if reason is not None:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/")
            one_line_error(r, "vmm-blk: ", "user namespace")
            return
        p = spawn(argv)
        try:
            wait_for_socket(sock, p)
            srv = blk_server(p.pid)
            idents = [ident(p.pid), ident(srv)]
            with vu_connect(sock):
                bad = standalone_problems(p.pid, srv, NOBODY, True)
            assert not bad, "\n".join(bad)
            run_func(sock)
        finally:
            stop(p)
        wait_gone(idents)


# --------------------------------------------------- 6: --jail-id checks

BAD_JAIL_IDS = ["0", "abc", "-1", "4000000001", "12x", ""]


@pytest.mark.parametrize("value", BAD_JAIL_IDS)
def test_vmm_bad_jail_id(value):
    r = run_vmm(["--kernel", "path=/nonexistent/vmlinux", "--jail-id", value], timeout=20)
    one_line_error(r, "vmm-reference: ", "--jail-id")


@pytest.mark.parametrize("value", BAD_JAIL_IDS)
def test_vmm_blk_bad_jail_id(tmp_path, value):
    img = make_image(tmp_path / "d.img", MIB)
    r = subprocess.run([str(VMM_BLK), "--socket", str(tmp_path / "s"), "--disk", str(img),
                        "--jail-id", value], capture_output=True, text=True, timeout=20)
    one_line_error(r, "vmm-blk: ", "--jail-id")


@needs_root
def test_vmm_jail_id_as_non_root():
    r = subprocess.run(as_user(NOBODY) + [str(VMM), "--kernel", f"path={guest('hello-pvh.elf')}",
                                          "--jail-id", "500000"],
                       capture_output=True, text=True, timeout=20, cwd="/")
    one_line_error(r, "vmm-reference: ", "--jail-id", "only as root", str(NOBODY))


@needs_root
def test_vmm_blk_jail_id_as_non_root():
    with nobody_dir() as d:
        img = nobody_images(d, 1)[0]
        r = subprocess.run(as_user(NOBODY) + [str(VMM_BLK), "--socket", os.path.join(d, "s"),
                                              "--disk", str(img), "--jail-id", "500000"],
                           capture_output=True, text=True, timeout=20, cwd="/")
    one_line_error(r, "vmm-blk: ", "--jail-id", "only as root", str(NOBODY))


def test_help_lists_jail_options_but_not_test_hooks():
    for exe in (VMM, VMM_BLK):
        r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        assert "--jail-id" in r.stdout and "--seccomp-log" in r.stdout, r.stdout
        assert "forbidden" not in r.stdout, r.stdout


# ------------------------------------------------ 7: make seccomp-report

REPORT_LIMITS = {"blk": 30, "net": 30, "vmm": 45, "vcpu": 45, "supervisor": None}


def test_seccomp_report():
    """Per profile: "ROLE (FILE): N syscalls allowed ...", the sorted list,
    "ioctl rules: K", "ioctl: every rule argument-filtered"."""
    r = subprocess.run(["make", "-s", "seccomp-report"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    blocks = {}
    role = None
    for line in r.stdout.splitlines():
        m = re.match(r"^(\w+) \(.*\): (\d+) syscalls allowed", line)
        if m:
            role = m.group(1)
            assert role not in blocks, f"{role} reported twice:\n{r.stdout}"
            blocks[role] = {"count": int(m.group(2)), "lines": []}
        elif role is not None:
            blocks[role]["lines"].append(line.strip())
    assert set(blocks) == set(REPORT_LIMITS), r.stdout
    for role, most in REPORT_LIMITS.items():
        b = blocks[role]
        names = b["lines"][0].split() if b["lines"] else []
        assert len(names) == b["count"] and names == sorted(names), (role, b)
        if most is not None:
            assert b["count"] < most, f"{role}: {b['count']} syscalls, target < {most}"
        assert "ioctl: every rule argument-filtered" in b["lines"], (role, b)
        assert any(re.fullmatch(r"ioctl rules: \d+", x) for x in b["lines"]), (role, b)
