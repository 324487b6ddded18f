#!/bin/bash
# Prove the Linux guest artifacts under QEMU TCG (no KVM needed): boot each
# way our vmm boots Linux, run a command through vmmref.cmd= (see guest/init)
# and check what the guest printed.
#   1. bzImage + initramfs, 1 vCPU, 256 MiB: nproc, MemTotal, /proc/cmdline
#   2. ELF vmlinux (PVH entry) + initramfs, 2 vCPUs
#   3. bzImage + rootfs.ext4 on virtio-blk (virtio-mmio): fio and iperf3 run
# Usage: guest/check.sh GUESTDIR    (QEMU consoles are kept in GUESTDIR/check-*.log)
set -euo pipefail
cd "$(dirname "$0")/.."
PROG=check
. guest/lib.sh

dir=${1:?usage: guest/check.sh GUESTDIR}
qemu=${QEMU:-qemu-system-x86_64}
limit=${CHECK_TIMEOUT:-300}
command -v "$qemu" >/dev/null || die "$qemu missing (Debian package qemu-system-x86)"
for f in vmlinux bzImage initramfs.cpio.gz rootfs.ext4; do
	[ -e "$dir/$f" ] || die "$dir/$f missing (run: make guest)"
done
fails=0

# boot NAME KERNEL SMP MIB APPEND CMD [QEMU ARGS...]: boot with APPEND added
# to the kernel command line, show the command's output (between the vmmref
# markers); the whole console goes to a log. Fails unless CMD exited 0.
boot() {
	local name=$1 kernel=$2 smp=$3 mib=$4 append=$5 cmd=$6
	shift 6
	local log=$dir/check-$name.log start=$SECONDS
	say "$name: $(basename "$kernel") -smp $smp -m $mib $*"
	local param="vmmref.cmd=\"$cmd\""
	case "$cmd" in *'"'*) param="vmmref.cmd64=$(printf '%s' "$cmd" | base64 -w0)" ;; esac
	say "$name: command: $cmd"
	timeout "$limit" "$qemu" -M microvm,acpi=off -accel tcg -cpu max -smp "$smp" \
		-m "$mib" -nographic -no-reboot -nodefaults -serial stdio -kernel "$kernel" \
		-append "console=ttyS0 reboot=t panic=-1 $append $param" "$@" \
		</dev/null 2>&1 | tr -d '\r' >"$log" || true
	sed -n '/^vmmref: cmd start/,/^vmmref: cmd exit/p' "$log" | sed 's/^/      | /'
	if ! grep -qx 'vmmref: cmd exit 0' "$log"; then
		echo "$PROG: $name: no 'vmmref: cmd exit 0' within ${limit}s; console tail ($log):" >&2
		tail -n 25 "$log" | sed 's/^/      ! /' >&2
		fails=$((fails + 1))
		return 1
	fi
	say "$name: ok, booted, ran and powered off in $((SECONDS - start))s"
}

# expect NAME WHAT ACTUAL WANT: compare one value the guest printed.
expect() {
	if [ "$3" = "$4" ]; then
		say "$1: $2 = $3 (ok)"
	else
		echo "$PROG: $1: $2 is '$3', expected '$4'" >&2
		fails=$((fails + 1))
	fi
}

# memtotal_ok NAME LOG MIB: MemTotal within [MIB - 32 MiB - 10%, MIB].
memtotal_ok() {
	local kb
	kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' "$2" | sed -n 1p)
	if [ -n "$kb" ] && [ "$kb" -le $(($3 * 1024)) ] &&
		[ "$kb" -ge $(($3 * 1024 * 9 / 10 - 32768)) ]; then
		say "$1: MemTotal = $kb kB for -m $3 (ok)"
	else
		echo "$PROG: $1: MemTotal '$kb' kB implausible for -m $3" >&2
		fails=$((fails + 1))
	fi
}

probe='echo nproc=$(nproc); grep MemTotal /proc/meminfo; echo cmdline=$(cat /proc/cmdline)'
token=vmmref_check_token=42

if boot bzimage "$dir/bzImage" 1 256 "$token" "$probe" -initrd "$dir/initramfs.cpio.gz"; then
	log=$dir/check-bzimage.log
	expect bzimage nproc "$(sed -n 's/^nproc=//p' "$log")" 1
	memtotal_ok bzimage "$log" 256
	if grep -q "^cmdline=.* $token " "$log"; then
		say "bzimage: custom cmdline arrived (ok)"
	else
		echo "$PROG: bzimage: $token not in /proc/cmdline" >&2
		fails=$((fails + 1))
	fi
fi

if boot vmlinux "$dir/vmlinux" 2 512 "" "$probe; echo \"quoted  text\"" -initrd "$dir/initramfs.cpio.gz"; then
	log=$dir/check-vmlinux.log
	expect vmlinux nproc "$(sed -n 's/^nproc=//p' "$log")" 2
	memtotal_ok vmlinux "$log" 512
	expect vmlinux "vmmref.cmd64 output" "$(grep -c '^quoted  text$' "$log")" 1
fi

if boot rootfs "$dir/bzImage" 2 256 "root=/dev/vda rw init=/sbin/init" \
	"mount | grep 'on / type'; fio --version; iperf3 --version | head -n1; fio --name=t --filename=/tmp/f --size=1M --rw=write --bs=4k --output-format=terse >/dev/null && echo fio-ran" \
	-drive "file=$dir/rootfs.ext4,format=raw,if=none,id=d0" -device virtio-blk-device,drive=d0; then
	log=$dir/check-rootfs.log
	expect rootfs "fio" "$(grep -c '^fio-3' "$log")" 1
	expect rootfs "iperf3" "$(grep -c '^iperf 3' "$log")" 1
	expect rootfs "fio run" "$(grep -c '^fio-ran$' "$log")" 1
	expect rootfs "root" "$(grep -c '^/dev/root on / type ext4' "$log")" 1
fi

if [ $fails != 0 ]; then
	die "$fails check(s) failed"
fi
say "all guest checks passed"
