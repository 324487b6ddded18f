#!/bin/bash
# `make run`: boot the default guest under build/vmm-reference, on this
# terminal (the vmm is exec'd, so the terminal is the guest's serial console).
#
# On a host with hardware KVM (VMX/SVM): Linux (build/guest/bzImage) with the
# busybox initramfs, to a shell; `exit` powers the VM off. Missing artifacts
# are built first (`make guest`, minutes the first time, cached afterwards).
# On kvm-pvm (no VMX/SVM; the guest's CPL0 is emulated and an unmodified
# Linux faults) it says so and boots the selftest guest
# build/guests/boot_state-pvh.elf instead, so the command always shows a VM.
#
# Environment overrides:
#   RUN_KERNEL=PATH      kernel to boot instead of the default
#   RUN_INITRAMFS=PATH   initramfs (Linux only; set it empty for none)
#   RUN_CMDLINE="..."    kernel command line (default: the vmm's own)
#   RUN_CMD="..."        Linux: run this command instead of a shell (through
#                        vmmref.cmd64=, see guest/init), then power off
#   RUN_VCPUS=N RUN_MEM_MIB=N   (default 2 and 1024)
#   RUN_ARGS="..."       extra vmm-reference arguments (word-split)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VMM=$BUILD/vmm-reference
MAKE=${MAKE:-make}

say() { echo "run: $*"; }
die() { echo "run: $*" >&2; exit 1; }

# hw_kvm_missing: why an unmodified Linux cannot boot here (stdout), or fail.
hw_kvm_missing() {
	if [ -e /sys/module/kvm_pvm ]; then
		echo "kvm-pvm detected (/sys/module/kvm_pvm): no VMX/SVM, the guest's CPL0" \
			"is emulated and unmodified Linux faults; Linux needs a VMX/SVM host"
	elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "the host CPU has no vmx/svm flag (no hardware KVM); Linux needs a VMX/SVM host"
	else
		return 1
	fi
}

# No /dev/kvm at all (e.g. this host is itself a kvm-pvm guest): as root,
# boot inside scripts/kvm-in-tcg.sh, a QEMU TCG guest whose emulated SVM
# gives a real /dev/kvm, so the command still shows a VM: Linux under our
# vmm there, running RUN_CMD (default: a line about itself) and powering
# off (the TCG guest has no terminal for an interactive shell).
if [ ! -e /dev/kvm ] && [ "$(id -u)" = 0 ] && command -v qemu-system-x86_64 >/dev/null; then
	say "/dev/kvm is missing here: booting inside scripts/kvm-in-tcg.sh (slow; its" \
		"kernel is built the first time, ~15 minutes, then cached)"
	"$MAKE" --no-print-directory BUILD="$BUILD" all guest
	cmd=${RUN_CMD:-'echo "Linux $(uname -r) under vmm-reference: $(nproc) CPUs, $(grep MemTotal /proc/meminfo)"'}
	exec scripts/kvm-in-tcg.sh "BUILD=$(printf %q "$BUILD") RUN_CMD=$(printf %q "$cmd")" \
		"RUN_VCPUS=$(printf %q "${RUN_VCPUS:-2}") RUN_MEM_MIB=$(printf %q "${RUN_MEM_MIB:-1024}")" \
		"scripts/run.sh </dev/null"
fi
[ -e /dev/kvm ] || die "/dev/kvm is missing: load kvm_intel/kvm_amd (or run on a KVM-capable host)"
[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
	die "/dev/kvm is not readable and writable by $(id -un) (add yourself to group kvm)"
if [ ! -x "$VMM" ]; then
	say "building $VMM"
	"$MAKE" --no-print-directory BUILD="$BUILD" all
fi

vcpus=${RUN_VCPUS:-2}
mem=${RUN_MEM_MIB:-1024}
# shellcheck disable=SC2206
extra=(${RUN_ARGS:-})

if why=$(hw_kvm_missing); then
	kernel=${RUN_KERNEL:-$BUILD/guests/boot_state-pvh.elf}
	if [ -z "${RUN_KERNEL:-}" ]; then
		say "Linux cannot boot here: $why."
		say "booting the selftest guest $kernel instead"
		[ -f "$kernel" ] || "$MAKE" --no-print-directory BUILD="$BUILD" all
	fi
	[ -f "$kernel" ] || die "$kernel is missing (run: make)"
	say "$VMM --kernel path=$kernel --vcpu num=$vcpus --memory size_mib=$mem ${extra[*]}"
	exec "$VMM" --kernel "path=$kernel" --vcpu "num=$vcpus" --memory "size_mib=$mem" "${extra[@]}"
fi

kernel=${RUN_KERNEL:-$BUILD/guest/bzImage}
initramfs=${RUN_INITRAMFS-$BUILD/guest/initramfs.cpio.gz}
files=("$kernel")
[ -z "$initramfs" ] || files+=("$initramfs")
for f in "${files[@]}"; do
	if [ ! -e "$f" ] && [[ "$f" == "$BUILD/guest/"* ]]; then
		say "$f missing: running make guest"
		"$MAKE" --no-print-directory BUILD="$BUILD" guest
	fi
	[ -e "$f" ] || die "$f is missing"
done
kopt="path=$kernel"
cmdline=${RUN_CMDLINE:-}
if [ -n "${RUN_CMD:-}" ]; then
	cmdline="${cmdline:-console=ttyS0 i8042.nokbd reboot=t panic=1} vmmref.cmd64=$(printf '%s' "$RUN_CMD" | base64 -w0)"
fi
# Inside the CLI's quoted value, \ and " are written \\ and \".
qcmd=${cmdline//\\/\\\\}
qcmd=${qcmd//\"/\\\"}
[ -z "$cmdline" ] || kopt="$kopt,cmdline=\"$qcmd\""
args=(--kernel "$kopt" --vcpu "num=$vcpus" --memory "size_mib=$mem")
[ -z "$initramfs" ] || args+=(--initramfs "path=$initramfs")
if [ -z "${RUN_CMD:-}" ]; then
	say "booting Linux to a shell on this terminal ('exit' powers the VM off)"
fi
say "$VMM ${args[*]} ${extra[*]}"
exec "$VMM" "${args[@]}" "${extra[@]}"
