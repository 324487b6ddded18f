/*
 * vu-driver: the driver side of a split virtqueue (virtio 1.2, 2.7). The
 * backend runs concurrently in another process: avail entries are written
 * before avail->idx is published with release; used->idx is read with
 * acquire before its entries; with EVENT_IDX a full fence separates
 * publishing avail idx from reading avail_event, and writing used_event
 * from re-reading used idx.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "drv.h"

static uint16_t *
drv_used_event(struct drv_vq *q)
{
	return &q->avail->ring[q->num];
}

static uint16_t *
drv_avail_event(const struct drv_vq *q)
{
	return (uint16_t *)((uint8_t *)q->used + 4 + 8ull * q->num);
}

uint16_t
drv_vq_avail_event(const struct drv_vq *q)
{
	return __atomic_load_n(drv_avail_event(q), __ATOMIC_ACQUIRE);
}

void
drv_vq_add(struct drv_vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx & (q->num - 1)] = head;
	q->avail_idx++;
}

static bool
drv_need_kick(struct drv_vq *q)
{
	uint16_t old = q->kicked_idx;

	q->kicked_idx = q->avail_idx;
	if (q->event_idx)
		return virtq_need_event(__atomic_load_n(drv_avail_event(q),
		    __ATOMIC_RELAXED), q->avail_idx, old);
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
	    VIRTQ_USED_F_NO_NOTIFY);
}

int
drv_kick_q(struct drv *d, struct drv_vq *q, bool force)
{
	uint64_t one = 1;
	bool need;

	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	need = drv_need_kick(q);
	if (!need && !force)
		return 0;
	d->kicks++;
	if (write(q->kick_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return -errno;
	return 0;
}

int
drv_kick(struct drv *d, bool force)
{
	return drv_kick_q(d, &d->vq, force);
}

uint16_t
drv_vq_used_pending(const struct drv_vq *q)
{
	return (uint16_t)(__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) -
	    q->last_used);
}

int
drv_vq_get_used(struct drv_vq *q, uint32_t *id, uint32_t *len)
{
	const struct virtq_used_elem *e;

	if (!drv_vq_used_pending(q))
		return 0;
	e = &q->used->ring[q->last_used & (q->num - 1)];
	*id = e->id;
	*len = e->len;
	q->last_used++;
	return 1;
}

void
drv_vq_arm(struct drv_vq *q)
{
	if (q->event_idx)
		__atomic_store_n(drv_used_event(q), q->last_used, __ATOMIC_RELAXED);
	else
		q->avail->flags = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static bool
drv_busy_poll(struct drv_vq *q, unsigned poll_us)
{
	uint64_t end;

	if (drv_vq_used_pending(q))
		return true;
	if (!poll_us)
		return false;
	end = drv_now_ns() + poll_us * 1000ull;
	do {
		for (int i = 0; i < 64; i++) {
			if (drv_vq_used_pending(q))
				return true;
			__builtin_ia32_pause();
		}
	} while (drv_now_ns() < end);
	return false;
}

static int
drv_poll_fds(struct drv *d, int timeout_ms)
{
	struct pollfd p[3] = {
		{ .fd = d->vq.call_fd, .events = POLLIN },
		{ .fd = d->vq.err_fd, .events = POLLIN },
		{ .fd = d->f.sock, .events = POLLIN },
	};
	uint64_t v;
	int n;

	do
		n = poll(p, 3, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (p[1].revents) {
		while (read(d->vq.err_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			;
		return -EIO;
	}
	if (p[2].revents)	/* backends send nothing unasked */
		return drv_peer_closed(d) ? -ECONNRESET : -EPROTO;
	if (p[0].revents) {
		d->calls++;
		while (read(d->vq.call_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			;
	}
	return 0;
}

int
drv_wait_used(struct drv *d, unsigned poll_us, int timeout_ms)
{
	struct drv_vq *q = &d->vq;
	uint64_t deadline = drv_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int rc;

	if (!q->event_idx && poll_us)
		q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	if (drv_busy_poll(q, poll_us))
		return 0;
	for (;;) {
		uint64_t now = drv_now_ns();
		int left;

		drv_vq_arm(q);
		if (drv_vq_used_pending(q))
			return 0;
		left = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		rc = drv_poll_fds(d, left);
		if (rc == -ETIMEDOUT || rc == -EIO)
			return drv_vq_used_pending(q) && rc != -EIO ? 0 : rc;
		if (rc < 0)
			return rc;
		if (drv_vq_used_pending(q))
			return 0;
	}
}
