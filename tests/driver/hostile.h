/*
 * vu-driver hostile: malformed descriptor chains. Each case writes one
 * chain into its window of the descriptor table (chain k owns descriptors
 * [k*W, k*W+W)) and says what a backend following the project's design
 * must answer (see tests/driver/README.md).
 *
 * Scratch layout (top DRV_SCRATCH bytes of guest RAM):
 *   pool   +0x000000  headers (16 B per chain), status bytes (+0x1000),
 *                     DISCARD/WRITE_ZEROES segments (+0x2000), indirect
 *                     tables (+0x10000, 4 KiB per chain), the data of
 *                     "good" chains (+0x58000, 512 B per chain); only
 *                     crafted chains point here
 *   target +0x100000  random bytes; every other in-RAM address a hostile
 *                     chain uses lies here, so the backend may write it
 */
#ifndef TESTS_DRIVER_HOSTILE_H
#define TESTS_DRIVER_HOSTILE_H

#include "drv.h"

#define H_MAX_CHAINS 64u
#define H_POOL_ST    0x1000ull
#define H_POOL_SEG   0x2000ull
#define H_POOL_TAB   0x10000ull
#define H_POOL_GOOD  0x58000ull
#define H_TARGET     0x100000ull

/* What the backend must do with a chain. */
enum hexp {
	HX_ANY,          /* anything but dying, hanging or skipping it:
	                    completed with any answer, or the ring broken */
	HX_BREAK,        /* malformed: ring error (err eventfd), the chain
	                    never completed, nothing after it popped */
	HX_NOREPLY,      /* no device-writable byte: completed with used
	                    len 0, or the ring broken */
	HX_OK,           /* status VIRTIO_BLK_S_OK */
	HX_IOERR,        /* status VIRTIO_BLK_S_IOERR */
	HX_UNSUPP,       /* status VIRTIO_BLK_S_UNSUPP */
	HX_ERR,          /* status IOERR or UNSUPP */
};

struct hctx {
	struct drv *d;
	uint64_t rng;
	unsigned num;            /* queue size */
	unsigned win;            /* descriptors per chain window */
	uint64_t pool;           /* gpa of the pool */
	uint64_t target;         /* gpa of the target area */
	uint64_t target_len;
	uint64_t cap;            /* disk sectors */
};

/* A case: writes chain k (variant v) and sets *head; returns the
 * expectation. */
struct hcase {
	const char *name;
	enum hexp (*gen)(struct hctx *h, unsigned k, unsigned v, uint16_t *head);
	unsigned variants;       /* how many the fixed corpus runs */
	unsigned weight;         /* relative frequency in random batches;
	                            0: alone in its batch (whole table) */
};

extern const struct hcase h_cases[];
extern const unsigned h_ncases;

uint64_t h_rand(struct hctx *h);

/* Address of chain k's status byte (preset to 0xff before submission). */
uint64_t h_status_gpa(const struct hctx *h, unsigned k);

/* Address of the 512-byte buffer a "good" chain k reads sector 0 into. */
uint64_t h_good_gpa(const struct hctx *h, unsigned k);

/* Whether a chain with this expectation may break the ring. */
static inline bool
h_may_break(enum hexp e)
{
	return e == HX_ANY || e == HX_BREAK || e == HX_NOREPLY;
}

#endif
