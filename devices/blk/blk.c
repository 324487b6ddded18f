/*
 * The virtio-blk device: config space, features, and request execution
 * straight between guest memory and the disk fd (preadv/pwritev over the
 * iovecs vq_pop made, no copy, no allocation). Bad requests get a status
 * (5.2.6); a malformed chain or a broken ring stops the ring and signals
 * the err fd (the chain is not pushed). Without VIRTIO_BLK_F_FLUSH
 * negotiated every write is durable before its status (5.2.5.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blk.h"

#define SECTOR VIRTIO_BLK_SECTOR_SIZE
#define HDR_BYTES sizeof(struct virtio_blk_req_hdr)
#define DWZ_BYTES sizeof(struct virtio_blk_discard_write_zeroes)

/* One request being executed: the header and the writable data segments
 * (the status byte already cut off the last one). */
struct blk_req {
	struct vq_elem *e;
	struct virtio_blk_req_hdr hdr;
	struct iovec *in;
	unsigned in_num;
	uint64_t in_len;
	uint64_t written;           /* data bytes stored into in segments */
};

static const uint8_t blk_zeros[64 * 1024];

int
blk_init(struct blk_dev *d, int fd, uint64_t size, bool read_only,
    const char *id, unsigned num_queues)
{
	struct virtio_blk_config *c = &d->config;

	memset(d, 0, sizeof(*d));
	if (size == 0 || size % SECTOR != 0 || strlen(id) > VIRTIO_BLK_ID_BYTES ||
	    num_queues == 0 || num_queues > BLK_MAX_QUEUES)
		return -EINVAL;
	d->fd = fd;
	d->read_only = read_only;
	d->capacity = size / SECTOR;
	d->num_queues = num_queues;
	d->poll_us = BLK_DEFAULT_POLL_US;
	memcpy(d->id, id, strlen(id));
	c->capacity = d->capacity;
	c->size_max = BLK_SIZE_MAX;
	c->seg_max = BLK_SEG_MAX;
	c->blk_size = SECTOR;
	c->num_queues = (uint16_t)num_queues;
	c->max_discard_sectors = BLK_MAX_DWZ_SECTORS;
	c->max_discard_seg = BLK_MAX_DWZ_SEG;
	c->discard_sector_alignment = 1;
	c->max_write_zeroes_sectors = BLK_MAX_DWZ_SECTORS;
	c->max_write_zeroes_seg = BLK_MAX_DWZ_SEG;
	c->write_zeroes_may_unmap = 1;
	return 0;
}

uint64_t
blk_features(const struct blk_dev *d)
{
	uint64_t f = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX) |
	    (1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_BLK_F_SIZE_MAX) |
	    (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
	    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |
	    (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_BLK_F_MQ);

	if (d->read_only)
		f |= 1ull << VIRTIO_BLK_F_RO;
	return f;
}

/* ------------------------------------------------------------ data path */

/* Drop `skip` bytes from the front of iov[0..*n); returns the new start. */
static struct iovec *
iov_advance(struct iovec *iov, unsigned *n, size_t skip)
{
	while (*n > 0 && skip >= iov->iov_len) {
		skip -= iov->iov_len;
		iov++;
		(*n)--;
	}
	if (*n > 0) {
		iov->iov_base = (uint8_t *)iov->iov_base + skip;
		iov->iov_len -= skip;
	}
	return iov;
}

/* Without FLUSH negotiated the driver cannot ask for durability: the
 * device is write-through (5.2.5.1). */
static bool
blk_write_through(const struct blk_dev *d)
{
	return !(d->features & (1ull << VIRTIO_BLK_F_FLUSH));
}

/* preadv/pwritev2 the whole of iov at off, looping over short transfers
 * and IOV_MAX; `wflags` (RWF_DSYNC or 0) for writes. Hitting end of file
 * is -EIO. Adds what moved to *done. */
static int
blk_rw(int fd, struct iovec *iov, unsigned n, uint64_t off, bool write, int wflags,
    uint64_t *done)
{
	ssize_t r;
	int cnt;

	while (n > 0) {
		cnt = n > IOV_MAX ? IOV_MAX : (int)n;
		r = write ? pwritev2(fd, iov, cnt, (off_t)off, wflags) :
		    preadv(fd, iov, cnt, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		off += (uint64_t)r;
		*done += (uint64_t)r;
		iov = iov_advance(iov, &n, (size_t)r);
	}
	return 0;
}

/* sector + nsectors fits the disk (overflow-checked). */
static bool
blk_range_ok(const struct blk_dev *d, uint64_t sector, uint64_t nsectors)
{
	uint64_t end;

	return !__builtin_add_overflow(sector, nsectors, &end) && end <= d->capacity;
}

static uint8_t
blk_in(struct blk_dev *d, struct blk_req *r)
{
	if (r->in_len % SECTOR != 0 || !blk_range_ok(d, r->hdr.sector, r->in_len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (blk_rw(d->fd, r->in, r->in_num, r->hdr.sector * SECTOR, false, 0, &r->written) < 0)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t
blk_out(struct blk_dev *d, struct blk_req *r)
{
	struct vq_elem *e = r->e;
	uint64_t len = e->out_len - HDR_BYTES, done = 0;
	unsigned n = e->out_num;
	struct iovec *iov;

	if (d->read_only || len % SECTOR != 0 || !blk_range_ok(d, r->hdr.sector, len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	iov = iov_advance(e->iov, &n, HDR_BYTES);
	if (blk_rw(d->fd, iov, n, r->hdr.sector * SECTOR, true,
	    blk_write_through(d) ? RWF_DSYNC : 0, &done) < 0)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t
blk_flush(struct blk_dev *d)
{
	return fdatasync(d->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

static uint8_t
blk_get_id(struct blk_dev *d, struct blk_req *r)
{
	size_t n = r->in_len < VIRTIO_BLK_ID_BYTES ? (size_t)r->in_len : VIRTIO_BLK_ID_BYTES;

	r->written = vq_buf_to_iov(r->e, 0, d->id, n);
	return VIRTIO_BLK_S_OK;
}

/* Write zeros with pwritev from a static zero buffer. */
static int
blk_write_zeros(int fd, uint64_t off, uint64_t len)
{
	struct iovec iov[16];
	unsigned cnt;
	uint64_t left;
	ssize_t r;

	while (len > 0) {
		left = len;
		for (cnt = 0; cnt < 16 && left > 0; cnt++) {
			iov[cnt].iov_base = (void *)(uintptr_t)blk_zeros;
			iov[cnt].iov_len = left < sizeof(blk_zeros) ? left : sizeof(blk_zeros);
			left -= iov[cnt].iov_len;
		}
		r = pwritev(fd, iov, (int)cnt, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static bool
fallocate_unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL || err == ENODEV;
}

static int
blk_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	int rc;

	do
		rc = fallocate(fd, mode, (off_t)off, (off_t)len);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

/* WRITE_ZEROES: punch (unmap) or zero the range, else write zeros. */
static int
blk_zero_range(int fd, uint64_t off, uint64_t len, bool unmap)
{
	int rc = -EOPNOTSUPP;

	if (unmap)
		rc = blk_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	if (rc < 0 && fallocate_unsupported(-rc))
		rc = blk_fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
	if (rc < 0 && fallocate_unsupported(-rc))
		rc = blk_write_zeros(fd, off, len);
	return rc;
}

/* DISCARD is a hint: a file system that cannot punch holes succeeds. */
static int
blk_discard_range(int fd, uint64_t off, uint64_t len)
{
	int rc = blk_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);

	return rc < 0 && fallocate_unsupported(-rc) ? 0 : rc;
}

/* Check one DISCARD / WRITE_ZEROES segment (5.2.6.2). */
static uint8_t
blk_dwz_check(const struct blk_dev *d, const struct virtio_blk_discard_write_zeroes *s,
    bool wz)
{
	if (s->flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
		return VIRTIO_BLK_S_UNSUPP;
	if (!wz && (s->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	if (s->num_sectors > BLK_MAX_DWZ_SECTORS || !blk_range_ok(d, s->sector, s->num_sectors))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t
blk_dwz(struct blk_dev *d, struct blk_req *r, bool wz)
{
	struct virtio_blk_discard_write_zeroes s;
	uint64_t payload = r->e->out_len - HDR_BYTES;
	uint8_t st;
	int rc;

	if (d->read_only || payload == 0 || payload % DWZ_BYTES != 0)
		return VIRTIO_BLK_S_IOERR;
	if (payload / DWZ_BYTES > BLK_MAX_DWZ_SEG)
		return VIRTIO_BLK_S_UNSUPP;
	vq_iov_to_buf(r->e, HDR_BYTES, &s, sizeof(s));
	st = blk_dwz_check(d, &s, wz);
	if (st != VIRTIO_BLK_S_OK || s.num_sectors == 0)
		return st;
	if (wz)
		rc = blk_zero_range(d->fd, s.sector * SECTOR, (uint64_t)s.num_sectors * SECTOR,
		    s.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	else
		rc = blk_discard_range(d->fd, s.sector * SECTOR, (uint64_t)s.num_sectors * SECTOR);
	if (rc == 0 && blk_write_through(d) && fdatasync(d->fd) < 0)
		rc = -errno;
	return rc < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

static uint8_t
blk_execute(struct blk_dev *d, struct blk_req *r)
{
	switch (r->hdr.type) {
	case VIRTIO_BLK_T_IN:
		return blk_in(d, r);
	case VIRTIO_BLK_T_OUT:
		return blk_out(d, r);
	case VIRTIO_BLK_T_FLUSH:
		return blk_flush(d);
	case VIRTIO_BLK_T_GET_ID:
		return blk_get_id(d, r);
	case VIRTIO_BLK_T_DISCARD:
		return blk_dwz(d, r, false);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return blk_dwz(d, r, true);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void
blk_count(struct blk_stats *s, uint8_t status)
{
	s->requests++;
	if (status == VIRTIO_BLK_S_IOERR)
		s->io_errors++;
	else if (status == VIRTIO_BLK_S_UNSUPP)
		s->unsupported++;
}

uint32_t
blk_handle(struct blk_dev *d, struct vq_elem *e)
{
	struct blk_req r = { .e = e };
	struct iovec *last;
	uint8_t *status, st;

	if (e->in_num == 0) {
		d->stats.unanswerable++;
		return 0;
	}
	/* The status byte is the last writable byte; cut it off the data. */
	last = &e->iov[e->out_num + e->in_num - 1];
	status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (--last->iov_len == 0)
		e->in_num--;
	e->in_len--;
	r.in = &e->iov[e->out_num];
	r.in_num = e->in_num;
	r.in_len = e->in_len;
	if (vq_iov_to_buf(e, 0, &r.hdr, HDR_BYTES) != HDR_BYTES)
		st = VIRTIO_BLK_S_IOERR;
	else
		st = blk_execute(d, &r);
	*status = st;
	blk_count(&d->stats, st);
	return (uint32_t)r.written + 1;
}

/* ----------------------------------------------------------- the queues */

/* A malformed chain or a broken ring: the ring stops (the chain is not
 * pushed), counted; the caller signals the err fd. */
static int
blk_ring_failed(struct blk_dev *d, struct vq *vq, int rc)
{
	if (rc == -EBADMSG) {
		d->stats.bad_chains++;
		vq_set_broken(vq);
	}
	d->stats.ring_errors++;
	return -EIO;
}

/* Pop, handle and push at most num chains (one ring's worth, so a driver
 * that keeps adding cannot hold us here); -EIO if the ring broke. */
static int
blk_drain_once(struct blk_dev *d, struct vq *vq, bool *pushed)
{
	struct vq_elem *e = &d->elem;
	unsigned n;
	int rc;

	for (n = 0; n < vq->num; n++) {
		rc = vq_pop(vq, e);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return blk_ring_failed(d, vq, rc);
		vq_push(vq, e->head, blk_handle(d, e));
		*pushed = true;
	}
	return 0;
}

/* -------------------------------------------------------- backend ops */

static int
blk_get_config(void *dev, uint32_t offset, uint8_t *buf, uint32_t len)
{
	struct blk_dev *d = dev;
	uint32_t size = sizeof(d->config);

	memset(buf, 0, len);
	if (offset < size)
		memcpy(buf, (uint8_t *)&d->config + offset,
		    len < size - offset ? len : size - offset);
	return 0;
}

static void
blk_set_features(void *dev, uint64_t features)
{
	struct blk_dev *d = dev;

	d->features = features;
}

static int
blk_queue_start(void *dev, struct vu_backend *b, const struct vu_mem *mem,
    const struct vu_vring_config *cfg)
{
	struct blk_dev *d = dev;

	(void)b;
	if (cfg->index >= d->num_queues)
		return -EINVAL;
	return vq_init(&d->vq[cfg->index], mem, cfg->num, cfg->desc_gpa, cfg->avail_gpa,
	    cfg->used_gpa, cfg->base, cfg->event_idx, cfg->indirect);
}

static uint16_t
blk_queue_stop(void *dev, unsigned index)
{
	struct blk_dev *d = dev;
	uint16_t base;

	if (index >= d->num_queues)
		return 0;
	base = d->vq[index].last_avail_idx;
	vq_reset(&d->vq[index]);
	return base;
}

static uint64_t
blk_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Adaptive polling: after a queue is drained, watch its avail index for
 * up to d->poll_us (never past `limit`) with kicks still suppressed
 * (without EVENT_IDX the NO_NOTIFY flag stays set; with it avail_event is
 * left behind, so the driver's next buffers do not cross it), so a driver
 * that keeps the queue busy pays neither a kick nor a wake-up per batch,
 * as cloud-hypervisor's vhost-user-blk backend polls. Returns true if
 * buffers arrived.
 */
static bool
blk_poll_queue(const struct blk_dev *d, const struct vq *vq, uint64_t limit)
{
	uint64_t end = blk_now_us() + d->poll_us;

	if (end > limit)
		end = limit;
	do {
		if (vq_avail_pending(vq) != 0)
			return true;
		__builtin_ia32_pause();
	} while (blk_now_us() < end);
	return false;
}

/* One line per broken ring, but a guest that breaks rings in a loop must
 * not flood stderr (it may be a pipe nobody reads): the first 8, then
 * only when the count reaches a power of 2. */
static void
blk_log_ring_error(const struct blk_dev *d, unsigned index, bool bad_chain)
{
	uint64_t n = d->stats.ring_errors;

	if (n > 8 && (n & (n - 1)) != 0)
		return;
	fprintf(stderr, "vmm-blk: queue %u: %s; ring stopped until the driver resets "
	    "the device (%llu ring errors so far)\n", index,
	    bad_chain ? "malformed descriptor chain" : "ring broken by the driver",
	    (unsigned long long)n);
}

/* One batch: pop, handle and push everything available, notify once. */
static int
blk_batch(struct blk_dev *d, struct vu_backend *b, unsigned index)
{
	struct vq *vq = &d->vq[index];
	bool pushed = false;
	int rc;

	rc = blk_drain_once(d, vq, &pushed);
	if (pushed && vq_should_notify(vq))
		vu_backend_notify(b, index);
	if (rc == -EIO) {
		blk_log_ring_error(d, index, vq->bad_chains != 0);
		vu_backend_ring_error(b, index);
	}
	return rc;
}

/*
 * One kick: batches of at most num chains until the ring is empty with
 * kicks re-enabled. Every path checks BLK_MAX_RUN_US; past it, with work
 * still pending, the library is asked to call again (vu_backend_rekick)
 * after it has served the socket and the other rings, and kicks stay
 * suppressed meanwhile.
 */
static void
blk_queue_kick(void *dev, struct vu_backend *b, unsigned index)
{
	struct blk_dev *d = dev;
	uint64_t limit = blk_now_us() + BLK_MAX_RUN_US;
	struct vq *vq;

	if (index >= d->num_queues)
		return;
	vq = &d->vq[index];
	vq_set_notification(vq, false);
	for (;;) {
		if (blk_batch(d, b, index) < 0)
			return;
		if (vq_avail_pending(vq) == 0 &&
		    (d->poll_us == 0 || !blk_poll_queue(d, vq, limit))) {
			vq_set_notification(vq, true);
			if (vq_avail_pending(vq) == 0)
				return;
			vq_set_notification(vq, false);
		}
		if (blk_now_us() >= limit) {
			vu_backend_rekick(b, index);    /* let the socket in */
			return;
		}
	}
}

const struct vu_backend_ops blk_backend_ops = {
	.get_config = blk_get_config,
	.set_features = blk_set_features,
	.queue_start = blk_queue_start,
	.queue_stop = blk_queue_stop,
	.queue_kick = blk_queue_kick,
};

void
blk_backend_config(struct blk_dev *d, const char *name, struct vu_backend_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = name;
	cfg->num_queues = d->num_queues;
	cfg->max_queue_size = VQ_MAX_SIZE;
	cfg->features = blk_features(d);
	cfg->protocol_features = (1ull << VHOST_USER_PROTOCOL_F_MQ) |
	    (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
	    (1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	cfg->ops = &blk_backend_ops;
	cfg->dev = d;
}
