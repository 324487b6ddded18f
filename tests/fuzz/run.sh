#!/bin/sh
# Run one libFuzzer target for a bounded time and print a one-line summary.
#
#   tests/fuzz/run.sh FUZZ_DIR TARGET SECONDS
#
# FUZZ_DIR is build/fuzz (binaries in it); TARGET is e.g. fuzz_cli;
# dictionary tests/fuzz/NAME.dict or, for boot_load, boot.dict. Seeds:
# tests/fuzz/corpus/NAME/ and FUZZ_DIR/seeds/NAME/ (NAME = TARGET without
# "fuzz_"), whichever exist; new inputs go to FUZZ_DIR/corpus/NAME/.
# Exit status is libFuzzer's: non-zero on a crash, leak, timeout (an input
# taking > 10 s is a hang) or out-of-memory; the crashing input is saved
# under FUZZ_DIR/artifacts/NAME/ and the log's tail is printed.
set -u

dir=$1 target=$2 secs=$3
name=${target#fuzz_}
bin=$dir/$target
corpus=$dir/corpus/$name
art=$dir/artifacts/$name/
log=$dir/logs/$name.log

case $name in
boot_load) max_len=65536 ;;
cli) max_len=16384 ;;
virtq) max_len=4100 ;;
*) max_len=4096 ;;
esac

[ -x "$bin" ] || { echo "$target: $bin not built (make fuzz-build)"; exit 1; }
mkdir -p "$corpus" "$art" "$(dirname "$log")"
set -- "$corpus"
for s in "tests/fuzz/corpus/$name" "$dir/seeds/$name"; do
	[ -d "$s" ] && set -- "$@" "$s"
done
dict=
for d in "$name" "${name%%_*}"; do   # boot_load -> boot_load.dict or boot.dict
	[ -z "$dict" ] && [ -f "tests/fuzz/$d.dict" ] && dict=-dict=tests/fuzz/$d.dict
done

"$bin" -max_total_time="$secs" -timeout=10 -max_len="$max_len" \
	-print_final_stats=1 -artifact_prefix="$art" $dict "$@" >"$log" 2>&1
rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
last=$(grep -E '^#[0-9]+.*(cov|corp):' "$log" | tail -n 1)
cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')
if [ $rc -eq 0 ]; then
	echo "$target: ok, ${execs:-?} execs in ${secs}s, corpus ${corp:-?} (inputs/bytes), cov ${cov:-?}"
	exit 0
fi
echo "$target: FAILED (exit $rc) after ${execs:-?} execs; log $log; input(s):"
ls -1 "$art" | sed "s|^|  $art|"
echo "---- tail of $log"
tail -n 40 "$log"
exit 1
