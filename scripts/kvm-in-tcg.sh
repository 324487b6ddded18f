#!/bin/bash
# kvm-in-tcg.sh: run a command inside a throwaway QEMU TCG guest that has
# /dev/kvm, on a host without usable hardware KVM (e.g. a kvm-pvm guest).
#
# QEMU's TCG emulates AMD SVM (with nested paging), so a Linux guest with
# kvm_amd built in gets a working /dev/kvm. That guest mounts this host's
# root filesystem read-write over virtio-9p, chroots into it (own /proc,
# /sys, /dev, /dev/pts, /dev/shm and an empty tmpfs on /tmp) and runs
# COMMAND with bash in the current directory. Guests that our vmm starts in
# there run under KVM-on-TCG: correct but slow (a TCG vCPU is ~10-50x slower
# than the host, and every exit of the nested guest costs a lot more).
#
# Usage: scripts/kvm-in-tcg.sh COMMAND [ARG...]   (as root)
#   The arguments are joined with spaces and run by `bash -c` (like ssh),
#   e.g. scripts/kvm-in-tcg.sh 'cd tests/integration &&
#        /usr/bin/python3 -m pytest -x -q test_boot_state.py'
#   The guest console (kernel messages and the command's stdout/stderr)
#   streams to stdout; the exit status is COMMAND's (or 125 when the test
#   host could not boot or run it). Host paths are the same inside, so
#   absolute paths and the current directory work; /tmp inside is a fresh
#   tmpfs (not the host's /tmp). Environment variables are not forwarded
#   (TERM is, when stdout is a terminal); set them in COMMAND.
#   scripts/kvm-in-tcg.sh --build   only builds (or finds) kernel + initramfs
#
# The first run builds the test-host kernel from the Debian package
# linux-source-6.1 (tinyconfig + guest/microvm.config + the fragment below,
# ~15 minutes with -j2), cached under $CACHE/kvm-in-tcg-<hash>/ like
# guest/kernel.sh (CACHE: $VMMREF_CACHE, else ~/.cache/vmm-reference).
#
# Environment overrides:
#   KVMTCG_KERNEL=PATH   test-host bzImage to boot instead of the cached one
#   KVMTCG_SMP=N         vCPUs (default 2)     KVMTCG_MEM=MIB (default 4096)
#   KVMTCG_CPU=MODEL     QEMU -cpu (default max: vendor AMD, svm, npt)
#   KVMTCG_APPEND="..."  extra kernel command line (e.g. kvm_amd.npt=0)
#   KVMTCG_TIMEOUT=SEC   kill QEMU after SEC seconds (default 3600)
#   KVMTCG_PROBE=CMD     run CMD first; if it fails, retry in a fresh test
#                        host (KVMTCG_TRIES times, default 3): see below
#   KVMTCG_TRIES=N       also bounds the runs when a test host resets itself
#                        mid-command (QEMU exits 0 without a status line
#                        and logs "Triple fault" for the test host's own
#                        CPU; seen in 1 of 8 runs of test_linux.py here and
#                        in one CI run, both while a nested Linux guest had
#                        3 vCPUs on the 2 of the test host): the whole
#                        command runs again in a fresh test host, saying so
#   JOBS=N               make -j for the kernel build (default 2)
set -euo pipefail
cwd=$PWD
cd "$(dirname "$0")/.."
PROG=kvm-in-tcg
. guest/lib.sh

pkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
base=guest/microvm.config

# The options the test host needs on top of guest/microvm.config.
host_fragment() {
	cat <<'EOF'
CONFIG_VIRTUALIZATION=y
CONFIG_KVM=y
CONFIG_KVM_AMD=y
CONFIG_KVM_INTEL=y
CONFIG_CPU_SUP_AMD=y
CONFIG_CPU_SUP_INTEL=y
CONFIG_X86_LOCAL_APIC=y
CONFIG_X86_IO_APIC=y
CONFIG_X86_X2APIC=y
CONFIG_NR_CPUS=8
CONFIG_NETWORK_FILESYSTEMS=y
CONFIG_NET_9P=y
CONFIG_NET_9P_VIRTIO=y
CONFIG_9P_FS=y
CONFIG_9P_FS_POSIX_ACL=y
CONFIG_FS_POSIX_ACL=y
CONFIG_MEMFD_CREATE=y
CONFIG_SECCOMP=y
CONFIG_SECCOMP_FILTER=y
CONFIG_NAMESPACES=y
CONFIG_USER_NS=y
CONFIG_PID_NS=y
CONFIG_NET_NS=y
CONFIG_IPC_NS=y
CONFIG_UTS_NS=y
CONFIG_CGROUPS=y
CONFIG_TUN=y
CONFIG_VETH=y
CONFIG_BRIDGE=y
CONFIG_IPV6=y
CONFIG_IO_URING=y
CONFIG_FHANDLE=y
CONFIG_BLK_DEV_LOOP=y
CONFIG_HPET_TIMER=y
CONFIG_RTC_CLASS=y
CONFIG_RTC_DRV_CMOS=y
CONFIG_POSIX_MQUEUE=y
CONFIG_INOTIFY_USER=y
CONFIG_FANOTIFY=y
CONFIG_KCMP=y
CONFIG_CHECKPOINT_RESTORE=y
CONFIG_UNIX98_PTYS=y
CONFIG_TMPFS_POSIX_ACL=y
CONFIG_TMPFS_XATTR=y
CONFIG_FUSE_FS=y
CONFIG_OVERLAY_FS=y
CONFIG_MAGIC_SYSRQ=y
CONFIG_KALLSYMS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_SERIAL_8250_NR_UARTS=4
EOF
}

# The initramfs /init (busybox sh). Command line: kvmtcg.cmd64= and
# kvmtcg.cwd64= (base64). Prints "kvm-in-tcg: exit status N" and reboots
# (QEMU runs with -no-reboot, so it exits).
init_script() {
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo 1 >/proc/sys/vm/overcommit_memory
mount -t devtmpfs devtmpfs /dev 2>/dev/null
fail() { echo "kvm-in-tcg: $*"; echo "kvm-in-tcg: exit status 125"; reboot -f; }
for w in $(cat /proc/cmdline); do
	case "$w" in
	kvmtcg.cmd64=*) cmd=$(echo "${w#*=}" | base64 -d) ;;
	kvmtcg.cwd64=*) cwd=$(echo "${w#*=}" | base64 -d) ;;
	kvmtcg.term=*) term=${w#*=} ;;
	esac
done
if [ ! -c /dev/kvm ]; then
	dmesg | grep -iE 'kvm|svm'
	grep -qw svm /proc/cpuinfo || echo "kvm-in-tcg: no svm flag in /proc/cpuinfo"
	fail "/dev/kvm missing in the test host"
fi
r=/hostroot
mkdir -p $r
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,access=client hostroot $r ||
	fail "cannot mount the 9p share hostroot"
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $r/tmp
mount -t tmpfs tmpfs $r/run 2>/dev/null
echo "kvm-in-tcg: /dev/kvm present; running in ${cwd:-/}: $cmd"
start=$(cut -d' ' -f1 /proc/uptime)
chroot $r /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=${term:-dumb} /bin/bash -c 'cd "$1" && eval "$2"' kvm-in-tcg "${cwd:-/}" "$cmd" \
	</dev/console >/dev/console 2>&1
rc=$?
end=$(cut -d' ' -f1 /proc/uptime)
sync
echo "kvm-in-tcg: command took $(awk "BEGIN{print $end - $start}")s of guest time"
echo "kvm-in-tcg: exit status $rc"
reboot -f
EOF
}

# build_kernel: build (or find) the test-host kernel; sets $kdir.
build_kernel() {
	ver=$(pkg_version $pkg)
	kdir=$CACHE/kvm-in-tcg-kernel-$( { cat "$base"; host_fragment; echo "$pkg $ver"
		gcc --version | head -n1; } | inputs_hash)
	[ -f "$kdir/.done" ] && return 0
	lock_cache kvm-in-tcg
	[ -f "$kdir/.done" ] && return 0
	src=$CACHE/src/$pkg-$ver
	[ -f "$src/.vmmref-extracted" ] ||
		die "kernel sources missing ($src): run guest/kernel.sh (make guest) once first"
	obj=$kdir/obj log=$kdir/build.log
	rm -rf "$kdir"
	mkdir -p "$obj"
	kmake() { make -C "$src" O="$obj" ARCH=x86_64 "$@"; }
	host_fragment >"$kdir/host.config"
	say "configuring the test-host kernel (log: $log)"
	{
		kmake tinyconfig
		(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$obj" \
			"$obj/.config" "$OLDPWD/$base" "$kdir/host.config")
		kmake olddefconfig
	} >"$log" 2>&1 || { tail -n 30 "$log"; die "configuration failed (log: $log)"; }
	while IFS= read -r line; do
		grep -qxF "$line" "$obj/.config" || die "kernel option $line was dropped by Kconfig"
	done <"$kdir/host.config"
	say "building bzImage with -j${JOBS:-2} (~15 minutes; log: $log)"
	kmake -j"${JOBS:-2}" bzImage >>"$log" 2>&1 ||
		{ tail -n 30 "$log"; die "kernel build failed (log: $log)"; }
	cp "$obj/arch/x86/boot/bzImage" "$kdir/bzImage"
	cp "$obj/.config" "$kdir/config"
	rm -rf "$obj"
	touch "$kdir/.done"
	say "kernel cached in $kdir"
}

# build_initramfs: build (or find) the busybox initramfs; sets $initrd.
build_initramfs() {
	idir=$CACHE/kvm-in-tcg-initramfs-$( { init_script; sha256sum /bin/busybox; } | inputs_hash)
	initrd=$idir/initramfs.cpio.gz
	[ -f "$initrd" ] && return 0
	ird=$idir/root
	rm -rf "$idir"
	mkdir -p "$ird/bin" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/hostroot"
	cp /bin/busybox "$ird/bin/busybox"
	init_script >"$ird/init"
	chmod 755 "$ird/init"
	(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	rm -rf "$ird"
	mv "$initrd.tmp" "$initrd"
}

[ "$(id -u)" = 0 ] || die "must run as root (the 9p share passes host ownership through)"
[ $# -gt 0 ] || die "usage: scripts/kvm-in-tcg.sh COMMAND [ARG...] | --build"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
! ldd /bin/busybox >/dev/null 2>&1 || die "/bin/busybox is not static (apt-get install busybox-static)"
build_initramfs
if [ -n "${KVMTCG_KERNEL:-}" ]; then
	kernel=$KVMTCG_KERNEL
else
	build_kernel
	kernel=$kdir/bzImage
fi
[ "$1" = --build ] && { say "kernel $kernel, initramfs $initrd"; exit 0; }

# KVMTCG_PROBE=COMMAND: run it first in the test host; if it fails, this
# instance cannot run nested guests (seen now and then: a test host whose
# nested vCPUs never make progress), so boot a fresh one, up to
# KVMTCG_TRIES times (default 3), before running the real command.
cmd="$*"
probe=${KVMTCG_PROBE:-}
if [ -n "$probe" ]; then
	cmd="if ! ( $probe ); then echo 'kvm-in-tcg: probe failed: this instance runs no nested guest'; exit 126; fi; $cmd"
fi
term=dumb
[ -t 1 ] && term=${TERM:-dumb}
append="console=ttyS0 reboot=t panic=-1 loglevel=4 kvmtcg.cmd64=$(printf %s "$cmd" | base64 -w0)"
append+=" kvmtcg.cwd64=$(printf %s "$cwd" | base64 -w0) kvmtcg.term=$term ${KVMTCG_APPEND:-}"
[ ${#append} -lt 1900 ] || die "command too long for the kernel command line (${#append} bytes)"

log=$(mktemp /tmp/kvm-in-tcg.XXXXXX.log)
trap 'rm -f "$log" "$log.qemu"' EXIT
tries=${KVMTCG_TRIES:-3}
for try in $(seq "$tries"); do
	rc=0
	timeout --foreground -k 10 "${KVMTCG_TIMEOUT:-3600}" \
		qemu-system-x86_64 -M microvm,acpi=off,x-option-roms=off,rtc=on \
		-accel tcg,thread=multi -cpu "${KVMTCG_CPU:-max}" \
		-smp "${KVMTCG_SMP:-2}" -m "${KVMTCG_MEM:-4096}" \
		-nodefaults -no-user-config -nographic -no-reboot \
		-chardev stdio,id=con,signal=on -serial chardev:con \
		-kernel "$kernel" -initrd "$initrd" -append "$append" \
		-fsdev local,id=root,path=/,security_model=passthrough,multidevs=remap \
		-device virtio-9p-device,fsdev=root,mount_tag=hostroot \
		-d cpu_reset,guest_errors -D "$log.qemu" \
		</dev/null | stdbuf -oL tr -d '\r' | tee "$log" || rc=$?
	status=$(sed -n 's/^kvm-in-tcg: exit status \([0-9]*\)$/\1/p' "$log" | tail -n1)
	if [ -z "$status" ]; then
		echo "$PROG: the test host did not report an exit status (qemu exit $rc)" >&2
		# "Triple fault" (QEMU's -d cpu_reset log): the test host's own
		# CPU reset it, not a reboot of ours.
		grep -m1 -i 'triple fault' "$log.qemu" | sed "s/^/$PROG: qemu: /" >&2 || true
		# A test host that reset itself (QEMU exits 0 under -no-reboot
		# with no status line) died of the emulator, not of COMMAND: run
		# COMMAND again, whole, in a fresh test host. A timeout or a
		# QEMU error is not retried.
		if [ "$rc" = 0 ] && [ "$try" -lt "$tries" ]; then
			echo "$PROG: try $try of $tries: the test host reset itself; booting a fresh one and running the whole command again" >&2
			continue
		fi
		exit 125
	fi
	[ -n "$probe" ] && [ "$status" = 126 ] && grep -q '^kvm-in-tcg: probe failed' "$log" ||
		exit "$status"
	echo "$PROG: try $try of $tries: the probe failed; booting a fresh test host" >&2
done
exit 125
