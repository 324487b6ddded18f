"""Helpers for looking at jailed processes from outside (STYLE.md, "Sandbox";
sandbox/sandbox.h): the process tree, /proc/PID/status, namespaces, limits.

The tree when the vmm runs with --block path=... devices:

    vmm supervisor   the launched pid (sandbox_new_pid_ns)
     └ vmm           its only child; pid 1 of its own PID namespace
        ├ vmm-blk supervisor   (device 0; its host pid is the one the vmm's messages name)
        │  └ vmm-blk           pid 1 of its own PID namespace: serves vda
        └ vmm-blk supervisor   (device 1) └ vmm-blk          serves vdb

A standalone `vmm-blk --socket` is a supervisor with one jailed child.
Namespaces are compared with the test's own (/proc/self/ns/*).
"""
import os
import socket
import struct
import subprocess
import time

from blk import children_of, comm

# SANDBOX_DEFAULT_ID in sandbox/sandbox.h: as root the vmm drops to it, its
# device i to +1+i; a standalone vmm-blk to +100.
DEFAULT_ID = 400000
STANDALONE_ID = DEFAULT_ID + 100
NAMESPACES = ("mnt", "net", "ipc", "uts", "pid", "user")
SIGSYS = 31


def wait_for(cond, what, timeout=10, interval=0.02):
    """Poll cond() until it returns something true; return that."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < end, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


def status(pid, tid=None):
    """/proc/PID/status (or a thread's) as {field: value string}."""
    path = f"/proc/{pid}/status" if tid is None else f"/proc/{pid}/task/{tid}/status"
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def ids(st, key):
    """The four ids (real, effective, saved, fs) of a Uid:/Gid: field."""
    return [int(x) for x in st[key].split()]


def nspid(pid):
    """NSpid: this process's pid in its PID namespace and every one above it,
    outermost (ours) first."""
    return [int(x) for x in status(pid)["NSpid"].split()]


def pid_in_own_ns(pid):
    """The pid the process has in its own PID namespace (what its parent
    saw from fork when the parent is in that namespace too)."""
    return nspid(pid)[-1]


def ns(pid, name):
    return os.readlink(f"/proc/{pid}/ns/{name}")


def own_ns(name):
    return os.readlink(f"/proc/self/ns/{name}")


def limit(pid, name):
    """(soft, hard) of a /proc/PID/limits row, e.g. limit(p, 'Max core file size')."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith(name):
                soft, hard = line[len(name):].split()[:2]
                return soft, hard
    raise AssertionError(f"/proc/{pid}/limits has no row {name!r}")


def ident(pid):
    """(pid, start time): tells a process from a later one reusing its pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return (pid, int(fields[19]))


def alive(pid_ident):
    return ident(pid_ident[0]) == pid_ident


def descendants(pid):
    """pid's children, grandchildren, ... (from /proc), parents first."""
    out, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop(0))
        out += kids
        todo += kids
    return out


def only_child(pid, what):
    kids = children_of(pid)
    assert len(kids) <= 1, f"{what}: expected one child of {pid}, got {kids}"
    return kids[0] if kids else None


class VmmTree:
    """The processes of a running vmm (see the module docstring).
    blk_sups[i] / blks[i] serve disk i (vda, vdb, ...), net_sups[i] /
    nets[i] interface i (eth0, ...): device processes are started in
    device order, so their pids in the vmm's PID namespace (counting up
    from 2 in a fresh namespace) give the order."""

    def __init__(self, launched, ndev, timeout=10, nnet=0):
        self.supervisor = launched

        def complete():
            vmm = only_child(launched, "vmm supervisor")
            if vmm is None:
                return None
            found = []
            for name, n in (("vmm-blk", ndev), ("vmm-net", nnet)):
                sups = [c for c in children_of(vmm) if comm(c) == name]
                if len(sups) != n:
                    return None
                kids = [only_child(s, f"{name} supervisor") for s in sups]
                if None in kids:
                    return None
                order = sorted(range(n), key=lambda i: pid_in_own_ns(sups[i]))
                found.append(([sups[i] for i in order], [kids[i] for i in order]))
            return vmm, found
        what = f"{ndev} vmm-blk" + (f" and {nnet} vmm-net" if nnet else "")
        vmm, found = wait_for(complete, f"the vmm's tree with {what} supervisors, "
                              f"each with its jailed child", timeout)
        self.vmm = vmm
        (self.blk_sups, self.blks), (self.net_sups, self.nets) = found
        self.idents = [ident(p) for p in self.all()]

    def all(self):
        return [self.supervisor, self.vmm] + self.blk_sups + self.blks + \
            self.net_sups + self.nets

    def msg_pid(self, dev):
        """The pid of device dev's process as the vmm reports it: its
        supervisor's, as the host numbers it (the vmm translates the pid
        of its own PID namespace before its jail)."""
        return self.blk_sups[dev]


def blk_server(launched, timeout=10):
    """The jailed child of a standalone vmm-blk supervisor (waits for it)."""
    return wait_for(lambda: only_child(launched, "vmm-blk supervisor"),
                    f"the jailed child of vmm-blk {launched}", timeout)


def wait_gone(idents, timeout=10):
    """Every process in idents (from ident()) has ended."""
    idents = [i for i in idents if i is not None]
    wait_for(lambda: not [i for i in idents if alive(i)],
             f"processes to end: {[i[0] for i in idents if alive(i)]}", timeout)


def jail_problems(pid, role, uid=None, gid=None, pid_ns_new=True, user_ns_new=None,
                  check_groups=False):
    """What is wrong with the jail of process pid, as a list of strings
    (empty: all good). role names it in the messages.

    Checked: every capability set empty (CapInh, CapPrm, CapEff, CapBnd,
    CapAmb); NoNewPrivs 1; Seccomp 2 (filter mode) on the process and on
    every thread; uid/gid if given (all four ids); no supplementary groups
    if check_groups; mount, network, IPC and UTS namespaces not the test's;
    PID namespace: not the test's and pid 1 in it if pid_ns_new, else
    nothing (the caller compares); user namespace: not the test's if
    user_ns_new, the test's if False, unchecked if None; an empty root
    directory; RLIMIT_CORE 0."""
    bad = []
    who = f"{role} (pid {pid})"
    st = status(pid)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if cap in st and int(st[cap], 16) != 0:
            bad.append(f"{who}: {cap} {st[cap]}, expected 0")
    if st.get("NoNewPrivs") != "1":
        bad.append(f"{who}: NoNewPrivs {st.get('NoNewPrivs')}, expected 1")
    if st.get("Seccomp") != "2":
        bad.append(f"{who}: Seccomp {st.get('Seccomp')}, expected 2 (filter)")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            ts = status(pid, tid)
        except OSError:
            continue
        if ts.get("Seccomp") != "2" or ts.get("NoNewPrivs") != "1":
            bad.append(f"{who}: thread {tid} ({ts.get('Name')}): Seccomp "
                       f"{ts.get('Seccomp')}, NoNewPrivs {ts.get('NoNewPrivs')}; "
                       f"expected 2 and 1")
    if uid is not None and ids(st, "Uid") != [uid] * 4:
        bad.append(f"{who}: Uid {st['Uid']}, expected {uid} x4")
    if gid is not None and ids(st, "Gid") != [gid] * 4:
        bad.append(f"{who}: Gid {st['Gid']}, expected {gid} x4")
    if check_groups and st.get("Groups", "") != "":
        bad.append(f"{who}: supplementary groups {st['Groups']}, expected none")
    for n in ("mnt", "net", "ipc", "uts"):
        if ns(pid, n) == own_ns(n):
            bad.append(f"{who}: {n} namespace is the test's ({own_ns(n)})")
    if pid_ns_new:
        if ns(pid, "pid") == own_ns("pid"):
            bad.append(f"{who}: PID namespace is the test's")
        if pid_in_own_ns(pid) != 1:
            bad.append(f"{who}: NSpid {st['NSpid']}: not pid 1 of its PID namespace")
    if user_ns_new is True and ns(pid, "user") == own_ns("user"):
        bad.append(f"{who}: user namespace is the test's (expected a new one)")
    if user_ns_new is False and ns(pid, "user") != own_ns("user"):
        bad.append(f"{who}: user namespace {ns(pid, 'user')} is not the test's")
    try:
        root = os.listdir(f"/proc/{pid}/root")
        if root != []:
            bad.append(f"{who}: root directory not empty: {sorted(root)[:10]}")
    except OSError as e:
        bad.append(f"{who}: cannot list /proc/{pid}/root: {e}")
    if limit(pid, "Max core file size") != ("0", "0"):
        bad.append(f"{who}: RLIMIT_CORE {limit(pid, 'Max core file size')}, expected 0")
    return bad


def fds(pid):
    return sorted(int(x) for x in os.listdir(f"/proc/{pid}/fd"))


def supervisor_problems(pid, role, want_fds=(2,)):
    """A supervisor keeps only fd 2 (the vmm's also fd 4, the write end of
    its signal pipe) and runs under the supervisor profile (sandbox.h, step
    8). It does that right after forking the jailed child, concurrently
    with the child's own start: allow it a moment."""
    want = sorted(want_fds)

    def done():
        return status(pid).get("Seccomp") == "2" and fds(pid) == want
    try:
        wait_for(done, "the supervisor to close its fds and install its profile", 5)
    except AssertionError:
        pass                # reported below
    bad = []
    st = status(pid)
    if st.get("Seccomp") != "2":
        bad.append(f"{role} (pid {pid}): Seccomp {st.get('Seccomp')}, expected 2")
    if fds(pid) != want:
        bad.append(f"{role} (pid {pid}): open fds {fds(pid)}, expected only {want}")
    return bad


def signal_until_dead(pid, sig, timeout=10):
    """Send sig to pid every 0.2 s until it ends. The jailed processes are
    pid 1 of their PID namespace: the kernel drops a signal sent before
    they installed a handler for it, so one send could be lost."""
    me = ident(pid)
    assert me is not None, f"pid {pid} is not running"
    end = time.monotonic() + timeout
    while alive(me):
        assert time.monotonic() < end, f"pid {pid} survived signal {sig} for {timeout}s"
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        wait = time.monotonic() + 0.2
        while alive(me) and time.monotonic() < wait:
            time.sleep(0.01)


VHOST_USER_GET_FEATURES = 1
VHOST_USER_VERSION = 0x1
VHOST_USER_REPLY = 0x4


def vu_connect(path, timeout=10):
    """Connect to a vhost-user backend and do one GET_FEATURES round trip,
    so the backend has accepted (a jailed vmm-blk accepts after its jail is
    complete). Returns the connected socket (the caller closes it)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    s.sendall(struct.pack("<III", VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0))
    reply = b""
    while len(reply) < 20:
        chunk = s.recv(20 - len(reply))
        assert chunk, f"{path}: backend hung up instead of answering GET_FEATURES"
        reply += chunk
    req, flags, size = struct.unpack("<III", reply[:12])
    assert (req, size) == (VHOST_USER_GET_FEATURES, 8) and flags & VHOST_USER_REPLY, \
        (req, flags, size)
    return s


# ------------------------------------------------------ running as non-root

NOBODY = 65534


def userns_unavailable_reason(uid=NOBODY):
    """Why an unprivileged process cannot make the user namespace (plus
    mount, PID, network, IPC, UTS) the jail needs when not root, or None.
    Decided from the sysctls, then confirmed with util-linux unshare(1) run
    as uid (catches e.g. a container's seccomp policy)."""
    def sysctl(path):
        try:
            with open(path) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    if sysctl("/proc/sys/user/max_user_namespaces") == 0:
        return "/proc/sys/user/max_user_namespaces is 0"
    if sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0:
        return "/proc/sys/kernel/unprivileged_userns_clone is 0"
    if sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1:
        return "/proc/sys/kernel/apparmor_restrict_unprivileged_userns is 1"
    r = subprocess.run(as_user(uid) + ["unshare", "--user", "--mount", "--pid", "--fork",
                                       "--net", "--ipc", "--uts", "true"],
                       capture_output=True, text=True, timeout=10, cwd="/")
    if r.returncode != 0:
        return f"unshare --user ... as uid {uid} failed: {r.stderr.strip()}"
    return None


def as_user(uid, groups=()):
    """argv prefix running a command as uid (gid = uid), with exactly the
    supplementary groups given."""
    g = ["--groups", ",".join(str(x) for x in groups)] if groups else ["--clear-groups"]
    return ["setpriv", "--reuid", str(uid), "--regid", str(uid)] + g
