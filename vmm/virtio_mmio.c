/*
 * virtio-mmio version 2 register file and state machine (virtio 1.2
 * 4.2.2): see virtio_mmio.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "guest_layout_x86_64.h"
#include "virtio_mmio.h"

#define VIRTIO_MMIO_SHM_NONE 0xffffffffu   /* ShmLen of a missing region */

int
virtio_mmio_init(struct virtio_mmio_dev *d, uint32_t device_id,
    uint64_t features, unsigned nqueues, const void *config,
    uint32_t config_len, const struct virtio_mmio_ops *ops, void *opaque)
{
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = pthread_mutex_init(&d->lock, NULL)) != 0)
		return -rc;
	d->ops = ops;
	d->opaque = opaque;
	d->device_id = device_id;
	d->device_features = features & VIRTIO_MMIO_FEATURES_ALLOWED;
	d->nqueues = nqueues < VIRTIO_MMIO_MAX_QUEUES ? nqueues : VIRTIO_MMIO_MAX_QUEUES;
	d->config_len = config_len < VIRTIO_MMIO_CONFIG_MAX ? config_len
	    : VIRTIO_MMIO_CONFIG_MAX;
	if (config != NULL)
		memcpy(d->config, config, d->config_len);
	atomic_init(&d->mmio_exits, 0);
	atomic_init(&d->failed, false);
	atomic_init(&d->events, 0);
	return 0;
}

void
virtio_mmio_destroy(struct virtio_mmio_dev *d)
{
	pthread_mutex_destroy(&d->lock);
}

unsigned long
virtio_mmio_exits(struct virtio_mmio_dev *d)
{
	return atomic_load(&d->mmio_exits);
}

static struct virtio_mmio_queue *
virtio_mmio_cur_queue(struct virtio_mmio_dev *d)
{
	return d->queue_sel < d->nqueues ? &d->q[d->queue_sel] : NULL;
}

/* ---- reads ---- */

static uint32_t
virtio_mmio_features_word(uint64_t features, uint32_t sel)
{
	return sel == 0 ? (uint32_t)features : sel == 1 ? (uint32_t)(features >> 32) : 0;
}

static uint32_t
virtio_mmio_read_queue(struct virtio_mmio_dev *d, uint64_t off)
{
	struct virtio_mmio_queue *q = virtio_mmio_cur_queue(d);

	if (q == NULL)
		return 0;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return VIRTIO_MMIO_QUEUE_SIZE_MAX;
	case VIRTIO_MMIO_QUEUE_READY: return q->ready;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: return (uint32_t)q->desc;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: return (uint32_t)(q->desc >> 32);
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: return (uint32_t)q->avail;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return (uint32_t)(q->avail >> 32);
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: return (uint32_t)q->used;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return (uint32_t)(q->used >> 32);
	default: return 0;
	}
}

static uint32_t
virtio_mmio_read_reg(struct virtio_mmio_dev *d, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return d->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_mmio_features_word(d->device_features, d->device_features_sel);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		/* The backend signals the irqfd itself, so a used-buffer
		 * notification may be pending whenever the device is live (as
		 * Firecracker does); a reset clears it (4.2.2.1). */
		return ((d->status & VIRTIO_STATUS_DRIVER_OK) ? VIRTIO_MMIO_INT_VRING : 0) |
		    (d->config_pending ? VIRTIO_MMIO_INT_CONFIG : 0);
	case VIRTIO_MMIO_STATUS:
		return d->status | (d->needs_reset || atomic_load(&d->failed) ?
		    VIRTIO_STATUS_DEVICE_NEEDS_RESET : 0);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return VIRTIO_MMIO_SHM_NONE;
	case VIRTIO_MMIO_CONFIG_GENERATION: return d->config_generation;
	default: return virtio_mmio_read_queue(d, off);
	}
}

/* ---- writes ---- */

static void
virtio_mmio_set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffull) | val;
}

static void
virtio_mmio_write_queue(struct virtio_mmio_dev *d, uint64_t off, uint32_t val)
{
	struct virtio_mmio_queue *q = virtio_mmio_cur_queue(d);

	/* Queue registers only change while the queue is not ready and the
	 * device not live (no VIRTIO_F_RING_RESET). */
	if (q == NULL || (d->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		q->ready = val == 1;
		return;
	}
	if (q->ready)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: q->num = val <= 0xffff ? (uint16_t)val : 0; break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: virtio_mmio_set_half(&q->desc, false, val); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: virtio_mmio_set_half(&q->desc, true, val); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: virtio_mmio_set_half(&q->avail, false, val); break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: virtio_mmio_set_half(&q->avail, true, val); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: virtio_mmio_set_half(&q->used, false, val); break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: virtio_mmio_set_half(&q->used, true, val); break;
	default: break;
	}
}

/* Status 0: stop the backend's queues and forget everything the driver
 * set. A failed device keeps DEVICE_NEEDS_RESET. */
static void
virtio_mmio_reset(struct virtio_mmio_dev *d)
{
	unsigned i;
	bool started = false;

	for (i = 0; i < d->nqueues; i++)
		started |= d->q[i].started;
	if (started && d->ops->stop != NULL)
		d->ops->stop(d);
	memset(d->q, 0, sizeof(d->q));
	d->driver_features = 0;
	d->device_features_sel = 0;
	d->driver_features_sel = 0;
	d->queue_sel = 0;
	d->status = 0;
	d->config_pending = false;
	d->needs_reset = atomic_load(&d->failed);
}

/* FEATURES_OK sticks only for a subset of the offered features that
 * includes VERSION_1 (a version 2 device has no legacy interface). */
static bool
virtio_mmio_features_ok(const struct virtio_mmio_dev *d)
{
	return (d->driver_features & ~d->device_features) == 0 &&
	    (d->driver_features & (1ull << VIRTIO_F_VERSION_1)) != 0;
}

static void
virtio_mmio_driver_ok(struct virtio_mmio_dev *d)
{
	int rc;

	if (atomic_load(&d->failed) || d->needs_reset ||
	    !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		d->needs_reset = true;
		return;
	}
	rc = d->ops->start(d);
	if (rc == 0)
		return;
	d->needs_reset = true;
	if (rc != -EINVAL)
		atomic_store(&d->failed, true);
	d->config_pending = true;
	if (d->ops->interrupt != NULL)
		d->ops->interrupt(d);
}

static void
virtio_mmio_write_status(struct virtio_mmio_dev *d, uint32_t val)
{
	uint32_t set;

	if (val == 0) {
		virtio_mmio_reset(d);
		return;
	}
	val &= 0xff & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if ((d->status & ~val) != 0)
		return;                 /* only a reset clears bits */
	set = val & ~d->status;
	if ((set & VIRTIO_STATUS_FEATURES_OK) && !virtio_mmio_features_ok(d))
		set &= ~VIRTIO_STATUS_FEATURES_OK;
	d->status |= set & ~VIRTIO_STATUS_DRIVER_OK;
	if (set & VIRTIO_STATUS_DRIVER_OK) {
		d->status |= VIRTIO_STATUS_DRIVER_OK;
		virtio_mmio_driver_ok(d);
	}
}

static void
virtio_mmio_write_reg(struct virtio_mmio_dev *d, uint64_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->device_features_sel = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->driver_features_sel = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(d->status & VIRTIO_STATUS_FEATURES_OK) && d->driver_features_sel < 2)
			virtio_mmio_set_half(&d->driver_features,
			    d->driver_features_sel == 1, val);
		break;
	case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = val; break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		break;  /* the queue's ioeventfd takes kicks; a miss is junk */
	case VIRTIO_MMIO_INTERRUPT_ACK:
		if (val & VIRTIO_MMIO_INT_CONFIG)
			d->config_pending = false;
		break;
	case VIRTIO_MMIO_STATUS: virtio_mmio_write_status(d, val); break;
	default: virtio_mmio_write_queue(d, off, val); break;
	}
}

/* ---- dispatch ---- */

static void
virtio_mmio_config_access(struct virtio_mmio_dev *d, uint64_t off, uint8_t *data,
    unsigned size, bool is_write)
{
	uint64_t at = off - VIRTIO_MMIO_CONFIG;

	if (is_write)
		return;         /* read-only for the devices we have */
	if (at + size <= d->config_len)
		memcpy(data, d->config + at, size);
	else
		memset(data, 0, size);
}

/* Lock held: take in what virtio_mmio_post() recorded. */
static void
virtio_mmio_fold(struct virtio_mmio_dev *d)
{
	unsigned ev = atomic_exchange(&d->events, 0);
	bool news = (ev & (VIRTIO_MMIO_EV_FAILED | VIRTIO_MMIO_EV_NEEDS_RESET)) != 0;

	if (ev == 0)
		return;
	if ((ev & VIRTIO_MMIO_EV_SYNC) && d->ops->sync != NULL && d->ops->sync(d))
		news = true;
	if (!news)
		return;
	d->needs_reset = true;
	d->config_pending = true;
	d->config_generation++;
}

void
virtio_mmio_note(struct virtio_mmio_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (d->note[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(d->note, sizeof(d->note), fmt, ap);
	va_end(ap);
}

void
virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t off, uint8_t *data,
    unsigned size, bool is_write)
{
	char note[VIRTIO_MMIO_NOTE_MAX];
	uint32_t v;

	atomic_fetch_add(&d->mmio_exits, 1);
	if (size == 0 || size > 8 || off >= VIRTIO_MMIO_WINDOW_SIZE)
		return;
	pthread_mutex_lock(&d->lock);
	virtio_mmio_fold(d);
	if (off >= VIRTIO_MMIO_CONFIG) {
		virtio_mmio_config_access(d, off, data, size, is_write);
	} else if (size != 4 || (off & 3) != 0) {
		if (!is_write)
			memset(data, 0, size);
	} else if (is_write) {
		memcpy(&v, data, 4);
		virtio_mmio_write_reg(d, off, v);
	} else {
		v = virtio_mmio_read_reg(d, off);
		memcpy(data, &v, 4);
	}
	note[0] = d->note[0];
	if (note[0] != '\0') {
		memcpy(note, d->note, sizeof(note));
		d->note[0] = '\0';
	}
	pthread_mutex_unlock(&d->lock);
	if (note[0] != '\0')
		fprintf(stderr, "%s\n", note);
}

bool
virtio_mmio_post(struct virtio_mmio_dev *d, unsigned ev)
{
	bool first = false;

	if (ev & VIRTIO_MMIO_EV_FAILED)
		first = !atomic_exchange(&d->failed, true);
	if ((ev & VIRTIO_MMIO_EV_FAILED) && !first)
		ev &= ~(unsigned)VIRTIO_MMIO_EV_FAILED;    /* already told */
	if (ev == 0)
		return false;
	atomic_fetch_or(&d->events, ev);
	if (d->ops->interrupt != NULL)
		d->ops->interrupt(d);
	return first;
}

int
virtio_mmio_cmdline_append(char *cmdline, size_t size, unsigned index)
{
	size_t len = strnlen(cmdline, size);
	int n;

	if (len >= size)
		return -E2BIG;
	n = snprintf(cmdline + len, size - len, " virtio_mmio.device=4K@%#llx:%u",
	    VIRTIO_MMIO_BASE + (unsigned long long)index * VIRTIO_MMIO_WINDOW_SIZE,
	    VIRTIO_MMIO_FIRST_IRQ + index);
	if (n < 0 || (size_t)n >= size - len) {
		cmdline[len] = '\0';
		return -E2BIG;
	}
	return 0;
}
