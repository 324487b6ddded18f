#!/usr/bin/python3
"""Print docs/SECURITY.md's per-process table, read from a running VM.

Usage (as root, needs /dev/kvm; elsewhere: scripts/kvm-in-tcg.sh
'scripts/jail-table.py'):  scripts/jail-table.py [--build DIR]

Boots the virtio_net selftest guest (it serves its interface until the VM
is killed) with two disks and one `--net tap=` interface (in a network
namespace of its own, deleted at the end), starts a
standalone `vmm-blk --socket` and a standalone `vmm-net --socket --tap`
beside it, and reads from /proc, for every process of
the jail (sandbox/sandbox.h): uid, capability sets, NoNewPrivs, Seccomp,
which namespaces differ from this script's, what its root directory holds,
its open fds (what they point at), its threads, and the number of syscalls
its profile allows (build/seccomp-compile --report). Then it ends them all.
"""
import argparse
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import blk   # noqa: E402
import jail  # noqa: E402
from netns import NetNS  # noqa: E402


def profile_counts(build):
    out = subprocess.run([str(build / "seccomp-compile"), "--report"] +
                         sorted(str(p) for p in (ROOT / "seccomp-profiles").glob("*.policy")),
                         capture_output=True, text=True, check=True).stdout
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(\w+) \(.*?\): (\d+) syscalls allowed", out, re.M)}


def fd_kinds(pid):
    kinds = []
    for fd in jail.fds(pid):
        try:
            t = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        t = re.sub(r"\[\d+\]", "", t)
        # a process that started in another mount namespace (`ip netns
        # exec` makes one) reads its /dev fds relative to that /dev
        t = re.sub(r"^/(kvm|null|console|net/tun)$", r"/dev/\1", t)
        t = re.sub(r"^/dev/net/tun$", "/dev/net/tun (the tap)", t)
        t = re.sub(r"^/dev/pts/\d+$", "tty", t)
        t = re.sub(r"^/memfd:.*", "memfd (guest RAM)", t)
        t = re.sub(r"^pipe:$", "pipe", t)
        t = re.sub(r"^socket:$", "socket", t)
        t = re.sub(r"^anon_inode:", "", t)
        if t.startswith("/") and t.endswith(".img"):
            t = "disk image"
        kinds.append(t)
    counts = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    return ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in sorted(counts.items()))


def row(name, pid, profile, counts):
    st = jail.status(pid)
    caps = "/".join(st[c] != "0000000000000000" and st[c] or "0"
                    for c in ("CapEff", "CapPrm", "CapBnd"))
    new_ns = [n for n in ("user", "mnt", "pid", "net", "ipc", "uts")
              if jail.ns(pid, n) != jail.own_ns(n)]
    root = os.listdir(f"/proc/{pid}/root")
    threads = len(os.listdir(f"/proc/{pid}/task"))
    return (f"| {name} | {st['Uid'].split()[0]} | {caps} | {st['NoNewPrivs']} | "
            f"{st['Seccomp']} | {' '.join(new_ns) or '-'} | "
            f"{'empty' if not root else ' '.join(sorted(root))} | {fd_kinds(pid)} | "
            f"{threads} | {profile} ({counts.get(profile.split()[0], '?')}) |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    a = ap.parse_args()
    build = pathlib.Path(a.build).resolve()
    counts = profile_counts(build)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="jail-table."))
    imgs = [blk.make_image(tmp / f"d{i}.img", 1 << 20, d=i) for i in range(2)]
    guest = build / "guests" / "virtio_net-pvh.elf"
    ns = NetNS()
    ns.add_tap("tap0", "10.77.0.1/24")
    ns.add_tap("tap1", "10.78.0.1/24")
    vm = ns.popen([str(build / "vmm-reference"), "--kernel",
                   f'path={guest},cmdline="console=ttyS0"',
                   "--memory", "size_mib=128", "--vcpu", "num=2"] +
                  sum([["--block", f"path={i}"] for i in imgs], []) +
                  ["--net", "tap=tap0"],
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    net_sock = tmp / "net.sock"
    net_standalone = ns.popen([str(build / "vmm-net"), "--socket", str(net_sock),
                               "--tap", "tap1"], stdin=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    sock = tmp / "blk.sock"
    disk = blk.make_image(tmp / "s.img", 1 << 20)
    standalone = subprocess.Popen([str(build / "vmm-blk"), "--socket", str(sock),
                                   "--disk", str(disk)], stdin=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
    try:
        out = b""
        signal.alarm(300)       # a guest that never gets there: fail, not hang
        while b"virtio_net: ready" not in out:
            line = vm.stdout.readline()
            if not line:
                raise SystemExit(f"the VM ended early: {vm.stderr.read().decode()}")
            out += line
        signal.alarm(0)
        t = jail.VmmTree(vm.pid, 2, nnet=1)
        server = jail.blk_server(standalone.pid)
        net_server = jail.wait_for(lambda: jail.only_child(net_standalone.pid, "vmm-net"),
                                   "the jailed child of the standalone vmm-net")
        conn = jail.vu_connect(sock)
        net_conn = jail.vu_connect(net_sock)
        jail.supervisor_problems(t.supervisor, "vmm supervisor", (2, 4))  # waits for it
        for s in t.blk_sups + [standalone.pid] + t.net_sups + [net_standalone.pid]:
            jail.supervisor_problems(s, "device supervisor")
        print("| process | uid | CapEff/CapPrm/CapBnd | NoNewPrivs | Seccomp | "
              "new namespaces | root | open fds | threads | profile (syscalls) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(row("vmm supervisor (launched)", t.supervisor, "supervisor", counts))
        print(row("vmm (main + vCPU threads)", t.vmm, "vmm + vcpu", counts))
        print(row("vmm-blk supervisor (vda)", t.blk_sups[0], "supervisor", counts))
        print(row("vmm-blk (vda)", t.blks[0], "blk", counts))
        print(row("vmm-blk --socket supervisor", standalone.pid, "supervisor", counts))
        print(row("vmm-blk --socket (serving)", server, "blk", counts))
        print(row("vmm-net supervisor (eth0)", t.net_sups[0], "supervisor", counts))
        print(row("vmm-net (eth0)", t.nets[0], "net", counts))
        print(row("vmm-net --socket supervisor", net_standalone.pid, "supervisor", counts))
        print(row("vmm-net --socket (serving)", net_server, "net", counts))
        print(f"\n(vcpu profile: {counts.get('vcpu', '?')} syscalls; the vmm's "
              f"{len(os.listdir(f'/proc/{t.vmm}/task'))} threads: main thread "
              f"vmm profile, each vCPU thread the vcpu profile)")
        conn.close()
        net_conn.close()
    finally:
        for p in (vm, standalone, net_standalone):
            p.kill()
            p.wait()
        ns.close()


if __name__ == "__main__":
    main()
