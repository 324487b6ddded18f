/*
 * devices/virtq: the split virtqueue (virtio 1.2, 2.7) as a device process
 * sees it, shared by vmm-blk and vmm-net. The guest (or the test driver)
 * is hostile: ring indices are masked, chains stop after queue-size
 * descriptors, an avail index that runs more than queue-size ahead breaks
 * the ring, each descriptor's direction is checked (readable before
 * writable), every buffer goes through the vu_mem translator (one checked
 * translator; a buffer may run on into guest-physically adjacent regions
 * and then maps to one segment per region), indirect tables are bounded
 * (VQ_MAX_SIZE entries) and never nested.
 *
 * Memory ordering: the driver runs concurrently in another process. avail
 * idx is read with acquire before ring entries; used entries are written
 * before used idx is published with release; with EVENT_IDX a full fence
 * separates publishing used idx from reading used_event.
 */
#ifndef DEVICES_VIRTQ_H
#define DEVICES_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio.h"
#include "vu.h"

#define VQ_MAX_SIZE 1024u          /* largest queue we accept */
/* Segments one chain may map to: a direct part of at most num - 1
 * buffers before an indirect descriptor plus a table of at most
 * VQ_MAX_SIZE entries (2047), rounded up. Buffers split across regions
 * count once per region against the same limit. */
#define VQ_MAX_IOV  (2u * VQ_MAX_SIZE)

struct vq {
	const struct vu_mem *mem;
	uint16_t num;                   /* 0: not started */
	struct virtq_desc *desc;        /* host pointers, translated at init */
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t *used_event;           /* &avail->ring[num] (EVENT_IDX) */
	uint16_t *avail_event;          /* (uint16_t *)&used->ring[num] */
	uint16_t last_avail_idx;        /* next avail entry to pop */
	uint16_t used_idx;              /* next used entry to fill (shadow) */
	uint16_t signalled_used;        /* used idx at the last notification */
	bool signalled_used_valid;
	bool event_idx;
	bool indirect;
	bool broken;                    /* ring-level guest error: stopped */
	uint64_t bad_chains;            /* malformed chains popped (-EBADMSG) */
};

/*
 * A popped chain: out (device-readable) segments first, then in
 * (device-writable) ones, in chain order; zero-length descriptors are
 * skipped. out_len/in_len are the byte totals (each <= UINT32_MAX).
 */
struct vq_elem {
	uint16_t head;
	unsigned out_num;
	unsigned in_num;
	uint64_t out_len;
	uint64_t in_len;
	struct iovec iov[VQ_MAX_IOV];
};

/*
 * Set up a vring from its guest-physical parts. num must be a power of 2
 * in [1, VQ_MAX_SIZE]; each part must translate whole (descriptor table
 * 16*num, avail 6+2*num, used 6+8*num bytes) and be aligned as the spec
 * requires. last_avail_idx = base (the frontend's SET_VRING_BASE);
 * used_idx = the ring's current used->idx (as vhost and libvhost-user do,
 * so a restarted ring continues where it stopped). Returns 0 or -EINVAL
 * (vq left not started).
 */
int vq_init(struct vq *vq, const struct vu_mem *mem, uint16_t num,
    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint16_t base,
    bool event_idx, bool indirect);

/* Forget the vring (num = 0). */
void vq_reset(struct vq *vq);

/*
 * Take the next available chain.
 * Returns 1 with *e filled; 0 when nothing is available (or the ring is
 * broken); -EBADMSG for a malformed chain (descriptor index out of range, a
 * loop / more than num descriptors in the table, indirect when not
 * negotiated, indirect inside indirect, an indirect table whose length is
 * 0, not a multiple of 16 or over VQ_MAX_SIZE entries, a buffer outside
 * guest RAM, a length sum past UINT32_MAX, a readable descriptor after a
 * writable one, more than VQ_MAX_IOV segments): e->head is valid, the
 * chain is consumed and counted in vq->bad_chains; the ring itself stays
 * usable, the caller decides. Device policy (devices/README.md): a
 * malformed chain is a ring-level error like -EIO: the device calls
 * vq_set_broken, does NOT push the chain (a used len of 0 would let a
 * Linux guest read a stale status byte as success) and signals the err fd.
 * -EIO when the ring itself is broken (avail idx more than num ahead of
 * last_avail_idx, a head index >= num): vq->broken is set and nothing more
 * is popped until vq_init again.
 */
int vq_pop(struct vq *vq, struct vq_elem *e);

/* Mark a started ring broken (vq_pop returns 0, vq_avail_pending 0) until
 * the next vq_init: what a device does with a -EBADMSG chain. */
void vq_set_broken(struct vq *vq);

/* Return a chain: write used element {head, len} and publish used->idx. */
void vq_push(struct vq *vq, uint16_t head, uint32_t len);

/* vq_push in two halves, for a batch: vq_fill writes used element {head,
 * len} and advances the shadow index only; vq_flush publishes every
 * filled element with one release store of used->idx (one cache line
 * handed to the driver per batch instead of per chain). Call vq_flush
 * before vq_should_notify, before the ring stops and before returning to
 * the poll loop; vq_push publishes earlier fills too. */
void vq_fill(struct vq *vq, uint16_t head, uint32_t len);
void vq_flush(struct vq *vq);

/*
 * After one or more vq_push: whether the driver wants a used-buffer
 * notification (EVENT_IDX: the used_event rule over the pushes since the
 * last notification; otherwise !VIRTQ_AVAIL_F_NO_INTERRUPT). Updates the
 * signalled state; call once per batch, then signal if true.
 */
bool vq_should_notify(struct vq *vq);

/*
 * Ask the driver for (enable) or not for (disable) kicks: with EVENT_IDX
 * writes avail_event = last_avail_idx, else sets/clears
 * VIRTQ_USED_F_NO_NOTIFY. After enabling, callers re-check vq_pop to close
 * the race with a driver that added buffers meanwhile.
 */
void vq_set_notification(struct vq *vq, bool enable);

/* Number of chains the driver made available and we have not popped
 * (0 for a broken ring). */
uint16_t vq_avail_pending(const struct vq *vq);

/*
 * Copy helpers over an element's segments: vq_iov_to_buf copies up to len
 * bytes starting `skip` bytes into the out (readable) segments;
 * vq_buf_to_iov copies into the in (writable) segments. Return the bytes
 * copied.
 */
size_t vq_iov_to_buf(const struct vq_elem *e, size_t skip, void *buf, size_t len);
size_t vq_buf_to_iov(const struct vq_elem *e, size_t skip, const void *buf, size_t len);

#endif
