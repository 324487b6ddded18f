/*
 * cmocka: devices/net/net.c, the virtio-net device. The tap is a
 * SOCK_SEQPACKET socketpair (one datagram = one frame with its 12-byte
 * vnet header, non-blocking, like a tap with IFF_VNET_HDR); the offload
 * ioctl is recorded instead of made. RX and TX go through real split
 * rings in fake guest memory with the production queue_kick and a backend
 * library instance without a socket (ipc/vu_internal.h), eventfds as call
 * and err fds; the last test runs the library's own poll (the tap polled
 * as the device fd) over a memfd set with SET_MEM_TABLE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "net.h"
#include "vu_internal.h"
#include "vu_backend_priv.h"    /* what the loop polls (dev_events) */

#define F(bit) (1ull << (bit))
#define RAM_GPA  0x100000ull
#define RAM_SIZE 0x100000ull
#define QNUM     16u
#define RX_DESC  (RAM_GPA)
#define TX_DESC  (RAM_GPA + 0x4000)
#define BUF      (RAM_GPA + 0x10000)    /* buffers: 0x10000 each from here */
#define HDR      12u

struct fx {
	struct net_dev d;
	struct vu_mem mem;
	uint8_t *ram;
	bool ram_mapped;                     /* mmap'd (memfd), not malloc'd */
	int peer;                            /* the "wire" end of the tap */
	int call[2], err[2];
	struct vu_backend_config cfg;
	struct vu_backend *b;
	uint16_t next_desc[2];
	unsigned offload_calls;
	unsigned last_offload;
	int offload_rc;
	size_t tun_cut;                      /* readv: bytes tun "cut off" */
};

static struct fx *fx;

/*
 * net.c's readv of the tap comes here. tun returns a frame's whole length
 * even when the buffer was shorter and the rest was cut off; a
 * SOCK_SEQPACKET socket returns what it copied. tun_cut bytes are added
 * to a successful read to stand in for tun.
 */
ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t r = syscall(SYS_readv, fd, iov, cnt);

	if (r > 0 && fx != NULL)
		r += (ssize_t)fx->tun_cut;
	return r;
}

static int
fake_offload(int tap, unsigned flags)
{
	(void)tap;
	fx->offload_calls++;
	fx->last_offload = flags;
	return fx->offload_rc;
}

static void *
host(uint64_t gpa)
{
	return fx->ram + (gpa - RAM_GPA);
}

static void
set_vring_fd(uint32_t request, unsigned index, int fd)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = sizeof(uint64_t);
	m.payload.u64 = index;
	m.nfds = 1;
	m.fds[0] = dup(fd);
	assert_true(m.fds[0] >= 0);
	assert_int_equal(vu_backend_dispatch(fx->b, &m), 0);
}

/* The device with `features` accepted and both rings started (EVENT_IDX). */
static void
start(uint64_t features)
{
	unsigned q;

	fx->d.set_offload = fake_offload;
	net_backend_ops.set_features(&fx->d, features);
	for (q = 0; q < 2; q++) {
		uint64_t base = q == 0 ? RX_DESC : TX_DESC;

		assert_int_equal(vq_init(&fx->d.vq[q], &fx->mem, QNUM, base, base + 0x1000,
		    base + 0x2000, 0, true, true), 0);
	}
}

static int
setup(void **state)
{
	int sv[2];
	unsigned q;

	(void)state;
	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(fx->ram);
	memset(fx->ram, 0, RAM_SIZE);
	fx->mem.nregions = 1;
	fx->mem.r[0] = (struct vu_mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .host = fx->ram };
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	net_init(&fx->d, sv[0], true);
	fx->peer = sv[1];
	net_backend_config(&fx->d, "test-net", &fx->cfg);
	fx->b = vu_backend_new(-1, &fx->cfg);
	assert_non_null(fx->b);
	for (q = 0; q < 2; q++) {
		fx->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		fx->err[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(fx->call[q] >= 0 && fx->err[q] >= 0);
		set_vring_fd(VHOST_USER_SET_VRING_CALL, q, fx->call[q]);
		set_vring_fd(VHOST_USER_SET_VRING_ERR, q, fx->err[q]);
	}
	return 0;
}

static int
teardown(void **state)
{
	unsigned q;

	(void)state;
	vu_backend_free(fx->b);
	for (q = 0; q < 2; q++) {
		close(fx->call[q]);
		close(fx->err[q]);
	}
	close(fx->d.tap);
	close(fx->peer);
	if (fx->ram_mapped)
		munmap(fx->ram, RAM_SIZE);
	else
		free(fx->ram);
	free(fx);
	return 0;
}

static bool
fired(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}

/* ------------------------------------------------------------ the ring */

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Put a chain of n segments on ring q and make it available. */
static uint16_t
post(unsigned q, const struct seg *s, unsigned n)
{
	uint64_t base = q == 0 ? RX_DESC : TX_DESC;
	struct virtq_desc *d = host(base);
	struct virtq_avail *a = host(base + 0x1000);
	uint16_t head = fx->next_desc[q], i = head, nx;
	unsigned k;

	for (k = 0; k < n; k++) {
		nx = (uint16_t)((i + 1) % QNUM);
		d[i] = (struct virtq_desc){ s[k].gpa, s[k].len,
			(uint16_t)((s[k].write ? VIRTQ_DESC_F_WRITE : 0) |
			(k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)), nx };
		i = nx;
	}
	fx->next_desc[q] = i;
	a->ring[a->idx % QNUM] = head;
	a->idx++;
	return head;
}

static struct virtq_used *
used(unsigned q)
{
	return host((q == 0 ? RX_DESC : TX_DESC) + 0x2000);
}

static void
kick(unsigned q)
{
	net_backend_ops.queue_kick(&fx->d, fx->b, q);
}

/* A recognisable frame of len bytes (Ethernet header first). */
static void
make_frame(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	memset(p, 0xff, 6);
	memcpy(p + 6, "\x52\x54\x00\x12\x34\x56", 6);
	p[12] = 0x88;
	p[13] = 0xb5;
	for (i = 14; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* The wire sends hdr + frame into the tap. */
static void
wire_send(const struct virtio_net_hdr_v1 *h, const uint8_t *frame, size_t len)
{
	static uint8_t buf[NET_BUF_BYTES];

	memcpy(buf, h, HDR);
	memcpy(buf + HDR, frame, len);
	assert_int_equal(send(fx->peer, buf, HDR + len, 0), (ssize_t)(HDR + len));
}

static ssize_t
wire_recv(uint8_t *buf, size_t len)
{
	return recv(fx->peer, buf, len, MSG_DONTWAIT);
}

/* ------------------------------------------------------------ features */

static void
test_features_offloads(void **state)
{
	uint64_t f;
	struct { uint64_t feat; unsigned off; } t[] = {
		{ 0, 0 },
		{ F(VIRTIO_NET_F_GUEST_TSO4), 0 },                  /* no CSUM: none */
		{ F(VIRTIO_NET_F_GUEST_CSUM), NET_TUN_F_CSUM },
		{ F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6),
		  NET_TUN_F_CSUM | NET_TUN_F_TSO4 | NET_TUN_F_TSO6 },
		/* ECN without GUEST_TSO4/6: no TSO_ECN (the tap's set_offload
		 * refuses TSO_ECN without TSO4 or TSO6 with EINVAL, which would
		 * turn every offload off) */
		{ F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_ECN) | F(VIRTIO_NET_F_GUEST_UFO) |
		  F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_CSUM),
		  NET_TUN_F_CSUM | NET_TUN_F_UFO },
		{ F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_ECN) | F(VIRTIO_NET_F_GUEST_TSO6),
		  NET_TUN_F_CSUM | NET_TUN_F_TSO6 | NET_TUN_F_TSO_ECN },
	};
	unsigned i;

	(void)state;
	f = net_features(&fx->d);
	assert_true(f & F(VIRTIO_F_VERSION_1));
	assert_true(f & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & F(VIRTIO_F_RING_EVENT_IDX));
	assert_true(f & F(VIRTIO_NET_F_HOST_UFO));
	assert_false(f & (F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_CTRL_VQ) |
	    F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_MTU)));
	fx->d.ufo = false;
	f = net_features(&fx->d);
	assert_false(f & (F(VIRTIO_NET_F_HOST_UFO) | F(VIRTIO_NET_F_GUEST_UFO)));
	assert_null(fx->cfg.ops->get_config);
	assert_int_equal(fx->cfg.num_queues, 2);
	assert_false(fx->cfg.protocol_features & F(VHOST_USER_PROTOCOL_F_CONFIG));
	fx->d.set_offload = fake_offload;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(net_offloads(t[i].feat), t[i].off);
		net_backend_ops.set_features(&fx->d, t[i].feat);
		assert_int_equal(fx->last_offload, t[i].off);
		assert_int_equal(fx->d.offloads, t[i].off);
	}
	/* the tap refuses: offloads off */
	fx->offload_rc = -EINVAL;
	net_backend_ops.set_features(&fx->d, t[3].feat);
	assert_int_equal(fx->last_offload, 0);
	assert_int_equal(fx->d.offloads, 0);
}

static void
test_tx_header_checks(void **state)
{
	const uint64_t all = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
	    F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_UFO) | F(VIRTIO_NET_F_HOST_ECN);
	const uint8_t NC = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	struct { const char *name; uint64_t f; struct virtio_net_hdr_v1 h; uint64_t len; bool ok; } t[] = {
		{ "plain", 0, { 0, 0, 0, 0, 0, 0, 0 }, 60, true },
		{ "num_buffers ignored", 0, { 0, 0, 0, 0, 0, 0, 7 }, 60, true },
		{ "csum", all, { NC, 0, 0, 0, 34, 16, 0 }, 60, true },
		{ "csum at the end", all, { NC, 0, 0, 0, 40, 18, 0 }, 60, true },
		{ "csum past the end", all, { NC, 0, 0, 0, 40, 19, 0 }, 60, false },
		{ "csum start huge", all, { NC, 0, 0, 0, 0xffff, 0xffff, 0 }, 60, false },
		{ "csum not negotiated", 0, { NC, 0, 0, 0, 34, 16, 0 }, 60, false },
		{ "data_valid from driver", all, { VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0 }, 60, false },
		{ "unknown flag", all, { 0x80, 0, 0, 0, 0, 0, 0 }, 60, false },
		{ "tso4", all, { NC, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 0 }, 9000, true },
		{ "tso4 not negotiated", F(VIRTIO_NET_F_CSUM), { NC, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 0 }, 9000, false },
		{ "tso6", all, { NC, VIRTIO_NET_HDR_GSO_TCPV6, 74, 1428, 54, 16, 0 }, 9000, true },
		{ "ufo", all, { NC, VIRTIO_NET_HDR_GSO_UDP, 42, 1472, 34, 6, 0 }, 9000, true },
		{ "ufo not negotiated", all & ~F(VIRTIO_NET_F_HOST_UFO), { NC, VIRTIO_NET_HDR_GSO_UDP, 42, 1472, 34, 6, 0 }, 9000, false },
		{ "gso size 0", all, { NC, VIRTIO_NET_HDR_GSO_TCPV4, 54, 0, 34, 16, 0 }, 9000, false },
		{ "ecn", all, { NC, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16, 0 }, 9000, true },
		{ "ecn not negotiated", all & ~F(VIRTIO_NET_F_HOST_ECN), { NC, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16, 0 }, 9000, false },
		{ "ecn alone", all, { 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 0, 0 }, 60, false },
		{ "unknown gso", all, { NC, 2, 54, 1448, 34, 16, 0 }, 9000, false },
		{ "gso udp_l4", all, { NC, 5, 42, 1472, 34, 6, 0 }, 9000, false },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("%-24s\n", t[i].name);
		assert_int_equal(net_tx_hdr_ok(t[i].f, &t[i].h, t[i].len), t[i].ok);
	}
}

/* ------------------------------------------------------------------ TX */

static void
test_tx_good(void **state)
{
	uint8_t got[2000], *p = host(BUF);
	struct seg s[3] = { { BUF, HDR, false }, { BUF + HDR, 20, false },
		{ BUF + HDR + 20, 80, false } };
	uint16_t head;

	(void)state;
	start(F(VIRTIO_F_VERSION_1));
	memset(p, 0, HDR);
	((struct virtio_net_hdr_v1 *)p)->num_buffers = 0x5555;   /* not ours to check */
	make_frame(p + HDR, 100, 1);
	head = post(1, s, 3);
	kick(1);
	assert_int_equal(used(1)->idx, 1);
	assert_int_equal(used(1)->ring[0].id, head);
	assert_int_equal(used(1)->ring[0].len, 0);
	assert_true(fired(fx->call[1]));
	assert_int_equal(wire_recv(got, sizeof(got)), HDR + 100);
	assert_memory_equal(got, p, HDR + 100);
	assert_int_equal(wire_recv(got, sizeof(got)), -1);
	assert_int_equal(fx->d.stats.tx_frames, 1);
}

/* Every hostile chain comes back with len 0, counted; only the good frame
 * after them reaches the wire; the ring stays up. */
static void
test_tx_hostile(void **state)
{
	struct virtq_desc *d = host(TX_DESC);
	struct virtq_avail *a = host(TX_DESC + 0x1000);
	uint8_t got[2000], *p = host(BUF);
	struct seg shorth[2] = { { BUF, 8, false }, { BUF + 0x10000, 3, false } };
	struct seg writable[2] = { { BUF, HDR, false }, { BUF + 0x10000, 100, true } };
	struct seg big[2] = { { BUF, HDR, false }, { BUF + 0x10000, VIRTIO_NET_MAX_FRAME + 1, false } };
	struct seg gso[2] = { { BUF + 0x20000, HDR, false }, { BUF + 0x10000, 100, false } };
	struct seg good[2] = { { BUF, HDR, false }, { BUF + 0x10000, 60, false } };
	struct virtio_net_hdr_v1 tso = { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4,
		54, 1448, 34, 16, 0 };
	unsigned i;

	(void)state;
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_CSUM));    /* no HOST_TSO4 */
	memset(p, 0, HDR);
	memcpy(host(BUF + 0x20000), &tso, HDR);
	make_frame(host(BUF + 0x10000), 100, 2);
	post(1, shorth, 2);
	post(1, writable, 2);
	post(1, big, 2);
	post(1, gso, 2);
	/* a loop: descriptor 12 points at itself */
	d[12] = (struct virtq_desc){ BUF, HDR, VIRTQ_DESC_F_NEXT, 12 };
	a->ring[a->idx % QNUM] = 12;
	a->idx++;
	post(1, good, 2);
	kick(1);
	assert_int_equal(used(1)->idx, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(used(1)->ring[i].len, 0);
	assert_int_equal(used(1)->ring[4].id, 12);
	assert_int_equal(fx->d.stats.short_header, 1);
	assert_int_equal(fx->d.stats.writable_tx, 1);
	assert_int_equal(fx->d.stats.oversized, 1);
	assert_int_equal(fx->d.stats.bad_chain, 2);
	assert_int_equal(fx->d.stats.tx_frames, 1);
	assert_false(fx->d.vq[1].broken);
	assert_false(fired(fx->err[1]));
	assert_int_equal(wire_recv(got, sizeof(got)), HDR + 60);
	assert_memory_equal(got + HDR, host(BUF + 0x10000), 60);
	assert_int_equal(wire_recv(got, sizeof(got)), -1);
}

/* The header the tap gets is the copy that was checked, not guest memory
 * read again; a frame in more segments than one writev takes is sent
 * whole (linearised). */
static void
test_tx_many_segments(void **state)
{
	struct virtq_desc *d = host(TX_DESC);
	struct virtq_avail *a = host(TX_DESC + 0x1000);
	struct virtq_desc *ind = host(BUF + 0x40000);
	static uint8_t got[NET_BUF_BYTES];
	uint8_t *f = host(BUF + 0x10000);
	unsigned i, n = 1023;

	(void)state;
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_INDIRECT_DESC));
	memset(host(BUF), 0, HDR);
	make_frame(f, 2 * n, 3);
	/* direct: the header; then an indirect table of 1023 two-byte segments */
	d[0] = (struct virtq_desc){ BUF, HDR, VIRTQ_DESC_F_NEXT, 1 };
	d[1] = (struct virtq_desc){ BUF + 0x40000, 16 * n, VIRTQ_DESC_F_INDIRECT, 0 };
	for (i = 0; i < n; i++)
		ind[i] = (struct virtq_desc){ BUF + 0x10000 + 2 * i, 2,
			(uint16_t)(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)(i + 1) };
	a->ring[0] = 0;
	a->idx = 1;
	kick(1);
	assert_int_equal(used(1)->idx, 1);
	assert_int_equal(wire_recv(got, sizeof(got)), HDR + 2 * n);
	assert_memory_equal(got + HDR, f, 2 * n);
	assert_int_equal(fx->d.stats.tx_frames, 1);
}

/* ------------------------------------------------------------------ RX */

static void
test_rx_single(void **state)
{
	struct virtio_net_hdr_v1 h = { VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0x7777 };
	uint8_t frame[1514], *b = host(BUF);
	struct seg s = { BUF, 2048, true };
	const struct virtio_net_hdr_v1 *gh = (const void *)b;
	uint16_t head;

	(void)state;
	start(F(VIRTIO_F_VERSION_1));                       /* no GUEST_CSUM */
	make_frame(frame, sizeof(frame), 4);
	head = post(0, &s, 1);
	wire_send(&h, frame, sizeof(frame));
	kick(0);
	assert_int_equal(used(0)->idx, 1);
	assert_int_equal(used(0)->ring[0].id, head);
	assert_int_equal(used(0)->ring[0].len, HDR + sizeof(frame));
	assert_int_equal(gh->num_buffers, 1);
	assert_int_equal(gh->flags, 0);                    /* GUEST_CSUM not taken */
	assert_memory_equal(b + HDR, frame, sizeof(frame));
	assert_true(fired(fx->call[0]));
	assert_int_equal(fx->d.stats.rx_frames, 1);
}

/* A frame from the tap whose header asks for an offload the driver did
 * not take (a frame queued under an earlier feature set) is dropped as a
 * tap error, never handed to the guest; the next plain frame gets the
 * same buffer. */
static void
test_rx_offload_not_taken(void **state)
{
	struct virtio_net_hdr_v1 csum = { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16, 0 };
	struct virtio_net_hdr_v1 tso = { 0, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 0, 0, 0 };
	struct virtio_net_hdr_v1 plain = { 0, 0, 0, 0, 0, 0, 0 };
	uint8_t frame[200], *b = host(BUF);
	struct seg s = { BUF, 2048, true };
	uint16_t head;

	(void)state;
	start(F(VIRTIO_F_VERSION_1));                       /* no offloads */
	make_frame(frame, sizeof(frame), 6);
	head = post(0, &s, 1);
	wire_send(&csum, frame, sizeof(frame));
	wire_send(&tso, frame, sizeof(frame));
	wire_send(&plain, frame, sizeof(frame));
	kick(0);
	assert_int_equal(fx->d.stats.tap_errors, 2);
	assert_int_equal(used(0)->idx, 1);
	assert_int_equal(used(0)->ring[0].id, head);
	assert_int_equal(used(0)->ring[0].len, HDR + sizeof(frame));
	assert_memory_equal(b + HDR, frame, sizeof(frame));
	assert_int_equal(fx->d.stats.rx_frames, 1);
}

/* MRG_RXBUF: a frame over four 256-byte buffers, num_buffers 4, one used
 * idx store for all four; a fifth buffer stays for the next frame. */
static void
test_rx_merged(void **state)
{
	struct virtio_net_hdr_v1 h = { VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0 };
	uint8_t frame[1000], got[1100];
	uint16_t heads[5];
	size_t off = 0;
	unsigned i;

	(void)state;
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM));
	for (i = 0; i < 5; i++) {
		struct seg s = { BUF + i * 0x1000, 256, true };

		heads[i] = post(0, &s, 1);
	}
	make_frame(frame, sizeof(frame), 5);
	wire_send(&h, frame, sizeof(frame));
	kick(0);
	assert_int_equal(used(0)->idx, 4);
	assert_int_equal(((struct virtio_net_hdr_v1 *)host(BUF))->num_buffers, 4);
	assert_int_equal(((struct virtio_net_hdr_v1 *)host(BUF))->flags, VIRTIO_NET_HDR_F_DATA_VALID);
	for (i = 0; i < 4; i++) {
		uint32_t len = used(0)->ring[i].len;

		assert_int_equal(used(0)->ring[i].id, heads[i]);
		assert_int_equal(len, i < 3 ? 256 : HDR + sizeof(frame) - 3 * 256);
		memcpy(got + off, host(BUF + i * 0x1000), len);
		off += len;
	}
	assert_int_equal(off, HDR + sizeof(frame));
	assert_memory_equal(got + HDR, frame, sizeof(frame));
	assert_int_equal(fx->d.stats.rx_frames, 1);
	/* the next frame lands in the fifth buffer */
	wire_send(&h, frame, 60);
	kick(0);
	assert_int_equal(used(0)->idx, 5);
	assert_int_equal(used(0)->ring[4].id, heads[4]);
	assert_int_equal(used(0)->ring[4].len, HDR + 60);
}

/* MRG_RXBUF, buffers run out in the middle of a frame: nothing is pushed
 * (the driver must not see part of it), the frame waits; more buffers and
 * a kick complete it with the right num_buffers. */
static void
test_rx_merged_wait(void **state)
{
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	uint8_t frame[1100], got[1200];
	size_t off = 0;
	unsigned i;

	(void)state;
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF));
	for (i = 0; i < 2; i++) {
		struct seg s = { BUF + i * 0x1000, 512, true };

		post(0, &s, 1);
	}
	make_frame(frame, sizeof(frame), 6);
	wire_send(&h, frame, sizeof(frame));
	kick(0);
	assert_int_equal(used(0)->idx, 0);
	assert_true(fx->d.rx_waiting);
	/* EVENT_IDX: a kick asked for at the next avail entry */
	assert_int_equal(*(uint16_t *)host(RX_DESC + 0x2000 + 4 + 8 * QNUM), 2);
	{
		struct seg s = { BUF + 2 * 0x1000, 512, true };

		post(0, &s, 1);
	}
	kick(0);
	assert_int_equal(used(0)->idx, 3);
	assert_int_equal(((struct virtio_net_hdr_v1 *)host(BUF))->num_buffers, 3);
	for (i = 0; i < 3; i++) {
		memcpy(got + off, host(BUF + i * 0x1000), used(0)->ring[i].len);
		off += used(0)->ring[i].len;
	}
	assert_int_equal(off, HDR + sizeof(frame));
	assert_memory_equal(got + HDR, frame, sizeof(frame));
	assert_false(fx->d.rx_waiting);
}

/* Hostile RX chains: a readable buffer and a too short chain come back
 * with len 0 (counted); without MRG_RXBUF a frame larger than the chain
 * is dropped (no rx buffer) and the chain serves the next frame. */
static void
test_rx_hostile(void **state)
{
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	struct seg readable[2] = { { BUF, 2048, false }, { BUF + 0x1000, 2048, true } };
	struct seg shorth = { BUF + 0x2000, 11, true };
	struct seg small = { BUF + 0x3000, 200, true };
	uint8_t frame[1000];
	uint16_t hs;

	(void)state;
	start(F(VIRTIO_F_VERSION_1));
	post(0, readable, 2);
	post(0, &shorth, 1);
	hs = post(0, &small, 1);
	make_frame(frame, sizeof(frame), 7);
	wire_send(&h, frame, sizeof(frame));
	wire_send(&h, frame, 100);
	kick(0);
	assert_int_equal(fx->d.stats.bad_chain, 1);
	assert_int_equal(fx->d.stats.short_header, 1);
	assert_int_equal(fx->d.stats.no_rx_buffer, 1);
	assert_int_equal(fx->d.stats.rx_frames, 1);
	assert_int_equal(used(0)->idx, 3);
	assert_int_equal(used(0)->ring[0].len, 0);
	assert_int_equal(used(0)->ring[1].len, 0);
	assert_int_equal(used(0)->ring[2].id, hs);
	assert_int_equal(used(0)->ring[2].len, HDR + 100);
	assert_memory_equal(host(BUF + 0x3000 + HDR), frame, 100);
	assert_false(fired(fx->err[0]));
}

/* No RX buffer: the frame read is held (not lost), only one frame is
 * read, kicks are asked for; a buffer and a kick deliver both in order. */
static void
test_rx_no_buffers(void **state)
{
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	struct seg s[2] = { { BUF, 2048, true }, { BUF + 0x1000, 2048, true } };
	uint8_t f1[100], f2[200];
	struct pollfd p;

	(void)state;
	start(F(VIRTIO_F_VERSION_1));
	make_frame(f1, sizeof(f1), 8);
	make_frame(f2, sizeof(f2), 9);
	wire_send(&h, f1, sizeof(f1));
	wire_send(&h, f2, sizeof(f2));
	kick(0);
	kick(0);
	assert_true(fx->d.rx_waiting);
	assert_true(fx->d.rx_have);
	assert_int_equal(used(0)->idx, 0);
	assert_int_equal(fx->d.stats.no_rx_buffer, 0);
	p = (struct pollfd){ fx->d.tap, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 0), 1);                 /* f2 still in the tap */
	post(0, &s[0], 1);
	post(0, &s[1], 1);
	kick(0);
	assert_int_equal(used(0)->idx, 2);
	assert_int_equal(used(0)->ring[0].len, HDR + sizeof(f1));
	assert_memory_equal(host(BUF + HDR), f1, sizeof(f1));
	assert_int_equal(used(0)->ring[1].len, HDR + sizeof(f2));
	assert_memory_equal(host(BUF + 0x1000 + HDR), f2, sizeof(f2));
	assert_int_equal(fx->d.stats.rx_frames, 2);
}

/* A driver that posts nothing but bad RX chains (as fast as they come
 * back) cannot keep vmm-net in one run: after num of them the run yields
 * and asks to be called again; the next run, with nothing more posted,
 * waits for a kick with avail_event at the new last_avail_idx, and a good
 * chain then takes the held frame. */
static void
test_rx_bad_chains_bounded(void **state)
{
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	struct seg readable = { BUF, 2048, false };
	struct seg good = { BUF + 0x1000, 2048, true };
	uint16_t *avail_event = (uint16_t *)(void *)&used(0)->ring[QNUM];
	uint8_t f[100];
	unsigned i;

	(void)state;
	start(F(VIRTIO_F_VERSION_1));
	for (i = 0; i < QNUM; i++)
		post(0, &readable, 1);
	make_frame(f, sizeof(f), 12);
	wire_send(&h, f, sizeof(f));
	kick(0);
	assert_int_equal(fx->d.stats.bad_chain, QNUM);
	assert_int_equal(used(0)->idx, QNUM);
	assert_false(fx->d.rx_have);             /* the frame waits in the tap */
	assert_false(fx->d.rx_waiting);
	assert_true(vu_backend_rekick_pending(fx->b, 0));
	fx->b->vq[0].rekick = false;
	kick(0);                                         /* the rekick */
	assert_true(fx->d.rx_waiting);
	assert_int_equal(*avail_event, QNUM);
	assert_false(vu_backend_rekick_pending(fx->b, 0));
	post(0, &good, 1);
	kick(0);
	assert_int_equal(used(0)->idx, QNUM + 1);
	assert_int_equal(used(0)->ring[0].len, HDR + sizeof(f));
	assert_memory_equal(host(BUF + 0x1000 + HDR), f, sizeof(f));
	assert_int_equal(fx->d.stats.rx_frames, 1);
	assert_false(fired(fx->err[0]));
}

/* A tap read that fails with EIO (a pty master whose slave hung up stands
 * in for the tap) is the tap's failure, not the ring's: the tap is no
 * longer polled, the RX ring is not stopped and no err fd is signalled. */
static void
test_rx_tap_read_eio(void **state)
{
	struct seg s = { BUF, 2048, true };
	int tap = fx->d.tap, m, sl;

	(void)state;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	sl = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(sl >= 0);
	close(sl);
	start(F(VIRTIO_F_VERSION_1));
	post(0, &s, 1);
	fx->d.tap = m;
	kick(0);
	fx->d.tap = tap;
	close(m);
	assert_true(fx->d.tap_dead);
	assert_false(fx->d.vq[0].broken);
	assert_int_equal(fx->d.stats.ring_errors, 0);
	assert_false(fired(fx->err[0]));
}

/* A ring-level error on RX: stopped and signalled, no push. */
static void
test_rx_ring_error(void **state)
{
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	struct virtq_avail *a = host(RX_DESC + 0x1000);
	uint8_t f[100];

	(void)state;
	start(F(VIRTIO_F_VERSION_1));
	make_frame(f, sizeof(f), 10);
	wire_send(&h, f, sizeof(f));
	a->idx = QNUM + 1;
	kick(0);
	assert_true(fired(fx->err[0]));
	assert_true(fx->d.vq[0].broken);
	assert_int_equal(used(0)->idx, 0);
	assert_int_equal(fx->d.stats.ring_errors, 1);
	assert_int_equal(net_backend_ops.queue_stop(&fx->d, 0), 0);
}

/* queue_stop gives back the chains held for a partly delivered frame with
 * len 0 and keeps the frame for the restarted ring. */
static void
test_rx_stop_releases(void **state)
{
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	struct seg s = { BUF, 256, true };
	uint8_t f[1000];

	(void)state;
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF));
	post(0, &s, 1);
	make_frame(f, sizeof(f), 11);
	wire_send(&h, f, sizeof(f));
	kick(0);
	assert_int_equal(used(0)->idx, 0);
	assert_int_equal(net_backend_ops.queue_stop(&fx->d, 0), 1);
	assert_int_equal(used(0)->idx, 1);
	assert_int_equal(used(0)->ring[0].len, 0);
	assert_true(fx->d.rx_have);
	assert_false(fx->d.rx_first_valid);
}

/* A frame longer than the readv could take (tun reports its whole
 * length, the rest cut off): dropped as a tap error, nothing read or
 * written past rx_buf, the chain kept for the next frame; both with the
 * chain shorter than rx_buf (its tail went to rx_buf) and longer. */
static void
test_rx_frame_cut(void **state)
{
	static uint8_t frame[NET_BUF_BYTES - HDR];
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	struct seg s[2] = { { BUF, 2048, true }, { BUF + 0x1000, NET_BUF_BYTES + 1, true } };
	unsigned i;

	(void)state;
	start(F(VIRTIO_F_VERSION_1));
	make_frame(frame, sizeof(frame), 13);
	for (i = 0; i < 2; i++) {
		memset(fx->d.tx_buf, 0x5a, sizeof(fx->d.tx_buf));
		post(0, &s[i], 1);
		wire_send(&h, frame, sizeof(frame));       /* fills rx_buf, or the chain */
		fx->tun_cut = 3;
		kick(0);
		fx->tun_cut = 0;
		assert_int_equal(fx->d.stats.tap_errors, i + 1);
		assert_int_equal(fx->d.stats.no_rx_buffer, 0);
		assert_false(fx->d.rx_have);
		assert_int_equal(used(0)->idx, i);
		assert_int_equal(fx->d.tx_buf[0], 0x5a);
		assert_int_equal(fx->d.tx_buf[2], 0x5a);
		wire_send(&h, frame, 60);                  /* the chain takes the next */
		kick(0);
		assert_int_equal(used(0)->idx, i + 1);
		assert_int_equal(used(0)->ring[i].len, HDR + 60);
	}
}

/* Read straight into a chain whose header is split over segments: the
 * frame lands whole, the header written back is the checked copy with
 * num_buffers 1; with the tap empty the chain popped for the next frame
 * is held (nothing pushed) and queue_stop gives it back with len 0. */
static void
test_rx_direct_split_then_stop(void **state)
{
	struct virtio_net_hdr_v1 h = { VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0x7777 };
	struct seg s[3] = { { BUF, 5, true }, { BUF + 0x1000, 300, true },
		{ BUF + 0x2000, 2048, true } };
	uint8_t frame[250], got[HDR + 250];
	const struct virtio_net_hdr_v1 *gh = (const void *)got;

	(void)state;
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_GUEST_CSUM));
	post(0, s, 2);
	post(0, &s[2], 1);
	make_frame(frame, sizeof(frame), 14);
	wire_send(&h, frame, sizeof(frame));
	kick(0);
	assert_int_equal(used(0)->idx, 1);
	assert_int_equal(used(0)->ring[0].len, HDR + sizeof(frame));
	memcpy(got, host(BUF), 5);
	memcpy(got + 5, host(BUF + 0x1000), sizeof(got) - 5);
	assert_int_equal(gh->num_buffers, 1);
	assert_int_equal(gh->flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_memory_equal(got + HDR, frame, sizeof(frame));
	assert_true(fx->d.rx_first_valid);                 /* s[2], for the next frame */
	assert_int_equal(fx->d.vq[0].last_avail_idx, 2);
	assert_int_equal(net_backend_ops.queue_stop(&fx->d, 0), 2);
	assert_int_equal(used(0)->idx, 2);
	assert_int_equal(used(0)->ring[1].len, 0);
	assert_false(fx->d.rx_first_valid);
	assert_false(fx->d.rx_have);
}

static void
test_summary(void **state)
{
	char line[256];

	(void)state;
	fx->d.stats = (struct net_stats){ .rx_frames = 5, .tx_frames = 6, .short_header = 1,
		.writable_tx = 2, .oversized = 3, .bad_chain = 4, .no_rx_buffer = 5,
		.tap_errors = 9 };
	net_summary(&fx->d, "eth0", line, sizeof(line));
	assert_string_equal(line, "vmm-net eth0: rx 5 frames, tx 6 frames, dropped 15 "
	    "(short header 1, writable tx 2, oversized 3, bad chain 4, no rx buffer 5)");
}

/* ------------------------------------------ through the library's poll */

static void
msg_u64(uint32_t req, uint64_t v)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = sizeof(uint64_t);
	m.payload.u64 = v;
	assert_int_equal(vu_backend_dispatch(fx->b, &m), 0);
}

static void
msg_state(uint32_t req, unsigned index, unsigned num)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = sizeof(m.payload.state);
	m.payload.state.index = index;
	m.payload.state.num = num;
	assert_int_equal(vu_backend_dispatch(fx->b, &m), 0);
}

/* The frontend's side over a memfd: memory table (qva = gpa), both rings
 * with kick fds, through vu_backend_dispatch. */
static void
lib_start(int memfd, int kick_fd[2])
{
	struct vhost_user_msg m;
	unsigned q;

	msg_u64(VHOST_USER_SET_FEATURES, F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_EVENT_IDX));
	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_SET_MEM_TABLE;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = VHOST_USER_MEMORY_SIZE(1);
	m.payload.memory.nregions = 1;
	m.payload.memory.regions[0] = (struct vhost_user_memory_region){ RAM_GPA, RAM_SIZE,
		RAM_GPA, 0 };
	m.nfds = 1;
	m.fds[0] = dup(memfd);
	assert_int_equal(vu_backend_dispatch(fx->b, &m), 0);
	for (q = 0; q < 2; q++) {
		uint64_t base = q == 0 ? RX_DESC : TX_DESC;

		msg_state(VHOST_USER_SET_VRING_NUM, q, QNUM);
		memset(&m, 0, sizeof(m));
		m.hdr.request = VHOST_USER_SET_VRING_ADDR;
		m.hdr.flags = VHOST_USER_VERSION;
		m.hdr.size = sizeof(m.payload.addr);
		m.payload.addr = (struct vhost_user_vring_addr){ .index = q,
			.desc_user_addr = base, .avail_user_addr = base + 0x1000,
			.used_user_addr = base + 0x2000 };
		assert_int_equal(vu_backend_dispatch(fx->b, &m), 0);
		msg_state(VHOST_USER_SET_VRING_BASE, q, 0);
		set_vring_fd(VHOST_USER_SET_VRING_KICK, q, kick_fd[q]);
	}
}

static unsigned
wire_pending(void)
{
	struct pollfd p = { fx->d.tap, POLLIN, 0 };

	return poll(&p, 1, 0) == 1;
}

/* The tap is polled by the library only while RX can take frames: with
 * no RX buffer, polling the loop again reads nothing more (no spin on a
 * readable tap); the RX kick resumes it. TX goes out by the kick fd. */
static void
test_library_poll(void **state)
{
	struct virtio_net_hdr_v1 h = { 0, 0, 0, 0, 0, 0, 0 };
	int memfd = memfd_create("ram", MFD_CLOEXEC), kick_fd[2];
	uint8_t f1[100], f2[300], got[400];
	uint64_t one = 1;
	unsigned i;

	(void)state;
	assert_true(memfd >= 0);
	assert_int_equal(ftruncate(memfd, RAM_SIZE), 0);
	free(fx->ram);
	fx->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(fx->ram != MAP_FAILED);
	fx->ram_mapped = true;
	for (i = 0; i < 2; i++) {
		kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(kick_fd[i] >= 0);
	}
	fx->d.set_offload = fake_offload;
	lib_start(memfd, kick_fd);
	make_frame(f1, sizeof(f1), 12);
	make_frame(f2, sizeof(f2), 13);
	wire_send(&h, f1, sizeof(f1));
	wire_send(&h, f2, sizeof(f2));
	for (i = 0; i < 20; i++)
		vu_backend_poll_kicks(fx->b);
	assert_true(fx->d.rx_waiting);
	assert_true(wire_pending());                        /* f2 not read */
	assert_int_equal(fx->b->dev_events, 0);            /* the tap is not polled */
	{
		struct seg s[2] = { { BUF, 2048, true }, { BUF + 0x1000, 2048, true } };

		post(0, &s[0], 1);
		post(0, &s[1], 1);
	}
	assert_int_equal(write(kick_fd[0], &one, 8), 8);
	vu_backend_poll_kicks(fx->b);
	vu_backend_poll_kicks(fx->b);
	assert_int_equal(used(0)->idx, 2);
	assert_memory_equal(host(BUF + HDR), f1, sizeof(f1));
	assert_memory_equal(host(BUF + 0x1000 + HDR), f2, sizeof(f2));
	assert_false(wire_pending());
	assert_int_equal(fx->b->dev_events, POLLIN);
	assert_int_equal(fx->b->dev_fd, fx->d.tap);
	/* tap readable again with buffers gone: one frame held, then idle */
	wire_send(&h, f1, sizeof(f1));
	wire_send(&h, f1, sizeof(f1));
	vu_backend_poll_kicks(fx->b);
	assert_true(fx->d.rx_waiting);
	assert_true(wire_pending());
	assert_int_equal(fx->b->dev_events, 0);
	/* TX through the kick fd */
	{
		struct seg s[2] = { { BUF + 0x2000, HDR, false }, { BUF + 0x3000, 300, false } };

		memset(host(BUF + 0x2000), 0, HDR);
		memcpy(host(BUF + 0x3000), f2, 300);
		post(1, s, 2);
	}
	assert_int_equal(write(kick_fd[1], &one, 8), 8);
	vu_backend_poll_kicks(fx->b);
	assert_int_equal(used(1)->idx, 1);
	assert_int_equal(wire_recv(got, sizeof(got)), HDR + 300);
	assert_memory_equal(got + HDR, f2, 300);
	vu_backend_free(fx->b);                             /* stops the rings */
	fx->b = vu_backend_new(-1, &fx->cfg);
	close(memfd);
	close(kick_fd[0]);
	close(kick_fd[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_features_offloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_header_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_many_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_offload_not_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_merged_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_no_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_bad_chains_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_tap_read_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_ring_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_stop_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_frame_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_direct_split_then_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_library_poll, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
