/*
 * vu-driver bench: keep --qd requests in flight against a vhost-user-blk
 * backend for --seconds (after --warmup), measuring per-request latency
 * from submission to seeing it in the used ring, and the backend's CPU
 * time from /proc/PID/stat. One JSON line on stdout.
 *
 * Each in-flight slot i owns descriptors [i*k, i*k+k) (k = data segments
 * + 2), its header/status slot and a bs-sized data buffer; descriptors are
 * written once, a resubmission only rewrites the header's sector.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drv.h"

#define BENCH_MAX_QD (DRV_MAX_QUEUE / 3)

struct bslot {
	uint64_t t_submit;
	uint64_t seq;
	uint64_t sector;
};

struct bctx {
	struct drv d;
	struct drv_opts o;       /* copy: the queue size may be raised */
	bool write, random;
	uint32_t nseg;           /* data segments per request */
	uint64_t nblocks;        /* bs-sized blocks on the disk */
	uint64_t next_block, rng, seq;
	struct bslot slot[BENCH_MAX_QD];
	uint32_t *lat;           /* ns, per completion in the window */
	size_t nlat, cap_lat;
	uint64_t t0, t_end;
	double cpu0, cpu1;
};

static int
bench_fail(const char *why)
{
	fprintf(stderr, "vu-driver: bench: %s\n", why);
	return 1;
}

static uint64_t
bench_rand(struct bctx *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

static uint64_t
bench_sector(struct bctx *b)
{
	uint64_t blk;

	if (b->random) {
		blk = bench_rand(b) % b->nblocks;
	} else {
		blk = b->next_block++;
		if (b->next_block >= b->nblocks)
			b->next_block = 0;
	}
	return blk * (b->o.bs / VIRTIO_BLK_SECTOR_SIZE);
}

static void
bench_submit(struct bctx *b, unsigned i, uint64_t now)
{
	struct virtio_blk_req_hdr *h = drv_ptr(&b->d, DRV_HDR_BASE +
	    (uint64_t)i * DRV_HDR_STRIDE, DRV_HDR_STRIDE);

	b->slot[i].sector = h->sector = bench_sector(b);
	*((uint8_t *)h + 16) = 0xff;
	b->slot[i].t_submit = now;
	b->slot[i].seq = b->seq++;
	drv_vq_add(&b->d.vq, (uint16_t)(i * (b->nseg + 2)));
}

static int
bench_setup(struct bctx *b)
{
	struct drv *d = &b->d;
	uint64_t cap, segsz = b->o.bs;
	unsigned per;

	if (drv_open(d, &b->o) < 0)
		return 1;
	cap = d->have_cfg ? d->cfg.capacity * 512 : b->o.disk_size;
	if (b->o.disk_size && b->o.disk_size < cap)
		cap = b->o.disk_size;
	if (!cap)
		return bench_fail("disk size unknown: no CONFIG, give --disk-size");
	b->nblocks = cap / b->o.bs;
	if (!b->nblocks)
		return bench_fail("--bs is larger than the disk");
	if ((d->offered & (1ull << VIRTIO_BLK_F_SIZE_MAX)) && d->cfg.size_max >= 512)
		segsz = d->cfg.size_max & ~511u;
	if (segsz > b->o.bs)
		segsz = b->o.bs;
	b->nseg = (uint32_t)((b->o.bs + segsz - 1) / segsz);
	per = b->nseg + 2;
	while (b->o.queue_size < per * b->o.qd && b->o.queue_size < DRV_MAX_QUEUE)
		b->o.queue_size *= 2;
	if (per * b->o.qd > b->o.queue_size)
		return bench_fail("--qd times descriptors per request exceeds 1024");
	if (DRV_DATA_BASE + (uint64_t)b->o.bs * b->o.qd > d->mem_size)
		return bench_fail("--qd * --bs does not fit guest RAM; raise --mem-mib");
	if (drv_start(d, drv_pick_features(d)) < 0)
		return 1;
	return 0;
}

static void
bench_build(struct bctx *b)
{
	for (unsigned i = 0; i < b->o.qd; i++) {
		struct drv_req r = {
			.type = b->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			.data_gpa = DRV_DATA_BASE + (uint64_t)i * b->o.bs,
			.data_len = b->o.bs, .nseg = b->nseg,
			.data_write = !b->write, .slot = i,
		};

		memset(drv_ptr(&b->d, r.data_gpa, r.data_len), 0x3c, r.data_len);
		drv_req_build(&b->d, &r, i * (b->nseg + 2));
	}
}

static void
bench_record(struct bctx *b, uint64_t ns)
{
	if (b->nlat == b->cap_lat) {
		size_t n = b->cap_lat ? b->cap_lat * 2 : 1 << 16;
		uint32_t *p = realloc(b->lat, n * sizeof(*p));

		if (!p)
			return;
		b->lat = p;
		b->cap_lat = n;
	}
	b->lat[b->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int
bench_wait_error(struct bctx *b, int rc, unsigned inflight)
{
	const struct bslot *old = NULL;

	for (unsigned i = 0; i < b->o.qd; i++)
		if (!old || b->slot[i].seq < old->seq)
			old = &b->slot[i];
	fprintf(stderr, "vu-driver: bench: %s: %s with %u requests in flight "
	    "(oldest: request #%llu, sector %llu)\n", b->o.socket,
	    rc == -ETIMEDOUT ? "no completion within the timeout" :
	    rc == -ECONNRESET ? "backend closed the connection" :
	    rc == -EIO ? "backend signalled a ring error" : strerror(-rc),
	    inflight, (unsigned long long)old->seq,
	    (unsigned long long)old->sector);
	return 1;
}

/* Take every used element; resubmit while the run lasts. */
static int
bench_reap(struct bctx *b, uint64_t now, unsigned *inflight)
{
	unsigned per = b->nseg + 2;
	uint32_t id, len;

	while (drv_vq_get_used(&b->d.vq, &id, &len)) {
		unsigned i = id / per;
		uint8_t st;

		if (id % per || i >= b->o.qd)
			return bench_fail("backend returned a used id we never made "
			    "available");
		st = *(uint8_t *)drv_ptr(&b->d, DRV_HDR_BASE +
		    (uint64_t)i * DRV_HDR_STRIDE + 16, 1);
		if (st != VIRTIO_BLK_S_OK) {
			fprintf(stderr, "vu-driver: bench: request #%llu (sector "
			    "%llu): status %u\n", (unsigned long long)b->slot[i].seq,
			    (unsigned long long)b->slot[i].sector, st);
			return 1;
		}
		if (now >= b->t0 && now <= b->t_end)
			bench_record(b, now - b->slot[i].t_submit);
		if (now < b->t_end)
			bench_submit(b, i, now);
		else
			(*inflight)--;
	}
	return 0;
}

static int
bench_loop(struct bctx *b)
{
	struct drv *d = &b->d;
	unsigned inflight = b->o.qd;
	bool started = false;
	uint64_t now = drv_now_ns();
	int rc;

	b->t0 = now + (uint64_t)(b->o.warmup * 1e9);
	b->t_end = b->t0 + (uint64_t)(b->o.seconds * 1e9);
	for (unsigned i = 0; i < b->o.qd; i++)
		bench_submit(b, i, now);
	drv_kick(d, true);
	while (inflight) {
		rc = drv_wait_used(d, b->o.poll_us, b->o.timeout_ms);
		if (rc < 0)
			return bench_wait_error(b, rc, inflight);
		now = drv_now_ns();
		if (!started && now >= b->t0 && b->o.backend_pid) {
			b->cpu0 = drv_proc_cpu_s(b->o.backend_pid);
			started = true;
		}
		if (bench_reap(b, now, &inflight))
			return 1;
		if (now < b->t_end && (rc = drv_kick(d, false)) < 0)
			return bench_fail("kick failed");
	}
	if (b->o.backend_pid)
		b->cpu1 = drv_proc_cpu_s(b->o.backend_pid);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_us(const struct bctx *b, double p)
{
	size_t i;

	if (!b->nlat)
		return 0;
	i = (size_t)(p * (double)(b->nlat - 1) + 0.5);
	return b->lat[i] / 1000.0;
}

static void
bench_print(struct bctx *b)
{
	double secs = b->o.seconds, iops = (double)b->nlat / secs;
	char cpu[96] = "\"backend_cpu_s\":null,\"backend_cpu_us_per_io\":null";

	qsort(b->lat, b->nlat, sizeof(*b->lat), cmp_u32);
	if (b->o.backend_pid && b->cpu0 >= 0 && b->cpu1 >= 0)
		snprintf(cpu, sizeof(cpu), "\"backend_cpu_s\":%.3f,"
		    "\"backend_cpu_us_per_io\":%.3f", b->cpu1 - b->cpu0,
		    b->nlat ? (b->cpu1 - b->cpu0) * 1e6 / (double)b->nlat : 0.0);
	printf("{\"rw\":\"%s\",\"bs\":%u,\"qd\":%u,\"ios\":%zu,\"seconds\":%.3f,"
	    "\"iops\":%.1f,\"mib_s\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,%s,"
	    "\"poll_us\":%u,\"event_idx\":%s,\"kicks\":%llu,\"calls\":%llu}\n",
	    b->o.rw, b->o.bs, b->o.qd, b->nlat, secs, iops,
	    iops * b->o.bs / (1024.0 * 1024.0), pct_us(b, 0.50), pct_us(b, 0.99),
	    cpu, b->o.poll_us, b->d.vq.event_idx ? "true" : "false",
	    (unsigned long long)b->d.kicks, (unsigned long long)b->d.calls);
}

static int
bench_args(struct bctx *b, const struct drv_opts *o)
{
	b->o = *o;
	if (!o->rw)
		return bench_fail("--rw randread|randwrite|read|write is required");
	b->write = !strcmp(o->rw, "randwrite") || !strcmp(o->rw, "write");
	b->random = !strcmp(o->rw, "randread") || !strcmp(o->rw, "randwrite");
	if (!b->write && !b->random && strcmp(o->rw, "read"))
		return bench_fail("--rw must be randread, randwrite, read or write");
	if (o->bs % VIRTIO_BLK_SECTOR_SIZE)
		return bench_fail("--bs must be a multiple of 512");
	b->rng = 0x9e3779b97f4a7c15ull ^ o->seed;
	return 0;
}

int
drv_bench(const struct drv_opts *o)
{
	static struct bctx b;
	int rc;

	if (bench_args(&b, o) || bench_setup(&b)) {
		drv_close(&b.d);
		return 1;
	}
	bench_build(&b);
	rc = bench_loop(&b);
	if (rc == 0)
		bench_print(&b);
	drv_close(&b.d);
	free(b.lat);
	return rc;
}
