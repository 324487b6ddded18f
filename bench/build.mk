# make bench: start-up time and memory of vmm-reference vs QEMU, interleaved
# runs, median [p10, p90]; the table is printed and written between the
# bench:boot markers in docs/PERFORMANCE.md. BENCH_ARGS is passed to the
# script (e.g. BENCH_ARGS="--runs 40", or "--doc ''" to only print).
# Then the block backends (bench/blk.py, BLK_BENCH_ARGS): build/vu-driver
# against vmm-blk and qemu-storage-daemon, and fio on the host file.
BLK_BENCH_ARGS ?=
BENCH_ARGS ?=

bench: all
	$(Q)$(DEPS) bench
	$(Q)$(PYTHON) bench/boot.py $(BENCH_ARGS)
	$(Q)$(PYTHON) bench/blk.py $(BLK_BENCH_ARGS)
