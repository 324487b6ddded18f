/*
 * virtio-mmio transport (virtio 1.2 section 4.2, version 2 registers) for a
 * device whose queues are served elsewhere (a vhost-user backend). This
 * module is only the register file and its state machine: feature
 * selection, queue setup, status, interrupt status, config space from a
 * cache. What happens on DRIVER_OK, on reset and when an interrupt must be
 * raised is the owner's business, through a small ops struct, so the state
 * machine can be tested with a fake.
 *
 * Threads: vCPU threads call virtio_mmio_access(), which takes the
 * device's mutex and calls the ops with it held. The main loop never takes
 * the mutex: virtio_mmio_post() records its news in atomics and raises the
 * interrupt, and the register file folds them in at the next access. Nothing
 * is written to stderr with the mutex held: the ops leave one line with
 * virtio_mmio_note(), printed once the access has released the mutex.
 */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

#define VIRTIO_MMIO_MAX_DEVICES 7      /* GSIs VIRTIO_MMIO_FIRST_IRQ .. +6 */
#define VIRTIO_MMIO_MAX_QUEUES  16
#define VIRTIO_MMIO_QUEUE_SIZE_MAX 256  /* what QueueNumMax reads */
#define VIRTIO_MMIO_CONFIG_MAX  256

#define VIRTIO_MMIO_NOTE_MAX    256     /* one deferred stderr line */

/* Feature bits the transport lets through to the guest: the device-type
 * bits 0-23 (the owner passes only those its device type supports) and
 * the ring features we support. Never bit 30
 * (VHOST_USER_F_PROTOCOL_FEATURES), ACCESS_PLATFORM, RING_PACKED or
 * NOTIFICATION_DATA. */
#define VIRTIO_MMIO_FEATURES_ALLOWED \
	(0xffffffull | (1ull << VIRTIO_F_VERSION_1) | \
	 (1ull << VIRTIO_F_RING_EVENT_IDX) | (1ull << VIRTIO_F_RING_INDIRECT_DESC))

struct virtio_mmio_queue {
	uint16_t num;        /* QueueNum (0: not set) */
	bool ready;          /* QueueReady */
	bool started;        /* handed to the backend by ops->start */
	uint64_t desc;       /* QueueDesc (guest-physical) */
	uint64_t avail;      /* QueueDriver */
	uint64_t used;       /* QueueDevice */
};

struct virtio_mmio_dev;

struct virtio_mmio_ops {
	/* The driver set DRIVER_OK: start the backend with d->driver_features
	 * and every ready queue, setting q[i].started for those it started.
	 * Returns 0; -EINVAL when the guest's setup is unusable (the device
	 * then reports DEVICE_NEEDS_RESET until reset); any other -errno
	 * marks the device failed for good. */
	int (*start)(struct virtio_mmio_dev *d);
	/* The driver wrote status 0: stop the started queues (their started
	 * flags are cleared by the caller afterwards). */
	void (*stop)(struct virtio_mmio_dev *d);
	/* Raise the device's interrupt (a configuration change is pending).
	 * Also called by virtio_mmio_post() without the lock: must be
	 * lock-free and must not block. */
	void (*interrupt)(struct virtio_mmio_dev *d);
	/* Optional. Called with the lock held at the first access after a
	 * virtio_mmio_post(d, VIRTIO_MMIO_EV_SYNC): look at the owner's
	 * asynchronous state (e.g. ring-error eventfds) and return true when
	 * the device must report DEVICE_NEEDS_RESET. */
	bool (*sync)(struct virtio_mmio_dev *d);
};

/* What the main loop can tell the register file (virtio_mmio_post). */
enum virtio_mmio_event {
	VIRTIO_MMIO_EV_FAILED = 1,       /* backend dead/untrusted: for good */
	VIRTIO_MMIO_EV_NEEDS_RESET = 2,  /* DEVICE_NEEDS_RESET until reset */
	VIRTIO_MMIO_EV_SYNC = 4,         /* call ops->sync at the next access */
};

struct virtio_mmio_dev {
	pthread_mutex_t lock;
	const struct virtio_mmio_ops *ops;
	void *opaque;                    /* the owner's */
	uint32_t device_id;              /* VIRTIO_ID_BLOCK ... */
	unsigned nqueues;                /* queues with QueueNumMax != 0 */
	uint64_t device_features;        /* offered (already masked) */
	uint64_t driver_features;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;                 /* without DEVICE_NEEDS_RESET */
	bool needs_reset;                /* DEVICE_NEEDS_RESET until reset */
	atomic_bool failed;              /* for good: reset keeps needs_reset;
	                                  * read by the main loop too */
	atomic_uint events;              /* virtio_mmio_event bits posted by
	                                  * the main loop, not yet folded in */
	bool config_pending;             /* VIRTIO_MMIO_INT_CONFIG */
	uint32_t config_generation;
	uint32_t config_len;
	uint8_t config[VIRTIO_MMIO_CONFIG_MAX];
	struct virtio_mmio_queue q[VIRTIO_MMIO_MAX_QUEUES];
	atomic_ulong mmio_exits;         /* every access, for --stats */
	char note[VIRTIO_MMIO_NOTE_MAX]; /* virtio_mmio_note(); "" when none */
};

/*
 * Initialise d: device type, the backend's features (masked here with
 * VIRTIO_MMIO_FEATURES_ALLOWED), nqueues (capped at
 * VIRTIO_MMIO_MAX_QUEUES), the config space cache (config_len capped at
 * VIRTIO_MMIO_CONFIG_MAX) and the ops. Returns 0 or -errno (mutex).
 */
int virtio_mmio_init(struct virtio_mmio_dev *d, uint32_t device_id,
    uint64_t features, unsigned nqueues, const void *config,
    uint32_t config_len, const struct virtio_mmio_ops *ops, void *opaque);

/* Release what virtio_mmio_init() took. */
void virtio_mmio_destroy(struct virtio_mmio_dev *d);

/*
 * One guest access at offset `off` of the device's 4 KiB window, `size`
 * 1, 2, 4 or 8 bytes (little-endian in data). Registers below 0x100 take
 * only aligned 32-bit accesses (others read 0 and are dropped); config
 * space takes any width inside the cached config (outside it reads 0).
 * Unknown registers read 0 and drop writes. Counts the access in
 * mmio_exits. First folds in what virtio_mmio_post() recorded. Never
 * fails: bad guest input at worst sets DEVICE_NEEDS_RESET. A line left
 * by virtio_mmio_note() is printed on stderr after the lock is released.
 */
void virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t off, uint8_t *data,
    unsigned size, bool is_write);

/*
 * Lock-free, for the main loop: record `ev` for the register file and call
 * ops->interrupt. The next access folds it in: EV_FAILED (backend dead or
 * untrusted) marks the device failed for good (a reset no longer clears
 * DEVICE_NEEDS_RESET and DRIVER_OK starts nothing; d->failed is set at
 * once); EV_NEEDS_RESET reports DEVICE_NEEDS_RESET until reset; EV_SYNC
 * asks ops->sync. Whatever sets DEVICE_NEEDS_RESET also makes a
 * configuration change pending (InterruptStatus bit 1). Returns true the
 * first time a device is marked failed (so the caller logs once).
 */
bool virtio_mmio_post(struct virtio_mmio_dev *d, unsigned ev);

/*
 * Lock held (called from an op): keep a one-line message (no newline) for
 * stderr, printed by virtio_mmio_access() after it releases the lock. Only
 * the first note of an access is kept.
 */
void virtio_mmio_note(struct virtio_mmio_dev *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* MMIO exits counted so far. */
unsigned long virtio_mmio_exits(struct virtio_mmio_dev *d);

/*
 * Append " virtio_mmio.device=4K@0xADDR:IRQ" for device `index` (window
 * VIRTIO_MMIO_BASE + index * 0x1000, IRQ VIRTIO_MMIO_FIRST_IRQ + index) to
 * the NUL-terminated cmdline of `size` bytes. Returns 0, or -E2BIG (and
 * cmdline unchanged) when it does not fit.
 */
int virtio_mmio_cmdline_append(char *cmdline, size_t size, unsigned index);

#endif
