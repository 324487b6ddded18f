#!/bin/bash
# Build the microVM Linux kernel (vmlinux + bzImage) from the Debian package
# linux-source-6.1: `make tinyconfig`, merge guest/microvm.config, olddefconfig,
# check every fragment option survived, build. Cached by a hash of the inputs
# under $CACHE/kernel-<hash>/; OUTDIR gets symlinks to the cached files.
# Usage: guest/kernel.sh OUTDIR      (JOBS=N overrides make -j$(nproc))
set -euo pipefail
cd "$(dirname "$0")/.."
PROG=kernel
. guest/lib.sh

out=${1:?usage: guest/kernel.sh OUTDIR}
pkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
frag=guest/microvm.config
jobs=${JOBS:-$(nproc)}

ver=$(pkg_version $pkg)
[ -f "$tarball" ] || die "$tarball missing although $pkg is installed"
hash=$( { cat "$frag" guest/kernel.sh guest/lib.sh; echo "$pkg $ver"
	gcc --version | head -n1; } | inputs_hash)
dir=$CACHE/kernel-$hash
lock_cache kernel
artifacts="vmlinux bzImage config"

if [ -f "$dir/.done" ]; then
	say "cache hit: $dir"
	link_artifacts "$dir" "$out" $artifacts
	exit 0
fi

# 1. Sources: one extracted tree per package version, shared by all configs.
src=$CACHE/src/$pkg-$ver
if [ ! -f "$src/.vmmref-extracted" ]; then
	say "[1/4] extracting $tarball ($pkg $ver) into $src"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.vmmref-extracted"
	mv "$src.tmp" "$src"
else
	say "[1/4] sources: $src"
fi

# 2. Configure out of tree, then verify the fragment against the result.
obj=$dir/obj
rm -rf "$dir"
mkdir -p "$obj"
log=$dir/build.log
kargs=(-C "$src" O="$obj" ARCH=x86_64 KBUILD_BUILD_USER=vmm-reference
	KBUILD_BUILD_HOST=vmm-reference KBUILD_BUILD_TIMESTAMP="$pkg $ver")
kmake() { make "${kargs[@]}" "$@"; }

say "[2/4] configuring: tinyconfig + $frag (log: $log)"
{
	kmake tinyconfig
	(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$obj" \
		"$obj/.config" "$OLDPWD/$frag")
	kmake olddefconfig
} >"$log" 2>&1 || { tail -n 30 "$log"; die "configuration failed (log: $log)"; }

# verify_config FRAGMENT CONFIG: every "CONFIG_X=v" line must appear verbatim,
# and every "# CONFIG_X is not set" must not be enabled.
verify_config() {
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$2" || {
				echo "$PROG: $1: '$line' was dropped; .config has:" \
					"$(grep -E "^(# )?${line%%=*}[= ]" "$2" || echo 'nothing')" >&2
				bad=1
			} ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -qE "^$opt=" "$2"; then
				echo "$PROG: $1: '$opt' must be off but is $(grep -E "^$opt=" "$2")" >&2
				bad=1
			fi ;;
		esac
	done <"$1"
	return $bad
}
verify_config "$frag" "$obj/.config" || die "config fragment not honoured (see above)"
if grep -q 'not in final .config' "$log"; then
	grep 'not in final .config' "$log" >&2
	die "merge_config.sh reported dropped or overridden options"
fi
say "      all $(grep -cE '^(CONFIG_|# CONFIG_)' "$frag") fragment options present in .config"

# 3. Build, output to the log; a progress line every 20 seconds.
say "[3/4] building vmlinux + bzImage with -j$jobs (log: $log)"
start=$SECONDS
make "${kargs[@]}" -j"$jobs" vmlinux bzImage >>"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
trap 'exit 130' INT TERM
while kill -0 $pid 2>/dev/null; do
	for _ in $(seq 20); do sleep 1; kill -0 $pid 2>/dev/null || break; done
	kill -0 $pid 2>/dev/null || break
	n=$(grep -c '^  CC ' "$log" || true)
	say "      $((SECONDS - start))s: $n objects compiled; last: $(tail -n1 "$log" | cut -c1-60)"
done
rc=0
wait $pid || rc=$?
trap - EXIT INT TERM
if [ $rc != 0 ]; then
	tail -n 40 "$log" >&2
	die "kernel build failed (exit $rc); full log: $log"
fi
say "      built in $((SECONDS - start))s"

# 4. Keep the artifacts, drop the object tree.
cp "$obj/vmlinux" "$dir/vmlinux"
cp "$obj/arch/x86/boot/bzImage" "$dir/bzImage"
cp "$obj/.config" "$dir/config"
rm -rf "$obj"
touch "$dir/.done"
say "[4/4] cached in $dir"
link_artifacts "$dir" "$out" $artifacts
