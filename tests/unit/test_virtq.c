/*
 * cmocka: devices/virtq.c, the split-ring walker, against hostile
 * descriptor tables laid out in a fake guest memory (one malloc'd region,
 * plus a huge never-touched MAP_NORESERVE region for length-sum cases).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "virtq.h"

#define RAM_GPA   0x10000ull
#define RAM_SIZE  (1ull << 20)
#define BIG_GPA   0x100000000ull        /* second region: 4 GiB, untouched */
#define BIG_SIZE  0x100000000ull
#define DESC_GPA  RAM_GPA
#define AVAIL_GPA (RAM_GPA + 0x4000)
#define USED_GPA  (RAM_GPA + 0x5000)
#define BUF_GPA   (RAM_GPA + 0x20000)   /* data buffers */
#define IND_GPA   (RAM_GPA + 0x40000)   /* indirect tables */
#define IND2_GPA  (RAM_GPA + 0x50000)

#define R 0u
#define W VIRTQ_DESC_F_WRITE
#define N VIRTQ_DESC_F_NEXT
#define I VIRTQ_DESC_F_INDIRECT

struct fx {
	struct vu_mem mem;
	uint8_t *ram;
	struct vq vq;
	struct vq_elem e;
	uint16_t num;
};

static struct fx fx;

static void *
host(uint64_t gpa)
{
	assert_true(gpa >= RAM_GPA && gpa < RAM_GPA + RAM_SIZE);
	return fx.ram + (gpa - RAM_GPA);
}

static struct virtq_desc *
desc_at(uint64_t table_gpa, unsigned i)
{
	return (struct virtq_desc *)host(table_gpa) + i;
}

static void
set_desc(uint64_t table_gpa, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	struct virtq_desc *d = desc_at(table_gpa, i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static struct virtq_avail *avail(void) { return host(AVAIL_GPA); }
static struct virtq_used *used(void) { return host(USED_GPA); }

/* Make chain `head` available. */
static void
post(uint16_t head)
{
	struct virtq_avail *a = avail();

	a->ring[a->idx & (fx.num - 1)] = head;
	a->idx++;
}

static void
start(uint16_t num, bool event_idx, bool indirect)
{
	fx.num = num;
	assert_int_equal(vq_init(&fx.vq, &fx.mem, num, DESC_GPA, AVAIL_GPA, USED_GPA, 0,
	    event_idx, indirect), 0);
}

static int
setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(fx.ram);
	memset(fx.ram, 0, RAM_SIZE);
	fx.mem.nregions = 2;
	fx.mem.r[0] = (struct vu_mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .host = fx.ram };
	fx.mem.r[1].host = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(fx.mem.r[1].host != MAP_FAILED);
	fx.mem.r[1].gpa = BIG_GPA;
	fx.mem.r[1].size = BIG_SIZE;
	start(8, false, true);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	munmap(fx.mem.r[1].host, BIG_SIZE);
	free(fx.ram);
	return 0;
}

/* ------------------------------------------------------ table of chains */

struct d { uint64_t table; unsigned i; uint64_t addr; uint32_t len; uint16_t flags, next; };

struct chain_case {
	const char *name;
	bool indirect;                  /* negotiated */
	struct d d[12];                 /* len 0 and addr 0 and table 0 ends */
	int rc;
	unsigned out_num, in_num;
	uint64_t out_len, in_len;
};

#define B(k) (BUF_GPA + 0x1000ull * (k))

static const struct chain_case chain_cases[] = {
	{ "direct good", true, {
		{ DESC_GPA, 0, B(0), 16, R | N, 1 }, { DESC_GPA, 1, B(1), 512, W | N, 2 },
		{ DESC_GPA, 2, B(2), 1, W, 0 } }, 1, 1, 2, 16, 513 },
	{ "loop", true, {
		{ DESC_GPA, 0, B(0), 16, R | N, 1 }, { DESC_GPA, 1, B(1), 16, R | N, 0 } },
		-EBADMSG, 0, 0, 0, 0 },
	{ "chain longer than the queue", true, {
		{ DESC_GPA, 0, B(0), 1, R | N, 1 }, { DESC_GPA, 1, B(0), 1, R | N, 2 },
		{ DESC_GPA, 2, B(0), 1, R | N, 3 }, { DESC_GPA, 3, B(0), 1, R | N, 4 },
		{ DESC_GPA, 4, B(0), 1, R | N, 5 }, { DESC_GPA, 5, B(0), 1, R | N, 6 },
		{ DESC_GPA, 6, B(0), 1, R | N, 7 }, { DESC_GPA, 7, B(0), 1, R | N, 0 } },
		-EBADMSG, 0, 0, 0, 0 },
	{ "next index out of range", true, {
		{ DESC_GPA, 0, B(0), 16, R | N, 8 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "address out of RAM", true, {
		{ DESC_GPA, 0, 0x1000, 16, R, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "address between regions", true, {
		{ DESC_GPA, 0, RAM_GPA + RAM_SIZE, 16, R, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "length past 2^64", true, {
		{ DESC_GPA, 0, UINT64_MAX - 15, 32, R, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "length past the region end", true, {
		{ DESC_GPA, 0, RAM_GPA + RAM_SIZE - 8, 16, W, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "zero-length buffer skipped", true, {
		{ DESC_GPA, 0, B(0), 16, R | N, 1 }, { DESC_GPA, 1, 0xdead0000, 0, R | N, 2 },
		{ DESC_GPA, 2, B(2), 1, W, 0 } }, 1, 1, 1, 16, 1 },
	{ "writable then readable", true, {
		{ DESC_GPA, 0, B(0), 1, W | N, 1 }, { DESC_GPA, 1, B(1), 16, R, 0 } },
		-EBADMSG, 0, 0, 0, 0 },
	{ "length sum past UINT32_MAX", true, {
		{ DESC_GPA, 0, BIG_GPA, 0xc0000000u, W | N, 1 },
		{ DESC_GPA, 1, BIG_GPA, 0xc0000000u, W, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "big buffers under UINT32_MAX", true, {
		{ DESC_GPA, 0, BIG_GPA, 0x7fffffffu, R | N, 1 },
		{ DESC_GPA, 1, BIG_GPA, 0x80000000u, R | N, 2 },
		{ DESC_GPA, 2, BIG_GPA, 0xffffffffu, W, 0 } },
		1, 2, 1, 0xffffffffull, 0xffffffffull },
	{ "indirect not negotiated", false, {
		{ DESC_GPA, 0, IND_GPA, 32, I, 0 },
		{ IND_GPA, 0, B(0), 16, R | N, 1 }, { IND_GPA, 1, B(1), 1, W, 0 } },
		-EBADMSG, 0, 0, 0, 0 },
	{ "indirect good", true, {
		{ DESC_GPA, 0, IND_GPA, 48, I, 0 },
		{ IND_GPA, 0, B(0), 16, R | N, 1 }, { IND_GPA, 1, B(1), 512, W | N, 2 },
		{ IND_GPA, 2, B(2), 1, W, 0 } }, 1, 1, 2, 16, 513 },
	{ "indirect: WRITE and NEXT on it ignored", true, {
		{ DESC_GPA, 0, IND_GPA, 32, I | W | N, 5 },
		{ IND_GPA, 0, B(0), 16, R | N, 1 }, { IND_GPA, 1, B(1), 1, W, 0 } },
		1, 1, 1, 16, 1 },
	{ "direct then indirect (mixed)", true, {
		{ DESC_GPA, 0, B(0), 16, R | N, 3 }, { DESC_GPA, 3, IND_GPA, 32, I, 0 },
		{ IND_GPA, 0, B(1), 4096, W | N, 1 }, { IND_GPA, 1, B(2), 1, W, 0 } },
		1, 1, 2, 16, 4097 },
	{ "indirect in indirect", true, {
		{ DESC_GPA, 0, IND_GPA, 32, I, 0 },
		{ IND_GPA, 0, B(0), 16, R | N, 1 }, { IND_GPA, 1, IND2_GPA, 16, I, 0 },
		{ IND2_GPA, 0, B(1), 1, W, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "indirect table length 17", true, {
		{ DESC_GPA, 0, IND_GPA, 17, I, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "indirect table length 0", true, {
		{ DESC_GPA, 0, IND_GPA, 0, I, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "indirect table of 9 entries on an 8-entry ring", true, {
		{ DESC_GPA, 0, IND_GPA, 16 * 9, I, 0 },
		{ IND_GPA, 0, B(0), 1, R | N, 1 }, { IND_GPA, 1, B(0), 1, R | N, 2 },
		{ IND_GPA, 2, B(0), 1, R | N, 3 }, { IND_GPA, 3, B(0), 1, R | N, 4 },
		{ IND_GPA, 4, B(0), 1, R | N, 5 }, { IND_GPA, 5, B(0), 1, R | N, 6 },
		{ IND_GPA, 6, B(0), 1, R | N, 7 }, { IND_GPA, 7, B(0), 1, R | N, 8 },
		{ IND_GPA, 8, B(1), 1, W, 0 } }, 1, 8, 1, 8, 1 },
	{ "indirect table over VQ_MAX_SIZE entries", true, {
		{ DESC_GPA, 0, IND_GPA, 16 * (VQ_MAX_SIZE + 1), I, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "indirect table out of RAM", true, {
		{ DESC_GPA, 0, RAM_GPA + RAM_SIZE - 16, 32, I, 0 } }, -EBADMSG, 0, 0, 0, 0 },
	{ "loop inside indirect", true, {
		{ DESC_GPA, 0, IND_GPA, 32, I, 0 },
		{ IND_GPA, 0, B(0), 16, R | N, 1 }, { IND_GPA, 1, B(0), 16, R | N, 0 } },
		-EBADMSG, 0, 0, 0, 0 },
	{ "indirect next out of table", true, {
		{ DESC_GPA, 0, IND_GPA, 32, I, 0 },
		{ IND_GPA, 0, B(0), 16, R | N, 2 } }, -EBADMSG, 0, 0, 0, 0 },
};

static void
load_case(const struct chain_case *c)
{
	const struct d *d;

	memset(fx.ram, 0, RAM_SIZE);
	start(8, false, c->indirect);
	for (d = c->d; d->table != 0; d++)
		set_desc(d->table, d->i, d->addr, d->len, d->flags, d->next);
}

static void
test_chain_table(void **state)
{
	const struct chain_case *c;
	int rc;

	(void)state;
	for (c = chain_cases; c < chain_cases + sizeof(chain_cases) / sizeof(*c); c++) {
		print_message("%-40s\n", c->name);
		load_case(c);
		post(0);
		rc = vq_pop(&fx.vq, &fx.e);
		assert_int_equal(rc, c->rc);
		assert_int_equal(fx.e.head, 0);
		assert_int_equal(fx.e.out_num, c->out_num);
		assert_int_equal(fx.e.in_num, c->in_num);
		assert_int_equal(fx.e.out_len, c->out_len);
		assert_int_equal(fx.e.in_len, c->in_len);
		assert_int_equal(fx.vq.bad_chains, rc < 0 ? 1 : 0);
		assert_false(fx.vq.broken);
		/* consumed either way */
		assert_int_equal(fx.vq.last_avail_idx, 1);
		assert_int_equal(vq_pop(&fx.vq, &fx.e), 0);
	}
}

static void
test_chain_iovecs_point_into_ram(void **state)
{
	(void)state;
	load_case(&chain_cases[0]);
	post(0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_ptr_equal(fx.e.iov[0].iov_base, host(B(0)));
	assert_int_equal(fx.e.iov[0].iov_len, 16);
	assert_ptr_equal(fx.e.iov[1].iov_base, host(B(1)));
	assert_ptr_equal(fx.e.iov[2].iov_base, host(B(2)));
}

/* Two more regions, guest-physically adjacent (ADJ_GPA, ADJ_GPA + 4K),
 * with host memory that is not contiguous. */
#define ADJ_GPA 0x300000000ull

static uint8_t adj_a[4096], adj_b[4096];

static void
add_adjacent_regions(void)
{
	fx.mem.r[2] = (struct vu_mem_region){ .gpa = ADJ_GPA, .size = 4096, .host = adj_a };
	fx.mem.r[3] = (struct vu_mem_region){ .gpa = ADJ_GPA + 4096, .size = 4096,
		.host = adj_b };
	fx.mem.nregions = 4;
}

/* A buffer running on into the adjacent region: one segment per region. */
static void
test_buffer_spans_regions(void **state)
{
	uint64_t got;

	(void)state;
	add_adjacent_regions();
	assert_ptr_equal(vu_mem_ptr_prefix(&fx.mem, ADJ_GPA + 4000, 200, &got), adj_a + 4000);
	assert_int_equal(got, 96);
	assert_null(vu_mem_ptr(&fx.mem, ADJ_GPA + 4000, 200));
	assert_null(vu_mem_ptr_prefix(&fx.mem, UINT64_MAX - 4, 10, &got));
	assert_int_equal(got, 0);
	set_desc(DESC_GPA, 0, B(0), 16, R | N, 1);
	set_desc(DESC_GPA, 1, ADJ_GPA + 4000, 200, W, 0);
	post(0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(fx.e.in_num, 2);
	assert_int_equal(fx.e.in_len, 200);
	assert_ptr_equal(fx.e.iov[1].iov_base, adj_a + 4000);
	assert_int_equal(fx.e.iov[1].iov_len, 96);
	assert_ptr_equal(fx.e.iov[2].iov_base, adj_b);
	assert_int_equal(fx.e.iov[2].iov_len, 104);
	/* past the second region's end: nothing after it */
	set_desc(DESC_GPA, 1, ADJ_GPA + 4000, 4096 + 97, W, 0);
	post(0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), -EBADMSG);
}

/* The longest walk: a full direct chain (1023) plus a full indirect table
 * (1024) is 2047 segments; buffers split across regions count extra. */
static void
long_chain(unsigned splits)
{
	unsigned i;

	memset(fx.ram, 0, RAM_SIZE);
	start(VQ_MAX_SIZE, false, true);
	for (i = 0; i < VQ_MAX_SIZE - 1; i++)
		set_desc(DESC_GPA, i, B(0), 1, R | N, (uint16_t)(i + 1));
	set_desc(DESC_GPA, VQ_MAX_SIZE - 1, IND_GPA, 16 * VQ_MAX_SIZE, I, 0);
	for (i = 0; i < VQ_MAX_SIZE; i++)
		set_desc(IND_GPA, i, i < splits ? ADJ_GPA + 4095 : B(0), i < splits ? 2 : 1,
		    R | N, (uint16_t)(i + 1));
	desc_at(IND_GPA, VQ_MAX_SIZE - 1)->flags = R;
	post(0);
}

static void
test_too_many_segments(void **state)
{
	(void)state;
	add_adjacent_regions();
	long_chain(0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(fx.e.out_num, 2 * VQ_MAX_SIZE - 1);
	long_chain(1);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(fx.e.out_num, VQ_MAX_IOV);
	long_chain(2);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), -EBADMSG);
	assert_false(fx.vq.broken);
}

/* The device's policy for a malformed chain: vq_set_broken. */
static void
test_set_broken(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, B(0), 16, R, 0);
	post(0);
	post(0);
	vq_set_broken(&fx.vq);
	assert_true(fx.vq.broken);
	assert_int_equal(vq_avail_pending(&fx.vq), 0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 0);
	start(8, false, false);         /* a restart clears it */
	assert_false(fx.vq.broken);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
}

/* --------------------------------------------------------- ring errors */

static void
test_avail_idx_jump(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, B(0), 16, R, 0);
	avail()->idx = 9;               /* num is 8 */
	assert_int_equal(vq_pop(&fx.vq, &fx.e), -EIO);
	assert_true(fx.vq.broken);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 0);
	assert_int_equal(vq_avail_pending(&fx.vq), 0);
	avail()->idx = 1;
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 0);     /* stays broken */
}

static void
test_avail_idx_full_ring_ok(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < 8; i++) {
		set_desc(DESC_GPA, i, B(i), 16, R, 0);
		post((uint16_t)i);
	}
	assert_int_equal(vq_avail_pending(&fx.vq), 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
		assert_int_equal(fx.e.head, i);
	}
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 0);
}

static void
test_head_out_of_range(void **state)
{
	(void)state;
	post(8);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), -EIO);
	assert_true(fx.vq.broken);
}

static void
test_bad_chain_then_good(void **state)
{
	(void)state;
	set_desc(DESC_GPA, 0, 0x10, 16, R, 0);          /* out of RAM */
	set_desc(DESC_GPA, 1, B(0), 16, R, 0);
	post(0);
	post(1);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), -EBADMSG);
	assert_int_equal(fx.e.head, 0);
	vq_push(&fx.vq, fx.e.head, 0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(fx.e.head, 1);
	assert_int_equal(fx.vq.bad_chains, 1);
}

static void
test_avail_index_wraps(void **state)
{
	(void)state;
	memset(fx.ram, 0, RAM_SIZE);
	avail()->idx = 0xffff;
	fx.num = 8;
	assert_int_equal(vq_init(&fx.vq, &fx.mem, 8, DESC_GPA, AVAIL_GPA, USED_GPA,
	    0xffff, false, false), 0);
	set_desc(DESC_GPA, 3, B(0), 16, R, 0);
	set_desc(DESC_GPA, 4, B(0), 16, R, 0);
	post(3);        /* ring[7], idx 0 */
	post(4);        /* ring[0], idx 1 */
	assert_int_equal(vq_avail_pending(&fx.vq), 2);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(fx.e.head, 3);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(fx.e.head, 4);
	assert_int_equal(fx.vq.last_avail_idx, 1);
}

/* ---------------------------------------------------------- used ring */

static void
test_push_publishes_used(void **state)
{
	(void)state;
	vq_push(&fx.vq, 3, 100);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(used()->ring[0].id, 3);
	assert_int_equal(used()->ring[0].len, 100);
	vq_push(&fx.vq, 5, 7);
	assert_int_equal(used()->idx, 2);
	assert_int_equal(used()->ring[1].id, 5);
}

/* vq_fill writes the element but not used->idx; vq_flush publishes every
 * filled one at once; vq_push after fills publishes them too. */
static void
test_fill_then_flush(void **state)
{
	(void)state;
	vq_fill(&fx.vq, 3, 100);
	vq_fill(&fx.vq, 4, 50);
	assert_int_equal(used()->idx, 0);
	assert_int_equal(used()->ring[0].id, 3);
	assert_int_equal(used()->ring[1].len, 50);
	vq_flush(&fx.vq);
	assert_int_equal(used()->idx, 2);
	vq_fill(&fx.vq, 6, 1);
	vq_push(&fx.vq, 7, 2);
	assert_int_equal(used()->idx, 4);
	assert_int_equal(used()->ring[3].id, 7);
}

static void
test_init_resumes_used_idx(void **state)
{
	(void)state;
	used()->idx = 0xffff;
	start(8, false, false);
	assert_int_equal(fx.vq.used_idx, 0xffff);
	vq_push(&fx.vq, 1, 2);
	assert_int_equal(used()->ring[7].id, 1);
	assert_int_equal(used()->idx, 0);
}

static void
test_notify_no_event_idx(void **state)
{
	(void)state;
	vq_push(&fx.vq, 0, 0);
	assert_true(vq_should_notify(&fx.vq));
	assert_false(vq_should_notify(&fx.vq));         /* nothing new */
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	vq_push(&fx.vq, 0, 0);
	assert_false(vq_should_notify(&fx.vq));
	avail()->flags = 0;
	vq_push(&fx.vq, 0, 0);
	assert_true(vq_should_notify(&fx.vq));
}

static void
test_notify_event_idx(void **state)
{
	uint16_t *used_event = (uint16_t *)host(AVAIL_GPA + 4 + 2 * 8);

	(void)state;
	start(8, true, false);
	assert_ptr_equal(fx.vq.used_event, used_event);
	vq_push(&fx.vq, 0, 0);                  /* used 1 */
	assert_true(vq_should_notify(&fx.vq));  /* first: always */
	*used_event = 1;                        /* wake me when entry 1 is used */
	vq_push(&fx.vq, 0, 0);                  /* used 2 */
	assert_true(vq_should_notify(&fx.vq));
	*used_event = 5;
	vq_push(&fx.vq, 0, 0);                  /* used 3 */
	assert_false(vq_should_notify(&fx.vq));
	vq_push(&fx.vq, 0, 0);                  /* 4 */
	vq_push(&fx.vq, 0, 0);                  /* 5 */
	assert_false(vq_should_notify(&fx.vq));
	vq_push(&fx.vq, 0, 0);                  /* 6: entry 5 used */
	assert_true(vq_should_notify(&fx.vq));
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;   /* ignored with EVENT_IDX */
	*used_event = 6;
	vq_push(&fx.vq, 0, 0);
	assert_true(vq_should_notify(&fx.vq));
}

static void
test_set_notification(void **state)
{
	uint16_t *avail_event = (uint16_t *)host(USED_GPA + 4 + 8 * 8);

	(void)state;
	vq_set_notification(&fx.vq, false);
	assert_int_equal(used()->flags, VIRTQ_USED_F_NO_NOTIFY);
	vq_set_notification(&fx.vq, true);
	assert_int_equal(used()->flags, 0);
	start(8, true, false);
	set_desc(DESC_GPA, 0, B(0), 16, R, 0);
	post(0);
	post(0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	vq_set_notification(&fx.vq, false);
	assert_int_equal(*avail_event, 0);
	vq_set_notification(&fx.vq, true);
	assert_int_equal(*avail_event, 2);
	assert_int_equal(used()->flags, 0);
}

/* -------------------------------------------------------------- vq_init */

struct init_case {
	const char *name;
	uint16_t num;
	uint64_t desc, avail, used;
};

static const struct init_case init_bad[] = {
	{ "num 0", 0, DESC_GPA, AVAIL_GPA, USED_GPA },
	{ "num 3", 3, DESC_GPA, AVAIL_GPA, USED_GPA },
	{ "num 2048", 2048, DESC_GPA, AVAIL_GPA, USED_GPA },
	{ "desc unaligned", 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA },
	{ "avail unaligned", 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA },
	{ "used unaligned", 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2 },
	{ "desc out of RAM", 8, 0x1000, AVAIL_GPA, USED_GPA },
	{ "avail out of RAM", 8, DESC_GPA, 0x2000, USED_GPA },
	{ "used out of RAM", 8, DESC_GPA, AVAIL_GPA, 0x3000 },
	{ "desc crosses RAM end", 8, RAM_GPA + RAM_SIZE - 64, AVAIL_GPA, USED_GPA },
	{ "used crosses RAM end", 8, DESC_GPA, AVAIL_GPA, RAM_GPA + RAM_SIZE - 68 },
	{ "avail wraps 2^64", 8, DESC_GPA, UINT64_MAX - 7, USED_GPA },
};

static void
test_init_rejects(void **state)
{
	const struct init_case *c;

	(void)state;
	for (c = init_bad; c < init_bad + sizeof(init_bad) / sizeof(*c); c++) {
		print_message("%-24s\n", c->name);
		assert_int_equal(vq_init(&fx.vq, &fx.mem, c->num, c->desc, c->avail, c->used,
		    0, false, false), -EINVAL);
		assert_int_equal(fx.vq.num, 0);
		assert_int_equal(vq_pop(&fx.vq, &fx.e), 0);
	}
	assert_int_equal(vq_init(&fx.vq, &fx.mem, 8, RAM_GPA + RAM_SIZE - 128,
	    AVAIL_GPA, RAM_GPA + RAM_SIZE - 68 - 4, 0, false, false), 0);
	assert_int_equal(vq_init(&fx.vq, &fx.mem, 1024, DESC_GPA, AVAIL_GPA, USED_GPA,
	    0, true, true), 0);
}

/* ------------------------------------------------------- copy helpers */

static void
test_copy_helpers(void **state)
{
	uint8_t buf[32], *b0 = host(B(0)), *b1 = host(B(1));
	unsigned i;

	(void)state;
	for (i = 0; i < 16; i++)
		b0[i] = (uint8_t)i;
	for (i = 0; i < 8; i++)
		b1[i] = (uint8_t)(16 + i);
	set_desc(DESC_GPA, 0, B(0), 16, R | N, 1);
	set_desc(DESC_GPA, 1, B(1), 8, R | N, 2);
	set_desc(DESC_GPA, 2, B(2), 4, W | N, 3);
	set_desc(DESC_GPA, 3, B(3), 4, W, 0);
	post(0);
	assert_int_equal(vq_pop(&fx.vq, &fx.e), 1);
	assert_int_equal(vq_iov_to_buf(&fx.e, 12, buf, sizeof(buf)), 12);
	for (i = 0; i < 12; i++)
		assert_int_equal(buf[i], 12 + i);
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(vq_buf_to_iov(&fx.e, 2, buf, 32), 6);
	assert_int_equal(((uint8_t *)host(B(2)))[1], 0);
	assert_int_equal(((uint8_t *)host(B(2)))[2], 0xab);
	assert_int_equal(((uint8_t *)host(B(3)))[3], 0xab);
	assert_int_equal(((uint8_t *)host(B(3)))[4], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_iovecs_point_into_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_spans_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_full_ring_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chain_then_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_index_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_publishes_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_then_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_resumes_used_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_no_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_notification, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_helpers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
