# make bench: start-up time and memory of vmm-reference vs QEMU, interleaved
# runs, median [p10, p90]; the table is printed and written between the
# bench:boot markers in docs/PERFORMANCE.md. BENCH_ARGS is passed to the
# script (e.g. BENCH_ARGS="--runs 40", or "--doc ''" to only print).
# Then the block backends (bench/blk.py, BLK_BENCH_ARGS): build/vu-driver
# against vmm-blk and qemu-storage-daemon, and fio on the host file.
# Then the network backend (bench/net.py, NET_BENCH_ARGS): build/vu-driver
# through vmm-net to a peer on a tap vs the tap driven directly.
BLK_BENCH_ARGS ?=
NET_BENCH_ARGS ?=
BENCH_ARGS ?=

# Every section runs even when one fails (the boot section needs /dev/kvm;
# the backend sections do not); any failure fails the target.
bench: all
	$(Q)$(DEPS) bench
	$(Q)rc=0; \
	$(PYTHON) bench/boot.py $(BENCH_ARGS) || rc=1; \
	$(PYTHON) bench/blk.py $(BLK_BENCH_ARGS) || rc=1; \
	$(PYTHON) bench/net.py $(NET_BENCH_ARGS) || rc=1; \
	exit $$rc
