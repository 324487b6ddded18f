/*
 * devices/blk: the virtio-blk device (virtio 1.2, 5.2) behind vmm-blk: its
 * features and config space, request processing over devices/virtq, and
 * the vu_backend_ops that plug it into the vhost-user backend library.
 * main.c owns the process (arguments, disk fd, sockets); this module only
 * reads and writes the disk fd it is given. Nothing here allocates per
 * request: one struct blk_dev holds every buffer.
 */
#ifndef DEVICES_BLK_BLK_H
#define DEVICES_BLK_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"
#include "virtq.h"
#include "vu.h"

#define BLK_MAX_QUEUES       8u
#define BLK_SIZE_MAX         (1u << 20)     /* config size_max */
#define BLK_SEG_MAX          254u           /* config seg_max */
/* max_discard/write_zeroes_sectors: 16 MiB per request, as QEMU's
 * vhost-user-blk export, so one request cannot hold the (single) thread
 * for long. */
#define BLK_MAX_DWZ_SECTORS  32768u
#define BLK_MAX_DWZ_SEG      1u             /* max_discard/write_zeroes_seg */

struct blk_stats {
	uint64_t requests;        /* chains answered with a status */
	uint64_t unanswerable;    /* well-formed chains without a status byte */
	uint64_t io_errors;       /* requests answered VIRTIO_BLK_S_IOERR */
	uint64_t unsupported;     /* requests answered VIRTIO_BLK_S_UNSUPP */
	uint64_t bad_chains;      /* malformed chains (ring stopped, not pushed) */
	uint64_t ring_errors;     /* rings stopped: bad chain or ring-level error */
};

struct blk_dev {
	int fd;                           /* the disk (not owned) */
	bool read_only;
	uint64_t capacity;                /* 512-byte sectors */
	unsigned num_queues;
	uint64_t features;                /* what the driver accepted */
	char id[VIRTIO_BLK_ID_BYTES];     /* NUL padded, not terminated */
	struct virtio_blk_config config;
	struct blk_stats stats;
	struct vq vq[BLK_MAX_QUEUES];
	struct vq_elem elem;              /* the chain being processed */
	unsigned poll_us;                 /* busy-poll an emptied queue this long
	                                   * before waiting for a kick (0: never) */
};

#define BLK_DEFAULT_POLL_US 50u
#define BLK_MAX_POLL_US     1000u
/* Longest run of back-to-back work on one queue (one queue_kick call)
 * before the backend looks at its socket and other queues again
 * (vu_backend_rekick). */
#define BLK_MAX_RUN_US      500u

/*
 * Set up a device over the open disk `fd` of `size` bytes (a non-zero
 * multiple of 512, checked), read-only or not, with the GET_ID string `id`
 * (at most 20 bytes, checked) and `num_queues` queues (1..BLK_MAX_QUEUES,
 * checked). Fills the config space. Makes no system call. Returns 0 or
 * -EINVAL.
 */
int blk_init(struct blk_dev *d, int fd, uint64_t size, bool read_only,
    const char *id, unsigned num_queues);

/* The virtio features the device offers (VERSION_1, EVENT_IDX, INDIRECT,
 * SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES, MQ, and RO
 * when read-only). */
uint64_t blk_features(const struct blk_dev *d);

/* Fill a vu_backend_config for vu_backend_run: blk's ops, d as dev,
 * blk_features, MQ|REPLY_ACK|CONFIG, num_queues, VQ_MAX_SIZE. `name` (for
 * the library's messages) must outlive the run. */
void blk_backend_config(struct blk_dev *d, const char *name,
    struct vu_backend_config *cfg);

/*
 * Execute the request held by one well-formed chain (as vq_pop returned
 * it): header from the readable segments, data and the status byte (the
 * last byte of the last writable segment) from the writable ones. Writes
 * the status byte when there is one. Returns the used length to report:
 * bytes written into the chain including the status byte, or 0 when the
 * chain has no writable byte (counted in stats.unanswerable). May modify
 * e->iov (it trims header and status off the data segments).
 */
uint32_t blk_handle(struct blk_dev *d, struct vq_elem *e);

/*
 * The device's vhost-user callbacks (get_config, set_features,
 * queue_start, queue_stop, queue_kick); dev is a struct blk_dev.
 *
 * queue_kick processes queue `index`: with kicks suppressed, batches of at
 * most num chains (pop, blk_handle, push; one vu_backend_notify per batch
 * when vq_should_notify), an optional busy-poll of d->poll_us, then kicks
 * re-enabled and the ring re-checked. It returns within about
 * BLK_MAX_RUN_US (plus one batch): past it, with work pending, it calls
 * vu_backend_rekick. A malformed chain (vq_pop -EBADMSG) is NOT pushed:
 * like a ring-level error (-EIO) it marks the ring broken
 * (stats.bad_chains, stats.ring_errors), logs one line and calls
 * vu_backend_ring_error; the ring stays stopped until the frontend
 * restarts it (the vmm shows DEVICE_NEEDS_RESET).
 */
extern const struct vu_backend_ops blk_backend_ops;

#endif
