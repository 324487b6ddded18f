/*
 * vu-driver: virtio-blk requests (virtio 1.2, 5.2.6) and THE test pattern.
 * A request is a chain: header (device-readable), data segments, status
 * byte (device-writable).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drv.h"

uint8_t
drv_pattern(uint64_t sector, unsigned off, unsigned disk)
{
	return (uint8_t)(sector * 13 + off * 7 + disk * 101 + 1);
}

void
drv_fill_pattern(uint8_t *buf, uint64_t sector, uint64_t nsect, unsigned disk)
{
	for (uint64_t s = 0; s < nsect; s++)
		for (unsigned o = 0; o < VIRTIO_BLK_SECTOR_SIZE; o++)
			*buf++ = drv_pattern(sector + s, o, disk);
}

int64_t
drv_check_pattern(const uint8_t *buf, uint64_t sector, uint64_t nsect,
    unsigned disk)
{
	for (uint64_t s = 0; s < nsect; s++)
		for (unsigned o = 0; o < VIRTIO_BLK_SECTOR_SIZE; o++)
			if (buf[s * VIRTIO_BLK_SECTOR_SIZE + o] !=
			    drv_pattern(sector + s, o, disk))
				return (int64_t)(s * VIRTIO_BLK_SECTOR_SIZE + o);
	return -1;
}

/* The chain's segments in order: header, data pieces, status. */
static unsigned
drv_req_segs(const struct drv_req *r, struct drv_seg *s)
{
	uint64_t hdr = DRV_HDR_BASE + (uint64_t)r->slot * DRV_HDR_STRIDE;
	uint32_t piece = r->nseg ? r->data_len / r->nseg : 0;
	unsigned n = 0;

	s[n++] = (struct drv_seg){ hdr, sizeof(struct virtio_blk_req_hdr), false };
	for (unsigned i = 0; i < r->nseg; i++) {
		uint32_t len = i + 1 == r->nseg ? r->data_len - piece * i : piece;

		s[n++] = (struct drv_seg){ r->data_gpa + (uint64_t)piece * i, len,
		    r->data_write };
	}
	s[n++] = (struct drv_seg){ hdr + 16, 1, true };
	return n;
}

static void
drv_write_descs(struct virtq_desc *t, unsigned first, const struct drv_seg *s,
    unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *dsc = &t[first + i];

		dsc->addr = s[i].gpa;
		dsc->len = s[i].len;
		dsc->flags = (s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
		    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		dsc->next = i + 1 < n ? (uint16_t)(first + i + 1) : 0;
	}
}

uint16_t
drv_req_build(struct drv *d, const struct drv_req *r, unsigned first)
{
	uint64_t hdr_gpa = DRV_HDR_BASE + (uint64_t)r->slot * DRV_HDR_STRIDE;
	struct virtio_blk_req_hdr *h = drv_ptr(d, hdr_gpa, DRV_HDR_STRIDE);
	struct drv_seg segs[DRV_MAX_QUEUE + 2];
	unsigned n = drv_req_segs(r, segs);

	h->type = r->type;
	h->reserved = 0;
	h->sector = r->sector;
	*((uint8_t *)h + 16) = 0xff;
	if (r->indirect) {
		uint64_t t = DRV_IND_BASE + (uint64_t)r->slot * DRV_IND_STRIDE;

		drv_write_descs(drv_ptr(d, t, 16ull * n), 0, segs, n);
		d->vq.desc[first] = (struct virtq_desc){ t, 16u * n,
		    VIRTQ_DESC_F_INDIRECT, 0 };
	} else {
		drv_write_descs(d->vq.desc, first, segs, n);
	}
	return (uint16_t)first;
}

int
drv_req_do(struct drv *d, struct drv_req *r)
{
	uint16_t head = drv_req_build(d, r, 0);
	uint32_t id, len;
	int rc;

	drv_vq_add(&d->vq, head);
	if ((rc = drv_kick(d, false)) < 0)
		return drv_err(rc, "kick");
	rc = drv_wait_used(d, 20, d->o->timeout_ms);
	if (rc < 0)
		return drv_err(rc, "%s: request type %u sector %llu", d->o->socket,
		    r->type, (unsigned long long)r->sector);
	drv_vq_get_used(&d->vq, &id, &len);
	if (id != head)
		return drv_err(-EPROTO, "used id %u, expected %u", id, head);
	r->used_len = len;
	r->status = *(uint8_t *)drv_ptr(d, DRV_HDR_BASE +
	    (uint64_t)r->slot * DRV_HDR_STRIDE + 16, 1);
	return 0;
}

int
drv_write_verify(struct drv *d, uint64_t sector, uint32_t nsect,
    unsigned disk, unsigned nseg, bool indirect)
{
	uint32_t len = nsect * VIRTIO_BLK_SECTOR_SIZE;
	uint8_t *buf = drv_ptr(d, DRV_DATA_BASE, len);
	struct drv_req r = { .type = VIRTIO_BLK_T_OUT, .sector = sector,
	    .data_gpa = DRV_DATA_BASE, .data_len = len, .nseg = nseg,
	    .indirect = indirect };
	int64_t bad;
	int rc;

	drv_fill_pattern(buf, sector, nsect, disk);
	if ((rc = drv_req_do(d, &r)) < 0)
		return rc;
	if (r.status != VIRTIO_BLK_S_OK)
		return drv_err(-EILSEQ, "good write of sector %llu: status %u",
		    (unsigned long long)sector, r.status);
	memset(buf, 0xa5, len);
	r.type = VIRTIO_BLK_T_IN;
	r.data_write = true;
	if ((rc = drv_req_do(d, &r)) < 0)
		return rc;
	if (r.status != VIRTIO_BLK_S_OK)
		return drv_err(-EILSEQ, "good read of sector %llu: status %u",
		    (unsigned long long)sector, r.status);
	bad = drv_check_pattern(buf, sector, nsect, disk);
	if (bad >= 0)
		return drv_err(-EILSEQ, "read back of sector %llu: byte %lld differs",
		    (unsigned long long)sector, (long long)bad);
	return 0;
}
