# Shared helpers of the guest/*.sh build scripts (sourced, not run).
# The cache lives outside the repository so `make clean` and fresh clones
# of the same inputs reuse it: $VMMREF_CACHE, else ~/.cache/vmm-reference.

CACHE=${VMMREF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmm-reference}
PROG=${PROG:-guest}

say() { printf '  %-8s%s\n' "$PROG" "$*"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }

# pkg_version PKG: the installed Debian version of PKG, or die naming it.
pkg_version() {
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) ||
		die "Debian package $1 is not installed (run: scripts/deps.sh guest)"
	[ -n "$v" ] || die "Debian package $1 is not installed (run: scripts/deps.sh guest)"
	printf '%s\n' "$v"
}

# inputs_hash: 16 hex digits of the SHA-256 of stdin.
inputs_hash() { sha256sum | cut -c1-16; }

# link_artifacts CACHEDIR OUTDIR NAME...: symlink OUTDIR/NAME -> CACHEDIR/NAME.
link_artifacts() {
	from=$1 to=$2
	shift 2
	mkdir -p "$to"
	for n in "$@"; do
		[ -f "$from/$n" ] || die "cache entry $from lacks $n"
		ln -sfn "$from/$n" "$to/$n"
	done
}

# lock_cache NAME: hold $CACHE/.lock-NAME until the script exits, so that
# concurrent builds of the same kind wait instead of trampling each other.
lock_cache() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock-$1"
	flock -n 9 || { say "waiting for another $1 build ($CACHE/.lock-$1)"; flock 9; }
}
