/*
 * vu-driver net-hostile: malformed chains against a vhost-user-net
 * backend (the contract of vmm-net, ctx: devices/net): a TX chain with a
 * header under 12 bytes, a device-writable buffer, a frame over
 * VIRTIO_NET_MAX_FRAME, or one vq_pop rejects (loop, bad next, buffer
 * outside RAM or overflowing, readable after writable, bad or nested
 * indirect table), and an RX chain with a readable buffer or one vq_pop
 * rejects, are dropped: returned with used len 0, nothing reaches the
 * peer, the ring keeps working. A ring-level error (avail idx jump, head
 * >= num) signals the err fd; the driver restarts the vring. Then a phase
 * with frames arriving and no RX buffer posted (the backend must not
 * spin: its CPU time is measured with --backend-pid), and good traffic
 * both ways. The drops the driver caused are printed per reason, to be
 * compared with the backend's own counters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define TX_K        8u        /* descriptors per TX slot */
#define KIND_GOOD   1u
#define KIND_BAD    9u        /* a frame that must never arrive */
#define KIND_NOBUF  4u
#define MAX_SHOWN   20u
#define WAIT_MS     2000
#define F_N VIRTQ_DESC_F_NEXT
#define F_W VIRTQ_DESC_F_WRITE
#define F_I VIRTQ_DESC_F_INDIRECT

enum why { W_SHORT, W_WRITABLE, W_OVERSIZED, W_BAD_CHAIN, W_RX_READABLE,
	W_RX_BAD, W_RING, W_N };
static const char *const why_name[W_N] = { "short header", "writable tx",
	"oversized", "bad chain (tx)", "rx readable", "bad chain (rx)",
	"ring error" };

struct hn {
	struct net n;
	const struct drv_opts *o;
	uint64_t rng;
	uint64_t cnt[W_N];
	uint64_t cases, batches, good, mism, lost_rx;
	uint32_t seq_tx, seq_rx;
};

static struct net_frame fr;
static uint8_t fbuf[NET_BUF_MAX];

static uint64_t
rnd(struct hn *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545f4914f6cdd1dull;
}

static void
mismatch(struct hn *h, const char *fmt, ...)
{
	va_list ap;

	if (h->mism++ >= MAX_SHOWN)
		return;
	fprintf(stderr, "vu-driver: net-hostile: batch %llu: ",
	    (unsigned long long)h->batches);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ TX cases */

struct tcase {
	const char *name;
	enum why why;
	/* write the chain at descriptors t[0..] (indices first + i) for a
	 * buffer at gpa holding 12 + flen bytes; returns nothing */
	void (*gen)(struct hn *h, struct virtq_desc *t, unsigned first,
	    uint64_t gpa, uint32_t flen);
};

static uint64_t
oor(struct hn *h)
{
	return h->n.d.mem_size + rnd(h) % (1ull << 40);
}

static uint64_t
ind_gpa(unsigned first)
{
	return DRV_IND_BASE + (uint64_t)(first / TX_K % DRV_IND_SLOTS) * DRV_IND_STRIDE;
}

static void
g_short(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	(void)f; (void)l;
	t[0] = (struct virtq_desc){ a, 1 + (uint32_t)(rnd(h) % 11), 0, 0 };
}

static void
g_short_split(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a,
    uint32_t l)
{
	(void)l;
	t[0] = (struct virtq_desc){ a, 4, F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ a + 4, 1 + (uint32_t)(rnd(h) % 7), 0, 0 };
}

static void
g_writable(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	(void)h;
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ a + NET_HDR_LEN, l, F_W, 0 };
}

static void
g_all_writable(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a,
    uint32_t l)
{
	(void)h; (void)f;
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN + l, F_W, 0 };
}

static void
g_oversized(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a,
    uint32_t l)
{
	uint32_t over = VIRTIO_NET_MAX_FRAME + 1 + (uint32_t)(rnd(h) % 200);

	(void)l;
	/* 12 + over bytes: the slot's own buffer twice over (contents do not
	 * matter: it must not be sent) */
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN + 40000, F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ a, over - 40000, 0, 0 };
}

static void
g_loop(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	(void)h;
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ a + NET_HDR_LEN, l, F_N, (uint16_t)f };
}

static void
g_self_loop(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	(void)h;
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN + l, F_N, (uint16_t)f };
}

static void
g_next_oob(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	uint16_t num = (uint16_t)h->n.d.vqs[VIRTIO_NET_TXQ].num;

	(void)f;
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_N,
		(uint16_t)(num + rnd(h) % (65536u - num)) };
	(void)l;
}

static void
g_oor(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ oor(h), l, 0, 0 };
}

static void
g_overflow(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ ~0ull - rnd(h) % 64, l, 0, 0 };
}

static void
g_past_end(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	(void)l;
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ h->n.d.mem_size - 8, 100 + (uint32_t)(rnd(h) % 4096),
		0, 0 };
}

static void
g_wr_then_rd(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	(void)h;
	t[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_W | F_N, (uint16_t)(f + 1) };
	t[1] = (struct virtq_desc){ a + NET_HDR_LEN, l, 0, 0 };
}

/* An indirect table for the slot: hdr + frame, then a defect. */
static void
g_ind(struct hn *h, struct virtq_desc *t, unsigned f, uint64_t a, uint32_t l)
{
	struct virtq_desc *it = drv_ptr(&h->n.d, ind_gpa(f), DRV_IND_STRIDE);
	uint32_t tl = 32;
	unsigned v = (unsigned)(rnd(h) % 6);

	it[0] = (struct virtq_desc){ a, NET_HDR_LEN, F_N, 1 };
	it[1] = (struct virtq_desc){ a + NET_HDR_LEN, l, 0, 0 };
	switch (v) {
	case 0: tl = 0; break;                                   /* length 0 */
	case 1: tl = 17; break;                                  /* not x16 */
	case 2: tl = 16u * 1025; break;                          /* > 1024 entries */
	case 3: it[1] = (struct virtq_desc){ ind_gpa(f), 32, F_I, 0 }; break;
	case 4: it[1].flags = F_N; it[1].next = 0; break;        /* loop */
	case 5: it[1].flags = F_N; it[1].next = 2 + (uint16_t)(rnd(h) % 100);
		tl = 32; break;                                  /* next past end */
	}
	t[0] = (struct virtq_desc){ v == 2 ? oor(h) : ind_gpa(f), tl, F_I, 0 };
	if (v == 2 && rnd(h) % 2)
		t[0].addr = ind_gpa(f);
}

static const struct tcase tx_cases[] = {
	{ "short_header", W_SHORT, g_short },
	{ "short_header_split", W_SHORT, g_short_split },
	{ "writable_buffer", W_WRITABLE, g_writable },
	{ "all_writable", W_WRITABLE, g_all_writable },
	{ "oversized", W_OVERSIZED, g_oversized },
	{ "loop", W_BAD_CHAIN, g_loop },
	{ "self_loop", W_BAD_CHAIN, g_self_loop },
	{ "next_out_of_range", W_BAD_CHAIN, g_next_oob },
	{ "buffer_outside_ram", W_BAD_CHAIN, g_oor },
	{ "address_overflow", W_BAD_CHAIN, g_overflow },
	{ "past_ram_end", W_BAD_CHAIN, g_past_end },
	{ "readable_after_writable", W_BAD_CHAIN, g_wr_then_rd },
	{ "bad_indirect", W_BAD_CHAIN, g_ind },
};
#define N_TX_CASES (sizeof(tx_cases) / sizeof(tx_cases[0]))

/* ------------------------------------------------------------ TX batch */

static int
add_good(struct hn *h)
{
	static const struct virtio_net_hdr_v1 hd;
	uint32_t len = 60 + (uint32_t)(rnd(h) % (NET_FULL_FRAME - 59));

	net_make_frame(fbuf, len, NET_DIR_TX, KIND_GOOD, h->seq_tx++);
	return net_tx_add(&h->n, &hd, fbuf, len, (unsigned)(rnd(h) % 3), false);
}

/* A hostile chain in the next TX slot: net_tx_add lays out a frame that
 * must not arrive, then the case rewrites the slot's descriptors. */
static int
add_bad(struct hn *h, const struct tcase *c)
{
	static const struct virtio_net_hdr_v1 hd;
	struct drv_vq *q = &h->n.d.vqs[VIRTIO_NET_TXQ];
	uint32_t len = 60 + (uint32_t)(rnd(h) % 1000);
	unsigned s = h->n.tx_next;
	int head;

	net_make_frame(fbuf, len, NET_DIR_TX, KIND_BAD, 0);
	head = net_tx_add(&h->n, &hd, fbuf, len, 0, false);
	if (head < 0)
		return head;
	memset(&q->desc[head], 0, TX_K * sizeof(struct virtq_desc));
	c->gen(h, &q->desc[head], (unsigned)head,
	    h->n.tx_base + (uint64_t)s * NET_TX_STRIDE, len);
	h->cnt[c->why]++;
	h->cases++;
	return head;
}

/* The peer must get exactly the good frames [first, h->seq_tx) in order. */
static int
peer_expect(struct hn *h, uint32_t first, const char *what)
{
	for (uint32_t s = first; s != h->seq_tx; s++) {
		uint32_t seq;
		unsigned kind;
		int rc = net_peer_ours(&h->n, &fr, WAIT_MS);

		if (rc < 0) {
			mismatch(h, "%s: good frame seq %u did not reach the peer: %s",
			    what, s, rc == -EILSEQ ? h->n.why : net_strerror(rc));
			return 0;
		}
		net_check_frame(&h->n, fr.data, fr.len, NET_DIR_TX, &seq, &kind);
		if (kind == KIND_BAD) {
			mismatch(h, "%s: the peer got a frame of the hostile chain "
			    "(%u bytes)", what, fr.len);
			s--;
			continue;
		}
		if (seq != s) {
			mismatch(h, "%s: peer got seq %u, expected %u", what, seq, s);
			return 0;
		}
		h->good++;
	}
	return 0;
}

static int
tx_batch(struct hn *h)
{
	const struct tcase *c = &tx_cases[rnd(h) % N_TX_CASES];
	uint32_t first = h->seq_tx;
	unsigned lead = (unsigned)(rnd(h) % 3);
	int rc;

	for (unsigned i = 0; i < lead; i++)
		add_good(h);
	add_bad(h, c);
	add_good(h);
	rc = net_tx_flush(&h->n, WAIT_MS);
	if (rc == -EIO) {
		mismatch(h, "TX case %s: ring error (err fd); a dropped chain was "
		    "expected (used len 0, counted as %s)", c->name, why_name[c->why]);
		return net_tx_restart(&h->n);
	}
	if (rc == -EILSEQ) {
		mismatch(h, "TX case %s: %s", c->name, h->n.why);
		return 0;
	}
	if (rc == -ETIMEDOUT) {
		mismatch(h, "TX case %s: chains not returned within %d ms",
		    c->name, WAIT_MS);
		return net_tx_restart(&h->n);
	}
	if (rc < 0)
		return rc;
	return peer_expect(h, first, c->name);
}

/* Avail idx jump or head >= num: the err fd fires; restart the vring. */
static int
ring_batch(struct hn *h)
{
	struct drv_vq *q = &h->n.d.vqs[VIRTIO_NET_TXQ];
	bool jump = rnd(h) % 2;
	int rc;

	if (jump)
		q->avail_idx = (uint16_t)(q->avail_idx + q->num + 1 + rnd(h) % 1000);
	else
		drv_vq_add(q, (uint16_t)(q->num + rnd(h) % (65536u - q->num)));
	drv_kick_q(&h->n.d, q, true);
	rc = net_wait(&h->n, q, WAIT_MS);
	h->cnt[W_RING]++;
	h->cases++;
	if (rc != -EIO) {
		mismatch(h, "TX %s: %s, expected a ring error (err fd)",
		    jump ? "avail idx jump" : "head out of range",
		    rc == 0 ? "a used entry" : net_strerror(rc));
		if (rc == -ECONNRESET)
			return rc;
	}
	return net_tx_restart(&h->n);
}

/* ------------------------------------------------------------ RX batch */

#define RX_GOOD 4u               /* good buffers: descriptors 0..3 */
#define RX_BAD  16u              /* the hostile chain: descriptors 16.. */

static unsigned
rx_bad_chain(struct hn *h, enum why *w)
{
	struct drv_vq *q = &h->n.d.vqs[VIRTIO_NET_RXQ];
	struct virtq_desc *t = &q->desc[RX_BAD];
	uint64_t a = h->n.rx_base + (uint64_t)RX_BAD * h->n.rx_stride;
	uint32_t l = h->n.rx_len;

	memset(t, 0, 4 * sizeof(*t));
	*w = W_RX_BAD;
	switch (rnd(h) % 5) {
	case 0:
		t[0] = (struct virtq_desc){ a, l, 0, 0 };
		*w = W_RX_READABLE;
		break;
	case 1:
		t[0] = (struct virtq_desc){ a, 12, F_W | F_N, RX_BAD + 1 };
		t[1] = (struct virtq_desc){ a + 12, l - 12, F_W | F_N, RX_BAD };
		break;
	case 2:
		t[0] = (struct virtq_desc){ oor(h), l, F_W, 0 };
		break;
	case 3:
		t[0] = (struct virtq_desc){ a, 12, F_W | F_N,
			(uint16_t)(q->num + rnd(h) % 1000) };
		break;
	default:
		t[0] = (struct virtq_desc){ a, 12, F_W | F_N, RX_BAD + 1 };
		t[1] = (struct virtq_desc){ a + 12, l - 12, 0, 0 };
		break;
	}
	return RX_BAD;
}

/* Fresh RX ring: the hostile chain, then RX_GOOD good buffers; the peer
 * sends 2 frames. The chain must come back with used len 0; the second
 * frame must arrive (the first may be lost with the chain). */
static int
rx_batch(struct hn *h)
{
	struct drv_vq *q = &h->n.d.vqs[VIRTIO_NET_RXQ];
	uint32_t first = h->seq_rx, id, len, seq, last = first - 1;
	bool bad_back = false;
	unsigned kind;
	enum why w;
	int rc;

	if ((rc = drv_vring_restart_q(&h->n.d, VIRTIO_NET_RXQ, NULL)) < 0)
		return rc;
	drv_vq_add(q, (uint16_t)rx_bad_chain(h, &w));
	h->cnt[w]++;
	h->cases++;
	for (unsigned i = 0; i < RX_GOOD; i++) {
		q->desc[i] = (struct virtq_desc){ h->n.rx_base +
		    (uint64_t)i * h->n.rx_stride, h->n.rx_len, F_W, 0 };
		drv_vq_add(q, (uint16_t)i);
	}
	drv_kick_q(&h->n.d, q, true);
	for (unsigned i = 0; i < 2; i++) {
		net_make_frame(fbuf, 200, NET_DIR_RX, KIND_GOOD, h->seq_rx++);
		net_peer_send(&h->n, NULL, fbuf, 200);
	}
	while (last != first + 1) {
		if ((rc = net_wait(&h->n, q, WAIT_MS)) < 0) {
			mismatch(h, "RX %s chain: %s (chain returned: %s, last frame "
			    "seq %u of %u..%u)", why_name[w], net_strerror(rc),
			    bad_back ? "yes" : "no", last, first, first + 1);
			return rc == -ECONNRESET ? rc : 0;
		}
		while (drv_vq_get_used(q, &id, &len)) {
			const uint8_t *p;

			if (id == RX_BAD) {
				if (len || bad_back)
					mismatch(h, "RX %s chain returned with used len "
					    "%u%s", why_name[w], len, bad_back ? " twice" : "");
				bad_back = true;
				continue;
			}
			if (id >= RX_GOOD || len < NET_HDR_LEN || len > h->n.rx_len) {
				mismatch(h, "RX used id %u len %u after a %s chain", id,
				    len, why_name[w]);
				continue;
			}
			p = drv_ptr(&h->n.d, h->n.rx_base + (uint64_t)id *
			    h->n.rx_stride, len);
			rc = net_check_frame(&h->n, p + NET_HDR_LEN, len - NET_HDR_LEN,
			    NET_DIR_RX, &seq, &kind);
			if (rc == 0)
				continue;            /* foreign */
			if (rc < 0 || (int32_t)(seq - last) <= 0 || seq > first + 1) {
				mismatch(h, "RX after a %s chain: %s", why_name[w],
				    rc < 0 ? h->n.why : "frame out of order");
				return 0;
			}
			h->lost_rx += seq - last - 1;
			h->good++;
			last = seq;
		}
	}
	if (!bad_back)
		mismatch(h, "RX %s chain was never returned (used)", why_name[w]);
	return 0;
}

/* ----------------------------------------------------- no RX buffers */

static double
backend_cpu(const struct hn *h)
{
	return drv_proc_cpu_s(h->o->backend_pid);
}

/* A fresh RX ring with nothing posted; the peer sends 1000 frames/s for
 * --nobuf-seconds; then every buffer is posted and 16 more frames must
 * arrive. */
static int
nobuf_phase(struct hn *h)
{
	uint64_t t0, t1, sent = 0, backlog = 0;
	double c0, c1, secs;
	uint32_t first, seq, last;
	unsigned kind;
	int rc;

	if ((rc = drv_vring_restart_q(&h->n.d, VIRTIO_NET_RXQ, NULL)) < 0)
		return rc;
	net_rx_reset(&h->n);
	c0 = backend_cpu(h);
	t0 = drv_now_ns();
	while (drv_now_ns() - t0 < (uint64_t)(h->o->nobuf_seconds * 1e9)) {
		net_make_frame(fbuf, 100, NET_DIR_RX, KIND_NOBUF, 0);
		net_peer_send(&h->n, NULL, fbuf, 100);
		sent++;
		usleep(1000);
	}
	t1 = drv_now_ns();
	c1 = backend_cpu(h);
	secs = (double)(t1 - t0) / 1e9;
	if (c0 >= 0 && c1 >= 0) {
		printf("vu-driver: net-hostile: no rx buffers: %llu frames in %.2f s, "
		    "backend cpu %.3f s (%.1f%%)\n", (unsigned long long)sent, secs,
		    c1 - c0, 100 * (c1 - c0) / secs);
		if (c1 - c0 > 0.25 * secs)
			mismatch(h, "no RX buffers: the backend used %.2f s of CPU in "
			    "%.2f s (spinning?)", c1 - c0, secs);
	} else {
		printf("vu-driver: net-hostile: no rx buffers: %llu frames in %.2f s, "
		    "backend cpu not measured (--backend-pid)\n",
		    (unsigned long long)sent, secs);
	}
	if ((rc = net_rx_post(&h->n, 0, h->n.rx_num, false)) < 0)
		return rc;
	/* what the tap kept arrives first: take it until 300 ms of quiet (a
	 * frame sent into a full tap queue would be dropped by the kernel) */
	while ((rc = net_rx_ours(&h->n, &fr, 300)) == 0)
		backlog++;
	if (rc != -ETIMEDOUT) {
		mismatch(h, "after the no-RX-buffer phase: %s",
		    rc == -EILSEQ ? h->n.why : net_strerror(rc));
		return rc == -ECONNRESET ? rc : 0;
	}
	printf("vu-driver: net-hostile: no rx buffers: %llu frames delivered "
	    "once buffers were posted\n", (unsigned long long)backlog);
	first = h->seq_rx;
	for (unsigned i = 0; i < 16; i++) {
		net_make_frame(fbuf, 300, NET_DIR_RX, KIND_GOOD, h->seq_rx++);
		net_peer_send(&h->n, NULL, fbuf, 300);
	}
	last = first - 1;
	while (last != first + 15) {
		rc = net_rx_ours(&h->n, &fr, WAIT_MS);
		if (rc < 0) {
			mismatch(h, "after the no-RX-buffer phase (buffers posted, "
			    "kicked if asked): frame seq %u: %s", last + 1,
			    rc == -EILSEQ ? h->n.why : net_strerror(rc));
			return rc == -ECONNRESET ? rc : 0;
		}
		net_check_frame(&h->n, fr.data, fr.len, NET_DIR_RX, &seq, &kind);
		if (kind == KIND_NOBUF)
			continue;
		if (seq != last + 1) {
			mismatch(h, "after the no-RX-buffer phase: seq %u, expected %u",
			    seq, last + 1);
			return 0;
		}
		h->good++;
		last = seq;
	}
	return 0;
}

/* ------------------------------------------------------------- the run */

static int
final_exchange(struct hn *h)
{
	uint32_t first = h->seq_tx, seq;
	unsigned kind;
	int rc;

	for (unsigned i = 0; i < 32; i++)
		add_good(h);
	if ((rc = net_tx_flush(&h->n, WAIT_MS)) < 0) {
		mismatch(h, "final TX: %s", rc == -EILSEQ ? h->n.why : net_strerror(rc));
		return rc == -ECONNRESET ? rc : 0;
	}
	peer_expect(h, first, "final TX");
	first = h->seq_rx;
	for (unsigned i = 0; i < 32; i++) {
		net_make_frame(fbuf, 60 + i * 40, NET_DIR_RX, KIND_GOOD, h->seq_rx++);
		net_peer_send(&h->n, NULL, fbuf, 60 + i * 40);
	}
	for (unsigned i = 0; i < 32; i++) {
		rc = net_rx_ours(&h->n, &fr, WAIT_MS);
		if (rc == 0)
			net_check_frame(&h->n, fr.data, fr.len, NET_DIR_RX, &seq, &kind);
		if (rc < 0 || seq != first + i) {
			mismatch(h, "final RX: frame seq %u: %s", first + i, rc == 0 ?
			    "out of order" : rc == -EILSEQ ? h->n.why : net_strerror(rc));
			return rc == -ECONNRESET ? rc : 0;
		}
		h->good++;
	}
	return 0;
}

static int
hn_run(struct hn *h)
{
	int rc = 0;

	while (rc == 0 && h->cases < h->o->count) {
		uint64_t x = rnd(h);

		h->batches++;
		if (x % 32 == 0)
			rc = ring_batch(h);
		else if (x % 8 == 1)
			rc = rx_batch(h);
		else
			rc = tx_batch(h);
	}
	if (rc == 0 && (rc = drv_vring_restart_q(&h->n.d, VIRTIO_NET_RXQ, NULL)) == 0)
		net_rx_reset(&h->n);
	if (rc == 0)
		rc = nobuf_phase(h);
	if (rc == 0)
		rc = final_exchange(h);
	return rc;
}

int
drv_net_hostile(const struct drv_opts *o)
{
	static struct hn h;
	uint64_t t0 = drv_now_ns(), feat = 0;
	int rc;

	if (!o->count || !o->peer_if) {
		fprintf(stderr, "vu-driver: net-hostile: --count N and --peer-if IF "
		    "are required\n");
		return 2;
	}
	h.o = o;
	h.rng = o->seed * 0x9e3779b97f4a7c15ull + 1;
	rc = net_open(&h.n, o);
	if (rc == 0)
		rc = net_start(&h.n, net_pick_features(&h.n), NET_HDR_LEN +
		    NET_FULL_FRAME, TX_K);
	if (rc < 0) {
		net_close(&h.n);
		return 1;
	}
	rc = hn_run(&h);
	if (rc == -ECONNRESET || drv_peer_closed(&h.n.d)) {
		fprintf(stderr, "vu-driver: net-hostile: %s: the backend closed the "
		    "connection during batch %llu (seed %llu)\n", o->socket,
		    (unsigned long long)h.batches, (unsigned long long)o->seed);
		rc = -ECONNRESET;
	} else if (rc < 0) {
		fprintf(stderr, "vu-driver: net-hostile: %s: %s\n", o->socket,
		    net_strerror(rc));
	} else if ((rc = vu_front_get_features(&h.n.d.f, &feat)) < 0) {
		drv_err(rc, "net-hostile: %s: GET_FEATURES at the end", o->socket);
	}
	printf("vu-driver: net-hostile: %llu malformed, %llu good frames verified, "
	    "%llu batches, %llu unexpected answers, %llu frames lost with a bad RX "
	    "chain, %.2f s, seed %llu\n", (unsigned long long)h.cases,
	    (unsigned long long)h.good, (unsigned long long)h.batches,
	    (unsigned long long)h.mism, (unsigned long long)h.lost_rx,
	    (double)(drv_now_ns() - t0) / 1e9, (unsigned long long)o->seed);
	printf("vu-driver: net-hostile: sent short header %llu, writable tx %llu, "
	    "oversized %llu, bad chain %llu (tx %llu, rx %llu, rx readable %llu), "
	    "ring errors %llu\n", (unsigned long long)h.cnt[W_SHORT],
	    (unsigned long long)h.cnt[W_WRITABLE], (unsigned long long)h.cnt[W_OVERSIZED],
	    (unsigned long long)(h.cnt[W_BAD_CHAIN] + h.cnt[W_RX_BAD] + h.cnt[W_RX_READABLE]),
	    (unsigned long long)h.cnt[W_BAD_CHAIN], (unsigned long long)h.cnt[W_RX_BAD],
	    (unsigned long long)h.cnt[W_RX_READABLE], (unsigned long long)h.cnt[W_RING]);
	net_close(&h.n);
	return rc < 0 || h.mism ? 1 : 0;
}
