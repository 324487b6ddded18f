/*
 * cmocka: devices/blk/blk.c, request parsing and execution against a real
 * temporary disk file. Most cases build a vq_elem by hand (header, payload,
 * data, status as separate segments, like Linux); the rest go through a
 * real split ring in a fake guest memory with the production queue_kick
 * and a backend library instance without a socket (ipc/vu_internal.h),
 * eventfds as call and err fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "blk.h"
#include "vu_internal.h"

#define SECTORS   64u
#define DISK_SIZE (SECTORS * 512u)
#define NONE      0xeeu              /* status byte before the request */

struct fx {
	struct blk_dev d;
	int fd;
	char path[64];
	struct virtio_blk_req_hdr hdr;
	uint8_t payload[4096];
	uint8_t data[8192];
	uint8_t status;
};

static struct fx *fx;

static uint8_t
pattern(uint64_t off)
{
	return (uint8_t)((off / 512) * 13 + (off % 512) * 7 + 1);
}

static int
setup(void **state)
{
	static uint8_t buf[DISK_SIZE];
	unsigned i;

	(void)state;
	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->path, sizeof(fx->path), "/tmp/test_blk.XXXXXX");
	fx->fd = mkstemp(fx->path);
	assert_true(fx->fd >= 0);
	for (i = 0; i < DISK_SIZE; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(fx->fd, buf, DISK_SIZE, 0), DISK_SIZE);
	assert_int_equal(blk_init(&fx->d, fx->fd, DISK_SIZE, false, "test-disk", 1), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(fx->fd);
	unlink(fx->path);
	free(fx);
	return 0;
}

/* ----------------------------------------------------- one request */

struct rq {
	uint32_t type;
	uint64_t sector;
	size_t hdr_len;        /* readable header bytes (16 normally) */
	size_t out_len;        /* payload bytes after the header */
	size_t in_len;         /* writable data bytes before the status */
	bool status;           /* a writable status byte */
};

/* Build the chain of r over fx's buffers and run it; returns used len. */
static uint32_t
run(const struct rq *r)
{
	struct vq_elem *e = &fx->d.elem;
	struct iovec *v = e->iov;

	memset(e, 0, offsetof(struct vq_elem, iov));
	fx->hdr = (struct virtio_blk_req_hdr){ .type = r->type, .sector = r->sector };
	fx->status = NONE;
	if (r->hdr_len)
		*v++ = (struct iovec){ &fx->hdr, r->hdr_len };
	if (r->out_len)
		*v++ = (struct iovec){ fx->payload, r->out_len };
	e->out_num = (unsigned)(v - e->iov);
	e->out_len = r->hdr_len + r->out_len;
	if (r->in_len)
		*v++ = (struct iovec){ fx->data, r->in_len };
	if (r->status)
		*v++ = (struct iovec){ &fx->status, 1 };
	e->in_num = (unsigned)(v - e->iov) - e->out_num;
	e->in_len = r->in_len + r->status;
	return blk_handle(&fx->d, e);
}

static void
set_dwz(unsigned i, uint64_t sector, uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = { sector, num, flags };

	memcpy(fx->payload + 16 * i, &s, sizeof(s));
}

static void
assert_file_pattern(uint64_t off, uint64_t len)
{
	uint8_t b[512];
	uint64_t i;

	for (i = 0; i < len; i++) {
		if (i % 512 == 0)
			assert_int_equal(pread(fx->fd, b, 512, (off_t)(off + i)), 512);
		assert_int_equal(b[i % 512], pattern(off + i));
	}
}

static void
assert_file_byte(uint64_t off, uint64_t len, uint8_t want)
{
	uint8_t b;
	uint64_t i;

	for (i = 0; i < len; i += 97) {
		assert_int_equal(pread(fx->fd, &b, 1, (off_t)(off + i)), 1);
		assert_int_equal(b, want);
	}
}

/* ----------------------------------------------------- the table */

enum setup_kind { PLAIN, RO, DWZ_ONE, DWZ_TWO, DWZ_UNMAP, DWZ_BADFLAG, DWZ_FAR,
	DWZ_BIG, DWZ_WRAP };

struct blk_case {
	const char *name;
	enum setup_kind kind;
	struct rq rq;
	uint8_t status;        /* NONE: not written */
	uint32_t used;
};

#define H 16
static const struct blk_case cases[] = {
	{ "read 2 sectors", PLAIN, { VIRTIO_BLK_T_IN, 3, H, 0, 1024, true }, 0, 1025 },
	{ "read last sector", PLAIN, { VIRTIO_BLK_T_IN, 63, H, 0, 512, true }, 0, 513 },
	{ "read sector at capacity", PLAIN, { VIRTIO_BLK_T_IN, 64, H, 0, 512, true }, 1, 1 },
	{ "read crosses capacity", PLAIN, { VIRTIO_BLK_T_IN, 63, H, 0, 1024, true }, 1, 1 },
	{ "read sector+len overflows", PLAIN,
		{ VIRTIO_BLK_T_IN, UINT64_MAX, H, 0, 1024, true }, 1, 1 },
	{ "read huge sector", PLAIN,
		{ VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, H, 0, 512, true }, 1, 1 },
	{ "read len not x512", PLAIN, { VIRTIO_BLK_T_IN, 0, H, 0, 100, true }, 1, 1 },
	{ "read no data", PLAIN, { VIRTIO_BLK_T_IN, 0, H, 0, 0, true }, 0, 1 },
	{ "write 1 sector", PLAIN, { VIRTIO_BLK_T_OUT, 5, H, 512, 0, true }, 0, 1 },
	{ "write past capacity", PLAIN, { VIRTIO_BLK_T_OUT, 64, H, 512, 0, true }, 1, 1 },
	{ "write len not x512", PLAIN, { VIRTIO_BLK_T_OUT, 0, H, 100, 0, true }, 1, 1 },
	{ "write on read-only", RO, { VIRTIO_BLK_T_OUT, 0, H, 512, 0, true }, 1, 1 },
	{ "read on read-only", RO, { VIRTIO_BLK_T_IN, 0, H, 0, 512, true }, 0, 513 },
	{ "flush", PLAIN, { VIRTIO_BLK_T_FLUSH, 0, H, 0, 0, true }, 0, 1 },
	{ "get id", PLAIN, { VIRTIO_BLK_T_GET_ID, 0, H, 0, 20, true }, 0, 21 },
	{ "get id short buffer", PLAIN, { VIRTIO_BLK_T_GET_ID, 0, H, 0, 4, true }, 0, 5 },
	{ "unknown type", PLAIN, { 99, 0, H, 0, 512, true }, 2, 1 },
	{ "legacy SCSI type", PLAIN, { 2, 0, H, 0, 512, true }, 2, 1 },
	{ "short header", PLAIN, { VIRTIO_BLK_T_IN, 0, 8, 0, 512, true }, 1, 1 },
	{ "no header", PLAIN, { VIRTIO_BLK_T_IN, 0, 0, 0, 512, true }, 1, 1 },
	{ "no status byte", PLAIN, { VIRTIO_BLK_T_IN, 0, H, 0, 0, false }, NONE, 0 },
	{ "discard", DWZ_ONE, { VIRTIO_BLK_T_DISCARD, 0, H, 16, 0, true }, 0, 1 },
	{ "discard payload 8", DWZ_ONE, { VIRTIO_BLK_T_DISCARD, 0, H, 8, 0, true }, 1, 1 },
	{ "discard payload 24", DWZ_ONE, { VIRTIO_BLK_T_DISCARD, 0, H, 24, 0, true }, 1, 1 },
	{ "discard no payload", DWZ_ONE, { VIRTIO_BLK_T_DISCARD, 0, H, 0, 0, true }, 1, 1 },
	{ "discard 2 segments", DWZ_TWO, { VIRTIO_BLK_T_DISCARD, 0, H, 32, 0, true }, 2, 1 },
	{ "discard with unmap", DWZ_UNMAP, { VIRTIO_BLK_T_DISCARD, 0, H, 16, 0, true }, 2, 1 },
	{ "discard unknown flag", DWZ_BADFLAG,
		{ VIRTIO_BLK_T_DISCARD, 0, H, 16, 0, true }, 2, 1 },
	{ "discard past capacity", DWZ_FAR, { VIRTIO_BLK_T_DISCARD, 0, H, 16, 0, true }, 1, 1 },
	{ "discard over max sectors", DWZ_BIG,
		{ VIRTIO_BLK_T_DISCARD, 0, H, 16, 0, true }, 1, 1 },
	{ "discard sector wraps", DWZ_WRAP, { VIRTIO_BLK_T_DISCARD, 0, H, 16, 0, true }, 1, 1 },
	{ "discard on read-only", RO, { VIRTIO_BLK_T_DISCARD, 0, H, 16, 0, true }, 1, 1 },
	{ "write zeroes", DWZ_ONE, { VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 16, 0, true }, 0, 1 },
	{ "write zeroes unmap", DWZ_UNMAP,
		{ VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 16, 0, true }, 0, 1 },
	{ "write zeroes unknown flag", DWZ_BADFLAG,
		{ VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 16, 0, true }, 2, 1 },
	{ "write zeroes 2 segments", DWZ_TWO,
		{ VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 32, 0, true }, 2, 1 },
	{ "write zeroes past capacity", DWZ_FAR,
		{ VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 16, 0, true }, 1, 1 },
	{ "write zeroes on read-only", RO,
		{ VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 16, 0, true }, 1, 1 },
};

static void
prepare(const struct blk_case *c)
{
	memset(fx->payload, 0x5a, sizeof(fx->payload));
	memset(fx->data, NONE, sizeof(fx->data));
	assert_int_equal(blk_init(&fx->d, fx->fd, DISK_SIZE, c->kind == RO, "test-disk", 1), 0);
	switch (c->kind) {
	case DWZ_ONE: case RO: set_dwz(0, 8, 4, 0); break;
	case DWZ_TWO: set_dwz(0, 8, 1, 0); set_dwz(1, 12, 1, 0); break;
	case DWZ_UNMAP: set_dwz(0, 8, 4, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP); break;
	case DWZ_BADFLAG: set_dwz(0, 8, 4, 2); break;
	case DWZ_FAR: set_dwz(0, 62, 4, 0); break;
	case DWZ_BIG: set_dwz(0, 0, BLK_MAX_DWZ_SECTORS + 1, 0); break;
	case DWZ_WRAP: set_dwz(0, UINT64_MAX - 1, 4, 0); break;
	default: break;
	}
}

/* The disk changed only where the request was meant to change it. */
static void
check_disk(const struct blk_case *c)
{
	bool zeroed = c->status == 0 && c->rq.type == VIRTIO_BLK_T_WRITE_ZEROES;
	bool written = c->status == 0 && c->rq.type == VIRTIO_BLK_T_OUT;

	if (zeroed) {
		assert_file_pattern(0, 8 * 512);
		assert_file_byte(8 * 512, 4 * 512, 0);
		assert_file_pattern(12 * 512, DISK_SIZE - 12 * 512);
	} else if (written) {
		assert_file_byte(c->rq.sector * 512, c->rq.out_len, 0x5a);
	} else if (c->rq.type != VIRTIO_BLK_T_DISCARD || c->status != 0) {
		assert_file_pattern(0, DISK_SIZE);
	}
	assert_int_equal(lseek(fx->fd, 0, SEEK_END), DISK_SIZE);
}

static void
check_data(const struct blk_case *c)
{
	uint64_t i;

	if (c->rq.type == VIRTIO_BLK_T_IN && c->status == 0)
		for (i = 0; i < c->rq.in_len; i++)
			assert_int_equal(fx->data[i], pattern(c->rq.sector * 512 + i));
	if (c->rq.type == VIRTIO_BLK_T_GET_ID && c->status == 0) {
		assert_memory_equal(fx->data, "test-disk\0\0\0\0\0\0\0\0\0\0\0",
		    c->rq.in_len);
		assert_int_equal(fx->data[c->rq.in_len], NONE);
	}
	if (c->status != 0)
		assert_int_equal(fx->data[0], NONE);
}

static void
test_requests(void **state)
{
	const struct blk_case *c;
	uint32_t used;

	(void)state;
	for (c = cases; c < cases + sizeof(cases) / sizeof(*c); c++) {
		print_message("%-28s\n", c->name);
		prepare(c);
		used = run(&c->rq);
		assert_int_equal(fx->status, c->status);
		assert_int_equal(used, c->used);
		check_data(c);
		check_disk(c);
		assert_int_equal(fx->d.stats.unanswerable, c->rq.status ? 0 : 1);
		assert_int_equal(fx->d.stats.requests, c->rq.status ? 1 : 0);
		if (c->kind != PLAIN || c->rq.type == VIRTIO_BLK_T_OUT) {
			teardown(NULL);         /* fresh disk for the next case */
			setup(NULL);
		}
	}
}

/* Data lands in the file and comes back. */
static void
test_write_read_roundtrip(void **state)
{
	struct rq w = { VIRTIO_BLK_T_OUT, 10, H, 1024, 0, true };
	struct rq r = { VIRTIO_BLK_T_IN, 10, H, 0, 1024, true };
	uint8_t file[1024];
	unsigned i;

	(void)state;
	for (i = 0; i < 1024; i++)
		fx->payload[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(run(&w), 1);
	assert_int_equal(fx->status, 0);
	assert_int_equal(pread(fx->fd, file, 1024, 10 * 512), 1024);
	assert_memory_equal(file, fx->payload, 1024);
	assert_int_equal(run(&r), 1025);
	assert_int_equal(fx->status, 0);
	assert_memory_equal(fx->data, fx->payload, 1024);
}

/* The header and data share segments; the status shares the data's. */
static void
test_shared_segments(void **state)
{
	static uint8_t out[16 + 512], in[512 + 1];
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_OUT, 0, 7 };
	struct vq_elem *e = &fx->d.elem;
	unsigned i;

	(void)state;
	memcpy(out, &h, sizeof(h));
	memset(out + 16, 0x77, 512);
	e->out_num = 1;
	e->in_num = 1;
	e->iov[0] = (struct iovec){ out, sizeof(out) };
	e->iov[1] = (struct iovec){ in, 1 };
	e->out_len = sizeof(out);
	e->in_len = 1;
	in[0] = NONE;
	assert_int_equal(blk_handle(&fx->d, e), 1);
	assert_int_equal(in[0], 0);
	assert_file_byte(7 * 512, 512, 0x77);
	h.type = VIRTIO_BLK_T_IN;
	memcpy(out, &h, sizeof(h));
	e->out_num = 1;
	e->in_num = 1;
	e->iov[0] = (struct iovec){ out, 16 };
	e->iov[1] = (struct iovec){ in, sizeof(in) };
	e->out_len = 16;
	e->in_len = sizeof(in);
	in[512] = NONE;
	assert_int_equal(blk_handle(&fx->d, e), 513);
	assert_int_equal(in[512], 0);
	for (i = 0; i < 512; i++)
		assert_int_equal(in[i], 0x77);
}

/* The file shrank under us: a read past its end fails. */
static void
test_read_past_eof(void **state)
{
	struct rq r = { VIRTIO_BLK_T_IN, 20, H, 0, 1024, true };

	(void)state;
	assert_int_equal(ftruncate(fx->fd, 16 * 512), 0);
	assert_int_equal(run(&r), 1);
	assert_int_equal(fx->status, VIRTIO_BLK_S_IOERR);
	r.sector = 15;                                  /* straddles the end */
	assert_int_equal(run(&r), 512 + 1);
	assert_int_equal(fx->status, VIRTIO_BLK_S_IOERR);
}

/* Many small segments: IOV_MAX one-byte data segments plus the status. */
static void
test_many_segments(void **state)
{
	static uint8_t bufs[1025];
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_IN, 0, 1 };
	struct vq_elem *e = &fx->d.elem;
	unsigned i;

	(void)state;
	e->iov[0] = (struct iovec){ &h, 16 };
	for (i = 0; i < 1025; i++)
		e->iov[1 + i] = (struct iovec){ &bufs[i], 1 };
	e->out_num = 1;
	e->in_num = 1025;
	e->out_len = 16;
	e->in_len = 1025;
	assert_int_equal(blk_handle(&fx->d, e), 1025);
	assert_int_equal(bufs[1024], 0);
	for (i = 0; i < 1024; i++)
		assert_int_equal(bufs[i], pattern(512 + i));
}

/* A file without FALLOC_FL_ZERO_RANGE (a memfd): zeros are written. */
static void
test_write_zeroes_fallback(void **state)
{
	struct rq r = { VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 16, 0, true };
	int mfd = memfd_create("test_blk", MFD_CLOEXEC);
	uint8_t b[512];

	(void)state;
	assert_true(mfd >= 0);
	memset(b, 0x33, sizeof(b));
	for (unsigned s = 0; s < SECTORS; s++)
		assert_int_equal(pwrite(mfd, b, 512, s * 512), 512);
	close(fx->fd);
	fx->fd = mfd;
	assert_int_equal(blk_init(&fx->d, mfd, DISK_SIZE, false, "m", 1), 0);
	set_dwz(0, 4, 40, 0);
	assert_int_equal(run(&r), 1);
	assert_int_equal(fx->status, VIRTIO_BLK_S_OK);
	assert_file_byte(4 * 512, 40 * 512, 0);
	assert_file_byte(0, 4 * 512, 0x33);
	assert_file_byte(44 * 512, 20 * 512, 0x33);
	set_dwz(0, 50, 2, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	assert_int_equal(run(&r), 1);
	assert_int_equal(fx->status, VIRTIO_BLK_S_OK);
	assert_file_byte(50 * 512, 2 * 512, 0);
	assert_file_byte(52 * 512, 12 * 512, 0x33);
}

static void
test_init_and_config(void **state)
{
	struct vu_backend_config cfg;
	uint8_t buf[256];
	uint64_t f;

	(void)state;
	assert_int_equal(blk_init(&fx->d, fx->fd, 0, false, "x", 1), -EINVAL);
	assert_int_equal(blk_init(&fx->d, fx->fd, 1000, false, "x", 1), -EINVAL);
	assert_int_equal(blk_init(&fx->d, fx->fd, 512, false, "123456789012345678901", 1),
	    -EINVAL);
	assert_int_equal(blk_init(&fx->d, fx->fd, 512, false, "x", 0), -EINVAL);
	assert_int_equal(blk_init(&fx->d, fx->fd, 512, false, "x", BLK_MAX_QUEUES + 1),
	    -EINVAL);
	assert_int_equal(blk_init(&fx->d, fx->fd, DISK_SIZE, true, "12345678901234567890",
	    4), 0);
	f = blk_features(&fx->d);
	assert_true(f & (1ull << VIRTIO_BLK_F_RO));
	assert_true(f & (1ull << VIRTIO_F_VERSION_1));
	assert_true(f & (1ull << VIRTIO_BLK_F_MQ));
	assert_false(f & (1ull << VIRTIO_F_RING_PACKED));
	blk_backend_config(&fx->d, "t", &cfg);
	assert_int_equal(cfg.num_queues, 4);
	assert_non_null(cfg.ops->get_config);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(cfg.ops->get_config(cfg.dev, 0, buf, sizeof(buf)), 0);
	assert_int_equal(((struct virtio_blk_config *)buf)->capacity, SECTORS);
	assert_int_equal(((struct virtio_blk_config *)buf)->seg_max, 254);
	assert_int_equal(((struct virtio_blk_config *)buf)->num_queues, 4);
	assert_int_equal(buf[60], 0);
	assert_int_equal(cfg.ops->get_config(cfg.dev, 8, buf, 4), 0);
	assert_int_equal(*(uint32_t *)buf, BLK_SIZE_MAX);
	assert_int_equal(cfg.ops->get_config(cfg.dev, 100, buf, 4), 0);
	assert_int_equal(*(uint32_t *)buf, 0);
}

/* --------------------------------------------- through a real ring */

#define RAM_GPA  0x100000ull
#define RAM_SIZE 0x40000ull

struct ring_fx {
	struct vu_mem mem;
	uint8_t *ram;
};

static void *
rhost(struct ring_fx *r, uint64_t gpa)
{
	return r->ram + (gpa - RAM_GPA);
}

static void
ring_setup(struct ring_fx *r)
{
	r->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(r->ram);
	memset(r->ram, 0, RAM_SIZE);
	memset(&r->mem, 0, sizeof(r->mem));
	r->mem.nregions = 1;
	r->mem.r[0] = (struct vu_mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .host = r->ram };
	assert_int_equal(vq_init(&fx->d.vq[0], &r->mem, 8, RAM_GPA, RAM_GPA + 0x1000,
	    RAM_GPA + 0x2000, 0, true, true), 0);
}

/* A 3-descriptor read of sector s at descriptors 3k.. with buffers at
 * 0x10000 + k * 0x1000. */
static void
ring_post_read(struct ring_fx *r, unsigned k, uint64_t sector)
{
	struct virtq_desc *d = rhost(r, RAM_GPA);
	struct virtq_avail *a = rhost(r, RAM_GPA + 0x1000);
	uint64_t buf = RAM_GPA + 0x10000 + k * 0x1000;
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_IN, 0, sector };

	memcpy(rhost(r, buf), &h, sizeof(h));
	d[3 * k] = (struct virtq_desc){ buf, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(3 * k + 1) };
	d[3 * k + 1] = (struct virtq_desc){ buf + 512, 512,
		VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)(3 * k + 2) };
	d[3 * k + 2] = (struct virtq_desc){ buf + 16, 1, VIRTQ_DESC_F_WRITE, 0 };
	a->ring[a->idx % 8] = (uint16_t)(3 * k);
	a->idx++;
}

/* The backend library around the device: no socket, eventfds for the
 * call and err fds of queue 0 (set with real SET_VRING_CALL/ERR). */
struct kick_fx {
	struct ring_fx r;
	struct vu_backend_config cfg;
	struct vu_backend *b;
	int call, err;
};

static void
set_vring_fd(struct vu_backend *b, uint32_t request, int fd)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = sizeof(uint64_t);
	m.nfds = 1;
	m.fds[0] = dup(fd);
	assert_true(m.fds[0] >= 0);
	assert_int_equal(vu_backend_dispatch(b, &m), 0);
}

static void
kick_setup(struct kick_fx *k, unsigned poll_us)
{
	ring_setup(&k->r);
	fx->d.poll_us = poll_us;
	blk_backend_config(&fx->d, "test-blk", &k->cfg);
	k->b = vu_backend_new(-1, &k->cfg);
	assert_non_null(k->b);
	k->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	k->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(k->call >= 0 && k->err >= 0);
	set_vring_fd(k->b, VHOST_USER_SET_VRING_CALL, k->call);
	set_vring_fd(k->b, VHOST_USER_SET_VRING_ERR, k->err);
}

static void
kick_teardown(struct kick_fx *k)
{
	vu_backend_free(k->b);
	close(k->call);
	close(k->err);
	free(k->r.ram);
}

static void
kick(struct kick_fx *k)
{
	blk_backend_ops.queue_kick(&fx->d, k->b, 0);
}

static bool
fired(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}

static void
queue_kick_case(unsigned poll_us)
{
	struct kick_fx k;
	struct virtq_used *u;
	struct virtq_desc *d;
	struct virtq_avail *a;

	kick_setup(&k, poll_us);
	u = rhost(&k.r, RAM_GPA + 0x2000);
	d = rhost(&k.r, RAM_GPA);
	a = rhost(&k.r, RAM_GPA + 0x1000);
	ring_post_read(&k.r, 0, 2);
	ring_post_read(&k.r, 1, 64);                    /* past capacity */
	kick(&k);
	assert_true(fired(k.call));
	assert_false(fired(k.err));
	assert_false(vu_backend_rekick_pending(k.b, 0));
	assert_int_equal(u->idx, 2);
	assert_int_equal(u->ring[0].id, 0);
	assert_int_equal(u->ring[0].len, 513);
	assert_int_equal(*(uint8_t *)rhost(&k.r, RAM_GPA + 0x10010), 0);
	assert_int_equal(*(uint8_t *)rhost(&k.r, RAM_GPA + 0x10200), pattern(1024));
	assert_int_equal(u->ring[1].id, 3);
	assert_int_equal(u->ring[1].len, 1);
	assert_int_equal(*(uint8_t *)rhost(&k.r, RAM_GPA + 0x11010), VIRTIO_BLK_S_IOERR);
	/* avail_event re-armed at the end */
	assert_int_equal(*(uint16_t *)rhost(&k.r, RAM_GPA + 0x2000 + 4 + 8 * 8), 2);
	/* nothing new: no notification */
	kick(&k);
	assert_false(fired(k.call));
	/* a malformed chain (out of RAM) is not pushed: the ring stops */
	d[6] = (struct virtq_desc){ 0x10, 16, 0, 0 };
	a->ring[a->idx % 8] = 6;
	a->idx++;
	ring_post_read(&k.r, 0, 3);                     /* after it: not done */
	kick(&k);
	assert_true(fired(k.err));
	assert_false(fired(k.call));
	assert_int_equal(u->idx, 2);
	assert_true(fx->d.vq[0].broken);
	assert_int_equal(fx->d.vq[0].bad_chains, 1);
	assert_int_equal(fx->d.stats.bad_chains, 1);
	assert_int_equal(fx->d.stats.ring_errors, 1);
	kick(&k);
	assert_int_equal(u->idx, 2);
	assert_false(fired(k.err));
	kick_teardown(&k);
}

static void
test_queue_kick_no_poll(void **state)
{
	(void)state;
	queue_kick_case(0);
}

static void
test_queue_kick_poll(void **state)
{
	(void)state;
	queue_kick_case(50);
}

/* The avail index jumps past the queue size: ring-level error. */
static void
test_queue_kick_ring_error(void **state)
{
	struct kick_fx k;
	struct virtq_avail *a;

	(void)state;
	kick_setup(&k, 0);
	a = rhost(&k.r, RAM_GPA + 0x1000);
	ring_post_read(&k.r, 0, 2);
	a->idx += 8;
	kick(&k);
	assert_true(fired(k.err));
	assert_false(fired(k.call));
	assert_true(fx->d.vq[0].broken);
	assert_int_equal(fx->d.stats.bad_chains, 0);
	assert_int_equal(fx->d.stats.ring_errors, 1);
	kick_teardown(&k);
}

/* A driver thread that keeps the ring full for `ms`: every queue_kick
 * returns within a bound, asks to be called again while work is left,
 * and every request is completed. */
struct busy_driver {
	struct ring_fx *r;
	int ms;
	uint16_t posted;
	bool done;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *
busy_driver_thread(void *arg)
{
	struct busy_driver *bd = arg;
	struct virtq_avail *a = rhost(bd->r, RAM_GPA + 0x1000);
	struct virtq_used *u = rhost(bd->r, RAM_GPA + 0x2000);
	uint64_t end = now_us() + (uint64_t)bd->ms * 1000u;
	uint16_t idx = 0;

	while (now_us() < end) {
		if ((uint16_t)(idx - __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE)) >= 8)
			continue;
		a->ring[idx % 8] = (uint16_t)(3 * (idx % 2));
		__atomic_store_n(&a->idx, ++idx, __ATOMIC_RELEASE);
	}
	bd->posted = idx;
	__atomic_store_n(&bd->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void
busy_case(unsigned poll_us)
{
	struct busy_driver bd;
	struct virtq_used *u;
	struct kick_fx k;
	pthread_t t;
	uint64_t t0, longest = 0;
	unsigned calls = 0, rekicks = 0;

	kick_setup(&k, poll_us);
	u = rhost(&k.r, RAM_GPA + 0x2000);
	ring_post_read(&k.r, 0, 2);
	ring_post_read(&k.r, 1, 5);
	*(uint16_t *)rhost(&k.r, RAM_GPA + 0x1000 + 2) = 0;    /* avail idx back */
	bd = (struct busy_driver){ .r = &k.r, .ms = 100 };
	assert_int_equal(pthread_create(&t, NULL, busy_driver_thread, &bd), 0);
	while (!__atomic_load_n(&bd.done, __ATOMIC_ACQUIRE) ||
	    vu_backend_rekick_pending(k.b, 0) || vq_avail_pending(&fx->d.vq[0]) != 0) {
		t0 = now_us();
		kick(&k);
		t0 = now_us() - t0;
		longest = t0 > longest ? t0 : longest;
		calls++;
		rekicks += vu_backend_rekick_pending(k.b, 0);
		vu_backend_poll_kicks(k.b);             /* clears the flag */
	}
	pthread_join(t, NULL);
	print_message("poll_us %u: %u requests, %u calls, %u rekicks, longest %llu us\n",
	    poll_us, bd.posted, calls, rekicks, (unsigned long long)longest);
	assert_int_equal(u->idx, bd.posted);
	/* posted is the 16-bit avail idx: it wraps on a fast machine */
	assert_int_equal((uint16_t)fx->d.stats.requests, bd.posted);
	assert_true(fx->d.stats.requests >= bd.posted);
	assert_false(fx->d.vq[0].broken);
	/* BLK_MAX_RUN_US plus one batch, with room for a loaded machine */
	assert_true(longest < 50000);
	kick_teardown(&k);
}

static void
test_queue_kick_bounded_no_poll(void **state)
{
	(void)state;
	busy_case(0);
}

static void
test_queue_kick_bounded_poll(void **state)
{
	(void)state;
	busy_case(BLK_MAX_POLL_US);
}

/* Without FLUSH negotiated writes are durable anyway (5.2.5.1): the
 * write-through path (pwritev2 RWF_DSYNC, fdatasync after zeroing) works. */
static void
test_write_through(void **state)
{
	struct rq w = { VIRTIO_BLK_T_OUT, 10, H, 1024, 0, true };
	struct rq z = { VIRTIO_BLK_T_WRITE_ZEROES, 0, H, 16, 0, true };
	unsigned i;

	(void)state;
	for (i = 0; i < 2; i++) {
		blk_backend_ops.set_features(&fx->d, i == 0 ? 0 :
		    1ull << VIRTIO_BLK_F_FLUSH);
		memset(fx->payload, 0x42 + i, 1024);
		assert_int_equal(run(&w), 1);
		assert_int_equal(fx->status, VIRTIO_BLK_S_OK);
		assert_file_byte(10 * 512, 1024, (uint8_t)(0x42 + i));
		set_dwz(0, 20, 4, 0);
		assert_int_equal(run(&z), 1);
		assert_int_equal(fx->status, VIRTIO_BLK_S_OK);
		assert_file_byte(20 * 512, 4 * 512, 0);
	}
}

static void
test_queue_start_stop(void **state)
{
	struct ring_fx r;
	struct vu_vring_config c = { .index = 0, .num = 8, .base = 5,
		.desc_gpa = RAM_GPA, .avail_gpa = RAM_GPA + 0x1000, .used_gpa = RAM_GPA + 0x2000 };

	(void)state;
	ring_setup(&r);
	assert_int_equal(blk_backend_ops.queue_start(&fx->d, NULL, &r.mem, &c), 0);
	assert_int_equal(fx->d.vq[0].last_avail_idx, 5);
	assert_int_equal(blk_backend_ops.queue_stop(&fx->d, 0), 5);
	assert_int_equal(fx->d.vq[0].num, 0);
	c.index = 1;
	assert_int_equal(blk_backend_ops.queue_start(&fx->d, NULL, &r.mem, &c), -EINVAL);
	c.index = 0;
	c.used_gpa = 0x10;
	assert_int_equal(blk_backend_ops.queue_start(&fx->d, NULL, &r.mem, &c), -EINVAL);
	free(r.ram);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_past_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_kick_no_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_kick_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_kick_ring_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_kick_bounded_no_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_kick_bounded_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_start_stop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
