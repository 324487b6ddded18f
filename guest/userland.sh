#!/bin/bash
# Build the guest userlands from Debian binaries:
#   initramfs.cpio.gz  busybox-static + guest/init as /init
#   rootfs.ext4        busybox + fio + iperf3 (+ their shared libraries, via
#                      ldd) + guest/init as /sbin/init, by `mkfs.ext4 -d`
# No root, loop mount or mknod needed: /dev/console is written straight into
# the cpio stream, and the rootfs relies on the kernel's devtmpfs.
# Cached by a hash of the inputs (scripts and the binaries' contents) under
# $CACHE/userland-<hash>/. OUTDIR gets a symlink to the initramfs and a
# private copy of rootfs.ext4 (guests write to it; the cache stays clean;
# it is replaced when the inputs change, or when deleted).
# Usage: guest/userland.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
PROG=userfs
. guest/lib.sh

out=${1:?usage: guest/userland.sh OUTDIR}
busybox=/bin/busybox
tools="/usr/bin/fio /usr/bin/iperf3"

pkg_version busybox-static >/dev/null
pkg_version fio >/dev/null
pkg_version iperf3 >/dev/null
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (Debian package e2fsprogs)"
command -v cpio >/dev/null || die "cpio missing (Debian package cpio)"
applets=$("$busybox" --list) || die "$busybox --list failed"
case $'\n'"$applets"$'\n' in *$'\n'cttyhack$'\n'*) ;; *) die "$busybox lacks cttyhack: not busybox-static's?" ;; esac

# shared_libs BIN...: the shared objects (and the loader) BIN needs.
shared_libs() {
	ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(0x/ { print $1 }' |
		sort -u
}
libs=$(shared_libs $tools)
hash=$( { cat guest/userland.sh guest/lib.sh guest/init
	sha256sum "$busybox" $tools $libs; mkfs.ext4 -V 2>&1 | sed -n 1p; } | inputs_hash)
dir=$CACHE/userland-$hash
lock_cache userland

# install_rootfs_copy: refresh OUTDIR/rootfs.ext4 when its cache entry changed.
install_rootfs_copy() {
	if [ "$(cat "$out/.rootfs.ext4.hash" 2>/dev/null)" != "$hash" ] ||
		[ ! -f "$out/rootfs.ext4" ] || [ -L "$out/rootfs.ext4" ]; then
		rm -f "$out/rootfs.ext4"
		cp --sparse=always "$dir/rootfs.ext4" "$out/rootfs.ext4"
		echo "$hash" >"$out/.rootfs.ext4.hash"
	fi
}

if [ -f "$dir/.done" ]; then
	say "cache hit: $dir"
	link_artifacts "$dir" "$out" initramfs.cpio.gz
	install_rootfs_copy
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"

# stage_busybox ROOT: busybox with one /bin symlink per applet (except init).
stage_busybox() {
	mkdir -p "$1"/{bin,sbin,dev,proc,sys,tmp,root,etc,mnt}
	cp "$busybox" "$1/bin/busybox"
	for a in $applets; do
		case "$a" in busybox | init | linuxrc) continue ;; esac
		ln -s busybox "$1/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
	printf 'root:x:0:\n' >"$1/etc/group"
	chmod 1777 "$1/tmp"
}

# newc_entry NAME MODE RDEVMAJOR RDEVMINOR: one data-less cpio "newc" header
# (ASCII hex fields, name, NUL, padding to 4 bytes).
newc_entry() {
	local namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		0 "$2" 0 0 1 0 0 0 0 "$3" "$4" $namesize 0 "$1"
	printf '%*s' $(((4 - (110 + namesize) % 4) % 4)) '' | tr ' ' '\0'
}

# 1. initramfs: staging dir through GNU cpio, then a second archive holding
# the /dev/console node the kernel opens before /init (concatenated archives
# are part of the initramfs format).
say "[1/2] initramfs.cpio.gz: busybox $(pkg_version busybox-static) + guest/init"
stage=$dir/initramfs.d
stage_busybox "$stage"
install -m 0755 guest/init "$stage/init"
{
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet)
	newc_entry dev/console $((0020600)) 5 1
	newc_entry TRAILER!!! 0 0 0
} | gzip -9n >"$dir/initramfs.cpio.gz"
rm -rf "$stage"
say "      $(du -k "$dir/initramfs.cpio.gz" | cut -f1) KiB"

# 2. rootfs.ext4: busybox, fio, iperf3, their libraries at the host paths.
say "[2/2] rootfs.ext4: busybox + fio $(pkg_version fio) + iperf3 $(pkg_version iperf3)"
stage=$dir/rootfs.d
stage_busybox "$stage"
install -m 0755 guest/init "$stage/sbin/init"
mkdir -p "$stage/usr/bin"
for f in $tools $libs; do
	mkdir -p "$stage$(dirname "$f")"
	cp -L "$f" "$stage$f"
done
used=$(du -sm "$stage" | cut -f1)
size=$(((used * 5 / 4 + 32 + 15) / 16 * 16))
[ $size -ge 64 ] || size=64
truncate -s ${size}M "$dir/rootfs.ext4"
mkfs.ext4 -F -q -L vmmref-root -E root_owner=0:0 -d "$stage" "$dir/rootfs.ext4" \
	|| die "mkfs.ext4 -d $stage failed"
rm -rf "$stage"
say "      ${size} MiB image, ${used} MiB used"

touch "$dir/.done"
link_artifacts "$dir" "$out" initramfs.cpio.gz
install_rootfs_copy
