/*
 * vu-driver func: functional checks of a vhost-user-blk backend, one line
 * each (`ok NAME`, `ok NAME: skip: why`, `not ok NAME: why`), then
 * `vu-driver: N checks, M failed`. Every check name is printed on every
 * run, so two backends can be compared by the set of names.
 *
 * Disk contract: the caller pre-fills the disk with THE pattern of disk
 * --disk-index D. Afterwards (writable disk) the disk holds THE pattern of
 * disk D everywhere except sectors 1024..1031, which hold THE pattern of
 * disk D+100. Scratch writes go to sectors 2048..6175 and are restored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drv.h"

#define FUNC_MIN_SECTORS 8192u
#define FUNC_SCRATCH     2048u   /* first scratch sector */
#define FUNC_SCRATCH_END 6176u
#define FUNC_KNOWN       1024u   /* the region left with pattern D+100 */

struct fctx {
	struct drv d;
	const struct drv_opts *o;
	struct drv_tally t;      /* the check lines */
	uint64_t cap;            /* sectors */
	bool writable;
	unsigned disk;           /* D */
	uint32_t bad_used_len;   /* first wrong used len seen (0: none) */
	char used_len_why[128];
};

/* check(c, ...) / skip(c, ...): drv_check / drv_skip on c's tally */
#define check(c, ...) drv_check(&(c)->t, __VA_ARGS__)
#define skip(c, name, why) drv_skip(&(c)->t, name, why)

static bool
offered(const struct fctx *c, unsigned bit)
{
	return c->d.offered & (1ull << bit);
}

static bool
acked(const struct fctx *c, unsigned bit)
{
	return c->d.acked & (1ull << bit);
}

static uint8_t *
data(struct fctx *c, uint64_t len)
{
	return drv_ptr(&c->d, DRV_DATA_BASE, len);
}

/* Whether a request with nseg data segments fits seg_max and the queue
 * (a chain, or an indirect table, of nseg + 2 descriptors). */
static bool
multiseg_ok(struct fctx *c, unsigned nseg)
{
	return (!offered(c, VIRTIO_BLK_F_SEG_MAX) || c->d.cfg.seg_max >= nseg) &&
	    nseg + 2 <= c->d.vq.num;
}

static const char *
why(int rc)
{
	return rc == -EILSEQ ? "wrong status or data" : strerror(-rc);
}

/* One request over the data buffer; returns the status, or -errno. */
static int
req(struct fctx *c, uint32_t type, uint64_t sector, uint32_t len,
    unsigned nseg, bool indirect)
{
	struct drv_req r = { .type = type, .sector = sector,
	    .data_gpa = DRV_DATA_BASE, .data_len = len, .nseg = nseg,
	    .data_write = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID,
	    .indirect = indirect };
	int rc = drv_req_do(&c->d, &r);

	if (rc < 0)
		return rc;
	if (type == VIRTIO_BLK_T_IN && r.status == VIRTIO_BLK_S_OK &&
	    r.used_len != len + 1 && !c->bad_used_len) {
		c->bad_used_len = r.used_len ? r.used_len : ~0u;
		snprintf(c->used_len_why, sizeof(c->used_len_why),
		    "read of %u bytes at sector %llu: used len %u, expected %u",
		    len, (unsigned long long)sector, r.used_len, len + 1);
	}
	return r.status;
}

/* Read nsect sectors at `sector` and compare with pattern `disk`. */
static void
read_check(struct fctx *c, const char *name, uint64_t sector, uint32_t nsect,
    unsigned nseg, unsigned disk, bool indirect)
{
	uint32_t len = nsect * VIRTIO_BLK_SECTOR_SIZE;
	int64_t bad;
	int st;

	memset(data(c, len), 0x5a, len);
	st = req(c, VIRTIO_BLK_T_IN, sector, len, nseg, indirect);
	if (st != VIRTIO_BLK_S_OK) {
		check(c, name, false, "read sector %llu: %s %d",
		    (unsigned long long)sector, st < 0 ? "error" : "status", st);
		return;
	}
	bad = drv_check_pattern(data(c, len), sector, nsect, disk);
	check(c, name, bad < 0, "sector %llu+%u: byte %lld is 0x%02x, pattern "
	    "of disk %u wants 0x%02x", (unsigned long long)sector, nsect,
	    (long long)bad, bad < 0 ? 0 : data(c, len)[bad], disk,
	    bad < 0 ? 0 : drv_pattern(sector + (uint64_t)bad / 512,
	    (unsigned)bad % 512, disk));
}

static void
write_check(struct fctx *c, const char *name, uint64_t sector,
    uint32_t nsect, unsigned disk, unsigned nseg, bool indirect)
{
	int rc = drv_write_verify(&c->d, sector, nsect, disk, nseg, indirect);

	check(c, name, rc == 0, "%s (see stderr)", why(rc));
}

/* Expect `want` status for a request. */
static void
status_check(struct fctx *c, const char *name, uint32_t type,
    uint64_t sector, uint32_t len, unsigned nseg, int want)
{
	int st = req(c, type, sector, len, nseg, false);

	check(c, name, st == want, "type %u sector %llu len %u: %s %d, "
	    "expected status %d", type, (unsigned long long)sector, len,
	    st < 0 ? "error" : "status", st, want);
}

/* ---- connection-level checks ---- */

static int
f_connect(struct fctx *c)
{
	const struct drv_opts *o = c->o;
	int rc = drv_open(&c->d, o);

	check(c, "handshake", rc == 0, "%s (see stderr)", strerror(-rc));
	if (rc < 0)
		return rc;
	printf("# features 0x%016llx protocol_features 0x%016llx queue_num %llu\n",
	    (unsigned long long)c->d.offered,
	    (unsigned long long)c->d.f.protocol_features,
	    (unsigned long long)c->d.queue_num);
	check(c, "version_1", offered(c, VIRTIO_F_VERSION_1),
	    "VIRTIO_F_VERSION_1 not offered (features 0x%llx)",
	    (unsigned long long)c->d.offered);
	check(c, "get_config", c->d.have_cfg,
	    "CONFIG protocol feature not offered");
	c->cap = c->d.have_cfg ? c->d.cfg.capacity :
	    o->disk_size / VIRTIO_BLK_SECTOR_SIZE;
	if (o->disk_size)
		check(c, "capacity", c->cap == o->disk_size / 512,
		    "capacity %llu sectors, disk size %llu wants %llu",
		    (unsigned long long)c->cap, (unsigned long long)o->disk_size,
		    (unsigned long long)(o->disk_size / 512));
	else
		skip(c, "capacity", "no --disk-size given");
	if (o->read_only)
		check(c, "ro_feature", offered(c, VIRTIO_BLK_F_RO),
		    "--read-only given but VIRTIO_BLK_F_RO not offered");
	else
		check(c, "ro_feature", !offered(c, VIRTIO_BLK_F_RO),
		    "backend offers VIRTIO_BLK_F_RO but --read-only not given");
	c->writable = !o->read_only && !offered(c, VIRTIO_BLK_F_RO);
	if (c->cap < FUNC_MIN_SECTORS) {
		check(c, "disk_size", false, "capacity %llu sectors; func needs "
		    ">= %u", (unsigned long long)c->cap, FUNC_MIN_SECTORS);
		return -EINVAL;
	}
	rc = drv_start(&c->d, drv_pick_features(&c->d));
	check(c, "start", rc == 0, "SET_FEATURES/SET_MEM_TABLE/vring setup: %s",
	    strerror(-rc));
	return rc;
}

/* ---- data checks ---- */

static void
f_reads(struct fctx *c)
{
	unsigned D = c->disk;
	uint64_t mid = (c->cap / 2) & ~7ull;

	read_check(c, "read_first_4k", 0, 8, 1, D, false);
	read_check(c, "read_one_sector", 1, 1, 1, D, false);
	if (multiseg_ok(c, 16))
		read_check(c, "read_64k_16seg", 8, 128, 16, D, false);
	else
		skip(c, "read_64k_16seg", "seg_max or queue size < 16 + 2");
	read_check(c, "read_middle", mid, 8, 2, D, false);
	read_check(c, "read_last_4k", c->cap - 8, 8, 1, D, false);
	if (acked(c, VIRTIO_F_RING_INDIRECT_DESC) && multiseg_ok(c, 8))
		read_check(c, "read_indirect", 256, 64, 8, D, true);
	else
		skip(c, "read_indirect", "RING_INDIRECT_DESC not negotiated or "
		    "queue too small");
}

/* Check one completed read of the queue-depth test; false when wrong. */
static bool
qd_done(struct fctx *c, unsigned round, unsigned qd, uint32_t id)
{
	unsigned i = id / 3;
	uint64_t s = ((round * qd + i) * 8) % FUNC_KNOWN;

	return id % 3 == 0 && i < qd && drv_check_pattern(drv_ptr(&c->d,
	    DRV_DATA_BASE + i * 4096ull, 4096), s, 8, c->disk) < 0;
}

static void
qd_submit(struct fctx *c, unsigned round, unsigned qd)
{
	struct drv *d = &c->d;

	for (unsigned i = 0; i < qd; i++) {
		struct drv_req r = { .type = VIRTIO_BLK_T_IN,
		    .sector = ((round * qd + i) * 8) % FUNC_KNOWN,
		    .data_gpa = DRV_DATA_BASE + i * 4096ull, .data_len = 4096,
		    .nseg = 1, .data_write = true, .slot = i };

		memset(drv_ptr(d, r.data_gpa, 4096), 0, 4096);
		drv_vq_add(&d->vq, drv_req_build(d, &r, i * 3));
	}
	drv_kick(d, false);
}

/* 32 reads in flight at a time, 20 rounds: the ring wraps. */
static void
f_queue_depth(struct fctx *c)
{
	struct drv *d = &c->d;
	unsigned qd = d->vq.num / 3 < 32 ? d->vq.num / 3 : 32, done = 0, bad = 0;
	int rc = 0;

	for (unsigned round = 0; round < 20 && rc == 0; round++) {
		qd_submit(c, round, qd);
		for (unsigned got = 0; got < qd && rc == 0;) {
			uint32_t id, len;

			rc = drv_wait_used(d, 20, c->o->timeout_ms);
			while (rc == 0 && drv_vq_get_used(&d->vq, &id, &len)) {
				bad += !qd_done(c, round, qd, id);
				got++;
				done++;
			}
		}
	}
	check(c, "queue_depth_32", rc == 0 && !bad, "%u reads done, %u with a "
	    "bad used id or data%s%s", done, bad, rc ? "; then: " : "",
	    rc ? strerror(-rc) : "");
}

static void
f_write_1m(struct fctx *c)
{
	const struct virtio_blk_config *cfg = &c->d.cfg;
	uint32_t seg = 65536;
	unsigned nseg;

	/* size_max 0 (qemu-storage-daemon) means no limit */
	if (offered(c, VIRTIO_BLK_F_SIZE_MAX) && cfg->size_max &&
	    cfg->size_max < seg)
		seg = cfg->size_max & ~511u;
	nseg = seg ? (1u << 20) / seg : 0;
	if (!seg || (offered(c, VIRTIO_BLK_F_SEG_MAX) && nseg > cfg->seg_max) ||
	    nseg + 2 > c->d.vq.num) {
		skip(c, "write_1m", "size_max/seg_max/queue size too small");
		return;
	}
	write_check(c, "write_1m", 4096, 2048, c->disk + 50, nseg, false);
}


static void
f_dwz(struct fctx *c, const char *name, uint32_t type, uint64_t sector,
    uint32_t n, uint32_t flags, int want)
{
	struct virtio_blk_discard_write_zeroes *s = (void *)data(c, 16);

	*s = (struct virtio_blk_discard_write_zeroes){ sector, n, flags };
	status_check(c, name, type, sector, 16, 1, want);
}

static void
f_zeroes(struct fctx *c)
{
	static const uint8_t zero[16 * 512];
	const char *n = "write_zeroes";

	if (!offered(c, VIRTIO_BLK_F_WRITE_ZEROES)) {
		skip(c, n, "WRITE_ZEROES not offered");
		skip(c, "write_zeroes_unmap", "WRITE_ZEROES not offered");
		return;
	}
	f_dwz(c, n, VIRTIO_BLK_T_WRITE_ZEROES, 6152, 16, 0, VIRTIO_BLK_S_OK);
	memset(data(c, sizeof(zero)), 0x77, sizeof(zero));
	check(c, "write_zeroes_read_back", req(c, VIRTIO_BLK_T_IN, 6152,
	    sizeof(zero), 1, false) == 0 && !memcmp(data(c, sizeof(zero)), zero,
	    sizeof(zero)), "sectors 6152..6167 are not zero");
	if (!c->d.cfg.write_zeroes_may_unmap) {
		skip(c, "write_zeroes_unmap", "write_zeroes_may_unmap is 0");
		return;
	}
	f_dwz(c, "write_zeroes_unmap", VIRTIO_BLK_T_WRITE_ZEROES, 6168, 8,
	    VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, VIRTIO_BLK_S_OK);
}

static void
f_writes(struct fctx *c)
{
	unsigned W = c->disk + 50;
	bool ind = acked(c, VIRTIO_F_RING_INDIRECT_DESC);

	write_check(c, "write_4k", FUNC_SCRATCH, 8, W, 1, false);
	if (multiseg_ok(c, 16))
		write_check(c, "write_64k_16seg", 2056, 128, W, 16, false);
	else
		skip(c, "write_64k_16seg", "seg_max or queue size < 16 + 2");
	f_write_1m(c);
	if (ind && multiseg_ok(c, 8))
		write_check(c, "write_indirect", 2304, 64, W, 8, true);
	else
		skip(c, "write_indirect", "RING_INDIRECT_DESC not negotiated or "
		    "queue too small");
	if (offered(c, VIRTIO_BLK_F_FLUSH))
		status_check(c, "flush", VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	else
		skip(c, "flush", "FLUSH not offered");
	if (offered(c, VIRTIO_BLK_F_DISCARD))
		f_dwz(c, "discard", VIRTIO_BLK_T_DISCARD, 6144, 8, 0, 0);
	else
		skip(c, "discard", "DISCARD not offered");
	f_zeroes(c);
}

/* Put THE pattern of disk D back over the scratch sectors. */
static void
f_restore(struct fctx *c)
{
	int rc = 0;

	for (uint32_t s = FUNC_SCRATCH; s < FUNC_SCRATCH_END && rc == 0;) {
		uint32_t n = FUNC_SCRATCH_END - s < 2048 ? FUNC_SCRATCH_END - s : 2048;

		rc = drv_write_verify(&c->d, s, n, c->disk, multiseg_ok(c, 16) &&
		    n >= 16 ? 16 : 1, false);
		s += n;
	}
	check(c, "restore_pattern", rc == 0, "%s (see stderr)", why(rc));
	write_check(c, "known_region", FUNC_KNOWN, 8, c->disk + 100, 2, false);
}

static void
f_read_only(struct fctx *c)
{
	drv_fill_pattern(data(c, 4096), FUNC_SCRATCH, 8, c->disk + 50);
	status_check(c, "ro_write_refused", VIRTIO_BLK_T_OUT, FUNC_SCRATCH, 4096,
	    1, VIRTIO_BLK_S_IOERR);
	if (offered(c, VIRTIO_BLK_F_DISCARD))
		f_dwz(c, "ro_discard_refused", VIRTIO_BLK_T_DISCARD, FUNC_SCRATCH,
		    8, 0, VIRTIO_BLK_S_IOERR);
	else
		skip(c, "ro_discard_refused", "DISCARD not offered");
	if (offered(c, VIRTIO_BLK_F_WRITE_ZEROES))
		f_dwz(c, "ro_write_zeroes_refused", VIRTIO_BLK_T_WRITE_ZEROES,
		    FUNC_SCRATCH, 8, 0, VIRTIO_BLK_S_IOERR);
	else
		skip(c, "ro_write_zeroes_refused", "WRITE_ZEROES not offered");
	read_check(c, "ro_data_unchanged", FUNC_SCRATCH, 8, 1, c->disk, false);
}

static void
f_get_id(struct fctx *c)
{
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	int st;

	memset(data(c, VIRTIO_BLK_ID_BYTES), 0, VIRTIO_BLK_ID_BYTES);
	st = req(c, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, 1, false);
	memcpy(id, data(c, VIRTIO_BLK_ID_BYTES), VIRTIO_BLK_ID_BYTES);
	printf("# id: \"%s\"\n", id);
	check(c, "get_id", st == 0, "status %d", st);
	if (c->o->id)
		check(c, "id_matches", st == 0 && !strncmp(id, c->o->id,
		    VIRTIO_BLK_ID_BYTES), "id \"%s\", --id \"%s\"", id, c->o->id);
	else
		skip(c, "id_matches", "no --id given");
}

static void
f_errors(struct fctx *c)
{
	status_check(c, "read_past_end", VIRTIO_BLK_T_IN, c->cap, 512, 1,
	    VIRTIO_BLK_S_IOERR);
	status_check(c, "read_straddling_end", VIRTIO_BLK_T_IN, c->cap - 1,
	    1024, 1, VIRTIO_BLK_S_IOERR);
	status_check(c, "read_sector_overflow", VIRTIO_BLK_T_IN, ~0ull >> 1,
	    4096, 1, VIRTIO_BLK_S_IOERR);
	status_check(c, "write_past_end", VIRTIO_BLK_T_OUT, c->cap, 512, 1,
	    VIRTIO_BLK_S_IOERR);
	status_check(c, "unknown_type", 0x7f, 0, 512, 1, VIRTIO_BLK_S_UNSUPP);
}

/* GET_VRING_BASE answers the next avail index (all consumed), then the
 * vring restarts on fresh ring memory and serves a read. */
static void
f_restart(struct fctx *c)
{
	uint16_t avail = c->d.vq.avail_idx;
	unsigned base = ~0u;
	int rc = vu_front_get_vring_base(&c->d.f, 0, &base);

	if (rc == 0 && base == avail)
		rc = drv_vring_setup(&c->d);
	check(c, "vring_restart", rc == 0 && base == avail, "GET_VRING_BASE "
	    "%s, answered %u, expected %u", rc ? strerror(-rc) : "ok", base, avail);
	if (rc == 0 && base == avail)
		read_check(c, "read_after_restart", 8, 8, 1, c->disk, false);
	else
		skip(c, "read_after_restart", "vring_restart failed");
}

/* The backend's avail_event once it has gone back to waiting for a kick:
 * it may push the last completion first and update avail_event after
 * (or after polling the ring a while), so wait up to 1 s for it. */
static uint16_t
settled_avail_event(const struct drv_vq *q)
{
	uint64_t end = drv_now_ns() + 1000000000ull;
	uint16_t ae;

	while ((ae = drv_vq_avail_event(q)) != q->avail_idx && drv_now_ns() < end)
		usleep(100);
	return ae;
}

static void
f_final(struct fctx *c)
{
	struct drv_vq *q = &c->d.vq;
	uint64_t feat = 0;
	int rc;

	check(c, "used_len", !c->bad_used_len, "%s", c->used_len_why);
	if (acked(c, VIRTIO_F_RING_EVENT_IDX)) {
		uint16_t ae = settled_avail_event(q);

		check(c, "event_idx", ae == q->avail_idx, "negotiated, but "
		    "avail_event is %u after %u requests", ae, q->avail_idx);
	} else {
		skip(c, "event_idx", offered(c, VIRTIO_F_RING_EVENT_IDX) ?
		    "disabled by --no-event-idx" : "RING_EVENT_IDX not offered");
	}
	f_restart(c);
	rc = vu_front_get_features(&c->d.f, &feat);
	check(c, "still_connected", rc == 0 && feat == c->d.offered,
	    "GET_FEATURES after the checks: %s", rc ? strerror(-rc) : "changed");
}

static void
features_report(struct drv *d)
{
	static const char *const names[64] = {
		[1] = "SIZE_MAX", [2] = "SEG_MAX", [4] = "GEOMETRY", [5] = "RO",
		[6] = "BLK_SIZE", [9] = "FLUSH", [10] = "TOPOLOGY",
		[11] = "CONFIG_WCE", [12] = "MQ", [13] = "DISCARD",
		[14] = "WRITE_ZEROES", [24] = "NOTIFY_ON_EMPTY", [26] = "LOG_ALL", [27] = "ANY_LAYOUT",
		[28] = "RING_INDIRECT_DESC", [29] = "RING_EVENT_IDX",
		[30] = "PROTOCOL_FEATURES", [32] = "VERSION_1",
		[33] = "ACCESS_PLATFORM", [34] = "RING_PACKED", [35] = "IN_ORDER",
	};
	static const char *const pnames[17] = { "MQ", "LOG_SHMFD", "RARP",
		"REPLY_ACK", "NET_MTU", "BACKEND_REQ", "CROSS_ENDIAN",
		"CRYPTO_SESSION", "PAGEFAULT", "CONFIG", "BACKEND_SEND_FD",
		"HOST_NOTIFIER", "INFLIGHT_SHMFD", "RESET_DEVICE",
		"INBAND_NOTIFICATIONS", "CONFIGURE_MEM_SLOTS", "STATUS" };
	const struct virtio_blk_config *g = &d->cfg;
	uint64_t pf = d->f.protocol_features;

	printf("features 0x%016llx", (unsigned long long)d->offered);
	for (unsigned b = 0; b < 64; b++) {
		if (!(d->offered & (1ull << b)))
			continue;
		if (names[b])
			printf(" %s", names[b]);
		else
			printf(" BIT%u", b);
	}
	if (d->offered & (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
		vu_front_get_protocol_features(&d->f, &pf);
	printf("\nprotocol_features 0x%016llx", (unsigned long long)pf);
	for (unsigned b = 0; b < 64; b++) {
		if (!(pf & (1ull << b)))
			continue;
		if (b < 17)
			printf(" %s", pnames[b]);
		else
			printf(" BIT%u", b);
	}
	printf("\nqueue_num %llu\n", (unsigned long long)d->queue_num);
	if (d->have_cfg)
		printf("config capacity=%llu size_max=%u seg_max=%u blk_size=%u "
		    "num_queues=%u max_discard_sectors=%u max_discard_seg=%u "
		    "discard_sector_alignment=%u max_write_zeroes_sectors=%u "
		    "max_write_zeroes_seg=%u write_zeroes_may_unmap=%u\n",
		    (unsigned long long)g->capacity, g->size_max, g->seg_max,
		    g->blk_size, g->num_queues, g->max_discard_sectors,
		    g->max_discard_seg, g->discard_sector_alignment,
		    g->max_write_zeroes_sectors, g->max_write_zeroes_seg,
		    g->write_zeroes_may_unmap);
}

int
drv_func(const struct drv_opts *o)
{
	static struct fctx c;
	int rc;

	c.o = o;
	c.disk = o->disk_index;
	if (o->features_report) {
		rc = drv_open(&c.d, o);
		if (rc == 0)
			features_report(&c.d);
		drv_close(&c.d);
		return rc < 0;
	}
	rc = f_connect(&c);
	if (rc == 0) {
		f_reads(&c);
		f_queue_depth(&c);
		if (c.writable) {
			f_writes(&c);
			f_restore(&c);
		} else {
			f_read_only(&c);
		}
		f_get_id(&c);
		f_errors(&c);
		f_final(&c);
	}
	printf("vu-driver: %u checks, %u failed\n", c.t.checks, c.t.failed);
	drv_close(&c.d);
	return c.t.failed || rc < 0 ? 1 : 0;
}
