/*
 * vu-driver hostile: small batches (one kick each) of well-formed but bad
 * requests ending in at most one chain that may break the ring (malformed
 * or random), sometimes with good chains before and after it; ring-level
 * breakage (avail idx jumps, heads >= num). A malformed chain must break
 * the ring: the err eventfd fires, it is never completed, and nothing
 * after it is popped; chains before it complete normally. After every
 * ring error the driver restarts the vring (GET_VRING_BASE, then setup on
 * fresh ring memory). Every --good-every batches: a good write + read
 * back with verification. Optionally the fixed corpus first (--corpus):
 * every case's variants, each followed by a good chain, one kick each.
 *
 * Fails (exit 1) when the backend closes the connection, a good request
 * is wrong, a batch neither completes nor breaks the ring within
 * --wait-ms, or an answer differs from what hostile_cases.c expects.
 * The disk is left as it was: good writes put THE pattern back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hostile.h"

#define H_WIN       16u
#define H_GOOD_BASE 6176u    /* good writes: sectors 6176..6687 */
#define H_MAX_SHOWN 20u
#define H_GOOD      (&h_cases[0])
#define H_SOLO      (&h_cases[h_ncases - 1])

enum { RING_NONE, RING_AVAIL_JUMP, RING_HEAD_OOB };
static const char *const ring_names[] = { "", "avail_idx_jump",
	"head_out_of_range" };

struct hbatch {
	unsigned n;
	const struct hcase *c[H_MAX_CHAINS];
	unsigned var[H_MAX_CHAINS];
	enum hexp exp[H_MAX_CHAINS];
	uint16_t head[H_MAX_CHAINS];
	bool done[H_MAX_CHAINS];
	unsigned completed;
	int ring;
	unsigned ring_var;
};

struct hrun {
	struct drv d;
	struct hctx h;
	const struct drv_opts *o;
	unsigned nchains, weight_total;
	uint64_t batches, malformed, completed_bad, ring_errors, good, mism;
	uint64_t timeouts, lost, good_n;
};

static void
mismatch(struct hrun *r, const struct hbatch *b, unsigned i, const char *fmt, ...)
{
	va_list ap;

	if (r->mism++ >= H_MAX_SHOWN)
		return;
	fprintf(stderr, "vu-driver: hostile: batch %llu: ",
	    (unsigned long long)r->batches);
	if (i < b->n)
		fprintf(stderr, "chain %u, case %s.%u: ", i, b->c[i]->name, b->var[i]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
batch_cases(const struct hbatch *b, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < b->n && o + 1 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s.%u", i ? " " : "",
		    b->c[i]->name, b->var[i]);
	if (b->ring && o + 1 < len)
		snprintf(buf + o, len - o, " %s.%u", ring_names[b->ring], b->ring_var);
}

static const char *
exp_name(enum hexp e)
{
	static const char *const n[] = { "anything", "a ring error",
		"used len 0 or a ring error", "status OK", "status IOERR",
		"status UNSUPP", "status IOERR or UNSUPP" };

	return n[e];
}

static bool
answer_ok(enum hexp e, uint8_t st, uint32_t len)
{
	switch (e) {
	case HX_BREAK: return false;
	case HX_NOREPLY: return len == 0;
	case HX_OK: return st == VIRTIO_BLK_S_OK;
	case HX_IOERR: return st == VIRTIO_BLK_S_IOERR;
	case HX_UNSUPP: return st == VIRTIO_BLK_S_UNSUPP;
	case HX_ERR: return st == VIRTIO_BLK_S_IOERR || st == VIRTIO_BLK_S_UNSUPP;
	default: return true;
	}
}

/* A completed "good" chain read sector 0: THE pattern must be there. */
static void
check_good_data(struct hrun *r, const struct hbatch *b, unsigned i)
{
	const uint8_t *p = drv_ptr(&r->d, h_good_gpa(&r->h, i), 512);
	int64_t at = drv_check_pattern(p, 0, 1, r->o->disk_index);

	if (at >= 0)
		mismatch(r, b, i, "good read of sector 0 returned wrong data at "
		    "byte %lld", (long long)at);
}

static void
check_exp(struct hrun *r, const struct hbatch *b, unsigned i, uint32_t len)
{
	uint8_t st = *(uint8_t *)drv_ptr(&r->d, h_status_gpa(&r->h, i), 1);
	char cases[512];

	if (answer_ok(b->exp[i], st, len)) {
		r->completed_bad += b->exp[i] >= HX_IOERR;
		if (b->c[i] == H_GOOD)
			check_good_data(r, b, i);
		return;
	}
	batch_cases(b, cases, sizeof(cases));
	mismatch(r, b, i, "expected %s, got a completion: used len %u status "
	    "0x%02x (batch: %s)", exp_name(b->exp[i]), len, st, cases);
}

static void
reap(struct hrun *r, struct hbatch *b)
{
	uint32_t id, len;

	while (drv_vq_get_used(&r->d.vq, &id, &len)) {
		unsigned i = 0;

		while (i < b->n && (b->head[i] != id || b->done[i]))
			i++;
		if (i == b->n) {
			mismatch(r, b, ~0u, "used id %u was not made available", id);
			continue;
		}
		b->done[i] = true;
		b->completed++;
		check_exp(r, b, i, len);
	}
}

/* Write chain b->n of case c (variant v) into its window. */
static enum hexp
add_chain(struct hrun *r, struct hbatch *b, const struct hcase *c, unsigned v)
{
	unsigned i = b->n++;

	*(uint8_t *)drv_ptr(&r->d, h_status_gpa(&r->h, i), 1) = 0xff;
	b->c[i] = c;
	b->var[i] = v;
	b->exp[i] = c->gen(&r->h, i, v, &b->head[i]);
	return b->exp[i];
}

static void
submit(struct hrun *r, struct hbatch *b)
{
	struct drv_vq *q = &r->d.vq;
	unsigned num = q->num;

	for (unsigned i = 0; i < b->n; i++)
		drv_vq_add(q, b->head[i]);
	if (b->ring == RING_AVAIL_JUMP)
		q->avail_idx = (uint16_t)(q->avail_idx + num + 1 + b->ring_var % 1000);
	else if (b->ring == RING_HEAD_OOB)
		drv_vq_add(q, (uint16_t)(num + b->ring_var % (65536u - num)));
	drv_kick(&r->d, true);
}

/* Chains [0, upto) were looked at by the backend: count the bad ones. */
static void
count_seen(struct hrun *r, const struct hbatch *b, unsigned upto)
{
	for (unsigned i = 0; i < upto && i < b->n; i++)
		r->malformed += b->c[i] != H_GOOD;
}

/*
 * The ring broke. The first chain not completed (in avail order) is the
 * one that broke it: it must be one that may, and nothing after it may
 * have completed (the backend stops popping). With every chain completed,
 * the ring-level input broke it. An avail idx jump may break the ring
 * before any chain is popped.
 */
static void
settle_ring_error(struct hrun *r, struct hbatch *b, const char *cases)
{
	unsigned first = 0;

	r->ring_errors++;
	while (first < b->n && b->done[first])
		first++;
	for (unsigned i = first + 1; i < b->n; i++)
		if (b->done[i])
			mismatch(r, b, i, "completed after chain %u, which broke the "
			    "ring (batch: %s)", first, cases);
	r->lost += b->n - b->completed;
	if (first == b->n) {
		count_seen(r, b, b->n);
		if (!b->ring)
			mismatch(r, b, ~0u, "ring error after every chain completed "
			    "(batch: %s)", cases);
	} else if (b->ring == RING_AVAIL_JUMP) {
		count_seen(r, b, first);
	} else {
		count_seen(r, b, first + 1);
		r->lost--;
		if (!h_may_break(b->exp[first]))
			mismatch(r, b, first, "expected %s, got a ring error (batch: "
			    "%s)", exp_name(b->exp[first]), cases);
	}
	r->malformed += b->ring != RING_NONE;
}

/*
 * GET_VRING_BASE and the vring setup, the setup messages without
 * NEED_REPLY even with REPLY_ACK negotiated (a frontend may leave it off):
 * pipelined, they cost no round trip each. The next request with a reply
 * of its own (the next restart's GET_VRING_BASE, a good request, the final
 * GET_FEATURES) finds a backend that rejected one and dropped us.
 */
static int
restart_pipelined(struct hrun *r)
{
	struct vu_front *f = &r->d.f;
	uint64_t saved = f->protocol_features;
	int rc;

	f->protocol_features &= ~(1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	rc = drv_vring_restart(&r->d);
	f->protocol_features = saved;
	return rc;
}

/* After the wait: account for a ring error or a timeout; restart. */
static int
settle(struct hrun *r, struct hbatch *b, int rc)
{
	char cases[512];

	batch_cases(b, cases, sizeof(cases));
	if (rc == -EIO) {
		settle_ring_error(r, b, cases);
	} else if (rc == -ETIMEDOUT) {
		r->timeouts++;
		count_seen(r, b, b->n);
		mismatch(r, b, ~0u, "%u of %u chains not completed and no ring "
		    "error within %d ms (batch: %s)", b->n - b->completed, b->n,
		    r->o->hostile_wait_ms, cases);
	} else {
		fprintf(stderr, "vu-driver: hostile: %s: %s during batch %llu "
		    "(seed %llu; batch: %s)\n", r->o->socket, rc == -ECONNRESET ?
		    "backend closed the connection" : strerror(-rc),
		    (unsigned long long)r->batches, (unsigned long long)r->o->seed,
		    cases);
		return rc;
	}
	return restart_pipelined(r);
}

static int
run_batch(struct hrun *r, struct hbatch *b)
{
	int rc = 0;

	r->batches++;
	submit(r, b);
	while (b->completed < b->n || b->ring) {
		rc = drv_wait_used(&r->d, 20, r->o->hostile_wait_ms);
		reap(r, b);
		if (rc < 0)
			break;
	}
	if (rc == 0) {
		count_seen(r, b, b->n);
		return 0;
	}
	return settle(r, b, rc);
}

static const struct hcase *
pick_case(struct hrun *r)
{
	unsigned w = (unsigned)(h_rand(&r->h) % r->weight_total);

	for (unsigned i = 0;; i++) {
		if (w < h_cases[i].weight)
			return &h_cases[i];
		w -= h_cases[i].weight;
	}
}

/* Ring-level breakage after 0..3 good chains. */
static void
ring_batch(struct hrun *r, struct hbatch *b, uint64_t x)
{
	unsigned lead = (unsigned)((x >> 40) % 4);

	b->ring = 1 + (int)((x >> 16) % 2);
	b->ring_var = (unsigned)(x >> 24);
	for (unsigned i = 0; i < lead && i < r->nchains; i++)
		add_chain(r, b, H_GOOD, 0);
}

/*
 * 0..2 good chains, then cases until one that may break the ring (or the
 * table is full), then sometimes a good chain: lost when the ring broke,
 * completed otherwise. Chains are written here, after the previous
 * batch's restart.
 */
static void
random_batch(struct hrun *r, struct hbatch *b)
{
	uint64_t x = h_rand(&r->h);
	unsigned lead = (x >> 4) % 4 == 0 ? 1 + (unsigned)((x >> 6) % 2) : 0;

	memset(b, 0, sizeof(*b));
	if (x % 64 == 0) {         /* the one case that needs the whole table */
		add_chain(r, b, H_SOLO, (unsigned)(x >> 32));
		return;
	}
	if ((x >> 8) % 32 == 0) {
		ring_batch(r, b, x);
		return;
	}
	for (unsigned i = 0; i < lead && i + 1 < r->nchains; i++)
		add_chain(r, b, H_GOOD, 0);
	while (!h_may_break(add_chain(r, b, pick_case(r), (unsigned)h_rand(&r->h))) &&
	    b->n + 1 < r->nchains)
		;
	if ((x >> 14) % 2 && b->n < r->nchains)
		add_chain(r, b, H_GOOD, 0);
}

/* A good write of pattern D+50 and its read back, then THE pattern D put
 * back and read back: 4 verified requests. */
static int
good_check(struct hrun *r)
{
	uint64_t n = r->good_n++;
	uint64_t s = H_GOOD_BASE + (n % 64) * 8;
	unsigned nseg = 1 + (unsigned)(n % 4), D = r->o->disk_index;
	bool ind = (r->d.acked & (1ull << VIRTIO_F_RING_INDIRECT_DESC)) && n % 2;
	int rc;

	rc = drv_write_verify(&r->d, s, 8, D + 50, nseg, ind);
	if (rc == 0)
		rc = drv_write_verify(&r->d, s, 8, D, nseg, ind);
	if (rc < 0) {
		fprintf(stderr, "vu-driver: hostile: good request after batch %llu "
		    "failed (seed %llu)\n", (unsigned long long)r->batches,
		    (unsigned long long)r->o->seed);
		return rc;
	}
	r->good += 4;
	return 0;
}

/* Every case variant followed by a good chain (none after the solo case),
 * then the ring-level inputs after 0..3 good chains. */
static int
run_corpus(struct hrun *r)
{
	static struct hbatch b;
	unsigned ncase = 0;
	int rc = 0;

	for (unsigned c = 0; c < h_ncases && rc == 0; c++)
		for (unsigned v = 0; v < h_cases[c].variants && rc == 0; v++) {
			memset(&b, 0, sizeof(b));
			add_chain(r, &b, &h_cases[c], v);
			if (&h_cases[c] != H_SOLO && r->nchains > 1)
				add_chain(r, &b, H_GOOD, 0);
			rc = run_batch(r, &b);
			ncase++;
		}
	for (int k = RING_AVAIL_JUMP; k <= RING_HEAD_OOB && rc == 0; k++)
		for (unsigned v = 0; v < 4 && rc == 0; v++) {
			memset(&b, 0, sizeof(b));
			ring_batch(r, &b, (uint64_t)v << 40 | (uint64_t)(k - 1) << 16 |
			    (uint64_t)(v * 12345u) << 24);
			rc = run_batch(r, &b);
			ncase++;
		}
	if (rc == 0)
		rc = good_check(r);
	printf("vu-driver: hostile: corpus: %u cases, %llu unexpected answers\n",
	    ncase, (unsigned long long)r->mism);
	return rc;
}

static int
run_random(struct hrun *r)
{
	static struct hbatch b;
	int rc = 0;

	while (r->malformed < r->o->count && rc == 0) {
		random_batch(r, &b);
		rc = run_batch(r, &b);
		if (rc == 0 && r->batches % r->o->good_every == 0)
			rc = good_check(r);
	}
	return rc ? rc : good_check(r);
}

static int
hostile_setup(struct hrun *r, const struct drv_opts *o)
{
	struct drv *d = &r->d;
	struct hctx *h = &r->h;
	uint64_t *p;

	r->o = o;
	if (drv_open(d, o) < 0 || drv_start(d, drv_pick_features(d)) < 0)
		return -1;
	h->d = d;
	h->rng = o->seed * 0x9e3779b97f4a7c15ull + 1;
	h->num = d->vq.num;
	h->win = H_WIN;
	h->pool = d->mem_size - DRV_SCRATCH;
	h->target = h->pool + H_TARGET;
	h->target_len = d->mem_size - h->target;
	h->cap = d->have_cfg ? d->cfg.capacity : o->disk_size / 512;
	r->nchains = h->num / H_WIN < H_MAX_CHAINS ? h->num / H_WIN : H_MAX_CHAINS;
	if (h->cap < H_GOOD_BASE + 512 || r->nchains < 1) {
		fprintf(stderr, "vu-driver: hostile: needs a disk of >= 4 MiB and "
		    "--queue-size >= %u\n", H_WIN);
		return -1;
	}
	p = drv_ptr(d, h->target, h->target_len);
	for (uint64_t i = 0; i < h->target_len / 8; i++)
		p[i] = h_rand(h);
	for (unsigned i = 0; i < h_ncases; i++)
		r->weight_total += h_cases[i].weight;
	return 0;
}

int
drv_hostile(const struct drv_opts *o)
{
	static struct hrun r;
	uint64_t t0 = drv_now_ns(), feat;
	int rc;

	if (!o->count) {
		fprintf(stderr, "vu-driver: hostile: --count N is required\n");
		return 2;
	}
	if (hostile_setup(&r, o) < 0) {
		drv_close(&r.d);
		return 1;
	}
	rc = o->corpus ? run_corpus(&r) : 0;
	if (rc == 0)
		rc = run_random(&r);
	if (rc == 0 && (rc = vu_front_get_features(&r.d.f, &feat)) < 0)
		drv_err(rc, "hostile: %s: GET_FEATURES at the end", o->socket);
	printf("vu-driver: hostile: %llu malformed, %llu completed-bad, %llu "
	    "ring-errors, %llu good requests verified\n",
	    (unsigned long long)r.malformed, (unsigned long long)r.completed_bad,
	    (unsigned long long)r.ring_errors, (unsigned long long)r.good);
	printf("vu-driver: hostile: %llu batches, %llu kicks, %llu chains lost "
	    "with a broken ring, %llu unexpected answers (%llu timeouts), "
	    "%.2f s, seed %llu\n",
	    (unsigned long long)r.batches, (unsigned long long)r.d.kicks,
	    (unsigned long long)r.lost, (unsigned long long)r.mism,
	    (unsigned long long)r.timeouts, (double)(drv_now_ns() - t0) / 1e9,
	    (unsigned long long)o->seed);
	drv_close(&r.d);
	return rc < 0 || r.mism ? 1 : 0;
}
