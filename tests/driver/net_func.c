/*
 * vu-driver net-func: functional checks of a vhost-user-net backend and
 * its tap, byte for byte in both directions, one line each (`ok NAME`,
 * `ok NAME: skip: why`, `not ok NAME: why`), then `vu-driver: net: N
 * checks, M failed`. Every name is printed on every run. The peer is an
 * AF_PACKET socket on --peer-if (net.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define MANY       640u       /* frames: the rings wrap */
#define BATCH      64u
#define GSO_BYTES  8000u      /* TCP payload of the GSO frames */
#define GSO_MSS    1448u
#define WAIT_MS    2000

struct nctx {
	struct net n;
	const struct drv_opts *o;
	struct drv_tally t;      /* the check lines */
	uint32_t seq_tx, seq_rx;
	int gone;                /* the backend closed the connection */
};

static struct net_frame fr;
static uint8_t buf[NET_BUF_MAX];

/* check(c, ...) / skip(c, ...): drv_check / drv_skip on c's tally */
#define check(c, ...) drv_check(&(c)->t, __VA_ARGS__)
#define skip(c, name, why) drv_skip(&(c)->t, name, why)

static bool
acked(const struct nctx *c, unsigned bit)
{
	return c->n.d.acked & (1ull << bit);
}

/* The reason of a failed helper call. */
static const char *
why(struct nctx *c, int rc)
{
	static char b[320];

	if (rc == -ECONNRESET)
		c->gone = 1;
	if (rc == -EILSEQ)
		return c->n.why;
	snprintf(b, sizeof(b), "%s", net_strerror(rc));
	return b;
}

/* ------------------------------------------------------------- set-up */

static void
n_features(struct nctx *c)
{
	static const struct { unsigned bit; const char *name; bool want; } f[] = {
		{ VIRTIO_F_VERSION_1, "VERSION_1", true },
		{ VIRTIO_NET_F_CSUM, "CSUM", true },
		{ VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM", true },
		{ VIRTIO_NET_F_HOST_TSO4, "HOST_TSO4", true },
		{ VIRTIO_NET_F_HOST_TSO6, "HOST_TSO6", true },
		{ VIRTIO_NET_F_GUEST_TSO4, "GUEST_TSO4", true },
		{ VIRTIO_NET_F_GUEST_TSO6, "GUEST_TSO6", true },
		{ VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF", true },
		{ VIRTIO_F_RING_EVENT_IDX, "RING_EVENT_IDX", true },
		{ VIRTIO_F_RING_INDIRECT_DESC, "RING_INDIRECT_DESC", true },
		{ VHOST_USER_F_PROTOCOL_FEATURES, "PROTOCOL_FEATURES", true },
		{ VIRTIO_NET_F_MAC, "MAC", false },
		{ VIRTIO_NET_F_STATUS, "STATUS", false },
		{ VIRTIO_NET_F_CTRL_VQ, "CTRL_VQ", false },
		{ VIRTIO_NET_F_MQ, "MQ", false },
		{ VIRTIO_NET_F_MTU, "MTU", false },
	};
	uint64_t off = c->n.d.offered, pf = c->n.d.f.protocol_features;
	char bad[256] = "";
	size_t o = 0;

	printf("# features offered 0x%016llx, protocol features 0x%llx\n",
	    (unsigned long long)off, (unsigned long long)pf);
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!!(off & (1ull << f[i].bit)) != f[i].want && o + 40 < sizeof(bad))
			o += (size_t)snprintf(bad + o, sizeof(bad) - o, " %s%s",
			    f[i].want ? "missing " : "offered ", f[i].name);
	check(c, "features_offered", !o, "%s", bad);
	check(c, "protocol_features",
	    (pf & (1ull << VHOST_USER_PROTOCOL_F_MQ)) &&
	    (pf & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)) &&
	    !(pf & (1ull << VHOST_USER_PROTOCOL_F_CONFIG)),
	    "negotiated 0x%llx: want MQ and REPLY_ACK, not CONFIG",
	    (unsigned long long)pf);
	check(c, "queue_num", c->n.d.queue_num == 2, "GET_QUEUE_NUM %llu, "
	    "expected 2", (unsigned long long)c->n.d.queue_num);
}

static uint32_t
rx_len_default(const struct nctx *c, uint64_t feat)
{
	bool big = feat & ((1ull << VIRTIO_NET_F_GUEST_TSO4) |
	    (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_UFO));

	if (c->o->rx_buf_size)
		return c->o->rx_buf_size;
	if (big && !(feat & (1ull << VIRTIO_NET_F_MRG_RXBUF)))
		return NET_HDR_LEN + VIRTIO_NET_MAX_FRAME;
	return NET_HDR_LEN + NET_FULL_FRAME;
}

static int
n_connect(struct nctx *c)
{
	uint64_t feat;
	int rc;

	rc = net_open(&c->n, c->o);
	check(c, "handshake", rc == 0, "see stderr");
	if (rc < 0)
		return rc;
	n_features(c);
	if (c->n.d.queue_num < 2)
		return -ENODEV;
	feat = net_pick_features(&c->n);
	rc = net_start(&c->n, feat, rx_len_default(c, feat), 4);
	if (rc == 0)
		rc = net_rx_post(&c->n, 0, c->n.rx_num, true);
	check(c, "start", rc == 0, "%s", why(c, rc));
	printf("# acked 0x%016llx, RX buffers %u x %u bytes%s\n",
	    (unsigned long long)c->n.d.acked, c->n.rx_num, c->n.rx_len,
	    c->n.mrg ? ", MRG_RXBUF" : "");
	return rc;
}

/* ------------------------------------------------------------------ TX */

static const struct virtio_net_hdr_v1 hdr0;

/* Send frames [0, count) of `len(i)` bytes in batches, each batch read
 * back from the peer in order. Returns 0 or -errno (c->n.why). */
static int
tx_frames(struct nctx *c, unsigned count, uint32_t (*len)(unsigned),
    unsigned nseg, bool ind)
{
	unsigned done = 0;

	while (done < count) {
		unsigned b = count - done < BATCH ? count - done : BATCH;
		uint32_t first = c->seq_tx;
		int rc = 0;

		if (b > c->n.tx_slots)
			b = c->n.tx_slots;
		for (unsigned i = 0; i < b; i++) {
			uint32_t l = len(done + i);

			net_make_frame(buf, l, NET_DIR_TX, 1, c->seq_tx++);
			if (net_tx_add(&c->n, &hdr0, buf, l, nseg, ind) < 0)
				return -ENOSPC;
		}
		if ((rc = net_tx_flush(&c->n, WAIT_MS)) < 0)
			return rc;
		for (unsigned i = 0; i < b; i++) {
			uint32_t seq;
			unsigned kind;

			rc = net_peer_ours(&c->n, &fr, WAIT_MS);
			if (rc == -ETIMEDOUT)
				snprintf(c->n.why, sizeof(c->n.why), "frame seq %u "
				    "(%u of a batch of %u) never reached the peer",
				    first + i, i, b);
			if (rc < 0)
				return rc == -ETIMEDOUT ? -EILSEQ : rc;
			net_check_frame(&c->n, fr.data, fr.len, NET_DIR_TX, &seq, &kind);
			if (seq != first + i || fr.len != len(done + i)) {
				snprintf(c->n.why, sizeof(c->n.why), "peer got seq %u "
				    "(%u bytes), expected seq %u (%u bytes)", seq,
				    fr.len, first + i, len(done + i));
				return -EILSEQ;
			}
		}
		done += b;
	}
	return 0;
}

static uint32_t len_small(unsigned i) { (void)i; return 60; }
static uint32_t len_full(unsigned i) { (void)i; return NET_FULL_FRAME; }
static uint32_t len_var(unsigned i) { return 60 + (i * 97u) % (NET_FULL_FRAME - 59); }

static void
n_tx(struct nctx *c)
{
	int rc;

	rc = tx_frames(c, 1, len_small, 0, false);
	check(c, "tx_small", rc == 0, "%s", why(c, rc));
	rc = tx_frames(c, 1, len_full, 0, false);
	check(c, "tx_full", rc == 0, "%s", why(c, rc));
	rc = tx_frames(c, 4, len_var, 3, false);
	check(c, "tx_split", rc == 0, "header and frame in 4 descriptors: %s",
	    why(c, rc));
	if (acked(c, VIRTIO_F_RING_INDIRECT_DESC)) {
		rc = tx_frames(c, 4, len_var, 3, true);
		check(c, "tx_indirect", rc == 0, "%s", why(c, rc));
	} else {
		skip(c, "tx_indirect", "RING_INDIRECT_DESC not acked");
	}
	rc = tx_frames(c, MANY, len_var, 0, false);
	check(c, "tx_many", rc == 0, "%u frames of 60..1514 bytes: %s", MANY,
	    why(c, rc));
}

/* ------------------------------------------------------------------ RX */

static int
rx_frames(struct nctx *c, unsigned count, uint32_t (*len)(unsigned),
    unsigned *max_bufs)
{
	unsigned done = 0;

	while (done < count) {
		unsigned b = count - done < BATCH ? count - done : BATCH;
		uint32_t first = c->seq_rx;
		int rc;

		for (unsigned i = 0; i < b; i++) {
			uint32_t l = len(done + i);

			net_make_frame(buf, l, NET_DIR_RX, 1, c->seq_rx++);
			if ((rc = net_peer_send(&c->n, NULL, buf, l)) < 0) {
				snprintf(c->n.why, sizeof(c->n.why), "peer send: %s",
				    strerror(-rc));
				return -EILSEQ;
			}
		}
		for (unsigned i = 0; i < b; i++) {
			uint32_t seq, want = len(done + i);
			unsigned kind;

			rc = net_rx_ours(&c->n, &fr, WAIT_MS);
			if (rc == -ETIMEDOUT)
				snprintf(c->n.why, sizeof(c->n.why), "frame seq %u "
				    "(%u of a batch of %u) never reached the RX ring",
				    first + i, i, b);
			if (rc < 0)
				return rc == -ETIMEDOUT ? -EILSEQ : rc;
			net_check_frame(&c->n, fr.data, fr.len, NET_DIR_RX, &seq, &kind);
			if (seq != first + i || fr.len != want) {
				snprintf(c->n.why, sizeof(c->n.why), "RX got seq %u "
				    "(%u bytes), expected seq %u (%u bytes)", seq,
				    fr.len, first + i, want);
				return -EILSEQ;
			}
			if (fr.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
			    (fr.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
				snprintf(c->n.why, sizeof(c->n.why), "seq %u: header "
				    "flags 0x%x gso_type %u for a plain frame", seq,
				    fr.hdr.flags, fr.hdr.gso_type);
				return -EILSEQ;
			}
			if (max_bufs && fr.nbufs > *max_bufs)
				*max_bufs = fr.nbufs;
		}
		done += b;
	}
	return 0;
}

static void
n_rx(struct nctx *c)
{
	unsigned nb = 0, want;
	int rc;

	rc = rx_frames(c, 1, len_small, NULL);
	check(c, "rx_small", rc == 0, "%s", why(c, rc));
	rc = rx_frames(c, 1, len_full, &nb);
	check(c, "rx_full", rc == 0, "%s", why(c, rc));
	rc = rx_frames(c, MANY, len_var, NULL);
	check(c, "rx_many", rc == 0, "%u frames of 60..1514 bytes: %s", MANY,
	    why(c, rc));
	if (!c->n.mrg) {
		skip(c, "rx_merged", "MRG_RXBUF not acked (--mrg-rxbuf)");
		return;
	}
	want = (NET_HDR_LEN + NET_FULL_FRAME + c->n.rx_len - 1) / c->n.rx_len;
	nb = 0;
	rc = rx_frames(c, 8, len_full, &nb);
	if (rc == 0 && nb != want) {
		snprintf(c->n.why, sizeof(c->n.why), "a 1514-byte frame in %u-byte "
		    "buffers took %u buffers, expected %u", c->n.rx_len, nb, want);
		rc = -EILSEQ;
	}
	check(c, "rx_merged", rc == 0, "%s", why(c, rc));
}

/* ------------------------------------------------------------ offloads */

static struct virtio_net_hdr_v1
hdr_csum(uint8_t gso, uint16_t mss)
{
	return (struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = gso, .hdr_len = gso ? NET_TCP_HDRS : 0, .gso_size = mss,
		.csum_start = NET_ETH_LEN + 20, .csum_offset = 16 };
}

/* The peer got our TCP frame `sent` (len) with header `h`. */
static int
peer_tcp(struct nctx *c, const uint8_t *sent, uint32_t len,
    const struct virtio_net_hdr_v1 *h)
{
	int rc = net_peer_ours(&c->n, &fr, WAIT_MS);

	if (rc < 0)
		return rc;
	if (fr.len != len || memcmp(fr.data + NET_ETH_LEN, sent + NET_ETH_LEN,
	    len - NET_ETH_LEN)) {
		snprintf(c->n.why, sizeof(c->n.why), "peer got %u bytes, not the "
		    "%u-byte TCP frame sent", fr.len, len);
		return -EILSEQ;
	}
	if (fr.hdr.gso_type != h->gso_type || (h->gso_type &&
	    fr.hdr.gso_size != h->gso_size) ||
	    fr.hdr.flags != VIRTIO_NET_HDR_F_NEEDS_CSUM ||
	    fr.hdr.csum_start != h->csum_start || fr.hdr.csum_offset != h->csum_offset) {
		snprintf(c->n.why, sizeof(c->n.why), "peer's vnet header flags %u "
		    "gso %u/%u csum %u+%u, sent flags %u gso %u/%u csum %u+%u",
		    fr.hdr.flags, fr.hdr.gso_type, fr.hdr.gso_size, fr.hdr.csum_start,
		    fr.hdr.csum_offset, h->flags, h->gso_type, h->gso_size,
		    h->csum_start, h->csum_offset);
		return -EILSEQ;
	}
	net_csum_complete(fr.data, fr.len, fr.hdr.csum_start, fr.hdr.csum_offset);
	if (!net_tcp_csum_ok(fr.data, fr.len)) {
		snprintf(c->n.why, sizeof(c->n.why), "completed checksum wrong");
		return -EILSEQ;
	}
	return 0;
}

static int
tx_tcp(struct nctx *c, uint32_t payload, uint8_t gso)
{
	struct virtio_net_hdr_v1 h = hdr_csum(gso, gso ? GSO_MSS : 0);
	uint32_t len = net_tcp_frame(buf, payload, NET_DIR_TX, true);
	int rc;

	if (net_tx_add(&c->n, &h, buf, len, 2, false) < 0)
		return -ENOSPC;
	if ((rc = net_tx_flush(&c->n, WAIT_MS)) < 0)
		return rc;
	return peer_tcp(c, buf, len, &h);
}

static void
n_tx_offloads(struct nctx *c)
{
	int rc;

	if (acked(c, VIRTIO_NET_F_CSUM)) {
		rc = tx_tcp(c, 1000, VIRTIO_NET_HDR_GSO_NONE);
		check(c, "tx_csum", rc == 0, "NEEDS_CSUM TCP frame: %s", why(c, rc));
	} else {
		skip(c, "tx_csum", "CSUM not acked (--offloads csum|tso)");
	}
	if (acked(c, VIRTIO_NET_F_HOST_TSO4)) {
		rc = tx_tcp(c, GSO_BYTES, VIRTIO_NET_HDR_GSO_TCPV4);
		check(c, "tx_gso", rc == 0, "TSO4 frame of %u bytes, mss %u: %s",
		    GSO_BYTES, GSO_MSS, why(c, rc));
	} else {
		skip(c, "tx_gso", "HOST_TSO4 not acked (--offloads tso)");
	}
}

/* A TCP frame from the RX ring: checksum right (completed first when
 * NEEDS_CSUM, allowed only with GUEST_CSUM), payload at stream offset. */
static int
rx_tcp_check(struct nctx *c, uint32_t *stream_off)
{
	const uint8_t *th = fr.data + NET_ETH_LEN + 20;
	uint32_t seq = (uint32_t)th[4] << 24 | th[5] << 16 | th[6] << 8 | th[7];
	uint32_t off = seq - 0x10000000u, pl = fr.len - NET_TCP_HDRS;

	if (fr.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!acked(c, VIRTIO_NET_F_GUEST_CSUM)) {
			snprintf(c->n.why, sizeof(c->n.why), "NEEDS_CSUM without "
			    "GUEST_CSUM acked (tap offloads not set from the "
			    "features?)");
			return -EILSEQ;
		}
		net_csum_complete(fr.data, fr.len, fr.hdr.csum_start,
		    fr.hdr.csum_offset);
	}
	if (fr.len < NET_TCP_HDRS || !net_tcp_csum_ok(fr.data, fr.len)) {
		snprintf(c->n.why, sizeof(c->n.why), "RX TCP frame of %u bytes: "
		    "checksum wrong", fr.len);
		return -EILSEQ;
	}
	if (off != *stream_off) {
		snprintf(c->n.why, sizeof(c->n.why), "TCP segment at stream "
		    "offset %u, expected %u", off, *stream_off);
		return -EILSEQ;
	}
	for (uint32_t j = 0; j < pl; j++)
		if (th[20 + j] != net_tcp_byte(off + j)) {
			snprintf(c->n.why, sizeof(c->n.why), "TCP payload byte %u "
			    "wrong", off + j);
			return -EILSEQ;
		}
	*stream_off += pl;
	return 0;
}

/* The peer sends one TCP frame (payload bytes; GSO when mss); the RX ring
 * must give it whole (with GUEST_TSO4: one frame with gso_type TCPV4) or
 * in segments of at most 1514 bytes, checksummed. *nframes counts them. */
static int
rx_tcp(struct nctx *c, uint32_t payload, uint16_t mss, unsigned *nframes)
{
	struct virtio_net_hdr_v1 h = hdr_csum(mss ? VIRTIO_NET_HDR_GSO_TCPV4 : 0, mss);
	uint32_t len = net_tcp_frame(buf, payload, NET_DIR_RX, true), got = 0;
	int rc;

	if ((rc = net_peer_send(&c->n, &h, buf, len)) < 0) {
		snprintf(c->n.why, sizeof(c->n.why), "peer send: %s", strerror(-rc));
		return -EILSEQ;
	}
	*nframes = 0;
	while (got < payload) {
		rc = net_rx_ours(&c->n, &fr, WAIT_MS);
		if (rc == -ETIMEDOUT)
			snprintf(c->n.why, sizeof(c->n.why), "%u of %u payload bytes "
			    "arrived in %u frames", got, payload, *nframes);
		if (rc < 0)
			return rc == -ETIMEDOUT ? -EILSEQ : rc;
		(*nframes)++;
		if (fr.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE &&
		    (!acked(c, VIRTIO_NET_F_GUEST_TSO4) ||
		    fr.hdr.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 ||
		    fr.hdr.gso_size != mss)) {
			snprintf(c->n.why, sizeof(c->n.why), "gso_type %u gso_size %u "
			    "(GUEST_TSO4 %s acked)", fr.hdr.gso_type, fr.hdr.gso_size,
			    acked(c, VIRTIO_NET_F_GUEST_TSO4) ? "" : "not");
			return -EILSEQ;
		}
		if (fr.hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
		    fr.len > NET_FULL_FRAME) {
			snprintf(c->n.why, sizeof(c->n.why), "a %u-byte frame "
			    "without GSO", fr.len);
			return -EILSEQ;
		}
		if ((rc = rx_tcp_check(c, &got)) < 0)
			return rc;
	}
	return 0;
}

static void
n_rx_offloads(struct nctx *c)
{
	bool tso = acked(c, VIRTIO_NET_F_GUEST_TSO4);
	unsigned nf, seg = (GSO_BYTES + GSO_MSS - 1) / GSO_MSS;
	int rc;

	rc = rx_tcp(c, 1000, 0, &nf);
	check(c, "rx_csum", rc == 0, "peer's NEEDS_CSUM TCP frame (GUEST_CSUM "
	    "%s acked): %s", acked(c, VIRTIO_NET_F_GUEST_CSUM) ? "" : "not",
	    why(c, rc));
	rc = rx_tcp(c, GSO_BYTES, GSO_MSS, &nf);
	if (rc == 0 && nf != (tso ? 1 : seg)) {
		snprintf(c->n.why, sizeof(c->n.why), "%u frames, expected %u", nf,
		    tso ? 1 : seg);
		rc = -EILSEQ;
	}
	check(c, tso ? "rx_gso" : "rx_gso_segmented", rc == 0, "peer's TSO4 "
	    "frame of %u bytes, mss %u: %s", GSO_BYTES, GSO_MSS, why(c, rc));
	skip(c, tso ? "rx_gso_segmented" : "rx_gso",
	    tso ? "GUEST_TSO4 acked" : "GUEST_TSO4 not acked (--offloads tso)");
}

/* ------------------------------------------------------- restart, end */

static void
n_restart(struct nctx *c)
{
	struct drv_vq *rq = &c->n.d.vqs[VIRTIO_NET_RXQ], *tq = &c->n.d.vqs[VIRTIO_NET_TXQ];
	uint16_t ra = rq->avail_idx, ta = tq->avail_idx, ru = rq->last_used;
	unsigned rb = 0, tb = 0;
	int rc;

	rc = drv_vring_restart_q(&c->n.d, VIRTIO_NET_RXQ, &rb);
	if (rc == 0)
		rc = drv_vring_restart_q(&c->n.d, VIRTIO_NET_TXQ, &tb);
	if (rc == 0)
		rc = net_rx_post(&c->n, 0, 4, true);
	check(c, "vring_restart", rc == 0 && tb == ta &&
	    (uint16_t)(rb - ru) <= (uint16_t)(ra - ru),
	    "GET_VRING_BASE RX %u (avail %u, used %u), TX %u (avail %u): %s",
	    rb, ra, ru, tb, ta, rc ? net_strerror(rc) : "wrong base");
}

/* After the restart only 4 RX buffers are posted: 4 frames arrive, 8 more
 * find no buffer; then the rest is posted (kicked only if the backend
 * asked for a kick) and 4 more frames are sent: those must arrive, in
 * order after whatever of the 8 the backend kept. */
static void
n_refill(struct nctx *c)
{
	uint32_t first = c->seq_rx, seq, prev = first + 3;
	unsigned kind, backlog = 0;
	int rc;

	rc = rx_frames(c, 4, len_small, NULL);
	check(c, "rx_after_restart", rc == 0, "%s", why(c, rc));
	rc = tx_frames(c, 4, len_var, 0, false);
	check(c, "tx_after_restart", rc == 0, "%s", why(c, rc));
	first = c->seq_rx;
	for (unsigned i = 0; i < 12 && rc == 0; i++) {
		net_make_frame(buf, 100, NET_DIR_RX, 2, c->seq_rx++);
		rc = net_peer_send(&c->n, NULL, buf, 100);
		if (i == 7) {
			usleep(200000);
			rc = net_rx_post(&c->n, 4, c->n.rx_num - 4, false);
		}
	}
	prev = first - 1;
	while (rc == 0 && prev != first + 11) {
		rc = net_rx_ours(&c->n, &fr, WAIT_MS);
		if (rc < 0)
			break;
		net_check_frame(&c->n, fr.data, fr.len, NET_DIR_RX, &seq, &kind);
		if ((int32_t)(seq - prev) <= 0 || seq > first + 11) {
			snprintf(c->n.why, sizeof(c->n.why), "seq %u after %u", seq, prev);
			rc = -EILSEQ;
		}
		backlog += seq < first + 8;
		prev = seq;
	}
	printf("# rx_refill: %u of 8 frames sent while no RX buffer was posted "
	    "were delivered\n", backlog);
	check(c, "rx_refill", rc == 0, "frames sent after the refill: %s",
	    rc == -ETIMEDOUT ? "did not arrive (no kick asked for? spinning "
	    "backend?)" : why(c, rc));
}

static void
n_final(struct nctx *c)
{
	uint64_t feat = 0;
	int rc;

	rc = vu_front_get_features(&c->n.d.f, &feat);
	check(c, "still_connected", rc == 0 && feat == c->n.d.offered,
	    "GET_FEATURES after the checks: %s", rc ? strerror(-rc) : "changed");
}

static const struct {
	const char *name;
	void (*fn)(struct nctx *c);
} steps[] = {
	{ "tx", n_tx }, { "rx", n_rx }, { "tx offload", n_tx_offloads },
	{ "rx offload", n_rx_offloads }, { "vring restart", n_restart },
	{ "rx refill", n_refill }, { "final", n_final },
};

int
drv_net_func(const struct drv_opts *o)
{
	static struct nctx c;
	int rc;

	c.o = o;
	if (!o->peer_if) {
		fprintf(stderr, "vu-driver: net-func: --peer-if IF is required\n");
		return 2;
	}
	rc = n_connect(&c);
	for (unsigned i = 0; rc == 0 && i < sizeof(steps) / sizeof(steps[0]); i++) {
		steps[i].fn(&c);
		if (c.gone || drv_peer_closed(&c.n.d)) {
			fprintf(stderr, "vu-driver: net-func: %s: the backend closed "
			    "the connection during the %s checks\n", o->socket,
			    steps[i].name);
			rc = -ECONNRESET;
		}
	}
	printf("# %llu foreign frames skipped, %llu kicks, %llu calls\n",
	    (unsigned long long)c.n.foreign, (unsigned long long)c.n.d.kicks,
	    (unsigned long long)c.n.d.calls);
	printf("vu-driver: net: %u checks, %u failed\n", c.t.checks, c.t.failed);
	net_close(&c.n);
	return c.t.failed || rc < 0 ? 1 : 0;
}
