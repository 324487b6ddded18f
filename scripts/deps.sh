#!/bin/sh
# Install the Debian packages a make target needs, when they are missing.
# Usage: scripts/deps.sh GROUP...   (build sandbox test guest bench fuzz all)
# As root it runs apt-get; otherwise it names what is missing and fails.
set -eu

pkgs_build="gcc make libc6-dev linux-libc-dev binutils"
pkgs_sandbox="libseccomp-dev libcap-ng-dev"
pkgs_test="libcmocka-dev python3-pytest qemu-system-x86 qemu-system-common iproute2 iputils-ping"
pkgs_guest="linux-source-6.1 bc bison flex libelf-dev libssl-dev cpio xz-utils busybox-static e2fsprogs fio iperf3 kmod"
pkgs_bench="qemu-system-x86 qemu-system-common python3 fio"
pkgs_fuzz="clang lld libclang-rt-14-dev"

want=""
for g in "$@"; do
	case "$g" in
	build) want="$want $pkgs_build" ;;
	sandbox) want="$want $pkgs_sandbox" ;;
	test) want="$want $pkgs_build $pkgs_test" ;;
	guest) want="$want $pkgs_guest" ;;
	bench) want="$want $pkgs_bench" ;;
	fuzz) want="$want $pkgs_build $pkgs_fuzz" ;;
	all) want="$want $pkgs_build $pkgs_sandbox $pkgs_test $pkgs_guest $pkgs_bench $pkgs_fuzz" ;;
	*) echo "deps.sh: unknown group '$g'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
