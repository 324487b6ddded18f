/*
 * libFuzzer target for devices/virtq.c through the production virtio-blk
 * path: blk_backend_ops.queue_kick (devices/blk/blk.c) with a backend
 * library instance that has no socket (ipc/vu_internal.h), as vmm-blk
 * runs it. The input is a guest: a 4-byte preamble, then the bytes of a
 * guest RAM region that holds the descriptor table, the avail ring (the
 * used ring and everything else is also input), indirect tables, request
 * headers and buffers. The region is an exact-size heap buffer, so ASan
 * catches any access outside it; queue_kick pops, executes against a
 * small memfd disk and pushes every chain, and is called again while it
 * asks for it (vu_backend_rekick), at most 64 times.
 *
 * Preamble: byte 0: log2(num) (mod 5: queue of 1..16); byte 1: bit 0
 * EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 read-only disk, bit 3 poll 20 us
 * (else 0), bit 4 FLUSH negotiated (else write-through); bytes 2-3:
 * last_avail_idx (SET_VRING_BASE). Layout at RAM_GPA: descriptor table at
 * +0, avail ring at +0x100, used ring at +0x200; RAM is 4 KiB.
 *
 * Contract checks: one used element per popped chain except a malformed
 * one, which is not pushed and breaks the ring (at most one); every pushed
 * chain is counted once (answered or unanswerable); the ring is broken
 * exactly when a ring error was counted, and then pops nothing more; a
 * kick that neither broke the ring nor asked to be called again left
 * nothing available. (The used ring's contents are not checked: a request
 * may legally write guest data over them.)
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk.h"
#include "fuzz_common.h"
#include "vu_internal.h"

#define RAM_GPA   0x1000ull
#define RAM_SIZE  4096u
#define DESC_OFF  0x000u
#define AVAIL_OFF 0x100u
#define USED_OFF  0x200u
#define DISK_SIZE (16u * 512u)

static struct blk_dev fuzz_blk;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!fuzz_verbose()) {
		FILE *null = fopen("/dev/null", "w");

		/* libFuzzer captured stderr at start-up; sanitizers write fd 2 */
		if (null != NULL)
			stderr = null;
	}
	return 0;
}

static int
fuzz_disk(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz_virtq", MFD_CLOEXEC);
		FUZZ_CHECK(fd >= 0);
	}
	/* A zeroed disk of the same size for every input (reproducible). */
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && ftruncate(fd, DISK_SIZE) == 0);
	return fd;
}

/* Kick until the device stops asking for more; true if it still asks. */
static bool
fuzz_kick(struct vu_backend *b)
{
	unsigned i;

	for (i = 0; i < 64; i++) {
		blk_backend_ops.queue_kick(&fuzz_blk, b, 0);
		if (!vu_backend_rekick_pending(b, 0))
			return false;
		vu_backend_poll_kicks(b);       /* takes the request */
	}
	return true;
}

static void
fuzz_check(struct vq *vq, uint16_t base, uint16_t used_before, bool more)
{
	uint16_t popped = (uint16_t)(vq->last_avail_idx - base);
	uint16_t pushed = (uint16_t)(vq->used_idx - used_before);
	const struct blk_stats *st = &fuzz_blk.stats;

	/* Requests may write into the avail ring (it is guest RAM), so the
	 * bound is the popped count, which last_avail_idx records. */
	FUZZ_CHECK(vq->bad_chains <= 1 && st->ring_errors <= 1);
	FUZZ_CHECK(st->bad_chains == vq->bad_chains);
	FUZZ_CHECK(pushed + vq->bad_chains == popped);
	FUZZ_CHECK(st->requests + st->unanswerable == pushed);
	FUZZ_CHECK(vq->broken == (st->ring_errors == 1));
	FUZZ_CHECK(vq->bad_chains == 0 || vq->broken);
	if (vq->broken)
		FUZZ_CHECK(vq_pop(vq, &fuzz_blk.elem) == 0);
	else if (!more)
		FUZZ_CHECK(vq_avail_pending(vq) == 0);
}

static void
fuzz_run(uint8_t *ram, const uint8_t *pre)
{
	static struct vu_backend_config cfg;
	uint16_t num = (uint16_t)(1u << (pre[0] % 5));
	uint16_t base = (uint16_t)(pre[2] | pre[3] << 8), used_before;
	struct vu_mem mem = { .nregions = 1 };
	struct vq *vq = &fuzz_blk.vq[0];
	struct vu_backend *b;
	bool more;

	mem.r[0] = (struct vu_mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .host = ram };
	FUZZ_CHECK(blk_init(&fuzz_blk, fuzz_disk(), DISK_SIZE, pre[1] & 4, "fuzz", 1) == 0);
	fuzz_blk.poll_us = (pre[1] & 8) ? 20 : 0;
	blk_backend_ops.set_features(&fuzz_blk,
	    (pre[1] & 16) ? 1ull << VIRTIO_BLK_F_FLUSH : 0);
	blk_backend_config(&fuzz_blk, "fuzz", &cfg);
	b = vu_backend_new(-1, &cfg);
	FUZZ_CHECK(b != NULL);
	FUZZ_CHECK(vq_init(vq, &mem, num, RAM_GPA + DESC_OFF, RAM_GPA + AVAIL_OFF,
	    RAM_GPA + USED_OFF, base, pre[1] & 1, pre[1] & 2) == 0);
	used_before = vq->used_idx;
	more = fuzz_kick(b);
	fuzz_check(vq, base, used_before, more);
	vu_backend_free(b);
	vq_reset(vq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *ram;

	if (size < 4)
		return 0;
	ram = calloc(1, RAM_SIZE);
	FUZZ_CHECK(ram != NULL);
	memcpy(ram, data + 4, size - 4 < RAM_SIZE ? size - 4 : RAM_SIZE);
	fuzz_run(ram, data);
	free(ram);
	return 0;
}
