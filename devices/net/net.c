/*
 * The virtio-net device: features, the tap's offloads, TX (chain ->
 * writev to the tap, straight from guest memory, behind a checked copy of
 * the header) and RX (tap -> readv straight into one chain, or through a
 * bounce buffer into several with MRG_RXBUF). Bad chains are returned with used len 0 and counted; a ring
 * vq_pop finds broken stops and signals the err fd. No allocation.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "net.h"

#define RXQ VIRTIO_NET_RXQ
#define TXQ VIRTIO_NET_TXQ
#define F(bit) (1ull << (bit))

_Static_assert(NET_TUN_F_CSUM == TUN_F_CSUM && NET_TUN_F_TSO4 == TUN_F_TSO4 &&
    NET_TUN_F_TSO6 == TUN_F_TSO6 && NET_TUN_F_TSO_ECN == TUN_F_TSO_ECN &&
    NET_TUN_F_UFO == TUN_F_UFO, "TUN_F_* values");
_Static_assert(sizeof(((struct net_dev *)0)->tx_iov) / sizeof(struct iovec) <= IOV_MAX,
    "one writev");
_Static_assert(sizeof(((struct net_dev *)0)->rx_iov) / sizeof(struct iovec) <= IOV_MAX,
    "one readv");

void
net_init(struct net_dev *d, int tap, bool ufo)
{
	memset(d, 0, sizeof(*d));
	d->tap = tap;
	d->ufo = ufo;
	d->set_offload = net_tap_set_offload;
	d->name = "vmm-net";
}

uint64_t
net_features(const struct net_dev *d)
{
	uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_EVENT_IDX) |
	    F(VIRTIO_F_RING_INDIRECT_DESC) | F(VIRTIO_NET_F_CSUM) |
	    F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
	    F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_TSO4) |
	    F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN) |
	    F(VIRTIO_NET_F_HOST_ECN) | F(VIRTIO_NET_F_MRG_RXBUF);

	if (d->ufo)
		f |= F(VIRTIO_NET_F_GUEST_UFO) | F(VIRTIO_NET_F_HOST_UFO);
	return f;
}

unsigned
net_offloads(uint64_t f)
{
	unsigned o = 0;

	if (!(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	o |= NET_TUN_F_CSUM;
	if (f & F(VIRTIO_NET_F_GUEST_TSO4))
		o |= NET_TUN_F_TSO4;
	if (f & F(VIRTIO_NET_F_GUEST_TSO6))
		o |= NET_TUN_F_TSO6;
	if ((f & F(VIRTIO_NET_F_GUEST_ECN)) && (o & (NET_TUN_F_TSO4 | NET_TUN_F_TSO6)))
		o |= NET_TUN_F_TSO_ECN;
	if (f & F(VIRTIO_NET_F_GUEST_UFO))
		o |= NET_TUN_F_UFO;
	return o;
}

int
net_tap_set_offload(int tap, unsigned flags)
{
	return ioctl(tap, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

/* Whether GSO type gso (the ECN bit masked off; not NONE) is one the
 * features f allow, given one direction's TSO4, TSO6 and UFO bits (HOST_
 * for frames the driver sends, GUEST_ for frames it receives). */
static bool
net_gso_ok(uint64_t f, uint8_t gso, unsigned tso4, unsigned tso6, unsigned ufo)
{
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return f & F(tso4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return f & F(tso6);
	case VIRTIO_NET_HDR_GSO_UDP:
		return f & F(ufo);
	default:
		return false;
	}
}

bool
net_tx_hdr_ok(uint64_t f, const struct virtio_net_hdr_v1 *h, uint64_t frame_len)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool ecn = h->gso_type & VIRTIO_NET_HDR_GSO_ECN;
	uint64_t need;

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		need = (uint64_t)h->csum_start + h->csum_offset + 2;
		if (!(f & F(VIRTIO_NET_F_CSUM)) || need > frame_len)
			return false;
	}
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return !ecn;
	if (h->gso_size == 0 || (ecn && !(f & F(VIRTIO_NET_F_HOST_ECN))))
		return false;
	return net_gso_ok(f, gso, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
	    VIRTIO_NET_F_HOST_UFO);
}

void
net_stats_reset(struct net_dev *d)
{
	memset(&d->stats, 0, sizeof(d->stats));
}

int
net_summary(const struct net_dev *d, const char *id, char *buf, size_t len)
{
	const struct net_stats *s = &d->stats;
	unsigned long long dropped = s->short_header + s->writable_tx + s->oversized +
	    s->bad_chain + s->no_rx_buffer;

	return snprintf(buf, len, "vmm-net %s: rx %llu frames, tx %llu frames, dropped %llu "
	    "(short header %llu, writable tx %llu, oversized %llu, bad chain %llu, "
	    "no rx buffer %llu)", id, (unsigned long long)s->rx_frames,
	    (unsigned long long)s->tx_frames, dropped, (unsigned long long)s->short_header,
	    (unsigned long long)s->writable_tx, (unsigned long long)s->oversized,
	    (unsigned long long)s->bad_chain, (unsigned long long)s->no_rx_buffer);
}

static uint64_t
net_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One line per event, but a guest (or a tap) that fails in a loop must
 * not flood stderr: the first 8, then only at powers of 2. */
static bool
net_log_due(uint64_t n)
{
	return n <= 8 || (n & (n - 1)) == 0;
}

/* A ring vq_pop found broken: stopped, counted, logged, err fd. */
static void
net_ring_failed(struct net_dev *d, struct vu_backend *b, unsigned index)
{
	d->stats.ring_errors++;
	if (net_log_due(d->stats.ring_errors))
		fprintf(stderr, "%s: queue %u: ring broken by the driver; stopped until "
		    "the driver resets the device (%llu ring errors so far)\n", d->name, index,
		    (unsigned long long)d->stats.ring_errors);
	vu_backend_ring_error(b, index);
}

static void
net_tap_error(struct net_dev *d, const char *op, int err)
{
	d->stats.tap_errors++;
	if (net_log_due(d->stats.tap_errors))
		fprintf(stderr, "%s: tap: %s: %s (frame dropped; %llu tap errors so far)\n",
		    d->name, op, strerror(err), (unsigned long long)d->stats.tap_errors);
}

/* What the tap is polled for: POLLIN while RX can take frames, POLLOUT
 * while a TX chain waits for room. */
static void
net_update_watch(struct net_dev *d, struct vu_backend *b)
{
	short ev = 0;

	if (!d->tap_dead && !d->rx_waiting && d->vq[RXQ].num != 0 && !d->vq[RXQ].broken &&
	    vu_backend_vring_ready(b, RXQ))
		ev |= POLLIN;
	if (d->tx_pending)
		ev |= POLLOUT;
	vu_backend_watch_fd(b, d->tap, ev);
}

static bool net_tap_failed(struct net_dev *d, const char *why, int err);

/* ------------------------------------------------------------------- TX */

/* Check a popped TX chain and copy its header; 0 or the counter to bump. */
static uint64_t *
net_tx_check(struct net_dev *d, struct vq_elem *e)
{
	if (e->in_num > 0)
		return &d->stats.writable_tx;
	if (e->out_len < NET_HDR_BYTES)
		return &d->stats.short_header;
	if (e->out_len - NET_HDR_BYTES > VIRTIO_NET_MAX_FRAME)
		return &d->stats.oversized;
	vq_iov_to_buf(e, 0, &d->tx_hdr, NET_HDR_BYTES);
	if (!net_tx_hdr_ok(d->features, &d->tx_hdr, e->out_len - NET_HDR_BYTES))
		return &d->stats.bad_chain;
	return NULL;
}

/* The iovec for one writev: the checked header copy, then the frame's
 * segments after the guest's header (or the frame linearised into tx_buf
 * when it has more segments than one writev takes). Returns the count. */
static int
net_tx_iov(struct net_dev *d, const struct vq_elem *e)
{
	const unsigned max = sizeof(d->tx_iov) / sizeof(d->tx_iov[0]);
	size_t skip = NET_HDR_BYTES, frame = (size_t)e->out_len - NET_HDR_BYTES;
	unsigned i, n = 1;

	d->tx_iov[0] = (struct iovec){ &d->tx_hdr, NET_HDR_BYTES };
	for (i = 0; i < e->out_num && n < max; i++) {
		if (skip >= e->iov[i].iov_len) {
			skip -= e->iov[i].iov_len;
			continue;
		}
		d->tx_iov[n++] = (struct iovec){ (uint8_t *)e->iov[i].iov_base + skip,
			e->iov[i].iov_len - skip };
		skip = 0;
	}
	if (i == e->out_num)
		return (int)n;
	vq_iov_to_buf(e, NET_HDR_BYTES, d->tx_buf, frame);
	d->tx_iov[1] = (struct iovec){ d->tx_buf, frame };
	return 2;
}

/* Write the checked chain e to the tap: 0 (written or dropped on a tap
 * error) or -EAGAIN (the tap is full; keep it). */
static int
net_tx_write(struct net_dev *d, const struct vq_elem *e)
{
	int cnt = net_tx_iov(d, e);
	ssize_t r;

	do
		r = writev(d->tap, d->tx_iov, cnt);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;
	if (r < 0)
		net_tap_error(d, "write", errno);
	else
		d->stats.tx_frames++;
	return 0;
}

/*
 * One TX chain: 1 filled (sent or dropped; the caller vq_flushes), 0
 * nothing available, -EAGAIN the tap is full (chain held in tx_elem),
 * -EIO the ring broke.
 */
static int
net_tx_one(struct net_dev *d)
{
	struct vq *vq = &d->vq[TXQ];
	struct vq_elem *e = &d->tx_elem;
	uint64_t *bad;
	int rc;

	if (!d->tx_pending) {
		rc = vq_pop(vq, e);
		if (rc == 0 || rc == -EIO)
			return rc;
		bad = rc == -EBADMSG ? &d->stats.bad_chain : net_tx_check(d, e);
		if (bad != NULL) {
			(*bad)++;
			vq_fill(vq, e->head, 0);
			return 1;
		}
	}
	d->tx_pending = net_tx_write(d, e) == -EAGAIN;
	if (d->tx_pending)
		return -EAGAIN;
	vq_fill(vq, e->head, 0);            /* published by the caller's vq_flush */
	return 1;
}

/* At most num chains, one notification; the result of the last one. */
static int
net_tx_batch(struct net_dev *d, struct vu_backend *b)
{
	struct vq *vq = &d->vq[TXQ];
	bool pushed = false;
	unsigned i;
	int rc = 0;

	for (i = 0; i < vq->num; i++) {
		rc = net_tx_one(d);
		if (rc <= 0)
			break;
		pushed = true;
	}
	vq_flush(vq);
	if (pushed && vq_should_notify(vq))
		vu_backend_notify(b, TXQ);
	if (rc == -EIO)
		net_ring_failed(d, b, TXQ);
	return rc;
}

/* Send until the ring is empty with kicks enabled, the tap is full, the
 * ring broke, or the time is up (then ask to be called again). */
static void
net_tx_run(struct net_dev *d, struct vu_backend *b)
{
	uint64_t limit = net_now_us() + NET_MAX_RUN_US;
	struct vq *vq = &d->vq[TXQ];
	int rc;

	vq_set_notification(vq, false);
	for (;;) {
		rc = net_tx_batch(d, b);
		if (rc == -EIO || rc == -EAGAIN)
			break;
		if (vq_avail_pending(vq) == 0) {
			vq_set_notification(vq, true);
			if (vq_avail_pending(vq) == 0)
				break;
			vq_set_notification(vq, false);
		}
		if (net_now_us() >= limit) {
			vu_backend_rekick(b, TXQ);
			break;
		}
	}
	net_update_watch(d, b);
}

/* ------------------------------------------------------------------- RX */

/* Pop the next usable RX chain into e, returning unusable ones with used
 * len 0 (counted): 1, 0 (none), -EIO, or -EAGAIN once this run returned
 * rx_bad_left bad chains (a driver that adds bad chains as fast as we
 * return them must not keep us here: the run yields and is kicked again). */
static int
net_rx_pop(struct net_dev *d, struct vq_elem *e)
{
	struct vq *vq = &d->vq[RXQ];
	uint64_t *bad;
	int rc;

	for (;;) {
		rc = vq_pop(vq, e);
		if (rc == 0 || rc == -EIO)
			return rc;
		if (rc == -EBADMSG || e->out_num > 0)
			bad = &d->stats.bad_chain;
		else if (e->in_len < NET_HDR_BYTES)
			bad = &d->stats.short_header;
		else
			return 1;
		(*bad)++;
		vq_push(vq, e->head, 0);
		if (d->rx_bad_left == 0 || --d->rx_bad_left == 0)
			return -EAGAIN;
	}
}

/* Like net_rx_pop, but with none available ask for a kick (avail_event at
 * the current last_avail_idx) and look again (the driver may have added
 * some meanwhile). 0: wait for the kick; -EAGAIN: the ring keeps changing
 * under us, come back later (rekick). */
static int
net_rx_get(struct net_dev *d, struct vq_elem *e)
{
	struct vq *vq = &d->vq[RXQ];
	unsigned tries;
	int rc;

	for (tries = 0; tries < 2; tries++) {
		rc = net_rx_pop(d, e);
		if (rc != 0)
			return rc;
		vq_set_notification(vq, true);
		if (vq_avail_pending(vq) == 0) {
			d->rx_waiting = true;
			return 0;
		}
		vq_set_notification(vq, false);
	}
	return -EAGAIN;
}

/* Fill the used entries of the held chains, to be published together by
 * one vq_flush (net_rx_run's end, net_rx_release): a driver must not see
 * the first buffer of a merged frame before the others (Linux drops a
 * frame whose buffers are missing), and one used->idx store per batch of
 * frames keeps that cache line from bouncing to the driver per frame. */
static void
net_rx_push_held(struct net_dev *d, bool fill)
{
	struct vq *vq = &d->vq[RXQ];
	unsigned i, n = d->rx_nheads;

	if (n == 0 || vq->num == 0)
		return;
	for (i = 0; i < n; i++)
		vq_fill(vq, d->rx_heads[i], fill ? d->rx_lens[i] : 0);
	d->rx_nheads = 0;
	d->rx_first_valid = false;
}

/* Give back every chain held for the current frame with used len 0 (the
 * frame stays in rx_buf and starts over). */
static void
net_rx_release(struct net_dev *d)
{
	if (d->rx_first_valid && d->rx_nheads == 0) {
		d->rx_heads[0] = d->rx_first.head;
		d->rx_nheads = 1;
	}
	net_rx_push_held(d, false);
	vq_flush(&d->vq[RXQ]);
	d->rx_off = 0;
	if (d->rx_direct)                       /* its bytes went with the chain */
		d->rx_have = false;
	d->rx_direct = false;
}

/* Copy frame bytes from rx_off into chain e after `skip` bytes; record it. */
static void
net_rx_fill(struct net_dev *d, const struct vq_elem *e, size_t skip)
{
	size_t room = (size_t)e->in_len - skip, left = d->rx_len - d->rx_off;
	size_t n = room < left ? room : left;

	vq_buf_to_iov(e, skip, d->rx_buf + d->rx_off, n);
	d->rx_heads[d->rx_nheads] = e->head;
	d->rx_lens[d->rx_nheads] = (uint32_t)(skip + n);
	d->rx_nheads++;
	d->rx_off += n;
}

/* The frame is in the chains: write the first chain's header (num_buffers,
 * no checksum flags the driver did not ask for) and publish them all. */
static void
net_rx_complete(struct net_dev *d)
{
	struct virtio_net_hdr_v1 h = d->rx_hdr;

	h.num_buffers = (uint16_t)d->rx_nheads;
	if (!(d->features & F(VIRTIO_NET_F_GUEST_CSUM)))
		h.flags = 0;
	vq_buf_to_iov(&d->rx_first, 0, &h, NET_HDR_BYTES);
	net_rx_push_held(d, true);
	d->stats.rx_frames++;
	d->rx_have = false;
	d->rx_direct = false;
	d->rx_off = 0;
}

/* The held frame does not fit: dropped (counted); a lone first chain is
 * kept for the next frame, merged chains are given back with len 0. */
static void
net_rx_drop(struct net_dev *d)
{
	d->stats.no_rx_buffer++;
	if (d->rx_nheads > 1) {
		net_rx_release(d);
	} else {
		d->rx_nheads = 0;
		d->rx_off = 0;
	}
	d->rx_have = false;
}

/*
 * Put the held frame into RX chains: 1 done (delivered or dropped), 0
 * waiting for buffers (state kept), -EAGAIN yield (state kept), -EIO the
 * ring broke.
 */
static int
net_rx_deliver(struct net_dev *d)
{
	bool mrg = d->features & F(VIRTIO_NET_F_MRG_RXBUF);
	int rc;

	if (d->rx_direct) {                     /* already in rx_first, whole */
		d->rx_heads[0] = d->rx_first.head;
		d->rx_lens[0] = (uint32_t)d->rx_len;
		d->rx_nheads = 1;
		net_rx_complete(d);
		return 1;
	}
	if (!d->rx_first_valid) {
		rc = net_rx_get(d, &d->rx_first);
		if (rc <= 0)
			return rc;
		d->rx_first_valid = true;
	}
	if (d->rx_nheads == 0) {
		d->rx_off = NET_HDR_BYTES;
		net_rx_fill(d, &d->rx_first, NET_HDR_BYTES);
	}
	while (d->rx_off < d->rx_len) {
		if (!mrg || d->rx_nheads == d->vq[RXQ].num) {
			net_rx_drop(d);
			return 1;
		}
		rc = net_rx_get(d, &d->rx_elem);
		if (rc <= 0)
			return rc;
		net_rx_fill(d, &d->rx_elem, 0);
	}
	net_rx_complete(d);
	return 1;
}

/* Whether a frame's header from the tap asks only for offloads the driver
 * took: the tap follows TUNSETOFFLOAD, but a frame read (or queued) under
 * an earlier feature set may not. */
static bool
net_rx_hdr_ok(const struct net_dev *d, const struct virtio_net_hdr_v1 *h)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint64_t f = d->features;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(f & F(VIRTIO_NET_F_GUEST_ECN)))
		return false;
	return gso == VIRTIO_NET_HDR_GSO_NONE ||
	    net_gso_ok(f, gso, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
	    VIRTIO_NET_F_GUEST_UFO);
}

/* Copy the first len bytes of chain e's writable segments to buf (len <=
 * e->in_len). */
static void
net_in_to_buf(const struct vq_elem *e, void *buf, size_t len)
{
	uint8_t *p = buf;
	unsigned i;

	for (i = e->out_num; i < e->out_num + e->in_num && len > 0; i++) {
		size_t n = e->iov[i].iov_len < len ? e->iov[i].iov_len : len;

		memcpy(p, e->iov[i].iov_base, n);
		p += n;
		len -= n;
	}
}

/*
 * One read from the tap. With an unused RX chain popped (rx_first, no
 * frame bytes in it yet) and few enough segments, straight into it, with
 * rx_buf behind it for what does not fit: a frame that fits is delivered
 * without a copy (rx_direct); a longer one is put together in rx_buf
 * (its head copied back from the chain) and goes the merged way. Else
 * into rx_buf. The header is copied out once and checked; only that copy
 * is written back. Returns 1 (read: rx_have, or dropped), 0 (none),
 * -errno.
 */
static int
net_rx_read(struct net_dev *d)
{
	struct vq_elem *e = &d->rx_first;
	bool direct = d->rx_first_valid && d->rx_nheads == 0 &&
	    e->in_num < sizeof(d->rx_iov) / sizeof(d->rx_iov[0]);
	size_t room = direct ? (size_t)e->in_len : 0;
	struct virtio_net_hdr_v1 h;
	ssize_t r;

	unsigned n = direct ? e->in_num : 0;

	if (direct)
		memcpy(d->rx_iov, &e->iov[e->out_num], n * sizeof(struct iovec));
	d->rx_iov[n] = (struct iovec){ d->rx_buf,
	    room < sizeof(d->rx_buf) ? sizeof(d->rx_buf) - room : 0 };
	do
		r = readv(d->tap, d->rx_iov, (int)n + 1);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (r < 0)
		return -errno;
	if ((size_t)r <= NET_HDR_BYTES) {
		net_tap_error(d, "read", EBADMSG);      /* no frame after the header */
		return 1;
	}
	if ((size_t)r > room + d->rx_iov[n].iov_len) {
		/* tun returns the frame's whole length, the rest cut off */
		net_tap_error(d, "read", EMSGSIZE);
		return 1;
	}
	if (direct)
		net_in_to_buf(e, &h, sizeof(h));        /* in_len >= 12 (net_rx_pop) */
	else
		memcpy(&h, d->rx_buf, sizeof(h));
	if (!net_rx_hdr_ok(d, &h)) {
		net_tap_error(d, "read", EPROTO);       /* offloads not negotiated */
		return 1;
	}
	if (direct && (size_t)r > room) {
		/* [room, r) is at rx_buf[0]: make rx_buf the whole frame */
		memmove(d->rx_buf + room, d->rx_buf, (size_t)r - room);
		net_in_to_buf(e, d->rx_buf, room);
		direct = false;
	}
	if (!direct)
		memcpy(d->rx_buf, &h, sizeof(h));       /* the checked copy */
	d->rx_hdr = h;
	d->rx_len = (size_t)r;
	d->rx_direct = direct;
	d->rx_have = true;
	return 1;
}

/* Deliver the held frame and read on (not from a failed tap), at most
 * NET_RX_BATCH frames; one notification. Stops on an empty tap, no RX
 * buffer (rx_waiting), a broken ring, or a run that met too many bad
 * chains (then it asks to be called again). */
static void
net_rx_run(struct net_dev *d, struct vu_backend *b)
{
	struct vq *vq = &d->vq[RXQ];
	uint16_t used = vq->used_idx;
	unsigned i;
	int rc = 0;

	if (vq->num == 0 || vq->broken)
		return;
	d->rx_waiting = false;
	d->rx_bad_left = vq->num;
	vq_set_notification(vq, false);
	for (i = 0; i < NET_RX_BATCH; i++) {
		if (!d->rx_have) {
			if (d->tap_dead)
				break;
			/* a chain first, so the frame can be read into it */
			if (!d->rx_first_valid && d->rx_nheads == 0) {
				rc = net_rx_pop(d, &d->rx_first);
				if (rc < 0)
					break;          /* -EAGAIN / -EIO: below */
				d->rx_first_valid = rc == 1;
			}
			rc = net_rx_read(d);
			if (rc == -EFAULT && d->rx_first_valid) {
				rc = -EIO;      /* the chain is not mapped memory:
				                 * the ring's fault, not the tap's */
				break;
			}
			if (rc < 0 && net_tap_failed(d, "read failed", -rc) &&
			    vq_should_notify(&d->vq[TXQ]))
				vu_backend_notify(b, TXQ);
			if (rc <= 0) {
				rc = 0;         /* a tap error is not the ring's */
				break;
			}
			if (!d->rx_have)
				continue;       /* dropped (a tap error): the next */
		}
		rc = net_rx_deliver(d);
		if (rc <= 0)
			break;
	}
	vq_flush(vq);                           /* the frames of this run */
	if (vq->used_idx != used && vq_should_notify(vq))
		vu_backend_notify(b, RXQ);
	if (rc == -EAGAIN)
		vu_backend_rekick(b, RXQ);
	if (rc == -EIO) {
		d->rx_first_valid = false;      /* nothing more is pushed there */
		d->rx_nheads = 0;
		d->rx_off = 0;
		net_ring_failed(d, b, RXQ);
	}
}

/* ------------------------------------------------------------- callbacks */

static void
net_set_features(void *dev, uint64_t features)
{
	struct net_dev *d = dev;
	unsigned o = net_offloads(features);
	int rc;

	d->features = features;
	rc = d->set_offload(d->tap, o);
	if (rc < 0) {
		fprintf(stderr, "%s: tap: TUNSETOFFLOAD 0x%x: %s; offloads off\n", d->name, o,
		    strerror(-rc));
		o = 0;
		(void)d->set_offload(d->tap, 0);
	}
	d->offloads = o;
}

static int
net_queue_start(void *dev, struct vu_backend *b, const struct vu_mem *mem,
    const struct vu_vring_config *c)
{
	struct net_dev *d = dev;

	(void)b;
	if (c->index >= NET_NUM_QUEUES)
		return -EINVAL;
	return vq_init(&d->vq[c->index], mem, c->num, c->desc_gpa, c->avail_gpa,
	    c->used_gpa, c->base, c->event_idx, c->indirect);
}

/* Chains popped and not pushed go back with used len 0: the RX chains of
 * a partly delivered frame (the frame stays held and starts over on the
 * restarted ring), the TX chain waiting for the tap (its frame is lost). */
static uint16_t
net_queue_stop(void *dev, unsigned index)
{
	struct net_dev *d = dev;
	struct vq *vq;
	uint16_t base;

	if (index >= NET_NUM_QUEUES)
		return 0;
	vq = &d->vq[index];
	if (index == RXQ && !vq->broken) {
		net_rx_release(d);
	} else if (index == TXQ && d->tx_pending && !vq->broken) {
		vq_push(vq, d->tx_elem.head, 0);
		d->stats.tap_errors++;
	}
	if (index == RXQ) {
		d->rx_first_valid = false;
		d->rx_nheads = 0;
		d->rx_off = 0;
		d->rx_waiting = false;
	} else {
		d->tx_pending = false;
	}
	base = vq->last_avail_idx;
	vq_reset(vq);
	return base;
}

static void
net_queue_kick(void *dev, struct vu_backend *b, unsigned index)
{
	struct net_dev *d = dev;

	if (index == TXQ && d->vq[TXQ].num != 0 && !d->tx_pending)
		net_tx_run(d, b);
	else if (index == RXQ)
		net_rx_run(d, b);
	net_update_watch(d, b);
}

/* The tap failed (interface gone): not polled any more; a TX chain
 * waiting for it goes back. Returns whether one was pushed (the caller
 * notifies). `err`: the errno, or 0. */
static bool
net_tap_failed(struct net_dev *d, const char *why, int err)
{
	bool pushed = false;

	if (!d->tap_dead)
		fprintf(stderr, "%s: tap: %s%s%s; not polled any more\n", d->name, why,
		    err != 0 ? ": " : "", err != 0 ? strerror(err) : "");
	d->tap_dead = true;
	if (d->tx_pending && d->vq[TXQ].num != 0 && !d->vq[TXQ].broken) {
		vq_push(&d->vq[TXQ], d->tx_elem.head, 0);
		pushed = true;
	}
	d->tx_pending = false;
	return pushed;
}

/* The tap is writable: the held TX chain, then the ring if it is ready. */
static void
net_tap_writable(struct net_dev *d, struct vu_backend *b)
{
	if (vu_backend_vring_ready(b, TXQ)) {
		net_tx_run(d, b);
	} else {
		int rc = net_tx_one(d);

		vq_flush(&d->vq[TXQ]);
		if (rc == 1 && vq_should_notify(&d->vq[TXQ]))
			vu_backend_notify(b, TXQ);
	}
}

static void
net_device_event(void *dev, struct vu_backend *b, short revents)
{
	struct net_dev *d = dev;
	struct vq *rx = &d->vq[RXQ];

	if ((revents & (POLLERR | POLLHUP | POLLNVAL)) &&
	    net_tap_failed(d, "poll reports an error or hang-up (interface gone?)", 0) &&
	    vq_should_notify(&d->vq[TXQ]))
		vu_backend_notify(b, TXQ);
	if ((revents & POLLOUT) && d->tx_pending)
		net_tap_writable(d, b);
	if ((revents & POLLIN) && !d->tap_dead && rx->num != 0 && !rx->broken &&
	    vu_backend_vring_ready(b, RXQ))
		net_rx_run(d, b);
	net_update_watch(d, b);
}

const struct vu_backend_ops net_backend_ops = {
	.get_config = NULL,
	.set_features = net_set_features,
	.queue_start = net_queue_start,
	.queue_stop = net_queue_stop,
	.queue_kick = net_queue_kick,
	.device_event = net_device_event,
};

void
net_backend_config(struct net_dev *d, const char *name, struct vu_backend_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = name;
	cfg->num_queues = NET_NUM_QUEUES;
	cfg->max_queue_size = VQ_MAX_SIZE;
	cfg->features = net_features(d);
	cfg->protocol_features = (1ull << VHOST_USER_PROTOCOL_F_MQ) |
	    (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	cfg->ops = &net_backend_ops;
	cfg->dev = d;
	d->name = name;
}
