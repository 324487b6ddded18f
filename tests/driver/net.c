/*
 * vu-driver net modes: connection and buffer layout, our frames, the RX
 * and TX rings from the driver's side, and the AF_PACKET peer on the tap.
 * See net.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"

static const uint8_t mac_guest[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t mac_peer[6] = { 2, 0, 0, 0, 0, 2 };

static bool rx_posted[DRV_MAX_QUEUE];
static bool tx_busy[DRV_MAX_QUEUE];
static unsigned tx_inflight;

static uint8_t
pat(uint32_t seq, uint32_t off, unsigned dir)
{
	return (uint8_t)(seq * 31u + off * 7u + dir);
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

void
net_make_frame(uint8_t *buf, uint32_t len, unsigned dir, unsigned kind,
    uint32_t seq)
{
	memcpy(buf, dir == NET_DIR_TX ? mac_peer : mac_guest, 6);
	memcpy(buf + 6, dir == NET_DIR_TX ? mac_guest : mac_peer, 6);
	buf[12] = NET_ETHERTYPE >> 8;
	buf[13] = NET_ETHERTYPE & 0xff;
	memcpy(buf + 14, "vuDn", 4);
	buf[18] = (uint8_t)dir;
	buf[19] = (uint8_t)kind;
	buf[20] = buf[21] = 0;
	put32(buf + 22, seq);
	put32(buf + 26, len);
	for (uint32_t j = NET_MIN_FRAME; j < len; j++)
		buf[j] = pat(seq, j, dir);
}

int
net_check_frame(struct net *n, const uint8_t *buf, uint32_t len, unsigned dir,
    uint32_t *seq, unsigned *kind)
{
	uint32_t s;

	if (len < NET_MIN_FRAME || buf[12] != NET_ETHERTYPE >> 8 ||
	    buf[13] != (NET_ETHERTYPE & 0xff) || memcmp(buf + 14, "vuDn", 4) ||
	    buf[18] != dir)
		return 0;
	s = get32(buf + 22);
	*seq = s;
	*kind = buf[19];
	if (get32(buf + 26) != len) {
		snprintf(n->why, sizeof(n->why), "frame seq %u: %u bytes arrived, "
		    "%u were sent", s, len, get32(buf + 26));
		return -1;
	}
	if (memcmp(buf, dir == NET_DIR_TX ? mac_peer : mac_guest, 6) ||
	    memcmp(buf + 6, dir == NET_DIR_TX ? mac_guest : mac_peer, 6)) {
		snprintf(n->why, sizeof(n->why), "frame seq %u: MAC addresses "
		    "changed", s);
		return -1;
	}
	for (uint32_t j = NET_MIN_FRAME; j < len; j++)
		if (buf[j] != pat(s, j, dir)) {
			snprintf(n->why, sizeof(n->why), "frame seq %u (%u bytes): "
			    "byte %u is 0x%02x, expected 0x%02x", s, len, j, buf[j],
			    pat(s, j, dir));
			return -1;
		}
	return 1;
}

uint64_t
net_pick_features(const struct net *n)
{
	const struct drv_opts *o = n->o;
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) |
	    (1ull << VHOST_USER_F_PROTOCOL_FEATURES);

	if (!o->no_event_idx)
		want |= 1ull << VIRTIO_F_RING_EVENT_IDX;
	if (!o->no_indirect)
		want |= 1ull << VIRTIO_F_RING_INDIRECT_DESC;
	if (o->mrg_rxbuf)
		want |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (!strcmp(o->offloads, "csum") || !strcmp(o->offloads, "tso"))
		want |= (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM);
	if (!strcmp(o->offloads, "tso"))
		want |= (1ull << VIRTIO_NET_F_HOST_TSO4) |
		    (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |
		    (1ull << VIRTIO_NET_F_GUEST_TSO4) |
		    (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN);
	return n->d.offered & want;
}

int
net_peer_open(struct net *n, const char *ifname)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL) };
	int one = 1, big = 16 << 20, s;

	a.sll_ifindex = (int)if_nametoindex(ifname);
	if (!a.sll_ifindex)
		return drv_err(-errno, "peer interface %s", ifname);
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (s < 0)
		return drv_err(-errno, "peer %s: AF_PACKET socket", ifname);
	n->peer = s;
	n->peer_ifindex = a.sll_ifindex;
	if (setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return drv_err(-errno, "peer %s: PACKET_VNET_HDR", ifname);
	if (setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		return drv_err(-errno, "peer %s: PACKET_IGNORE_OUTGOING", ifname);
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return drv_err(-errno, "peer %s: bind", ifname);
	net_peer_drain(n);
	return 0;
}

void
net_init(struct net *n, const struct drv_opts *o)
{
	memset(n, 0, sizeof(*n));
	memset(rx_posted, 0, sizeof(rx_posted));
	memset(tx_busy, 0, sizeof(tx_busy));
	tx_inflight = 0;
	n->o = o;
	n->peer = -1;
	n->d.f.sock = -1;
	n->d.memfd = -1;
	for (unsigned i = 0; i < DRV_MAX_VQS; i++)
		n->d.vqs[i].kick_fd = n->d.vqs[i].call_fd = n->d.vqs[i].err_fd = -1;
}

int
net_open(struct net *n, const struct drv_opts *o)
{
	int rc;

	net_init(n, o);
	if (o->peer_if && (rc = net_peer_open(n, o->peer_if)) < 0)
		return rc;
	rc = drv_open(&n->d, o);
	n->d.nvqs = 2;
	return rc;
}

int
net_start(struct net *n, uint64_t features, uint32_t rx_len, unsigned tx_k)
{
	struct drv *d = &n->d;
	uint64_t end;
	int rc;

	n->mrg = features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	n->rx_num = n->o->queue_size;
	n->rx_len = rx_len;
	n->rx_stride = (rx_len + 63u) & ~63u;
	n->rx_base = DRV_DATA_BASE;
	n->tx_k = tx_k;
	n->tx_slots = n->o->queue_size / tx_k;
	n->tx_base = (n->rx_base + (uint64_t)n->rx_num * n->rx_stride + 0xfff) &
	    ~0xfffull;
	end = n->tx_base + (uint64_t)n->tx_slots * NET_TX_STRIDE;
	if (end > d->mem_size - DRV_SCRATCH) {
		fprintf(stderr, "vu-driver: %s: %u RX buffers of %u bytes and %u TX "
		    "slots do not fit guest RAM: raise --mem-mib\n", n->o->mode,
		    n->rx_num, rx_len, n->tx_slots);
		return -ENOMEM;
	}
	rc = drv_start(d, features);
	return rc;
}

void
net_close(struct net *n)
{
	drv_close(&n->d);
	if (n->peer >= 0)
		close(n->peer);
	n->peer = -1;
}

const char *
net_strerror(int rc)
{
	switch (rc) {
	case -ETIMEDOUT: return "nothing arrived within the timeout";
	case -EIO: return "the backend signalled a ring error (err fd)";
	case -ECONNRESET: return "the backend closed the connection";
	case -EPROTO: return "the backend sent an unasked message";
	default: return strerror(-rc);
	}
}

/* ------------------------------------------------------------ waiting */

static void
drain_fd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

int
net_wait(struct net *n, struct drv_vq *q, int timeout_ms)
{
	struct drv *d = &n->d;
	uint64_t deadline = drv_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		struct pollfd p[4] = {
			{ .fd = q->call_fd, .events = POLLIN },
			{ .fd = d->vqs[0].err_fd, .events = POLLIN },
			{ .fd = d->vqs[1].err_fd, .events = POLLIN },
			{ .fd = d->f.sock, .events = POLLIN },
		};
		uint64_t now = drv_now_ns();
		int left, k;

		if (drv_vq_used_pending(q))
			return 0;
		drv_vq_arm(q);
		if (drv_vq_used_pending(q))
			return 0;
		left = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		k = poll(p, 4, left);
		if (k < 0 && errno != EINTR)
			return -errno;
		if (k == 0)
			return drv_vq_used_pending(q) ? 0 : -ETIMEDOUT;
		if (k < 0)
			continue;
		if (p[1].revents || p[2].revents) {
			drain_fd(d->vqs[0].err_fd);
			drain_fd(d->vqs[1].err_fd);
			n->ring_errors++;
			return -EIO;
		}
		if (p[3].revents)
			return drv_peer_closed(d) ? -ECONNRESET : -EPROTO;
		if (p[0].revents) {
			d->calls++;
			drain_fd(q->call_fd);
		}
	}
}

/* ----------------------------------------------------------------- RX */

int
net_rx_post(struct net *n, unsigned first, unsigned count, bool force)
{
	struct drv_vq *q = &n->d.vqs[VIRTIO_NET_RXQ];

	for (unsigned i = first; i < first + count && i < n->rx_num; i++) {
		q->desc[i] = (struct virtq_desc){ n->rx_base +
		    (uint64_t)i * n->rx_stride, n->rx_len, VIRTQ_DESC_F_WRITE, 0 };
		rx_posted[i] = true;
		drv_vq_add(q, (uint16_t)i);
	}
	return drv_kick_q(&n->d, q, force);
}

static int
rx_take(struct net *n, uint32_t *id, uint32_t *len, int timeout_ms)
{
	struct drv_vq *q = &n->d.vqs[VIRTIO_NET_RXQ];
	int rc = net_wait(n, q, timeout_ms);

	if (rc < 0)
		return rc;
	drv_vq_get_used(q, id, len);
	if (*id >= n->rx_num || !rx_posted[*id]) {
		snprintf(n->why, sizeof(n->why), "RX used id %u was not an "
		    "available buffer", *id);
		return -EILSEQ;
	}
	rx_posted[*id] = false;
	if (*len > n->rx_len) {
		snprintf(n->why, sizeof(n->why), "RX used len %u is larger than "
		    "buffer %u (%u bytes)", *len, *id, n->rx_len);
		return -EILSEQ;
	}
	return 0;
}

static int
rx_repost(struct net *n, const uint16_t *ids, unsigned k)
{
	struct drv_vq *q = &n->d.vqs[VIRTIO_NET_RXQ];

	for (unsigned i = 0; i < k; i++) {
		rx_posted[ids[i]] = true;
		drv_vq_add(q, ids[i]);
	}
	return drv_kick_q(&n->d, q, false);
}

static int
rx_first(struct net *n, struct net_frame *f, uint32_t id, uint32_t len)
{
	const uint8_t *b = drv_ptr(&n->d, n->rx_base + (uint64_t)id * n->rx_stride,
	    n->rx_len);

	if (len < NET_HDR_LEN) {
		snprintf(n->why, sizeof(n->why), "RX used len %u: shorter than "
		    "the 12-byte header", len);
		return -EILSEQ;
	}
	memcpy(&f->hdr, b, NET_HDR_LEN);
	memcpy(f->data, b + NET_HDR_LEN, len - NET_HDR_LEN);
	f->len = len - NET_HDR_LEN;
	f->nbufs = n->mrg ? f->hdr.num_buffers : 1;
	if (!n->mrg && f->hdr.num_buffers != 1) {
		snprintf(n->why, sizeof(n->why), "num_buffers %u without "
		    "MRG_RXBUF (must be 1)", f->hdr.num_buffers);
		return -EILSEQ;
	}
	if (f->nbufs == 0 || f->nbufs > n->rx_num) {
		snprintf(n->why, sizeof(n->why), "num_buffers %u (%u RX buffers)",
		    f->nbufs, n->rx_num);
		return -EILSEQ;
	}
	return 0;
}

int
net_rx_frame(struct net *n, struct net_frame *f, int timeout_ms)
{
	static uint16_t ids[DRV_MAX_QUEUE];
	uint32_t id, len;
	unsigned k = 0;
	int rc;

	rc = rx_take(n, &id, &len, timeout_ms);
	if (rc < 0)
		return rc;
	ids[k++] = (uint16_t)id;
	rc = rx_first(n, f, id, len);
	while (rc == 0 && k < f->nbufs) {
		rc = rx_take(n, &id, &len, 1000);
		if (rc == -ETIMEDOUT)
			snprintf(n->why, sizeof(n->why), "num_buffers %u, but only "
			    "%u used entries arrived", f->nbufs, k);
		if (rc < 0)
			break;
		ids[k++] = (uint16_t)id;
		if (f->len + len > sizeof(f->data)) {
			snprintf(n->why, sizeof(n->why), "merged frame longer than "
			    "%zu bytes", sizeof(f->data));
			rc = -EILSEQ;
			break;
		}
		memcpy(f->data + f->len, drv_ptr(&n->d, n->rx_base +
		    (uint64_t)id * n->rx_stride, len), len);
		f->len += len;
	}
	if (rc == -ETIMEDOUT)
		rc = -EILSEQ;
	if (rx_repost(n, ids, k) < 0 && rc == 0)
		rc = -EIO;
	return rc;
}

/* Receive with recv until a frame of ours arrives: one net_check_frame
 * accepts for dir, or an IPv4 frame whose MAC at mac_off (0: destination,
 * 6: source) is the guest's; others are counted in n->foreign. */
static int
net_wait_ours(struct net *n, struct net_frame *f, int timeout_ms,
    int (*recv)(struct net *, struct net_frame *, int), enum net_dir dir, size_t mac_off)
{
	uint64_t deadline = drv_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		uint64_t now = drv_now_ns();
		uint32_t seq;
		unsigned kind;
		int rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = recv(n, f, (int)((deadline - now) / 1000000) + 1);
		if (rc < 0)
			return rc;
		rc = net_check_frame(n, f->data, f->len, dir, &seq, &kind);
		if (rc < 0)
			return -EILSEQ;
		if (rc > 0 || (f->len >= 14 && f->data[12] == 0x08 && f->data[13] == 0 &&
		    !memcmp(f->data + mac_off, mac_guest, 6)))
			return 0;
		n->foreign++;
	}
}

int
net_rx_ours(struct net *n, struct net_frame *f, int timeout_ms)
{
	return net_wait_ours(n, f, timeout_ms, net_rx_frame, NET_DIR_RX, 0);
}

/* ----------------------------------------------------------------- TX */

static void
tx_reap(struct net *n, uint32_t *bad_len)
{
	struct drv_vq *q = &n->d.vqs[VIRTIO_NET_TXQ];
	uint32_t id, len;

	while (drv_vq_get_used(q, &id, &len)) {
		unsigned s = id / n->tx_k;

		if (id % n->tx_k || s >= n->tx_slots || !tx_busy[s]) {
			snprintf(n->why, sizeof(n->why), "TX used id %u was not "
			    "in flight", id);
			*bad_len = ~0u;
			continue;
		}
		tx_busy[s] = false;
		tx_inflight--;
		if (len)
			*bad_len = len;
	}
}

int
net_tx_add(struct net *n, const struct virtio_net_hdr_v1 *h,
    const uint8_t *frame, uint32_t len, unsigned nseg, bool indirect)
{
	struct drv_vq *q = &n->d.vqs[VIRTIO_NET_TXQ];
	unsigned s = n->tx_next, first = s * n->tx_k;
	uint64_t buf = n->tx_base + (uint64_t)s * NET_TX_STRIDE;
	uint8_t *p = drv_ptr(&n->d, buf, NET_HDR_LEN + len);
	struct virtq_desc *t = q->desc + first;
	unsigned k = 0;

	if (tx_busy[s] || nseg >= n->tx_k || len > VIRTIO_NET_MAX_FRAME)
		return -ENOSPC;
	memcpy(p, h, NET_HDR_LEN);
	memcpy(p + NET_HDR_LEN, frame, len);
	if (indirect)
		t = drv_ptr(&n->d, DRV_IND_BASE + (uint64_t)(s % DRV_IND_SLOTS) *
		    DRV_IND_STRIDE, DRV_IND_STRIDE);
	if (nseg == 0) {
		t[k++] = (struct virtq_desc){ buf, NET_HDR_LEN + len, 0, 0 };
	} else {
		uint32_t per = (len + nseg - 1) / nseg, off = 0;

		t[k++] = (struct virtq_desc){ buf, NET_HDR_LEN, 0, 0 };
		while (off < len) {
			uint32_t l = len - off < per ? len - off : per;

			t[k++] = (struct virtq_desc){ buf + NET_HDR_LEN + off, l, 0, 0 };
			off += l;
		}
	}
	for (unsigned i = 0; i + 1 < k; i++) {
		t[i].flags = VIRTQ_DESC_F_NEXT;
		t[i].next = (uint16_t)((indirect ? 0 : first) + i + 1);
	}
	if (indirect)
		q->desc[first] = (struct virtq_desc){ DRV_IND_BASE +
		    (uint64_t)(s % DRV_IND_SLOTS) * DRV_IND_STRIDE, 16u * k,
		    VIRTQ_DESC_F_INDIRECT, 0 };
	tx_busy[s] = true;
	tx_inflight++;
	n->tx_next = (s + 1) % n->tx_slots;
	drv_vq_add(q, (uint16_t)first);
	return (int)first;
}

int
net_tx_flush(struct net *n, int timeout_ms)
{
	struct drv_vq *q = &n->d.vqs[VIRTIO_NET_TXQ];
	uint32_t bad = 0;
	int rc;

	if ((rc = drv_kick_q(&n->d, q, true)) < 0)
		return rc;
	while (tx_inflight) {
		rc = net_wait(n, q, timeout_ms);
		if (rc < 0)
			return rc;
		tx_reap(n, &bad);
	}
	if (bad == ~0u)
		return -EILSEQ;
	if (bad) {
		snprintf(n->why, sizeof(n->why), "TX used len %u (must be 0: "
		    "nothing device-writable)", bad);
		return -EILSEQ;
	}
	return 0;
}

int
net_tx_restart(struct net *n)
{
	int rc = drv_vring_restart_q(&n->d, VIRTIO_NET_TXQ, NULL);

	memset(tx_busy, 0, sizeof(tx_busy));
	tx_inflight = 0;
	n->tx_next = 0;
	return rc;
}

void
net_rx_reset(struct net *n)
{
	(void)n;
	memset(rx_posted, 0, sizeof(rx_posted));
}

/* --------------------------------------------------------------- peer */

int
net_peer_send(struct net *n, const void *vh10, const uint8_t *frame,
    uint32_t len)
{
	static const uint8_t zero[NET_PEER_HDR];
	struct iovec iov[2] = {
		{ (void *)(vh10 ? vh10 : zero), NET_PEER_HDR },
		{ (void *)frame, len },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t r;

	do
		r = sendmsg(n->peer, &m, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == (ssize_t)(NET_PEER_HDR + len) ? 0 : -EMSGSIZE;
}

int
net_peer_recv(struct net *n, struct net_frame *f, int timeout_ms)
{
	struct iovec iov[2] = {
		{ &f->hdr, NET_PEER_HDR },
		{ f->data, sizeof(f->data) },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	struct pollfd p = { .fd = n->peer, .events = POLLIN };
	ssize_t r;
	int k;

	memset(&f->hdr, 0, sizeof(f->hdr));
	do
		k = poll(&p, 1, timeout_ms);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	if (k == 0)
		return -ETIMEDOUT;
	r = recvmsg(n->peer, &m, MSG_DONTWAIT | MSG_TRUNC);
	if (r < 0)
		return -errno;
	if (r < (ssize_t)NET_PEER_HDR || r > (ssize_t)(NET_PEER_HDR + sizeof(f->data)))
		return -EMSGSIZE;
	f->len = (uint32_t)(r - NET_PEER_HDR);
	f->nbufs = 1;
	return 0;
}

int
net_peer_ours(struct net *n, struct net_frame *f, int timeout_ms)
{
	return net_wait_ours(n, f, timeout_ms, net_peer_recv, NET_DIR_TX, 6);
}

void
net_peer_drain(struct net *n)
{
	static uint8_t junk[NET_BUF_MAX];

	while (recv(n->peer, junk, sizeof(junk), MSG_DONTWAIT) >= 0)
		;
}
