/*
 * vu-driver hostile: the cases. Each writes one chain at its descriptor
 * window and returns what the backend must answer (the project's design:
 * a malformed chain - loop, bad next, out-of-RAM or overflowing address,
 * readable after writable, nested indirect, bad indirect length - breaks
 * the ring: err eventfd, the chain never completed; a semantically bad
 * request in a well-formed chain gets IOERR / UNSUPP in its status byte;
 * the virtio spec: a chain may end in one indirect descriptor, a header
 * may span descriptors, an indirect table may be longer than the queue).
 * Random batches pick cases by weight with random variants; the fixed
 * corpus runs each case's variants 0..variants-1.
 *
 * Nothing here may change the disk: every write-type header addresses
 * sectors at or past the capacity (or overflowing), so a backend that
 * accepted one by mistake fails its range checks visibly instead.
 */
#include <string.h>

#include "hostile.h"

#define F_N VIRTQ_DESC_F_NEXT
#define F_W VIRTQ_DESC_F_WRITE
#define F_I VIRTQ_DESC_F_INDIRECT

uint64_t
h_rand(struct hctx *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545f4914f6cdd1dull;
}

static void
put(struct virtq_desc *t, unsigned i, uint64_t addr, uint32_t len,
    uint16_t flags, uint16_t next)
{
	t[i] = (struct virtq_desc){ addr, len, flags, next };
}

static struct virtq_desc *
ring(struct hctx *h)
{
	return h->d->vq.desc;
}

static unsigned
base(const struct hctx *h, unsigned k)
{
	return k * h->win;
}

static uint64_t
a_hdr(const struct hctx *h, unsigned k)
{
	return h->pool + 16ull * k;
}

uint64_t
h_status_gpa(const struct hctx *h, unsigned k)
{
	return h->pool + H_POOL_ST + 16ull * k;
}

uint64_t
h_good_gpa(const struct hctx *h, unsigned k)
{
	return h->pool + H_POOL_GOOD + 512ull * k;
}

static uint64_t
a_seg(const struct hctx *h, unsigned k)
{
	return h->pool + H_POOL_SEG + 32ull * k;
}

static uint64_t
a_tab(const struct hctx *h, unsigned k)
{
	return h->pool + H_POOL_TAB + 0x1000ull * k;
}

static struct virtq_desc *
tab(struct hctx *h, unsigned k)
{
	return drv_ptr(h->d, a_tab(h, k), 0x1000);
}

/* A 16-byte aligned range of `len` bytes in the target area. */
static uint64_t
a_tgt(struct hctx *h, uint64_t len)
{
	return h->target + ((h_rand(h) % (h->target_len - len)) & ~15ull);
}

static uint64_t
a_oor(struct hctx *h)
{
	return h->d->mem_size + h_rand(h) % (1ull << 40);
}

static void
set_hdr(struct hctx *h, unsigned k, uint32_t type, uint64_t sector)
{
	struct virtio_blk_req_hdr *p = drv_ptr(h->d, a_hdr(h, k), 16);

	*p = (struct virtio_blk_req_hdr){ type, 0, sector };
}

static void
set_seg(struct hctx *h, unsigned k, unsigned i, uint64_t sector, uint32_t n)
{
	struct virtio_blk_discard_write_zeroes *s =
	    drv_ptr(h->d, a_seg(h, k) + 16ull * i, 16);

	*s = (struct virtio_blk_discard_write_zeroes){ sector, n, 0 };
}

/* hdr (IN sector 0) -> data (W, 512, target) -> status, at t[i..i+2]. */
static void
read3(struct hctx *h, struct virtq_desc *t, unsigned i, unsigned k)
{
	set_hdr(h, k, VIRTIO_BLK_T_IN, 0);
	put(t, i, a_hdr(h, k), 16, F_N, (uint16_t)(i + 1));
	put(t, i + 1, a_tgt(h, 512), 512, F_W | F_N, (uint16_t)(i + 2));
	put(t, i + 2, h_status_gpa(h, k), 1, F_W, 0);
}

/* ---- descriptor-level cases ---- */

static uint64_t
rnd_addr(struct hctx *h)
{
	uint64_t r = h_rand(h);

	switch (r % 6) {
	case 0: case 1: return a_tgt(h, 4096);
	case 2: return a_oor(h);
	case 3: return ~0ull - (r >> 8) % 8192;
	case 4: return h->d->mem_size - (r >> 8) % 4096;
	default: return r | (1ull << 63);
	}
}

static uint32_t
rnd_len(struct hctx *h)
{
	uint64_t r = h_rand(h);
	static const uint32_t lens[] = { 0, 1, 15, 16, 512, 4096, 0xffffffffu };

	return r % 8 < 7 ? lens[r % 7] : (uint32_t)(r >> 32);
}

static enum hexp
g_random(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	(void)v;
	for (unsigned i = 0; i < h->win; i++) {
		uint64_t r = h_rand(h);
		/* next: inside the own window, or >= num; never into another
		 * chain's window (that chain's status byte would be hit) */
		uint16_t next = r % 4 == 0 ?
		    (uint16_t)(h->num + (r >> 16) % (65536u - h->num)) :
		    (uint16_t)(b + (r >> 16) % h->win);
		uint16_t flags = r % 16 == 0 ? (uint16_t)(r >> 40) :
		    (uint16_t)((r >> 40) % 8);

		put(ring(h), b + i, rnd_addr(h), rnd_len(h), flags, next);
	}
	*head = (uint16_t)(b + h_rand(h) % h->win);
	return HX_ANY;
}

static enum hexp
g_loop(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k), len = 3 + v % (h->win - 3);
	struct virtq_desc *t = ring(h);

	set_hdr(h, k, VIRTIO_BLK_T_IN, 0);
	put(t, b, a_hdr(h, k), 16, F_N, (uint16_t)(b + 1));
	for (unsigned i = 1; i < len; i++)
		put(t, b + i, a_tgt(h, 512), 512, F_W | F_N, (uint16_t)(b + i + 1));
	t[b + len - 1].next = (uint16_t)(b + 1 + v % (len - 1));
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_self_loop(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	read3(h, ring(h), b, k);
	if (v % 2)
		ring(h)[b].next = (uint16_t)b;
	else
		ring(h)[b + 1].next = (uint16_t)(b + 1);
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_next_oob(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	uint16_t bad = (uint16_t)(h->num + (v * 7919u + h_rand(h)) %
	    (65536u - h->num));

	read3(h, ring(h), b, k);
	ring(h)[b + v % 2].next = v % 3 == 2 ? (uint16_t)h->num : bad;
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_data_oor(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	uint64_t addr[] = { h->d->mem_size, a_oor(h), 1ull << 63,
	    h->d->mem_size + 4096 };

	read3(h, ring(h), b, k);
	ring(h)[b + 1 + (v / 4) % 2].addr = addr[v % 4];
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_hdr_oor(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	read3(h, ring(h), b, k);
	ring(h)[b].addr = v % 2 ? a_oor(h) : h->d->mem_size - 8;
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_overflow(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k), i = b + (v % 3);
	struct virtq_desc *t = ring(h);

	read3(h, t, b, k);
	t[i].addr = ~0ull - 15 - v % 4000;
	t[i].len = 0x1000 + v;
	if (v % 5 == 4) {
		t[i].addr = ~0ull;
		t[i].len = 1;
	}
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_past_end(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	uint64_t x = 1 + v % 512;
	struct virtq_desc *t = ring(h);

	read3(h, t, b, k);
	t[b + 1].addr = h->d->mem_size - x;
	t[b + 1].len = (uint32_t)(x + 1 + (v * 37u) % 4096);
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_zero_len(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	read3(h, ring(h), b, k);
	if (v % 4 == 3) {
		for (unsigned i = 0; i < 3; i++)
			ring(h)[b + i].len = 0;
	} else {
		ring(h)[b + v % 4].len = 0;
	}
	*head = (uint16_t)b;
	return HX_ANY;
}

static enum hexp
g_writable_hdr(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	(void)v;
	read3(h, ring(h), b, k);
	ring(h)[b].flags |= F_W;
	*head = (uint16_t)b;
	return HX_IOERR;
}

static enum hexp
g_read_after_write(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = ring(h);

	read3(h, t, b, k);
	if (v % 2 == 0) {  /* readable data after writable data */
		t[b + 3] = t[b + 2];
		put(t, b + 2, a_tgt(h, 512), 512, F_N, (uint16_t)(b + 3));
	} else {           /* the status byte readable, after writable data */
		t[b + 2].flags = 0;
	}
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_short_hdr(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = ring(h);

	set_hdr(h, k, VIRTIO_BLK_T_IN, 0);
	put(t, b, a_hdr(h, k), 1 + v % 15, F_N, (uint16_t)(b + 1));
	put(t, b + 1, h_status_gpa(h, k), 1, F_W, 0);
	*head = (uint16_t)b;
	return HX_IOERR;
}

static enum hexp
g_no_status(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = ring(h);

	set_hdr(h, k, v % 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, h->cap);
	put(t, b, a_hdr(h, k), 16, v % 2 ? F_N : 0, (uint16_t)(b + 1));
	put(t, b + 1, a_tgt(h, 512), 512, 0, 0);
	*head = (uint16_t)b;
	return HX_NOREPLY;
}

static enum hexp
g_many_segs(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = ring(h);

	set_hdr(h, k, VIRTIO_BLK_T_IN, 0);
	put(t, b, a_hdr(h, k), 16, F_N, (uint16_t)(b + 1));
	for (unsigned i = 1; i + 1 < h->win; i++)
		put(t, b + i, a_tgt(h, 64), 1 + v % 16, F_W | F_N, (uint16_t)(b + i + 1));
	put(t, b + h->win - 1, h_status_gpa(h, k), 1, F_W, 0);
	*head = (uint16_t)b;
	return HX_ANY;
}

static enum hexp
g_long_chain(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	struct virtq_desc *t = ring(h);

	(void)v;
	set_hdr(h, k, VIRTIO_BLK_T_IN, 0);
	put(t, 0, a_hdr(h, k), 16, F_N, 1);
	for (unsigned i = 1; i < h->num; i++)
		put(t, i, a_tgt(h, 512), 512, F_W | F_N, (uint16_t)((i + 1) % h->num));
	t[h->num - 1].next = 1;
	*head = 0;
	return HX_BREAK;
}

/* ---- indirect tables ---- */

/* Chain k's table: hdr -> data (W) -> status; returns its address. */
static uint64_t
table3(struct hctx *h, unsigned k)
{
	struct virtq_desc *t = tab(h, k);

	read3(h, t, 0, k);
	return a_tab(h, k);
}

static enum hexp
g_ind_nested(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = tab(h, k);
	uint64_t inner = a_tab(h, k) + 128 * 16;

	table3(h, k);
	put(t + 128, 0, a_tgt(h, 512), 512, F_W, 0);
	if (v % 2)         /* the table starts with an indirect descriptor */
		put(t, 0, inner, 16, F_I | F_N, 1);
	else               /* data replaced by an indirect descriptor */
		put(t, 1, inner, 16, F_I | F_N, 2);
	put(ring(h), b, a_tab(h, k), 48, F_I, 0);
	*head = (uint16_t)b;
	return HX_BREAK;
}

/* Table lengths: 0, not a multiple of 16, 1025 entries (over the 1024
 * limit), 2^32-16, out of RAM, past the end of RAM: malformed. Then valid
 * ones (only entries 0..2 are walked): num + 1 entries (longer than the
 * queue: allowed), 1024 entries. */
static enum hexp
g_ind_len(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k), w = v % 9;
	uint64_t addr = table3(h, k);
	uint32_t lens[] = { 0, 8, 24, 16 * (DRV_MAX_QUEUE + 1), 0xfffffff0u, 48,
	    48, 16 * (h->num + 1), 16 * DRV_MAX_QUEUE };
	bool ind = h->d->acked & (1ull << VIRTIO_F_RING_INDIRECT_DESC);

	if (w == 5)
		addr = a_oor(h);
	if (w == 6)
		addr = h->d->mem_size - 16;
	put(ring(h), b, addr, lens[w], F_I, 0);
	*head = (uint16_t)b;
	if (w < 7 || !ind || lens[w] / 16 > DRV_MAX_QUEUE)
		return HX_BREAK;
	return HX_OK;
}

static enum hexp
g_ind_oob(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	table3(h, k);
	tab(h, k)[v % 2].next = (uint16_t)(3 + (v * 13u) % 65533u);
	put(ring(h), b, a_tab(h, k), 48, F_I, 0);
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_ind_loop(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = tab(h, k);

	table3(h, k);
	t[2].flags |= F_N;
	t[2].next = (uint16_t)(1 + v % 2);
	put(ring(h), b, a_tab(h, k), 48, F_I, 0);
	*head = (uint16_t)b;
	return HX_BREAK;
}

static enum hexp
g_ind_next(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	table3(h, k);
	put(ring(h), b, a_tab(h, k), 48, F_I | F_N, (uint16_t)(b + 1));
	put(ring(h), b + 1, v % 2 ? a_oor(h) : a_tgt(h, 1), 1, F_W, 0);
	*head = (uint16_t)b;
	return HX_ANY;
}

/* Spec 2.7.5.3.2: normal descriptors followed by one indirect one is a
 * valid chain, and the device ignores WRITE on an indirect descriptor. */
static enum hexp
g_ind_tail(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = tab(h, k);

	set_hdr(h, k, VIRTIO_BLK_T_IN, 0);
	put(ring(h), b, a_hdr(h, k), 16, F_N, (uint16_t)(b + 1));
	put(ring(h), b + 1, a_tab(h, k), 32, F_I | (v % 2 ? F_W : 0), 0);
	put(t, 0, a_tgt(h, 512), 512, F_W | F_N, 1);
	put(t, 1, h_status_gpa(h, k), 1, F_W, 0);
	*head = (uint16_t)b;
	return h->d->acked & (1ull << VIRTIO_F_RING_INDIRECT_DESC) ?
	    HX_OK : HX_BREAK;
}

/* ---- semantic: well-formed chains, bad requests ---- */

struct sem {
	uint32_t type;
	bool from_cap;           /* sector is relative to the capacity */
	int64_t sector;
	uint32_t len;            /* data bytes (0: no data descriptor) */
	bool data_w;
	enum hexp exp;
};

static const struct sem sems[] = {
	{ VIRTIO_BLK_T_IN, true, 0, 512, true, HX_IOERR },
	{ VIRTIO_BLK_T_IN, true, -1, 1024, true, HX_IOERR },
	{ VIRTIO_BLK_T_IN, false, INT64_MAX, 4096, true, HX_IOERR },
	{ VIRTIO_BLK_T_IN, false, 1ll << 55, 512, true, HX_IOERR },
	{ VIRTIO_BLK_T_OUT, true, 0, 512, false, HX_IOERR },
	{ VIRTIO_BLK_T_OUT, true, -1, 1024, false, HX_IOERR },
	{ VIRTIO_BLK_T_OUT, false, 1ll << 55, 512, false, HX_IOERR },
	{ VIRTIO_BLK_T_OUT, false, INT64_MAX, 4096, false, HX_IOERR },
	{ 0x7f, false, 0, 512, true, HX_UNSUPP },
	{ 0xffffffffu, false, 0, 512, false, HX_UNSUPP },
	{ 2, false, 0, 0, false, HX_UNSUPP },
	{ VIRTIO_BLK_T_IN, false, 0, 100, true, HX_ANY },
	{ VIRTIO_BLK_T_IN, false, 0, 0, false, HX_ANY },
	{ VIRTIO_BLK_T_OUT, true, 0, 512, true, HX_ANY },
	{ VIRTIO_BLK_T_GET_ID, false, 0, 10, true, HX_ANY },
	{ VIRTIO_BLK_T_FLUSH, false, 12345, 0, false, HX_ANY },
	{ VIRTIO_BLK_T_IN, true, -8, 4096, true, HX_OK },
};
#define NSEMS (sizeof(sems) / sizeof(sems[0]))

static uint64_t
sem_sector(const struct hctx *h, const struct sem *s)
{
	return s->from_cap ? h->cap + (uint64_t)s->sector : (uint64_t)s->sector;
}

static enum hexp
g_semantic(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	const struct sem *s = &sems[v % NSEMS];
	unsigned b = base(h, k), i = b;
	struct virtq_desc *t = ring(h);

	set_hdr(h, k, s->type, sem_sector(h, s));
	put(t, i, a_hdr(h, k), 16, F_N, (uint16_t)(i + 1));
	if (s->len) {
		i++;
		put(t, i, a_tgt(h, s->len), s->len, F_N | (s->data_w ? F_W : 0),
		    (uint16_t)(i + 1));
	}
	put(t, i + 1, h_status_gpa(h, k), 1, F_W, 0);
	*head = (uint16_t)b;
	return s->exp;
}

/* DISCARD / WRITE_ZEROES segments out of range, and a header split over
 * two descriptors (valid: spec 2.6.4, message framing is free). */
static enum hexp
g_dwz(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);
	struct virtq_desc *t = ring(h);
	bool wz = v % 2;
	uint64_t sectors[] = { h->cap - 1, ~0ull - 3, h->cap, 0 };
	uint32_t counts[] = { 2, 8, 1, 0xffffffffu };
	unsigned f = wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;

	set_hdr(h, k, wz ? VIRTIO_BLK_T_WRITE_ZEROES : VIRTIO_BLK_T_DISCARD, 0);
	set_seg(h, k, 0, sectors[(v / 2) % 4], counts[(v / 2) % 4]);
	put(t, b, a_hdr(h, k), 16, F_N, (uint16_t)(b + 1));
	put(t, b + 1, a_seg(h, k), 16, F_N, (uint16_t)(b + 2));
	put(t, b + 2, h_status_gpa(h, k), 1, F_W, 0);
	*head = (uint16_t)b;
	return h->d->acked & (1ull << f) ? HX_ERR : HX_ANY;
}

/* A read of sector 0 into chain k's good buffer (zeroed first; hostile.c
 * checks THE pattern there). */
static enum hexp
g_good(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k);

	(void)v;
	read3(h, ring(h), b, k);
	memset(drv_ptr(h->d, h_good_gpa(h, k), 512), 0, 512);
	ring(h)[b + 1].addr = h_good_gpa(h, k);
	*head = (uint16_t)b;
	return HX_OK;
}

static enum hexp
g_split_hdr(struct hctx *h, unsigned k, unsigned v, uint16_t *head)
{
	unsigned b = base(h, k), cut = 1 + v % 15;
	struct virtq_desc *t = ring(h);

	set_hdr(h, k, VIRTIO_BLK_T_IN, 8);
	put(t, b, a_hdr(h, k), cut, F_N, (uint16_t)(b + 1));
	put(t, b + 1, a_hdr(h, k) + cut, 16 - cut, F_N, (uint16_t)(b + 2));
	put(t, b + 2, a_tgt(h, 512), 512, F_W | F_N, (uint16_t)(b + 3));
	put(t, b + 3, h_status_gpa(h, k), 1, F_W, 0);
	*head = (uint16_t)b;
	return HX_OK;
}

const struct hcase h_cases[] = {
	{ "good", g_good, 1, 2 },          /* must be first (see hostile.c) */
	{ "random", g_random, 8, 40 },
	{ "loop", g_loop, 8, 4 },
	{ "self_loop", g_self_loop, 2, 2 },
	{ "next_oob", g_next_oob, 6, 3 },
	{ "data_out_of_ram", g_data_oor, 8, 3 },
	{ "hdr_out_of_ram", g_hdr_oor, 2, 2 },
	{ "addr_len_overflow", g_overflow, 10, 3 },
	{ "past_region_end", g_past_end, 4, 3 },
	{ "zero_len", g_zero_len, 4, 2 },
	{ "writable_hdr", g_writable_hdr, 1, 2 },
	{ "read_after_write", g_read_after_write, 2, 3 },
	{ "short_hdr", g_short_hdr, 15, 2 },
	{ "no_status", g_no_status, 2, 2 },
	{ "many_segments", g_many_segs, 4, 1 },
	{ "indirect_nested", g_ind_nested, 2, 3 },
	{ "indirect_bad_len", g_ind_len, 9, 4 },
	{ "indirect_next_oob", g_ind_oob, 4, 2 },
	{ "indirect_loop", g_ind_loop, 2, 2 },
	{ "indirect_with_next", g_ind_next, 2, 1 },
	{ "indirect_tail", g_ind_tail, 2, 1 },
	{ "semantic", g_semantic, NSEMS, 4 },
	{ "discard_write_zeroes", g_dwz, 8, 2 },
	{ "split_header", g_split_hdr, 15, 1 },
	{ "chain_longer_than_queue", g_long_chain, 1, 0 },  /* solo: whole table */
};
const unsigned h_ncases = sizeof(h_cases) / sizeof(h_cases[0]);
