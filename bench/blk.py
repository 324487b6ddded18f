#!/usr/bin/env python3
"""Block backend benchmark: build/vu-driver against vmm-blk and qemu-storage-daemon.

One invocation measures, on the same image and with the same driver (which
plays guest and vhost-user frontend at native speed, one memfd "guest RAM",
the same ring layout for both), 4 KiB random read and write at queue depth 1
and 32 and 1 MiB sequential read and write, on a file in the page cache and
on tmpfs; and `fio` run directly on the host file with the engine vmm-blk
uses (pvsync: preadv/pwritev from one thread) as the physical limit. Each
cell is run --reps times, interleaved (ours, qsd, fio, ours, ...), and the
median is kept. The table goes to stdout and between the bench:blk markers
in docs/PERFORMANCE.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import tempfile

import boot  # bench/boot.py: update_doc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- bench:blk:begin -->"
END = "<!-- bench:blk:end -->"
WORKLOADS = [  # (name, vu-driver rw, fio rw, bs, qd)
    ("4k randread qd1", "randread", "randread", 4096, 1),
    ("4k randread qd32", "randread", "randread", 4096, 32),
    ("4k randwrite qd1", "randwrite", "randwrite", 4096, 1),
    ("4k randwrite qd32", "randwrite", "randwrite", 4096, 32),
    ("1M read qd1", "read", "read", 1 << 20, 1),
    ("1M write qd1", "write", "write", 1 << 20, 1),
]


def die(msg):
    sys.exit("bench/blk.py: " + msg)


def make_image(path, size):
    """A fully allocated image (no holes), then read once into the page cache."""
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(chunk)
    with open(path, "rb") as f:
        while f.read(1 << 22):
            pass


def wait_socket(path, proc, timeout=10):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > end:
            die("backend did not create %s: %s" % (path, proc.stderr.read()))
        time.sleep(0.01)


def start_backend(kind, build, sock, img):
    if kind == "vmm-blk":
        argv = [os.path.join(build, "vmm-blk"), "--socket", sock, "--disk", img]
    else:
        argv = ["qemu-storage-daemon", "--blockdev",
                "driver=file,node-name=d0,filename=%s,cache.direct=off" % img,
                "--export", "type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,"
                "addr.path=%s,writable=on" % sock]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    wait_socket(sock, p)
    return p, argv


def jailed_child(pid, timeout=10):
    """The jailed child of a device supervisor pid (a standalone vmm-blk or
    vmm-net stays as the supervisor of its jailed server, sandbox/sandbox.h),
    waiting up to timeout s for it; None if it does not appear."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = f.read().split()
        if kids:
            return int(kids[0])
        time.sleep(0.01)
    return None


def serving_pid(kind, p):
    """The pid that does the I/O, for the driver's CPU-per-I/O figure: the
    jailed server of a vmm-blk; qemu-storage-daemon is one process."""
    if kind != "vmm-blk":
        return p.pid
    pid = jailed_child(p.pid)
    if pid is None:
        raise SystemExit("bench/blk.py: vmm-blk %d has no jailed child after 10 s" % p.pid)
    return pid


def stop_backend(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def run_driver(build, sock, pid, wl, seconds, size):
    _, rw, _, bs, qd = wl
    argv = [os.path.join(build, "vu-driver"), "bench", "--socket", sock, "--rw", rw,
            "--bs", str(bs), "--qd", str(qd), "--seconds", str(seconds),
            "--backend-pid", str(pid), "--disk-size", str(size)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 10 + 60)
    if r.returncode != 0:
        die("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr[-2000:]))
    d = json.loads(r.stdout.strip().splitlines()[-1])
    return {"iops": d["iops"], "mib_s": d["mib_s"], "p50_us": d["p50_us"],
            "p99_us": d["p99_us"], "cpu_us": d["backend_cpu_us_per_io"]}


def run_fio(img, wl, seconds):
    _, _, rw, bs, qd = wl
    argv = ["fio", "--name=limit", "--filename=" + img, "--ioengine=pvsync",
            "--rw=" + rw, "--bs=%d" % bs, "--iodepth=%d" % qd, "--numjobs=1",
            "--time_based", "--runtime=%d" % seconds, "--ramp_time=1",
            "--direct=0", "--invalidate=0", "--randrepeat=0", "--norandommap",
            "--percentile_list=50:99", "--output-format=json"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 10 + 60)
    if r.returncode != 0:
        die("fio failed: %s" % r.stderr[-2000:])
    job = json.loads(r.stdout[r.stdout.index("{"):])["jobs"][0]
    side = job["read"] if "read" in rw else job["write"]
    pct = side["clat_ns"]["percentile"]
    ios = side["total_ios"] or 1
    cpu_s = (job["usr_cpu"] + job["sys_cpu"]) / 100.0 * job["job_runtime"] / 1000.0
    return {"iops": side["iops"], "mib_s": side["bw_bytes"] / (1 << 20),
            "p50_us": pct["50.000000"] / 1000.0, "p99_us": pct["99.000000"] / 1000.0,
            "cpu_us": cpu_s * 1e6 / ios}, " ".join(argv)


def median_of(samples):
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def bench_place(args, place, directory):
    img = os.path.join(directory, "bench-blk.img")
    make_image(img, args.size_mib << 20)
    res = {}
    cmds = {}
    try:
        for rep in range(args.reps):
            order = ["vmm-blk", "qsd"] if rep % 2 == 0 else ["qsd", "vmm-blk"]
            for kind in order:
                sock = os.path.join(directory, "bench-%s.sock" % kind)
                p, argv = start_backend(kind, args.build, sock, img)
                cmds[kind] = " ".join(argv)
                try:
                    for wl in WORKLOADS:
                        r = run_driver(args.build, sock, serving_pid(kind, p), wl,
                                       args.seconds, args.size_mib << 20)
                        res.setdefault((kind, wl[0]), []).append(r)
                finally:
                    stop_backend(p)
                    if os.path.exists(sock):
                        os.unlink(sock)
            for wl in WORKLOADS:
                r, cmds["fio"] = run_fio(img, wl, args.seconds)
                res.setdefault(("fio", wl[0]), []).append(r)
    finally:
        os.unlink(img)
    return {k: median_of(v) for k, v in res.items()}, cmds


def ratio(a, b):
    return "%.2f" % (a / b) if b else "-"


def table(place, res):
    lines = [
        "### %s" % place, "",
        "| workload | vmm-blk IOPS | qsd IOPS | host fio IOPS | vmm-blk/qsd IOPS | "
        "vmm-blk/host IOPS | vmm-blk MiB/s | qsd MiB/s | vmm-blk p50/p99 us | "
        "qsd p50/p99 us | vmm-blk CPU us/IO | qsd CPU us/IO | vmm-blk/qsd CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for wl in WORKLOADS:
        o, q, f = res[("vmm-blk", wl[0])], res[("qsd", wl[0])], res[("fio", wl[0])]
        lines.append("| %s | %.0f | %.0f | %.0f | %s | %s | %.1f | %.1f | %.1f / %.1f | "
                     "%.1f / %.1f | %.2f | %.2f | %s |" % (
                         wl[0], o["iops"], q["iops"], f["iops"], ratio(o["iops"], q["iops"]),
                         ratio(o["iops"], f["iops"]), o["mib_s"], q["mib_s"],
                         o["p50_us"], o["p99_us"], q["p50_us"], q["p99_us"],
                         o["cpu_us"], q["cpu_us"], ratio(o["cpu_us"], q["cpu_us"])))
    return lines


def targets(all_res):
    out = []
    worst_q, worst_h = None, None
    for place, res in all_res.items():
        for wl in WORKLOADS:
            o, q, f = res[("vmm-blk", wl[0])], res[("qsd", wl[0])], res[("fio", wl[0])]
            rq = o["iops"] / q["iops"]
            if worst_q is None or rq < worst_q[0]:
                worst_q = (rq, place, wl[0])
            if wl[4] == 32:
                rh = o["iops"] / f["iops"]
                if worst_h is None or rh < worst_h[0]:
                    worst_h = (rh, place, wl[0])
    out.append("- at least qemu-storage-daemon's IOPS on every row: worst ratio %.2f "
               "(%s, %s): **%s**" % (worst_q[0], worst_q[1], worst_q[2],
                                     "met" if worst_q[0] >= 1.0 else "NOT met"))
    out.append("- within 80%% of the host limit at queue depth 32: worst ratio %.2f "
               "(%s, %s): **%s**" % (worst_h[0], worst_h[1], worst_h[2],
                                     "met" if worst_h[0] >= 0.8 else "NOT met"))
    return out


def sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def render(args, all_res, cmds, places):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = sh(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"])
    lines = ["## Block backend: vmm-blk vs qemu-storage-daemon vs the host", "",
             "`build/vu-driver bench` (host-side guest + vhost-user frontend, memfd RAM) "
             "drives each backend over vhost-user; the host limit is `fio` on the same "
             "file with the engine vmm-blk uses (pvsync = preadv/pwritev from one thread, "
             "so fio's iodepth has no effect there). Image %d MiB of random data, fully "
             "allocated, in the page cache; %d s per cell after a warm-up, median of %d "
             "interleaved repetitions. Backend CPU is the backend process's utime+stime "
             "over the run, per I/O." % (args.size_mib, args.seconds, args.reps), ""]
    for place in places:
        lines += table(place, all_res[place]) + [""]
    lines += ["Targets (from the issue):", ""] + targets(all_res) + [""]
    lines += ["Host: %s; git %s; kernel %s; %d CPUs; %s; fio %s." % (
        now, head, platform.release(), os.cpu_count(), sh(["qemu-storage-daemon", "--version"]),
        sh(["fio", "--version"])), "", "Commands (per place; the image path changes):", ""]
    for k in ("vmm-blk", "qsd", "fio"):
        lines.append("    " + cmds[k])
    lines.append("    build/vu-driver bench --socket SOCK --rw RW --bs BS --qd QD "
                 "--seconds %d --backend-pid PID --disk-size %d" %
                 (args.seconds, args.size_mib << 20))
    return "\n".join(lines)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--seconds", type=int, default=3)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--size-mib", type=int, default=256)
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"),
                   help="file to update ('' to only print)")
    args = p.parse_args(argv)
    for tool in ("qemu-storage-daemon", "fio"):
        if shutil.which(tool) is None:
            die("%s missing (scripts/deps.sh bench installs it)" % tool)
    for b in ("vmm-blk", "vu-driver"):
        if not os.access(os.path.join(args.build, b), os.X_OK):
            die("%s/%s not built (run make)" % (args.build, b))
    places = {"file in the page cache (%s)" % os.path.join(args.build, "bench"):
              os.path.join(args.build, "bench"),
              "tmpfs (/dev/shm)": "/dev/shm"}
    all_res, cmds = {}, {}
    for place, d in places.items():
        os.makedirs(d, exist_ok=True)
        work = tempfile.mkdtemp(prefix="vmmref-blk-", dir=d)
        try:
            all_res[place], cmds = bench_place(args, place, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    section = render(args, all_res, cmds, list(places))
    print(section)
    if args.doc:
        boot.update_doc(args.doc, section, BEGIN, END)


if __name__ == "__main__":
    main(sys.argv[1:])
