#!/usr/bin/python3
"""Boot benchmark: start-up time and memory of vmm-reference vs QEMU.

Both peers boot the same PVH ELF selftest guest (build/guests/hello-pvh.elf),
which writes one byte '!' to COM1 and resets through the i8042; each peer must
then exit 0 having printed exactly b"!", or the benchmark fails.

Per run and peer we measure, with the child's stdout a pipe:
  * wall time from just before posix_spawn to the first byte read;
  * CPU time (user+sys, all threads, ns) at that moment of the launched
    process and every live descendant, each read from its process CPU clock
    (clock_getcpuclockid), summed. vmm-reference is two processes: the
    launched one is only its jail's supervisor; its one child (pid 1 of a new
    PID namespace, found in /proc/PID/task/TID/children) is the vmm. QEMU is
    one process;
  * /proc/PID/status memory figures at that moment of the process that runs
    the guest (the vmm; QEMU), and the vmm supervisor's own RssAnon apart;
  * wall and CPU to exit (wait4 rusage of the launched process, which
    includes the vmm it reaped), and VmHWM of the vmm (QEMU) at its exit
    event.
The launched process is PTRACE_SEIZEd with PTRACE_O_TRACEEXIT, and for
vmm-reference PTRACE_O_TRACEFORK, which the vmm inherits (threads are not
traced), so no traced process can vanish between the first byte and our /proc
reads: each is held at its exit event (mm still intact) until read. The time
held is not counted.

Runs interleave the peers (alternating which goes first); one warm-up run per
peer is discarded. The table goes to stdout and between the bench:boot markers
in docs/PERFORMANCE.md. Stdlib only; run with /usr/bin/python3.
"""
import argparse
import ctypes
import datetime
import errno
import os
import platform
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PTRACE_CONT = 7
PTRACE_SEIZE = 0x4206
PTRACE_O_TRACEFORK = 0x02
PTRACE_O_TRACEEXIT = 0x40
PTRACE_EVENT_EXIT = 6
WALL = 0x40000000  # __WALL
EXPECTED = b"!"
BEGIN = "<!-- bench:boot:begin -->"
END = "<!-- bench:boot:end -->"
STATUS_KEYS = ("VmHWM", "RssAnon", "RssFile", "RssShmem")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long,
                         ctypes.c_void_p, ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long


class BenchError(Exception):
    """A peer failed to boot or behave; the benchmark must fail."""


class Timeout(BenchError):
    pass


def _on_alarm(signum, frame):
    raise Timeout("timed out")


def ptrace(req, pid, data):
    if _libc.ptrace(req, pid, None, ctypes.c_void_p(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "ptrace(%#x, %d): %s" % (req, pid, os.strerror(err)))


def process_cpu_ns(pid):
    """CPU time of the whole thread group, incl. exited threads, in ns."""
    return time.clock_gettime_ns(((~pid) << 3) | 2)  # MAKE_PROCESS_CPUCLOCK


def read_status(pid):
    """The STATUS_KEYS figures (KiB) from /proc/PID/status."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, val = line.partition(":")
                if key in STATUS_KEYS:
                    out[key] = int(val.split()[0])
    except OSError as e:
        raise BenchError("/proc/%d/status: %s" % (pid, e.strerror))
    missing = [k for k in STATUS_KEYS if k not in out]
    if missing:
        raise BenchError("/proc/%d/status lacks %s" % (pid, ", ".join(missing)))
    return out


def children(pid):
    """The live children of pid (of any of its threads), from
    /proc/PID/task/TID/children; [] if pid is gone."""
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def tree_cpu_ns(root):
    """CPU time (ns, all threads) of root and every live descendant.

    A descendant that is already reaped is not counted (none in this
    benchmark: the vmm starts device processes only with --block)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += process_cpu_ns(pid)
        except OSError:
            if pid == root:
                raise
            continue  # ended meanwhile
        todo += children(pid)
    return total


def spawn(argv, stdout_fd, stderr_fd):
    actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, stdout_fd, 1),
               (os.POSIX_SPAWN_DUP2, stderr_fd, 2)]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)


class Tree:
    """The launched process (root) and, with follow_forks, every process
    forked below it, all PTRACE_SEIZEd with PTRACE_O_TRACEEXIT so that each
    is held at its exit event (address space intact) until release().

    Followed forks use PTRACE_O_TRACEFORK, which the new process inherits;
    threads (clone with CLONE_THREAD) and vfork/posix_spawn children are
    not traced. The tracee itself does nothing for this, so it works the
    same for the jailed vmm (its seccomp profile has no say in it)."""

    def __init__(self, root, follow_forks):
        self.root = root
        self.opts = PTRACE_O_TRACEEXIT | (PTRACE_O_TRACEFORK if follow_forks
                                          else 0)
        self.pids = {root}
        self.at_exit = {}   # pid -> perf_counter_ns of its exit-event stop
        self.ended = None   # (wait status, rusage, t_ns) of root's exit
        self.held_ns = 0    # time tracees spent held at their exit event
        try:
            ptrace(PTRACE_SEIZE, root, self.opts)
        except OSError:
            return  # exited already: reported by check_run
        if follow_forks:
            # posix_spawn returns after the exec: a fork the root made
            # before the seize is seized here (later ones are inherited;
            # seizing those again fails with EPERM, harmlessly).
            for pid in children(root):
                self.pids.add(pid)
                try:
                    ptrace(PTRACE_SEIZE, pid, self.opts)
                except OSError:
                    pass

    def poll(self, block):
        """Handle one wait event of the root or any tracee.

        Returns False when there was none (not block). Exit-event stops are
        recorded in at_exit and left held; every other stop is resumed at
        once, passing on a signal (not SIGTRAP, not an event stop)."""
        wpid, status, ru = os.wait4(-1, WALL | (0 if block else os.WNOHANG))
        t = time.perf_counter_ns()
        if wpid == 0:
            return False
        if not os.WIFSTOPPED(status):
            if wpid == self.root:
                self.ended = status, ru, t
            else:  # a tracee's end: it goes on to its real parent
                self.pids.discard(wpid)
            return True
        self.pids.add(wpid)
        event = status >> 16
        if event == PTRACE_EVENT_EXIT:
            self.at_exit[wpid] = t
            return True
        sig = os.WSTOPSIG(status)
        # an event (a fork, a new tracee's first stop) or the stop signal
        # ptrace itself caused: nothing to deliver
        _resume(wpid, 0 if event or sig == signal.SIGTRAP else sig)
        return True

    def release(self, pid):
        """Let pid, held at its exit event, finish; its hold is counted."""
        t_stop = self.at_exit.pop(pid)
        _resume(pid, 0)
        self.held_ns += time.perf_counter_ns() - t_stop

    def kill(self):
        """SIGKILL the root and every tracee seen; reap until none is left.

        A killed tracee still stops at its exit event: each stop is
        resumed (a tracee not seen before is killed first)."""
        for pid in self.pids:
            _kill_resume(pid, True)
        for pid in self.at_exit:
            _kill_resume(pid, False)
        while True:
            try:
                wpid, status, _ = os.wait4(-1, WALL)
            except ChildProcessError:
                return
            if os.WIFSTOPPED(status):
                _kill_resume(wpid, wpid not in self.pids)
                self.pids.add(wpid)


def _resume(pid, sig):
    """PTRACE_CONT pid from its stop; a tracee killed meanwhile (ESRCH) is
    left to its end."""
    try:
        ptrace(PTRACE_CONT, pid, sig)
    except OSError as e:
        if e.errno != errno.ESRCH:
            raise


def _kill_resume(pid, kill):
    """SIGKILL pid (if kill) and resume it from a ptrace stop, if in one."""
    try:
        if kill:
            os.kill(pid, signal.SIGKILL)
        ptrace(PTRACE_CONT, pid, 0)
    except OSError:
        pass  # gone, or not in a ptrace stop (then the signal ends it)


class ChildEvents:
    """A file descriptor that becomes readable on SIGCHLD (which ptrace
    stops send to the tracer too), so that waiting for the first byte also
    wakes at once for a tracee's stop: a fork-event stop holds the forking
    process until it is resumed, so a polling delay would add to the
    measured start-up."""

    def __enter__(self):
        self.r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.w = w
        self.old_handler = signal.signal(signal.SIGCHLD, lambda s, f: None)
        self.old_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        return self

    def drain(self):
        try:
            while os.read(self.r, 512):
                pass
        except BlockingIOError:
            pass

    def __exit__(self, *exc):
        signal.set_wakeup_fd(self.old_fd)
        signal.signal(signal.SIGCHLD, self.old_handler)
        os.close(self.r)
        os.close(self.w)


def first_byte(rfd, tree, events):
    """Block until the child writes a byte, or a process of the tree stops
    at its exit event (or the root ends) without one.

    Returns the byte, or b"" if none came."""
    while True:
        ready = select.select([rfd, events.r], [], [])[0]
        if rfd in ready:
            return os.read(rfd, 1)
        events.drain()
        while tree.poll(block=False):
            pass
        if tree.at_exit or tree.ended:
            ready = select.select([rfd], [], [], 0)[0]
            return os.read(rfd, 1) if ready else b""


def read_all(rfd):
    """Read the pipe to EOF (every writer has exited)."""
    chunks = []
    while True:
        b = os.read(rfd, 4096)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def the_vmm(root):
    """The process that runs the guest: the launched vmm-reference is only
    its jail's supervisor, whose one child (pid 1 of a new PID namespace)
    is the vmm itself."""
    kids = children(root)
    if len(kids) != 1:
        raise BenchError("vmm supervisor (pid %d): expected one child, the "
                         "jailed vmm; found %s" % (root, kids or "none"))
    return kids[0]


def measure(argv, supervised, rfd, wfd, errfd):
    """Spawn argv and measure it; returns (figures, status, output).

    supervised: the launched process is only a supervisor whose one child
    is the VMM process (vmm-reference's jail). CPU is always the whole
    tree's; the memory figures are the VMM process's, and the supervisor's
    own RssAnon is kept apart as sup_RssAnon."""
    with ChildEvents() as events:
        t0 = time.perf_counter_ns()
        pid = spawn(argv, wfd, errfd)
        tree = Tree(pid, supervised)
        done = False
        try:
            os.close(wfd)
            first = first_byte(rfd, tree, events)
            r = {"first_wall_ns": time.perf_counter_ns() - t0}
            vmm = pid
            if first:
                r["first_cpu_ns"] = tree_cpu_ns(pid)
                if supervised:
                    vmm = the_vmm(pid)
                    r["sup_RssAnon"] = read_status(pid)["RssAnon"]
                r.update(read_status(vmm))
            while tree.ended is None:
                for p in list(tree.at_exit):
                    if p == vmm:  # held at its exit event: its mm is intact
                        r["exit_VmHWM"] = read_status(p)["VmHWM"]
                    tree.release(p)
                tree.poll(block=True)
            done = True
        finally:
            if not done:
                signal.setitimer(signal.ITIMER_REAL, 0)  # let kill() finish
                tree.kill()
    status, ru, t_end = tree.ended
    r["exit_wall_ns"] = t_end - t0 - tree.held_ns
    r["exit_cpu_ns"] = round((ru.ru_utime + ru.ru_stime) * 1e9)
    return r, status, first + read_all(rfd)


def run_once(argv, supervised, timeout):
    """Boot once; return a dict of figures or raise BenchError."""
    rfd, wfd = os.pipe()
    err = tempfile.TemporaryFile()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        r, status, out = measure(argv, supervised, rfd, wfd, err.fileno())
        signal.setitimer(signal.ITIMER_REAL, 0)
        check_run(argv, out, status, err)
        if "exit_VmHWM" not in r:
            raise BenchError("%s: the VMM process ended without a ptrace "
                             "exit-event stop; its peak RSS cannot be read"
                             % argv[0])
        r["RssAnonFile"] = r["RssAnon"] + r["RssFile"]
        return r
    except Timeout:
        raise BenchError("%s: did not finish within %gs%s"
                         % (argv[0], timeout, stderr_tail(err)))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.close(rfd)
        err.close()


def stderr_tail(err):
    err.seek(0)
    text = err.read().decode(errors="replace").strip()
    return ("; stderr: " + text[-600:]) if text else ""


def check_run(argv, out, status, err):
    name = os.path.basename(argv[0])
    if not out:
        raise BenchError("%s: wrote nothing to serial (wait status %#x)%s"
                         % (name, status, stderr_tail(err)))
    if out != EXPECTED:
        raise BenchError("%s: serial output %r, expected %r%s"
                         % (name, out, EXPECTED, stderr_tail(err)))
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise BenchError("%s: did not exit 0 (wait status %#x)%s"
                         % (name, status, stderr_tail(err)))


# --------------------------------------------------------------- statistics

METRICS = [
    # key, label, unit scale, unit; a key a peer lacks shows as "-"
    ("first_wall_ns", "exec -> first serial byte, wall", 1e6, "ms"),
    ("first_cpu_ns", "exec -> first serial byte, CPU user+sys, "
     "all processes", 1e6, "ms"),
    ("exit_wall_ns", "exec -> exit, wall", 1e6, "ms"),
    ("exit_cpu_ns", "exec -> exit, CPU user+sys (rusage), all processes",
     1e6, "ms"),
    ("RssAnon", "private RSS (RssAnon) at first byte", 1024, "MiB"),
    ("sup_RssAnon", "supervisor's own RssAnon at first byte", 1024, "MiB"),
    ("RssAnonFile", "RssAnon + RssFile at first byte", 1024, "MiB"),
    ("RssShmem", "RssShmem (guest RAM touched) at first byte", 1024, "MiB"),
    ("VmHWM", "VmHWM (peak RSS incl. shmem) at first byte", 1024, "MiB"),
    ("exit_VmHWM", "VmHWM (peak RSS incl. shmem) at exit", 1024, "MiB"),
]


def summarize(samples):
    """Median, p10, p90, min, max of a list of numbers."""
    s = sorted(samples)
    q = statistics.quantiles(s, n=10, method="inclusive")
    return {"median": statistics.median(s), "p10": q[0], "p90": q[-1],
            "min": s[0], "max": s[-1]}


def fmt(v, scale):
    x = v / scale
    return "%.2f" % x if x < 100 else "%.0f" % x


def table(results, names):
    """Markdown table: one row per metric, one column per peer, ratio."""
    a, b = names
    hdr = ("| metric | %s median [p10, p90] | %s median [p10, p90] "
           "| ratio %s/%s (medians) |" % (a, b, a, b))
    rows = [hdr, "|---|---:|---:|---:|"]
    for key, label, scale, unit in METRICS:
        cells, med = [], []
        for n in names:
            if key not in results[n][0]:
                cells.append("-")
                med.append(None)
                continue
            s = summarize([r[key] for r in results[n]])
            cells.append("%s [%s, %s]" % (fmt(s["median"], scale),
                                          fmt(s["p10"], scale),
                                          fmt(s["p90"], scale)))
            med.append(s["median"])
        ma, mb = med
        ratio = "%.2f" % (ma / mb) if ma is not None and mb else "n/a"
        rows.append("| %s (%s) | %s | %s | %s |"
                    % (label, unit, cells[0], cells[1], ratio))
    return "\n".join(rows)


def targets(results, a, b):
    """The issue's targets, each with met / NOT met."""
    ta = statistics.median(r["first_wall_ns"] for r in results[a])
    tb = statistics.median(r["first_wall_ns"] for r in results[b])
    anon = max(r["RssAnon"] + r.get("sup_RssAnon", 0) for r in results[a])
    lines = [
        "- %s start-up (median exec -> first byte) under %s's: %.2f ms vs "
        "%.2f ms: **%s**" % (a, b, ta / 1e6, tb / 1e6,
                            "met" if ta < tb else "NOT met"),
        "- %s private RSS beyond guest RAM under 2 MiB: worst RssAnon "
        "(vmm + its supervisor) over all runs %.2f MiB: **%s**"
        % (a, anon / 1024, "met" if anon < 2048 else "NOT met"),
    ]
    return "\n".join(lines)


# --------------------------------------------------------------- host, doc

def sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def kvm_flavour():
    mods = [m for m in ("kvm_pvm", "kvm_intel", "kvm_amd")
            if os.path.exists("/sys/module/" + m)]
    if "kvm_pvm" in mods:
        return ("kvm-pvm (paging-based KVM, no VMX/SVM: every CPL0 guest "
                "instruction goes through KVM's instruction emulator)")
    return ", ".join(mods) or "none"


def git_commit(root):
    head = sh(["git", "-C", root, "rev-parse", "--short=12", "HEAD"])
    dirty = subprocess.run(["git", "-C", root, "diff-index", "--quiet",
                            "HEAD", "--"], capture_output=True).returncode
    return head + (" (plus uncommitted changes)" if dirty else "")


def host_facts(args, qemu):
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("git commit", git_commit(args.root)),
        ("kernel", platform.release()),
        ("CPU", "%s, %d online CPUs" % (cpu_model(), os.cpu_count())),
        ("/dev/kvm", kvm_flavour()),
        ("QEMU", sh([qemu, "--version"]).splitlines()[0]),
        ("runs", "%d per peer (+1 warm-up each, discarded), interleaved, "
                 "alternating which peer goes first" % args.runs),
    ]


def peer_commands(args, qemu):
    vmm = [args.vmm, "--kernel", "path=" + args.guest,
           "--memory", "size_mib=%d" % args.mem_mib]
    qemu_argv = [
        qemu, "-M", "microvm,acpi=off,memory-backend=mem",
        "-object", "memory-backend-memfd,id=mem,size=%dM" % args.mem_mib,
        "-accel", args.qemu_accel] + (
        ["-cpu", "host,-arch-capabilities"] if args.qemu_accel == "kvm"
        else []) + [
        "-m", str(args.mem_mib), "-nodefaults", "-no-user-config",
        "-nographic", "-serial", "stdio", "-no-reboot", "-device", "i8042",
        "-kernel", args.guest]
    qname = "QEMU" if args.qemu_accel == "kvm" else "QEMU-" + args.qemu_accel
    # (name, argv, supervised): vmm-reference runs as a jail supervisor
    # plus the vmm; QEMU is one process
    return [("vmm-reference", vmm, True), (qname, qemu_argv, False)]


NOTES = """How it is measured (bench/boot.py): each run spawns the peer with stdin
/dev/null and stdout a pipe; "first serial byte" is the time from just before
`posix_spawn` to the return of the `read` of the guest's `!`. vmm-reference
runs as two processes: the launched one is only its jail's supervisor (it
parses the command line, unshares a PID namespace and forks); its one child,
pid 1 of that namespace and found through `/proc/PID/task/TID/children`, is
the vmm (KVM, guest RAM, vCPU threads). QEMU is one process. CPU at the first
byte is the sum of the process CPU clocks (all threads, ns) of the launched
process and every live descendant. Memory figures are from `/proc/PID/status`
at that moment, of the process that runs the guest (the vmm; QEMU); the vmm
supervisor's own RssAnon has a row of its own, and the private-RSS target
counts vmm + supervisor (an upper bound: pages the two still share
copy-on-write since the fork count twice; the supervisor's RssFile is left
out, its shared libraries are the vmm's). The launched process is
`PTRACE_SEIZE`d with `PTRACE_O_TRACEEXIT`, for vmm-reference also
`PTRACE_O_TRACEFORK`, which the vmm inherits (threads are not traced; nothing
is asked of the tracee, so the jail's seccomp filters play no part), so no
process can tear down its address space before it is read; at the vmm's
(QEMU's) exit event VmHWM is read again (the time processes are held at exit
events is subtracted from exit wall time). Exit CPU comes from `wait4`'s
rusage of the launched process, which includes the vmm it reaped; its
`ru_maxrss` is not used, because `posix_spawn` execs from the spawner's
(vfork-shared) mm and Linux folds that mm's peak into the child's
`ru_maxrss`. Each run must print exactly `!` and exit 0, or the benchmark
fails.

Reading the figures:
- Guest RAM is a memfd (shmem) in both peers (QEMU:
  `memory-backend-memfd`), so it appears under RssShmem, and only the pages
  the guest touched; RssAnon is the VMM's private memory beyond guest RAM.
  RssFile is mostly shared libraries (QEMU links many).
- QEMU's microvm has no i8042 by default; `-device i8042` adds it so the
  guest's reset (0xFE to port 0x64) ends QEMU under `-no-reboot`.
- Both peers run the same guest code. Its own start-up (long-mode page
  tables, zeroing .bss; tests/guests/lib/entry_x86_64.S) is emulated on
  kvm-pvm and is a large part of both CPU columns; compare peers by the
  difference and the ratio, not by absolute figures.
- QEMU microvm boots through its firmware (qboot, `bios-microvm.bin`) and
  the `pvh.bin` option ROM in real mode before reaching the PVH entry;
  vmm-reference enters the PVH entry directly in 32-bit protected mode.
- On kvm-pvm every guest instruction at CPL0 is emulated (~0.7 us each),
  which penalises QEMU's firmware path; `-cpu host` alone aborts QEMU here
  (`failed to set MSR 0x10a`, IA32_ARCH_CAPABILITIES), hence
  `-cpu host,-arch-capabilities`. On VMX/SVM hosts the absolute numbers
  will differ."""


def render(args, qemu, results, names, peers):
    facts = "\n".join("- %s: %s" % kv for kv in host_facts(args, qemu))
    cmds = "\n".join("    %s" % shlex.join(argv) for _, argv, _ in peers)
    return "\n".join([
        "## Boot: start-up time and memory", "",
        "Guest: `%s` (writes `!` to COM1, then resets via the i8042); "
        "%d MiB guest RAM. Median over %d runs, [p10, p90] in brackets."
        % (args.guest, args.mem_mib, args.runs), "",
        table(results, names), "",
        "Targets (from the issue):", "", targets(results, *names), "",
        "Host:", "", facts, "",
        "Commands (run from the repository root):", "", cmds, "",
        NOTES])


INTRO = """# Performance

How to reproduce: `make bench` (builds everything, installs the `bench`
Debian packages if missing, then runs the scripts under `bench/`). Each
section below is generated by one script and rewritten in place between its
`<!-- bench:NAME:begin/end -->` markers; text outside the markers is kept.

"""


def update_doc(path, section, begin=BEGIN, end=END):
    """Replace the text between begin and end in path (create if needed);
    bench/blk.py uses it with its own markers."""
    block = "%s\n%s\n%s\n" % (begin, section, end)
    text = open(path).read() if os.path.exists(path) else INTRO
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------- main

def parse_args(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--vmm", default="build/vmm-reference")
    p.add_argument("--guest", default="build/guests/hello-pvh.elf")
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--qemu-accel", default="kvm", choices=["kvm", "tcg"],
                   help="tcg only where QEMU cannot use KVM (labelled)")
    p.add_argument("--mem-mib", type=int, default=256)
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds per run before it counts as failed")
    p.add_argument("--doc", default="docs/PERFORMANCE.md",
                   help="file to update ('' to only print)")
    p.add_argument("--root", default=root, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.runs < 2:
        p.error("--runs must be at least 2")
    if args.doc and args.runs < 10:
        p.error("--runs must be at least 10 to write %s (or pass --doc '')" % args.doc)
    return args


def check_inputs(args):
    qemu = shutil.which(args.qemu)
    for what, path in (("vmm", args.vmm), ("guest", args.guest)):
        if not os.path.isfile(path):
            raise BenchError("%s %s: not found (run make first)" % (what, path))
    if qemu is None:
        raise BenchError("%s: not found (scripts/deps.sh bench)" % args.qemu)
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        raise BenchError("/dev/kvm: not accessible")
    return qemu


def bench(peers, runs, timeout):
    """Warm up each peer once, then interleave runs; returns name->[figs]."""
    results = {name: [] for name, _, _ in peers}
    for name, argv, supervised in peers:
        run_once(argv, supervised, timeout)
    for i in range(runs):
        order = peers if i % 2 == 0 else peers[::-1]
        for name, argv, supervised in order:
            results[name].append(run_once(argv, supervised, timeout))
        print("run %d/%d done" % (i + 1, runs), file=sys.stderr)
    return results


def main(argv):
    args = parse_args(argv)
    os.chdir(args.root)
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        qemu = check_inputs(args)
        peers = peer_commands(args, qemu)
        results = bench(peers, args.runs, args.timeout)
    except BenchError as e:
        print("bench/boot.py: %s" % e, file=sys.stderr)
        return 1
    peers_disp = [(n, a if sup else [os.path.basename(a[0])] + a[1:], sup)
                  for n, a, sup in peers]
    section = render(args, qemu, results, [n for n, _, _ in peers], peers_disp)
    print(section)
    if args.doc:
        update_doc(args.doc, section)
        print("\nbench/boot.py: updated %s" % args.doc, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
