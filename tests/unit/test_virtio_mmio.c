/*
 * Unit tests for the virtio-mmio register file (vmm/virtio_mmio.c) with a
 * fake owner (ops that count calls), the command-line entries, and one
 * end-to-end scenario of vmm/vhost_dev.c against a real build/vmm-blk
 * (skipped when it is not built): guest RAM in a memfd, the driver's
 * register sequence, one read through the rings, reset, and the backend's
 * death turning into DEVICE_NEEDS_RESET. No KVM: kicks are written to the
 * kick eventfd and the interrupt is read from the call eventfd. And the
 * virtio-net frontend (vhost_net.c) against an in-process vhost-user-net
 * backend (ipc/vu_backend on a thread, no CONFIG protocol feature): the
 * features and config space the guest sees, and what SET_FEATURES sends.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest_layout_x86_64.h"
#include "vhost_dev.h"
#include "virtio_mmio.h"
#include "vm.h"

/* ---- fake owner ---- */

struct fake {
	int starts, stops, interrupts;
	int start_rc;
};

static int
fake_start(struct virtio_mmio_dev *d)
{
	struct fake *f = d->opaque;
	unsigned i;

	f->starts++;
	for (i = 0; i < d->nqueues; i++)
		d->q[i].started = d->q[i].ready;
	return f->start_rc;
}

static void
fake_stop(struct virtio_mmio_dev *d)
{
	((struct fake *)d->opaque)->stops++;
}

static void
fake_interrupt(struct virtio_mmio_dev *d)
{
	((struct fake *)d->opaque)->interrupts++;
}

static const struct virtio_mmio_ops fake_ops = {
	.start = fake_start, .stop = fake_stop, .interrupt = fake_interrupt,
};

#define F(b) (1ull << (b))
#define BACKEND_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_EVENT_IDX) | \
	F(VIRTIO_BLK_F_FLUSH) | F(30) | F(VIRTIO_F_RING_PACKED) | \
	F(VIRTIO_F_ACCESS_PLATFORM))

static uint32_t
rd(struct virtio_mmio_dev *d, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	virtio_mmio_access(d, off, (uint8_t *)&v, 4, false);
	return v;
}

static void
wr(struct virtio_mmio_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_access(d, off, (uint8_t *)&v, 4, true);
}

static void
fake_dev(struct virtio_mmio_dev *d, struct fake *f)
{
	uint8_t config[60];
	unsigned i;

	for (i = 0; i < sizeof(config); i++)
		config[i] = (uint8_t)i;
	memset(f, 0, sizeof(*f));
	assert_int_equal(virtio_mmio_init(d, VIRTIO_ID_BLOCK, BACKEND_FEATURES, 2,
	    config, sizeof(config), &fake_ops, f), 0);
}

/* The driver's side of 3.1.1 up to FEATURES_OK. */
static void
negotiate(struct virtio_mmio_dev *d, uint64_t features)
{
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	    VIRTIO_STATUS_FEATURES_OK);
}

static void
setup_queue(struct virtio_mmio_dev *d, unsigned q, unsigned num, uint64_t base)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(base >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(base + 0x1000));
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(base + 0x2000));
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

#define ST_FEAT (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)

static void
test_identity(void **state)
{
	struct virtio_mmio_dev d;
	struct fake f;
	uint8_t b[8];

	(void)state;
	fake_dev(&d, &f);
	assert_int_equal(rd(&d, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	assert_int_equal(rd(&d, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_int_equal(rd(&d, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	assert_int_equal(rd(&d, 0x0f0), 0);     /* unknown register */
	/* registers take aligned 32-bit accesses only */
	memset(b, 0xaa, sizeof(b));
	virtio_mmio_access(&d, VIRTIO_MMIO_MAGIC_VALUE, b, 2, false);
	assert_int_equal(b[0] | b[1], 0);
	virtio_mmio_access(&d, VIRTIO_MMIO_MAGIC_VALUE + 1, b, 4, false);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
	assert_int_equal(virtio_mmio_exits(&d), 9);
	virtio_mmio_destroy(&d);
}

static void
test_features(void **state)
{
	struct virtio_mmio_dev d;
	struct fake f;

	(void)state;
	fake_dev(&d, &f);
	wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_DEVICE_FEATURES),
	    (uint32_t)(F(VIRTIO_F_RING_EVENT_IDX) | F(VIRTIO_BLK_F_FLUSH)));
	wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(&d, VIRTIO_MMIO_DEVICE_FEATURES), 1);   /* VERSION_1 only */
	wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(&d, VIRTIO_MMIO_DEVICE_FEATURES), 0);

	/* not offered (bit 30): FEATURES_OK does not stick */
	negotiate(&d, F(VIRTIO_F_VERSION_1) | F(30));
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), ST_FEAT & ~VIRTIO_STATUS_FEATURES_OK);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	/* no VERSION_1: refused */
	negotiate(&d, F(VIRTIO_BLK_F_FLUSH));
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), ST_FEAT & ~VIRTIO_STATUS_FEATURES_OK);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(d.driver_features, 0);
	/* a subset with VERSION_1: accepted, then frozen */
	negotiate(&d, F(VIRTIO_F_VERSION_1) | F(VIRTIO_BLK_F_FLUSH));
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), ST_FEAT);
	wr(&d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(&d, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	assert_int_equal(d.driver_features, F(VIRTIO_F_VERSION_1) | F(VIRTIO_BLK_F_FLUSH));
	/* bits are only cleared by a reset */
	wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), ST_FEAT);
	virtio_mmio_destroy(&d);
}

static void
test_queues_and_driver_ok(void **state)
{
	struct virtio_mmio_dev d;
	struct fake f;

	(void)state;
	fake_dev(&d, &f);
	negotiate(&d, F(VIRTIO_F_VERSION_1));
	setup_queue(&d, 0, 128, 0x123456789000ull);
	assert_int_equal(d.q[0].num, 128);
	assert_int_equal(d.q[0].desc, 0x123456789000ull);
	assert_int_equal(d.q[0].avail, 0x56789000ull + 0x1000);
	assert_int_equal(rd(&d, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0x1234);
	/* a ready queue's registers are frozen */
	wr(&d, VIRTIO_MMIO_QUEUE_NUM, 64);
	assert_int_equal(d.q[0].num, 128);
	/* queues past the device's count do not exist */
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(&d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(&d, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);    /* ignored */
	wr(&d, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f.starts, 1);
	assert_true(d.q[0].started);
	assert_false(d.q[1].started);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	/* live: queue setup is frozen */
	wr(&d, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(&d, VIRTIO_MMIO_QUEUE_NUM, 64);
	assert_int_equal(d.q[1].num, 0);
	/* reset stops the started queues and forgets everything */
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f.stops, 1);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
	assert_false(d.q[0].started);
	assert_int_equal(d.q[0].num, 0);
	/* a reset with nothing started does not call stop */
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f.stops, 1);
	/* DRIVER_OK without FEATURES_OK: no start, NEEDS_RESET */
	wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	    VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f.starts, 1);
	assert_true(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
	virtio_mmio_destroy(&d);
}

static void
test_start_failures(void **state)
{
	struct virtio_mmio_dev d;
	struct fake f;

	(void)state;
	fake_dev(&d, &f);
	/* the guest's fault: NEEDS_RESET until reset, then it works again */
	f.start_rc = -EINVAL;
	negotiate(&d, F(VIRTIO_F_VERSION_1));
	wr(&d, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS),
	    ST_FEAT | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(f.interrupts, 1);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS),
	    VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
	f.start_rc = 0;
	negotiate(&d, F(VIRTIO_F_VERSION_1));
	wr(&d, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	/* the backend's fault: failed for good */
	f.start_rc = -EPIPE;
	negotiate(&d, F(VIRTIO_F_VERSION_1));
	wr(&d, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	f.start_rc = 0;
	negotiate(&d, F(VIRTIO_F_VERSION_1));
	wr(&d, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f.starts, 3);
	assert_true(rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	virtio_mmio_destroy(&d);
}

static void
test_needs_reset_and_interrupts(void **state)
{
	struct virtio_mmio_dev d;
	struct fake f;
	uint32_t gen;

	(void)state;
	fake_dev(&d, &f);
	/* no used-buffer interrupt can be pending before DRIVER_OK */
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	gen = rd(&d, VIRTIO_MMIO_CONFIG_GENERATION);
	/* posted by the main loop without the lock (held here to prove it):
	 * NEEDS_RESET and the config interrupt show at the next access */
	pthread_mutex_lock(&d.lock);
	assert_false(virtio_mmio_post(&d, VIRTIO_MMIO_EV_NEEDS_RESET));
	pthread_mutex_unlock(&d.lock);
	assert_int_equal(f.interrupts, 1);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_not_equal(rd(&d, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	wr(&d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	wr(&d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
	/* live: the used-buffer bit reads set; a reset clears it */
	negotiate(&d, F(VIRTIO_F_VERSION_1));
	setup_queue(&d, 0, 64, 0x10000);
	wr(&d, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* backend death: permanent, reported once, failed at once */
	pthread_mutex_lock(&d.lock);
	assert_true(virtio_mmio_post(&d, VIRTIO_MMIO_EV_FAILED));
	assert_false(virtio_mmio_post(&d, VIRTIO_MMIO_EV_FAILED));
	assert_true(d.failed);
	pthread_mutex_unlock(&d.lock);
	assert_int_equal(f.interrupts, 2);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	wr(&d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	virtio_mmio_destroy(&d);
}

/* ops->sync decides whether a posted EV_SYNC means NEEDS_RESET. */
static int sync_calls;
static bool sync_answer;

static bool
fake_sync(struct virtio_mmio_dev *d)
{
	sync_calls++;
	virtio_mmio_note(d, "test_virtio_mmio: sync note %d (expected)", sync_calls);
	return sync_answer;
}

static void
test_post_sync(void **state)
{
	static const struct virtio_mmio_ops ops = {
		.start = fake_start, .stop = fake_stop, .interrupt = fake_interrupt,
		.sync = fake_sync,
	};
	struct virtio_mmio_dev d;
	struct fake f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(virtio_mmio_init(&d, VIRTIO_ID_BLOCK, BACKEND_FEATURES, 1,
	    NULL, 0, &ops, &f), 0);
	sync_calls = 0;
	sync_answer = false;
	assert_false(virtio_mmio_post(&d, VIRTIO_MMIO_EV_SYNC));
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(sync_calls, 1);
	assert_int_equal(d.note[0], 0);          /* printed after the unlock */
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(sync_calls, 1);         /* once per post */
	sync_answer = true;
	virtio_mmio_post(&d, VIRTIO_MMIO_EV_SYNC);
	assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	virtio_mmio_destroy(&d);
}

static void
test_config_space(void **state)
{
	struct virtio_mmio_dev d;
	struct fake f;
	uint8_t b[8];
	uint64_t v64;
	uint16_t v16;
	unsigned w;

	(void)state;
	fake_dev(&d, &f);
	for (w = 1; w <= 8; w *= 2) {
		memset(b, 0xee, sizeof(b));
		virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 8, b, w, false);
		assert_int_equal(b[0], 8);
		assert_int_equal(b[w - 1], 8 + w - 1);
	}
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 0, (uint8_t *)&v64, 8, false);
	assert_int_equal(v64, 0x0706050403020100ull);
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 57, (uint8_t *)&v16, 2, false);
	assert_int_equal(v16, 0x3a39);
	/* past the config size: zeros; writes are ignored */
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 57, b, 4, false);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 0xf00 - 8, b, 8, false);
	assert_int_equal(b[0] | b[7], 0);
	memset(b, 0x55, sizeof(b));
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG, b, 4, true);
	assert_int_equal(d.config[0], 0);
	virtio_mmio_destroy(&d);
}

static void
test_cmdline(void **state)
{
	char buf[96] = "console=ttyS0";
	char small[48] = "console=ttyS0";

	(void)state;
	assert_int_equal(virtio_mmio_cmdline_append(buf, sizeof(buf), 0), 0);
	assert_int_equal(virtio_mmio_cmdline_append(buf, sizeof(buf), 6), 0);
	assert_string_equal(buf, "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5"
	    " virtio_mmio.device=4K@0xd0006000:11");
	assert_int_equal(virtio_mmio_cmdline_append(small, sizeof(small), 0), -E2BIG);
	assert_string_equal(small, "console=ttyS0");
}

/* ---- end to end against build/vmm-blk ---- */

#define E2E_DESC  0x10000ull
#define E2E_AVAIL 0x11000ull
#define E2E_USED  0x12000ull
#define E2E_HDR   0x20000ull
#define E2E_DATA  0x21000ull
#define E2E_STAT  0x22000ull
#define E2E_QSIZE 16

static int
e2e_find_backend(void)
{
	const char *bin = getenv("VMM_BLK_BIN");

	if (bin == NULL || bin[0] == '\0') {
		if (access("build/vmm-blk", X_OK) != 0)
			return -1;
		setenv("VMM_BLK_BIN", "build/vmm-blk", 1);
		return 0;
	}
	return access(bin, X_OK);
}

/* A 64 KiB image whose byte o of sector s is s * 13 + o * 7 + 1. */
static void
e2e_image(char *path)
{
	uint8_t sec[512];
	unsigned s, o;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	for (s = 0; s < 128; s++) {
		for (o = 0; o < 512; o++)
			sec[o] = (uint8_t)(s * 13 + o * 7 + 1);
		assert_int_equal(write(fd, sec, 512), 512);
	}
	close(fd);
}

static void
e2e_post_read(struct guest_mem *gm, uint64_t sector)
{
	struct virtq_desc *desc = gm_ptr(gm, E2E_DESC, VIRTQ_DESC_BYTES(E2E_QSIZE));
	struct virtq_avail *avail = gm_ptr(gm, E2E_AVAIL, VIRTQ_AVAIL_BYTES(E2E_QSIZE));
	struct virtio_blk_req_hdr *hdr = gm_ptr(gm, E2E_HDR, sizeof(*hdr));

	*hdr = (struct virtio_blk_req_hdr){ .type = VIRTIO_BLK_T_IN, .sector = sector };
	desc[0] = (struct virtq_desc){ E2E_HDR, 16, VIRTQ_DESC_F_NEXT, 1 };
	desc[1] = (struct virtq_desc){ E2E_DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 };
	desc[2] = (struct virtq_desc){ E2E_STAT, 1, VIRTQ_DESC_F_WRITE, 0 };
	avail->ring[avail->idx % E2E_QSIZE] = 0;
	__atomic_store_n(&avail->idx, (uint16_t)(avail->idx + 1), __ATOMIC_RELEASE);
}

static void
e2e_kick_and_wait(struct vhost_dev *d)
{
	struct pollfd p = { .fd = d->call_efd, .events = POLLIN };
	uint64_t one = 1, stale;

	/* KVM would have consumed the config interrupts the vmm raised */
	if (read(d->call_efd, &stale, 8) < 0)
		assert_int_equal(errno, EAGAIN);
	assert_int_equal(write(d->kick_efd[0], &one, 8), 8);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(d->call_efd, &one, 8), 8);
}

static void
e2e_driver_start(struct virtio_mmio_dev *m)
{
	negotiate(m, F(VIRTIO_F_VERSION_1));
	assert_int_equal(rd(m, VIRTIO_MMIO_STATUS), ST_FEAT);
	wr(m, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(m, VIRTIO_MMIO_QUEUE_NUM, E2E_QSIZE);
	wr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, E2E_DESC);
	wr(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, E2E_AVAIL);
	wr(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, E2E_USED);
	wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(m, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(m, VIRTIO_MMIO_STATUS), ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
}

static void
e2e_read_and_check(struct vhost_dev *d, struct guest_mem *gm, uint64_t sector)
{
	struct virtq_used *used = gm_ptr(gm, E2E_USED, VIRTQ_USED_BYTES(E2E_QSIZE));
	uint8_t *data = gm_ptr(gm, E2E_DATA, 512), *st = gm_ptr(gm, E2E_STAT, 1);
	uint16_t before = used->idx;
	unsigned o;

	*st = 0xff;
	e2e_post_read(gm, sector);
	e2e_kick_and_wait(d);
	assert_int_equal(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE), before + 1);
	assert_int_equal(used->ring[before % E2E_QSIZE].len, 513);
	assert_int_equal(*st, VIRTIO_BLK_S_OK);
	for (o = 0; o < 512; o++)
		assert_int_equal(data[o], (uint8_t)(sector * 13 + o * 7 + 1));
}

/* One round of the vmm's main loop over the device's fds. */
static void
e2e_main_loop_once(struct vhost_dev *d)
{
	struct pollfd p[VHOST_DEV_POLLFDS];

	vhost_dev_pollfds(d, p);
	assert_true(poll(p, VHOST_DEV_POLLFDS, 5000) > 0);
	vhost_dev_poll_handle(d, p);
}

/* The backend signals a ring error; the main loop handles it while a vCPU
 * holds the device lock (it must not wait for it). */
static void
e2e_signal_err(struct vhost_dev *d)
{
	uint64_t one = 1;

	assert_int_equal(write(d->err_efd[0], &one, 8), 8);
	pthread_mutex_lock(&d->mmio.lock);
	e2e_main_loop_once(d);
	pthread_mutex_unlock(&d->mmio.lock);
	assert_false(d->mmio.failed);
}

/* Nothing for the main loop to do right now but a wake-up. */
static void
e2e_main_loop_idle(struct vhost_dev *d)
{
	struct pollfd p[VHOST_DEV_POLLFDS];
	unsigned i;

	vhost_dev_pollfds(d, p);
	assert_true(poll(p, VHOST_DEV_POLLFDS, 0) >= 0);
	assert_int_equal(p[0].revents, 0);
	for (i = 2; i < VHOST_DEV_POLLFDS; i++)
		assert_int_equal(p[i].revents, 0);
	vhost_dev_poll_handle(d, p);
}

/* A ring error of a life that ended must not mark the next one: whether
 * the main loop saw it before the restart or not. */
static void
e2e_stale_errors(struct vhost_dev *d, struct guest_mem *gm)
{
	uint64_t one = 1;

	assert_int_equal(write(d->err_efd[0], &one, 8), 8);
	e2e_main_loop_once(d);                 /* seen while reset */
	memset(gm_ptr(gm, E2E_DESC, 0x3000), 0, 0x3000);
	e2e_driver_start(&d->mmio);            /* asserts no NEEDS_RESET */
	e2e_read_and_check(d, gm, 3);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(write(d->err_efd[0], &one, 8), 8);   /* not seen */
	memset(gm_ptr(gm, E2E_DESC, 0x3000), 0, 0x3000);
	e2e_driver_start(&d->mmio);            /* drains it */
	e2e_main_loop_idle(d);
	e2e_read_and_check(d, gm, 4);
	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_STATUS), ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
}

/* The config and features the guest sees agree with what we expose. */
static void
e2e_check_offer(struct vhost_dev *d)
{
	struct virtio_blk_config c;

	memcpy(&c, d->mmio.config, sizeof(c));
	assert_int_equal(d->mmio.config_len, sizeof(c));
	assert_int_equal(c.num_queues, d->nqueues);
	assert_int_equal(d->mmio.device_features & F(VIRTIO_BLK_F_MQ), 0);
	assert_int_equal(d->mmio.device_features & ~VHOST_DEV_BLK_FEATURES, 0);
	assert_true(d->mmio.device_features & F(VIRTIO_BLK_F_FLUSH));
}

static void
test_vhost_dev_e2e(void **state)
{
	static struct vm vm;
	struct cli_block b = { .id = "vda" };
	char img[] = "/tmp/test_virtio_mmio.XXXXXX";
	struct vhost_dev *d = NULL;
	struct err e;
	int rc;

	(void)state;
	if (e2e_find_backend() < 0)
		skip();
	e2e_image(img);
	strcpy(b.path_buf, img);
	b.path = b.path_buf;
	assert_int_equal(gm_create(&vm.mem, 2 << 20, &e), 0);
	rc = vhost_dev_create_block(&b, 0, &d, &e);
	unlink(img);
	if (rc < 0)
		fail_msg("vhost_dev_create_block: %s", e.msg);
	d->vm = &vm;            /* what vhost_dev_attach() does, minus KVM */
	assert_int_equal(d->nqueues, 1);
	assert_int_equal(d->mmio.config[0], 128);       /* capacity, sectors */
	e2e_check_offer(d);
	/* a ring outside guest RAM: NEEDS_RESET, nothing sent, not failed */
	negotiate(&d->mmio, F(VIRTIO_F_VERSION_1));
	setup_queue(&d->mmio, 0, E2E_QSIZE, 0x7ffff000ull);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_true(rd(&d->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_false(d->mmio.failed);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, 0);
	e2e_driver_start(&d->mmio);
	e2e_read_and_check(d, &vm.mem, 5);
	e2e_read_and_check(d, &vm.mem, 127);
	/* reset, then a second life on fresh rings */
	wr(&d->mmio, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_STATUS), 0);
	memset(gm_ptr(&vm.mem, E2E_DESC, 0x3000), 0, 0x3000);
	e2e_driver_start(&d->mmio);
	e2e_read_and_check(d, &vm.mem, 1);
	/* a ring error (the backend signals the err eventfd): NEEDS_RESET
	 * until the guest resets, then the device works again */
	e2e_signal_err(d);
	assert_true(rd(&d->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_STATUS), 0);
	memset(gm_ptr(&vm.mem, E2E_DESC, 0x3000), 0, 0x3000);
	e2e_driver_start(&d->mmio);
	e2e_read_and_check(d, &vm.mem, 2);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, 0);
	e2e_stale_errors(d, &vm.mem);
	/* the backend dies: the main loop sees the hang-up (without waiting
	 * for the device lock, or for the process), the device fails for
	 * good, SIGCHLD reaps it, the vmm carries on */
	pthread_mutex_lock(&d->mmio.lock);
	kill(d->pid, SIGKILL);
	e2e_main_loop_once(d);
	assert_true(d->mmio.failed);
	pthread_mutex_unlock(&d->mmio.lock);
	for (rc = 0; d->pid != 0 && rc < 500; rc++) {
		usleep(10000);
		vhost_dev_child_check(d);       /* what SIGCHLD triggers */
	}
	assert_int_equal(d->pid, 0);
	assert_true(rd(&d->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(rd(&d->mmio, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	vhost_dev_destroy_all(&d, 1, 1000);
	assert_null(d);
	gm_destroy(&vm.mem);
}

/* ---- virtio-net against an in-process backend (socket=) ---- */

#define NET_Q0 0x10000ull
#define NET_Q1 0x20000ull

struct net_fake {
	char path[108];
	int lsock;
	pthread_t thread;
	struct vu_backend_config cfg;
	_Atomic uint64_t acked;      /* SET_FEATURES */
	atomic_uint started;         /* bit per queue_start */
	int rc;
};

static void
net_fake_set_features(void *dev, uint64_t features)
{
	atomic_store(&((struct net_fake *)dev)->acked, features);
}

static int
net_fake_queue_start(void *dev, struct vu_backend *b, const struct vu_mem *mem,
    const struct vu_vring_config *cfg)
{
	(void)b;
	(void)mem;
	atomic_fetch_or(&((struct net_fake *)dev)->started, 1u << cfg->index);
	return 0;
}

static uint16_t
net_fake_queue_stop(void *dev, unsigned index)
{
	atomic_fetch_and(&((struct net_fake *)dev)->started, ~(1u << index));
	return 0;
}

static void
net_fake_queue_kick(void *dev, struct vu_backend *b, unsigned index)
{
	(void)dev;
	(void)b;
	(void)index;
}

static const struct vu_backend_ops net_fake_ops = {
	.set_features = net_fake_set_features,
	.queue_start = net_fake_queue_start,
	.queue_stop = net_fake_queue_stop,
	.queue_kick = net_fake_queue_kick,
};

static void *
net_fake_thread(void *arg)
{
	struct net_fake *x = arg;
	int c = accept4(x->lsock, NULL, NULL, SOCK_CLOEXEC);

	x->rc = c < 0 ? -errno : vu_backend_run(c, &x->cfg);
	if (c >= 0)
		close(c);
	return NULL;
}

/* Listen on a fresh socket and serve one frontend with `features`
 * (VERSION_1 ...) and `nqueues` queues; MQ and REPLY_ACK, never CONFIG. */
static void
net_fake_start(struct net_fake *x, uint64_t features, unsigned nqueues)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static int seq;

	memset(x, 0, sizeof(*x));
	snprintf(x->path, sizeof(x->path), "/tmp/test_virtio_mmio.%d.%d.sock",
	    (int)getpid(), seq++);
	unlink(x->path);
	strcpy(sa.sun_path, x->path);
	x->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(x->lsock >= 0);
	assert_int_equal(bind(x->lsock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(x->lsock, 1), 0);
	x->cfg = (struct vu_backend_config){
		.name = "fake-net", .num_queues = nqueues, .max_queue_size = 256,
		.features = features, .ops = &net_fake_ops, .dev = x,
		.protocol_features = F(VHOST_USER_PROTOCOL_F_MQ) |
		    F(VHOST_USER_PROTOCOL_F_REPLY_ACK),
	};
	assert_int_equal(pthread_create(&x->thread, NULL, net_fake_thread, x), 0);
}

static void
net_fake_end(struct net_fake *x)
{
	assert_int_equal(pthread_join(x->thread, NULL), 0);
	close(x->lsock);
	unlink(x->path);
}

static struct cli_net
net_cli(const char *path)
{
	struct cli_net n = { .id = "eth0", .mac = { 0x52, 0x54, 0, 0xab, 0xcd, 0x01 } };

	strcpy(n.socket_buf, path);
	n.socket = n.socket_buf;
	return n;
}

#define NET_BACKEND_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_CSUM) | \
	F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MRG_RXBUF) | \
	F(VIRTIO_F_RING_EVENT_IDX) | F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ) | \
	F(VIRTIO_NET_F_MTU))

/* What the guest reads: device 1, two queues, our MAC and LINK_UP, the
 * backend's offloads without CTRL_VQ/MQ/MTU, plus MAC and STATUS. */
static void
net_check_offer(struct vhost_dev *d)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0xab, 0xcd, 0x01 };
	struct virtio_net_config c;
	unsigned i;

	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	assert_int_equal(d->nqueues, 2);
	assert_int_equal(d->mmio.device_features,
	    F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
	    F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_RING_EVENT_IDX) |
	    F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS));
	for (i = 0; i < sizeof(c); i++)      /* byte reads, as a driver may */
		virtio_mmio_access(&d->mmio, VIRTIO_MMIO_CONFIG + i, (uint8_t *)&c + i,
		    1, false);
	assert_memory_equal(c.mac, mac, 6);
	assert_int_equal(c.status, VIRTIO_NET_S_LINK_UP);
	assert_int_equal(c.max_virtqueue_pairs, 1);
	wr(&d->mmio, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

static void
test_vhost_net_socket(void **state)
{
	static struct vm vm;
	uint64_t want = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_CSUM) |
	    F(VIRTIO_NET_F_MRG_RXBUF);
	struct vhost_dev *d = NULL;
	struct net_fake x;
	struct cli_net n;
	struct err e;

	(void)state;
	net_fake_start(&x, NET_BACKEND_FEATURES, 2);
	n = net_cli(x.path);
	assert_int_equal(gm_create(&vm.mem, 2 << 20, &e), 0);
	if (vhost_dev_create_net(&n, 3, &d, &e) < 0)
		fail_msg("vhost_dev_create_net: %s", e.msg);
	d->vm = &vm;
	assert_string_equal(d->name, "net eth0");
	net_check_offer(d);
	/* the driver takes MAC and STATUS: only the backend's bits go out */
	negotiate(&d->mmio, want | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS));
	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_STATUS), ST_FEAT);
	setup_queue(&d->mmio, VIRTIO_NET_RXQ, 64, NET_Q0);
	setup_queue(&d->mmio, VIRTIO_NET_TXQ, 64, NET_Q1);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(&d->mmio, VIRTIO_MMIO_STATUS), ST_FEAT | VIRTIO_STATUS_DRIVER_OK);
	assert_false(d->mmio.failed);
	assert_int_equal(atomic_load(&x.acked) & ~F(VHOST_USER_F_PROTOCOL_FEATURES), want);
	assert_int_equal(atomic_load(&x.started), 3);
	wr(&d->mmio, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(atomic_load(&x.started), 0);
	vhost_dev_destroy_all(&d, 1, 1000);
	net_fake_end(&x);
	assert_int_equal(x.rc, 0);
	gm_destroy(&vm.mem);
}

/* A backend with one queue, or without VERSION_1: one line, nothing left. */
static void
test_vhost_net_refused(void **state)
{
	static const struct { uint64_t features; unsigned nq; const char *msg; } c[] = {
		{ NET_BACKEND_FEATURES, 1, "the backend serves 1 queue; virtio-net "
		    "needs 2 (RX and TX)" },
		{ F(VIRTIO_NET_F_CSUM), 2, "the backend does not offer VIRTIO_F_VERSION_1" },
	};
	struct vhost_dev *d = NULL;
	struct net_fake x;
	struct cli_net n;
	char want[256];
	struct err e;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		net_fake_start(&x, c[i].features, c[i].nq);
		n = net_cli(x.path);
		assert_int_equal(vhost_dev_create_net(&n, 0, &d, &e) < 0, 1);
		snprintf(want, sizeof(want), "--net socket=%s: %s", x.path, c[i].msg);
		assert_string_equal(e.msg, want);
		assert_null(d);
		net_fake_end(&x);
	}
	n = net_cli("/nonexistent/net.sock");
	assert_true(vhost_dev_create_net(&n, 0, &d, &e) < 0);
	assert_string_equal(e.msg, "--net socket=/nonexistent/net.sock: connect: No "
	    "such file or directory (no vhost-user backend accepted within 5 s)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_queues_and_driver_ok),
		cmocka_unit_test(test_start_failures),
		cmocka_unit_test(test_needs_reset_and_interrupts),
		cmocka_unit_test(test_post_sync),
		cmocka_unit_test(test_config_space),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_vhost_dev_e2e),
		cmocka_unit_test(test_vhost_net_socket),
		cmocka_unit_test(test_vhost_net_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
