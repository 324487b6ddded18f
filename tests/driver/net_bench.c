/*
 * vu-driver net-bench / tap-direct: frames per second through a
 * vhost-user-net backend and its tap (net-bench), or through the same tap
 * driven directly with readv/writev and the same 12-byte vnet header
 * (tap-direct: the tap limit), to or from an AF_PACKET peer on the tap.
 *
 * Two threads: a sender (TX: the TX ring, or writev on the tap; RX: the
 * peer socket, sendmmsg) and a receiver (TX: the peer socket, recvmmsg;
 * RX: the RX ring, or readv on the tap), each running flat out. Frames
 * are counted where they arrive (only ours: the ethertype and tag), over
 * --seconds after --warmup. Device-side CPU: utime+stime of
 * --backend-pid (net-bench) or of the thread doing the tap I/O
 * (tap-direct), over the same window. One JSON line on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"

#define NB_BATCH  64u
#define NB_WINDOW 1024u   /* frames sent and not yet delivered, at most */

struct nb {
	struct net n;
	const struct drv_opts *o;
	bool tx, direct;
	uint32_t flen;
	int tapfd;
	uint8_t frame[NET_FULL_FRAME];
	volatile bool stop;
	uint64_t delivered;      /* atomic */
	uint64_t sent;           /* atomic */
	int dev_tid;             /* tap-direct: the thread doing tap I/O */
	int err;
	char errmsg[320];
};

static struct nb B;

static void
fail(struct nb *b, int rc, const char *fmt, const char *what)
{
	if (!b->err) {
		b->err = rc ? rc : -EIO;
		snprintf(b->errmsg, sizeof(b->errmsg), fmt, what);
	}
	b->stop = true;
}

static bool
ours(const uint8_t *p, size_t len)
{
	return len >= NET_MIN_FRAME && p[12] == (NET_ETHERTYPE >> 8) &&
	    p[13] == (NET_ETHERTYPE & 0xff) && !memcmp(p + 14, "vuDn", 4);
}

/* CPU seconds of what does the tap I/O: our tap thread (tap-direct) or
 * the backend (--backend-pid); < 0 when unknown. */
static double
dev_cpu_s(const struct nb *b)
{
	char path[96];

	if (!b->direct)
		return drv_proc_cpu_s(b->o->backend_pid);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", b->dev_tid);
	return drv_stat_cpu_s(path);
}

/* Closed loop: the sender waits while NB_WINDOW frames are on their way,
 * so frames the receiving side cannot take are not sent just to be
 * dropped (on a small host they would take CPU time from it). */
static void
nb_window(struct nb *b)
{
	while (!b->stop && (int64_t)(__atomic_load_n(&b->sent, __ATOMIC_RELAXED) -
	    __atomic_load_n(&b->delivered, __ATOMIC_RELAXED)) > (int64_t)NB_WINDOW)
		usleep(20);
}

/* ---------------------------------------------------------------- peer */

static void *
peer_send_loop(void *arg)
{
	struct nb *b = arg;
	static const uint8_t vh[NET_PEER_HDR];
	struct iovec iov[2] = { { (void *)vh, NET_PEER_HDR }, { b->frame, b->flen } };
	struct mmsghdr m[NB_BATCH];

	memset(m, 0, sizeof(m));
	for (unsigned i = 0; i < NB_BATCH; i++) {
		m[i].msg_hdr.msg_iov = iov;
		m[i].msg_hdr.msg_iovlen = 2;
	}
	while (!b->stop) {
		int k;

		nb_window(b);
		k = sendmmsg(b->n.peer, m, NB_BATCH, 0);

		if (k > 0)
			__atomic_add_fetch(&b->sent, (uint64_t)k, __ATOMIC_RELAXED);
		else if (errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
			fail(b, -errno, "peer sendmmsg: %s", strerror(errno));
	}
	return NULL;
}

static void *
peer_recv_loop(void *arg)
{
	struct nb *b = arg;
	static uint8_t bufs[NB_BATCH][NET_PEER_HDR + NET_FULL_FRAME + 64];
	struct iovec iov[NB_BATCH];
	struct mmsghdr m[NB_BATCH];

	memset(m, 0, sizeof(m));
	for (unsigned i = 0; i < NB_BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!b->stop) {
		struct pollfd p = { .fd = b->n.peer, .events = POLLIN };
		uint64_t c = 0;
		int k;

		k = recvmmsg(b->n.peer, m, NB_BATCH, MSG_DONTWAIT, NULL);
		if (k <= 0) {
			poll(&p, 1, 50);
			continue;
		}
		for (int i = 0; i < k; i++)
			c += m[i].msg_len > NET_PEER_HDR &&
			    ours(bufs[i] + NET_PEER_HDR, m[i].msg_len - NET_PEER_HDR);
		__atomic_add_fetch(&b->delivered, c, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---------------------------------------------------------- the rings */

static int
ring_wait(struct nb *b, struct drv_vq *q)
{
	uint64_t end = drv_now_ns() + b->o->poll_us * 1000ull;
	int rc;

	while (drv_now_ns() < end)
		for (int i = 0; i < 64; i++) {
			if (drv_vq_used_pending(q))
				return 0;
			__builtin_ia32_pause();
		}
	rc = net_wait(&b->n, q, 100);
	return rc == -ETIMEDOUT ? 0 : rc;
}

static void
ring_fail(struct nb *b, int rc)
{
	fail(b, rc, "%s", net_strerror(rc));
}

static void *
ring_tx_loop(void *arg)
{
	struct nb *b = arg;
	struct drv_vq *q = &b->n.d.vqs[VIRTIO_NET_TXQ];
	static const struct virtio_net_hdr_v1 h;
	uint32_t id, len;
	int rc;

	for (unsigned i = 0; i < b->n.tx_slots; i++)
		net_tx_add(&b->n, &h, b->frame, b->flen, 0, false);
	drv_kick_q(&b->n.d, q, true);
	while (!b->stop) {
		uint64_t k = 0;

		nb_window(b);
		if ((rc = ring_wait(b, q)) < 0) {
			ring_fail(b, rc);
			break;
		}
		while (drv_vq_get_used(q, &id, &len)) {
			drv_vq_add(q, (uint16_t)id);
			k++;
		}
		__atomic_add_fetch(&b->sent, k, __ATOMIC_RELAXED);
		if (k && (rc = drv_kick_q(&b->n.d, q, false)) < 0)
			ring_fail(b, rc);
	}
	return NULL;
}

static void *
ring_rx_loop(void *arg)
{
	struct nb *b = arg;
	struct drv_vq *q = &b->n.d.vqs[VIRTIO_NET_RXQ];
	uint32_t id, len;
	int rc;

	while (!b->stop) {
		uint64_t k = 0;

		if ((rc = ring_wait(b, q)) < 0) {
			ring_fail(b, rc);
			break;
		}
		while (drv_vq_get_used(q, &id, &len)) {
			const uint8_t *p = drv_ptr(&b->n.d, b->n.rx_base +
			    (uint64_t)(id % b->n.rx_num) * b->n.rx_stride, b->n.rx_len);

			k += len > NET_HDR_LEN && ours(p + NET_HDR_LEN, len - NET_HDR_LEN);
			drv_vq_add(q, (uint16_t)(id % b->n.rx_num));
		}
		__atomic_add_fetch(&b->delivered, k, __ATOMIC_RELAXED);
		if ((rc = drv_kick_q(&b->n.d, q, false)) < 0)
			ring_fail(b, rc);
	}
	return NULL;
}

/* ---------------------------------------------------------- tap-direct */

static void *
tap_tx_loop(void *arg)
{
	struct nb *b = arg;
	static const uint8_t h[NET_HDR_LEN];
	struct iovec iov[2] = { { (void *)h, NET_HDR_LEN }, { b->frame, b->flen } };

	b->dev_tid = (int)syscall(SYS_gettid);
	while (!b->stop) {
		ssize_t r;

		nb_window(b);
		r = writev(b->tapfd, iov, 2);

		if (r > 0) {
			__atomic_add_fetch(&b->sent, 1, __ATOMIC_RELAXED);
		} else if (r < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = b->tapfd, .events = POLLOUT };

			poll(&p, 1, 50);
		} else if (r < 0 && errno != EINTR) {
			fail(b, -errno, "tap writev: %s", strerror(errno));
		}
	}
	return NULL;
}

static void *
tap_rx_loop(void *arg)
{
	struct nb *b = arg;
	static uint8_t h[NET_HDR_LEN], f[NET_FULL_FRAME + 64];
	struct iovec iov[2] = { { h, NET_HDR_LEN }, { f, sizeof(f) } };

	b->dev_tid = (int)syscall(SYS_gettid);
	while (!b->stop) {
		ssize_t r = readv(b->tapfd, iov, 2);

		if (r > (ssize_t)NET_HDR_LEN) {
			if (ours(f, (size_t)r - NET_HDR_LEN))
				__atomic_add_fetch(&b->delivered, 1, __ATOMIC_RELAXED);
		} else if (r < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = b->tapfd, .events = POLLIN };

			poll(&p, 1, 50);
		} else if (r < 0 && errno != EINTR) {
			fail(b, -errno, "tap readv: %s", strerror(errno));
		}
	}
	return NULL;
}

static int
tap_open(struct nb *b)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hs = NET_HDR_LEN;
	const char *t = b->o->tap;

	if (strlen(t) >= IFNAMSIZ) {
		fprintf(stderr, "vu-driver: tap %s: name too long\n", t);
		return -EINVAL;
	}
	strcpy(ifr.ifr_name, t);
	b->tapfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (b->tapfd < 0)
		return drv_err(-errno, "tap %s: open /dev/net/tun", t);
	if (ioctl(b->tapfd, TUNSETIFF, &ifr) < 0)
		return drv_err(-errno, "tap %s: TUNSETIFF", t);
	if (ioctl(b->tapfd, TUNSETVNETHDRSZ, &hs) < 0)
		return drv_err(-errno, "tap %s: TUNSETVNETHDRSZ", t);
	if (ioctl(b->tapfd, TUNSETOFFLOAD, 0ul) < 0)
		return drv_err(-errno, "tap %s: TUNSETOFFLOAD", t);
	return 0;
}

/* ---------------------------------------------------------------- main */

static int
nb_setup(struct nb *b)
{
	struct net *n = &b->n;
	int rc;

	net_make_frame(b->frame, b->flen, b->tx ? NET_DIR_TX : NET_DIR_RX, 3, 0);
	if (b->direct) {
		net_init(n, b->o);
		if ((rc = tap_open(b)) < 0)
			return rc;
		return net_peer_open(n, b->o->peer_if);
	}
	if ((rc = net_open(n, b->o)) < 0)
		return rc;
	rc = net_start(n, net_pick_features(n), NET_HDR_LEN + NET_FULL_FRAME, 1);
	if (rc == 0 && !b->tx)
		rc = net_rx_post(n, 0, n->rx_num, true);
	return rc;
}

static void
nb_sleep(struct nb *b, double s)
{
	uint64_t end = drv_now_ns() + (uint64_t)(s * 1e9);

	while (!b->stop && drv_now_ns() < end)
		usleep(10000);
}

static void
nb_print(const struct nb *b, uint64_t frames, double secs, double cpu)
{
	double pps = (double)frames / secs;
	char c[128] = "\"cpu_s\":null,\"cpu_us_per_frame\":null";

	if (cpu >= 0)
		snprintf(c, sizeof(c), "\"cpu_s\":%.3f,\"cpu_us_per_frame\":%.4f",
		    cpu, frames ? cpu * 1e6 / (double)frames : 0.0);
	printf("{\"mode\":\"%s\",\"dir\":\"%s\",\"frame\":%u,\"frames\":%llu,"
	    "\"seconds\":%.3f,\"pps\":%.1f,\"gbit_s\":%.4f,%s,\"cpu_of\":\"%s\","
	    "\"sent\":%llu,\"kicks\":%llu,\"calls\":%llu}\n",
	    b->direct ? "tap-direct" : "vhost-user", b->o->dir, b->flen,
	    (unsigned long long)frames, secs, pps, pps * b->flen * 8 / 1e9, c,
	    b->direct ? "tap thread" : b->o->backend_pid ? "backend pid" : "none",
	    (unsigned long long)__atomic_load_n(&b->sent, __ATOMIC_RELAXED),
	    (unsigned long long)b->n.d.kicks, (unsigned long long)b->n.d.calls);
}

static int
nb_run(struct nb *b)
{
	void *(*send)(void *), *(*recv)(void *);
	pthread_t ts, tr;
	uint64_t d0, d1, t0, t1;
	double c0, c1;

	if (b->tx) {
		send = b->direct ? tap_tx_loop : ring_tx_loop;
		recv = peer_recv_loop;
	} else {
		send = peer_send_loop;
		recv = b->direct ? tap_rx_loop : ring_rx_loop;
	}
	if (pthread_create(&tr, NULL, recv, b) || pthread_create(&ts, NULL, send, b)) {
		fprintf(stderr, "vu-driver: %s: pthread_create failed\n", b->o->mode);
		exit(1);
	}
	nb_sleep(b, b->o->warmup);
	d0 = __atomic_load_n(&b->delivered, __ATOMIC_RELAXED);
	c0 = dev_cpu_s(b);
	t0 = drv_now_ns();
	nb_sleep(b, b->o->seconds);
	d1 = __atomic_load_n(&b->delivered, __ATOMIC_RELAXED);
	c1 = dev_cpu_s(b);
	t1 = drv_now_ns();
	b->stop = true;
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	if (b->err) {
		fprintf(stderr, "vu-driver: %s: %s: %s (%s, %llu frames sent, %llu "
		    "delivered)\n", b->o->mode, b->direct ? b->o->tap : b->o->socket,
		    b->errmsg, b->tx ? "TX" : "RX",
		    (unsigned long long)b->sent, (unsigned long long)b->delivered);
		return 1;
	}
	nb_print(b, d1 - d0, (double)(t1 - t0) / 1e9, c0 >= 0 && c1 >= 0 ? c1 - c0 : -1);
	return 0;
}

int
drv_net_bench(const struct drv_opts *o)
{
	struct nb *b = &B;
	int rc;

	b->o = o;
	b->tx = !strcmp(o->dir, "tx");
	b->direct = !strcmp(o->mode, "tap-direct");
	b->flen = o->frame_size;
	b->tapfd = -1;
	if (!o->peer_if) {
		fprintf(stderr, "vu-driver: %s: --peer-if IF is required\n", o->mode);
		return 2;
	}
	rc = nb_setup(b) < 0 ? 1 : nb_run(b);
	net_close(&b->n);
	if (b->tapfd >= 0)
		close(b->tapfd);
	return rc;
}
