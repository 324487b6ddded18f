#!/usr/bin/env python3
"""Network backend benchmark: build/vu-driver through vmm-net vs the tap driven directly.

Inside a network namespace made for the run (deleted afterwards) with one
tap (no address, IPv6 off: nothing but our frames on it), the same peer, an
AF_PACKET socket bound to the tap, exchanges frames with:

- `vu-driver net-bench`: the driver plays guest and vhost-user frontend of
  build/vmm-net (memfd RAM, RX = vring 0, TX = vring 1, VERSION_1 +
  EVENT_IDX + INDIRECT, no offloads, 256-entry rings, one descriptor per
  frame, RX buffers of 12 + 1514 bytes);
- `vu-driver tap-direct`: the tap limit, the same tap opened by the driver
  itself and driven with readv/writev and the same 12-byte vnet header.

Both directions (TX: guest -> peer, RX: peer -> guest), 1514- and 64-byte
frames. Frames are counted where they arrive; the sender keeps at most 1024
frames on their way (closed loop). CPU per frame: utime+stime of vmm-net's
jailed process (via vmm-net), of the thread doing the tap I/O (direct).
Each cell --reps times, interleaved (vmm-net, direct, direct, vmm-net, ...),
median kept. Table to stdout and between the bench:net markers of
docs/PERFORMANCE.md.
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import boot  # bench/boot.py: update_doc
from blk import jailed_child  # bench/blk.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- bench:net:begin -->"
END = "<!-- bench:net:end -->"
CELLS = [("tx", 1514), ("tx", 64), ("rx", 1514), ("rx", 64)]
TAP = "tap0"


def die(msg):
    sys.exit("bench/net.py: " + msg)


def sh(argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


class Namespace:
    def __init__(self):
        self.name = "vmmref-bench-%d" % os.getpid()
        sh(["ip", "netns", "add", self.name])
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
                    ["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % TAP],
                    ["ip", "link", "set", TAP, "up"]):
            sh(self.argv(cmd))

    def argv(self, args):
        return ["ip", "netns", "exec", self.name] + [str(a) for a in args]

    def close(self):
        sh(["ip", "netns", "del", self.name], check=False)


def run_json(argv, seconds):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 10 + 60)
    if r.returncode != 0:
        die("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr[-2000:]))
    return json.loads(r.stdout.strip().splitlines()[-1])


def via_vmm_net(args, ns, sock, cell):
    d, size = cell
    p = subprocess.Popen(ns.argv([os.path.join(args.build, "vmm-net"), "--socket", sock,
                                  "--tap", TAP, "--once"]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(sock):
            if p.poll() is not None or time.monotonic() > end:
                die("vmm-net did not create %s: %s" % (sock, p.stderr.read()))
            time.sleep(0.01)
        pid = jailed_child(p.pid)
        if pid is None:
            die("vmm-net %d has no jailed child after 10 s" % p.pid)
        return run_json(ns.argv([os.path.join(args.build, "vu-driver"), "net-bench",
                                 "--socket", sock, "--peer-if", TAP, "--dir", d,
                                 "--frame-size", size, "--seconds", args.seconds,
                                 "--backend-pid", pid, "--poll-us", "0"]), args.seconds)
    finally:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)
            p.wait()
        if os.path.exists(sock):
            os.unlink(sock)


def direct(args, ns, cell):
    d, size = cell
    return run_json(ns.argv([os.path.join(args.build, "vu-driver"), "tap-direct",
                             "--tap", TAP, "--peer-if", TAP, "--dir", d,
                             "--frame-size", size, "--seconds", args.seconds]),
                    args.seconds)


def keep(j):
    return {"pps": j["pps"], "gbit_s": j["gbit_s"], "cpu_us": j["cpu_us_per_frame"]}


def measure(args):
    ns = Namespace()
    work = tempfile.mkdtemp(prefix="vmmref-net-")
    sock = os.path.join(work, "net.sock")
    res = {}
    try:
        for rep in range(args.reps):
            for cell in CELLS:
                order = ["vmm-net", "direct"] if rep % 2 == 0 else ["direct", "vmm-net"]
                for kind in order:
                    j = via_vmm_net(args, ns, sock, cell) if kind == "vmm-net" \
                        else direct(args, ns, cell)
                    res.setdefault((kind, cell), []).append(keep(j))
    finally:
        ns.close()
        os.rmdir(work)
    return {k: {f: statistics.median(s[f] for s in v) for f in v[0]}
            for k, v in res.items()}


def table(res):
    lines = ["| direction | frame | via vmm-net Gbit/s | via vmm-net Mpps | vmm-net CPU us/frame "
             "| tap direct Gbit/s | tap direct Mpps | direct CPU us/frame | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for cell in CELLS:
        o, t = res[("vmm-net", cell)], res[("direct", cell)]
        lines.append("| %s | %d B | %.2f | %.3f | %.2f | %.2f | %.3f | %.2f | %.2f |" % (
            "TX (guest -> peer)" if cell[0] == "tx" else "RX (peer -> guest)", cell[1],
            o["gbit_s"], o["pps"] / 1e6, o["cpu_us"], t["gbit_s"], t["pps"] / 1e6,
            t["cpu_us"], o["pps"] / t["pps"] if t["pps"] else 0))
    worst = min(CELLS, key=lambda c: res[("vmm-net", c)]["pps"] / res[("direct", c)]["pps"])
    r = res[("vmm-net", worst)]["pps"] / res[("direct", worst)]["pps"]
    return lines, "- within 80%% of the tap limit (ratio = frames/s via vmm-net / direct): " \
        "worst ratio %.2f (%s, %d B): **%s**" % (r, worst[0].upper(), worst[1],
                                                 "met" if r >= 0.8 else "NOT met")


def render(args, res):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = sh(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], check=False)
    rows, target = table(res)
    return "\n".join([
        "## Network backend: vmm-net vs the tap driven directly", "",
        "`bench/net.py` (run by `make bench`): in a network namespace made for the "
        "run, one tap and one peer (an AF_PACKET socket bound to the tap). Via vmm-net: "
        "`build/vu-driver net-bench` is guest and vhost-user frontend of `build/vmm-net` "
        "(VERSION_1, EVENT_IDX, INDIRECT, no offloads, 256-entry rings, RX buffers of "
        "12 + 1514 bytes; the driver waits for the call eventfd instead of spinning on "
        "the used ring, `--poll-us 0`, as a Linux guest's NAPI waits for the interrupt: "
        "on 2 CPUs a spinning guest side takes the CPU vmm-net needs). Tap limit: `build/vu-driver tap-direct` drives the same tap "
        "itself with `readv`/`writev` and the same 12-byte vnet header. TX = guest to "
        "peer, RX = peer to guest; frames counted where they arrive; the sender keeps at "
        "most 1024 frames on their way. CPU per frame: vmm-net's jailed process "
        "(utime+stime from /proc) for the vmm-net rows, the thread doing the tap I/O for "
        "the direct ones. %d s per cell, median of %d interleaved repetitions." % (
            args.seconds, args.reps), ""] + rows + [
        "", "Target (from the issue):", "", target, "",
        "Host: %s; git %s; kernel %s; %d CPUs." % (
            now, (head.stdout.strip() or "unknown"), platform.release(), os.cpu_count()),
        "", "Reproduce: `make bench` (all sections), or this section alone, as root:", "",
        "    make && /usr/bin/python3 bench/net.py            # --reps N --seconds S --doc ''",
        "", "which runs, inside `ip netns exec NS` with tap0 up:", "",
        "    build/vmm-net --socket SOCK --tap tap0 --once",
        "    build/vu-driver net-bench --socket SOCK --peer-if tap0 --dir tx|rx "
        "--frame-size 1514|64 --seconds %d --backend-pid PID --poll-us 0" % args.seconds,
        "    build/vu-driver tap-direct --tap tap0 --peer-if tap0 --dir tx|rx "
        "--frame-size 1514|64 --seconds %d" % args.seconds])


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--seconds", type=int, default=3)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"),
                   help="file to update ('' to only print)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        die("needs root (a network namespace and a tap)")
    for b in ("vmm-net", "vu-driver"):
        if not os.access(os.path.join(args.build, b), os.X_OK):
            die("%s/%s not built (run make)" % (args.build, b))
    section = render(args, measure(args))
    print(section)
    if args.doc:
        boot.update_doc(args.doc, section, BEGIN, END)


if __name__ == "__main__":
    main(sys.argv[1:])
