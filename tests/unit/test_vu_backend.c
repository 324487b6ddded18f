/*
 * cmocka: the vhost-user backend library (ipc/vu_backend.c) driven by the
 * real frontend (ipc/vu_frontend.c) over a socketpair, with a memfd as
 * guest RAM and eventfds for kick/call/err. The backend runs
 * vu_backend_run on its own thread with a fake device that records every
 * ops call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "count_fds.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "virtio.h"
#include "vu.h"

#define RAM_SIZE (1u << 20)
#define RAM_GPA 0x100000ull
#define QSIZE 256
#define NQUEUES 2
#define F_PROTO (1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define DEV_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX) | \
	(1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << 9))
#define DEV_PF ((1ull << VHOST_USER_PROTOCOL_F_MQ) | \
	(1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | (1ull << VHOST_USER_PROTOCOL_F_CONFIG))

/* ------------------------------------------------------------ fake device */

struct fake_dev {
	int starts, stops, kicks, set_features_calls;
	uint64_t features;
	struct vu_vring_config last;
	bool ring_ok;                /* vu_mem_ptr found the whole ring */
	uint16_t next_avail;         /* what queue_stop answers */
	bool fail_start;
	bool error_on_kick;
	int rekicks_left;            /* queue_kick asks for this many rekicks */
};

static int
fake_get_config(void *dev, uint32_t offset, uint8_t *buf, uint32_t len)
{
	uint32_t i;

	(void)dev;
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(offset + i < 60 ? 0xa0 + offset + i : 0);
	return 0;
}

static void
fake_set_features(void *dev, uint64_t features)
{
	struct fake_dev *d = dev;

	__atomic_add_fetch(&d->set_features_calls, 1, __ATOMIC_SEQ_CST);
	d->features = features;
}

static int
fake_queue_start(void *dev, struct vu_backend *b, const struct vu_mem *mem,
    const struct vu_vring_config *cfg)
{
	struct fake_dev *d = dev;

	(void)b;
	if (d->fail_start)
		return -EINVAL;
	d->last = *cfg;
	d->ring_ok = vu_mem_ptr(mem, cfg->desc_gpa, VIRTQ_DESC_BYTES(cfg->num)) != NULL &&
	    vu_mem_ptr(mem, cfg->avail_gpa, VIRTQ_AVAIL_BYTES(cfg->num)) != NULL &&
	    vu_mem_ptr(mem, cfg->used_gpa, VIRTQ_USED_BYTES(cfg->num)) != NULL;
	d->next_avail = cfg->base;
	__atomic_add_fetch(&d->starts, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static uint16_t
fake_queue_stop(void *dev, unsigned index)
{
	struct fake_dev *d = dev;

	(void)index;
	__atomic_add_fetch(&d->stops, 1, __ATOMIC_SEQ_CST);
	return d->next_avail;
}

static void
fake_queue_kick(void *dev, struct vu_backend *b, unsigned index)
{
	struct fake_dev *d = dev;

	d->next_avail++;
	if (d->rekicks_left > 0) {
		d->rekicks_left--;
		vu_backend_rekick(b, index);
	}
	if (d->error_on_kick)
		vu_backend_ring_error(b, index);
	else
		vu_backend_notify(b, index);
	__atomic_add_fetch(&d->kicks, 1, __ATOMIC_SEQ_CST);
}

static const struct vu_backend_ops fake_ops = {
	.get_config = fake_get_config,
	.set_features = fake_set_features,
	.queue_start = fake_queue_start,
	.queue_stop = fake_queue_stop,
	.queue_kick = fake_queue_kick,
};

/* ---------------------------------------------------------------- fixture */

struct fx {
	int fds_before;
	struct fake_dev dev;
	struct vu_backend_config cfg;
	pthread_t thread;
	int rc;                      /* vu_backend_run's result */
	int bsock;
	struct vu_front f;
	int memfd;
	uint8_t *ram;
	int kick, call, err;
};

static void *
backend_thread(void *arg)
{
	struct fx *x = arg;

	x->rc = vu_backend_run(x->bsock, &x->cfg);
	return NULL;
}

static int
setup(void **state)
{
	static struct fx x;
	int sv[2];

	memset(&x, 0, sizeof(x));
	x.fds_before = count_fds();
	x.cfg = (struct vu_backend_config){ "test-blk", NQUEUES, 1024, DEV_FEATURES, DEV_PF,
	    &fake_ops, &x.dev };
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	x.bsock = sv[1];
	vu_front_init(&x.f, sv[0], "test");
	x.f.timeout_ms = 3000;
	assert_int_equal(pthread_create(&x.thread, NULL, backend_thread, &x), 0);
	x.memfd = memfd_create("ram", MFD_CLOEXEC);
	assert_true(x.memfd >= 0);
	assert_int_equal(ftruncate(x.memfd, RAM_SIZE), 0);
	x.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, x.memfd, 0);
	assert_true(x.ram != MAP_FAILED);
	x.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x.call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x.err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	*state = &x;
	return 0;
}

/* Hang up and collect the backend's result. */
static int
finish(struct fx *x)
{
	vu_front_close(&x->f);
	pthread_join(x->thread, NULL);
	close(x->bsock);
	x->bsock = -1;
	return x->rc;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	if (x->bsock >= 0)
		finish(x);
	munmap(x->ram, RAM_SIZE);
	close(x->memfd);
	close(x->kick);
	close(x->call);
	close(x->err);
	assert_int_equal(count_fds(), x->fds_before);   /* the backend leaked none */
	return 0;
}

/* ---------------------------------------------------------------- helpers */

static uint64_t
qva(struct fx *x, uint64_t off)
{
	return (uint64_t)(uintptr_t)x->ram + off;
}

static void
handshake(struct fx *x, uint64_t features)
{
	assert_int_equal(vu_front_handshake(&x->f), 0);
	assert_int_equal(x->f.features, DEV_FEATURES | F_PROTO);
	assert_int_equal(x->f.protocol_features, DEV_PF);
	assert_int_equal(vu_front_set_features(&x->f, features), 0);
}

static void
mem_table(struct fx *x)
{
	struct vhost_user_memory_region r = { RAM_GPA, RAM_SIZE, qva(x, 0), 0 };

	assert_int_equal(vu_front_set_mem_table(&x->f, &r, &x->memfd, 1), 0);
}

/* Queue `idx` at desc 0x0/avail 0x1000/used 0x2000 (+ idx * 0x4000). */
static void
vring_setup(struct fx *x, unsigned idx, unsigned base)
{
	uint64_t o = idx * 0x4000ull;

	assert_int_equal(vu_front_set_vring_num(&x->f, idx, QSIZE), 0);
	assert_int_equal(vu_front_set_vring_addr(&x->f, idx, qva(x, o), qva(x, o + 0x1000),
	    qva(x, o + 0x2000)), 0);
	assert_int_equal(vu_front_set_vring_base(&x->f, idx, base), 0);
	assert_int_equal(vu_front_set_vring_call(&x->f, idx, x->call), 0);
	assert_int_equal(vu_front_set_vring_err(&x->f, idx, x->err), 0);
	assert_int_equal(vu_front_set_vring_kick(&x->f, idx, x->kick), 0);
}

static int
get(int *counter)
{
	return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

/* Wait up to 2 s for *counter to reach want, then check it stays there. */
static void
wait_count(int *counter, int want)
{
	int i;

	for (i = 0; i < 2000 && get(counter) < want; i++)
		usleep(1000);
	usleep(20000);
	assert_int_equal(get(counter), want);
}

static bool
fd_fired(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint64_t v;

	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	return read(fd, &v, sizeof(v)) == sizeof(v);
}

static void
kick(struct fx *x)
{
	uint64_t one = 1;

	assert_int_equal(write(x->kick, &one, sizeof(one)), sizeof(one));
}

/* ------------------------------------------------------------------ tests */

static void
test_handshake_and_config(void **state)
{
	struct fx *x = *state;
	uint8_t cfg[60];
	uint64_t n = 0;

	handshake(x, DEV_FEATURES | F_PROTO);
	assert_int_equal(get(&x->dev.set_features_calls), 1);
	assert_int_equal(x->dev.features, DEV_FEATURES | F_PROTO);
	assert_int_equal(vu_front_get_queue_num(&x->f, &n), 0);
	assert_int_equal(n, NQUEUES);
	assert_int_equal(vu_front_get_config(&x->f, 0, cfg, sizeof(cfg)), 0);
	assert_int_equal(cfg[0], 0xa0);
	assert_int_equal(cfg[59], 0xa0 + 59);
	assert_int_equal(vu_front_get_config(&x->f, 8, cfg, 4), 0);
	assert_int_equal(cfg[0], 0xa8);
	assert_int_equal(vu_front_set_owner(&x->f), 0);
	assert_false(x->f.broken);
	assert_int_equal(finish(x), 0);
}

static void
test_vring_lifecycle(void **state)
{
	struct fx *x = *state;
	unsigned base = 0;

	handshake(x, DEV_FEATURES | F_PROTO);
	mem_table(x);
	vring_setup(x, 1, 5);
	/* started at KICK with the translated addresses */
	assert_int_equal(get(&x->dev.starts), 1);
	assert_true(x->dev.ring_ok);
	assert_int_equal(x->dev.last.index, 1);
	assert_int_equal(x->dev.last.num, QSIZE);
	assert_int_equal(x->dev.last.base, 5);
	assert_int_equal(x->dev.last.desc_gpa, RAM_GPA + 0x4000);
	assert_int_equal(x->dev.last.avail_gpa, RAM_GPA + 0x5000);
	assert_int_equal(x->dev.last.used_gpa, RAM_GPA + 0x6000);
	assert_true(x->dev.last.event_idx);
	assert_true(x->dev.last.indirect);
	/* disabled (PROTOCOL_FEATURES acked): a kick waits for ENABLE */
	kick(x);
	usleep(50000);
	assert_int_equal(get(&x->dev.kicks), 0);
	/* ENABLE kicks once, then the pending kick fd is served */
	assert_int_equal(vu_front_set_vring_enable(&x->f, 1, true), 0);
	wait_count(&x->dev.kicks, 2);
	assert_true(fd_fired(x->call, 1000));           /* vu_backend_notify */
	kick(x);
	wait_count(&x->dev.kicks, 3);
	assert_true(fd_fired(x->call, 1000));
	/* a new call fd while running */
	assert_int_equal(vu_front_set_vring_call(&x->f, 1, x->err), 0);
	kick(x);
	wait_count(&x->dev.kicks, 4);
	assert_true(fd_fired(x->err, 1000));
	assert_false(fd_fired(x->call, 0));
	/* GET_VRING_BASE stops the ring and answers the device's index */
	assert_int_equal(vu_front_get_vring_base(&x->f, 1, &base), 0);
	assert_int_equal(get(&x->dev.stops), 1);
	assert_int_equal(base, 9);
	kick(x);
	usleep(50000);
	assert_int_equal(get(&x->dev.kicks), 4);         /* stopped: not polled */
	/* restart: kicked once at start, then the pending kick */
	vring_setup(x, 1, base);
	assert_int_equal(get(&x->dev.starts), 2);
	assert_int_equal(x->dev.last.base, 9);
	wait_count(&x->dev.kicks, 6);
	assert_int_equal(finish(x), 0);
	assert_int_equal(get(&x->dev.stops), 2);         /* stopped at disconnect */
}

static void
test_enabled_without_protocol_features(void **state)
{
	struct fx *x = *state;

	handshake(x, DEV_FEATURES & ~(1ull << VIRTIO_F_RING_EVENT_IDX));
	mem_table(x);
	vring_setup(x, 0, 0);
	assert_false(x->dev.last.event_idx);
	wait_count(&x->dev.kicks, 1);                    /* kicked once at start */
	kick(x);
	wait_count(&x->dev.kicks, 2);
	assert_int_equal(finish(x), 0);
}

static void
test_mem_table_while_running(void **state)
{
	struct fx *x = *state;
	struct vhost_user_memory_region r = { 0x40000000ull, RAM_SIZE, qva(x, 0), 0 };

	handshake(x, DEV_FEATURES | F_PROTO);
	mem_table(x);
	vring_setup(x, 0, 0);
	assert_int_equal(vu_front_set_mem_table(&x->f, &r, &x->memfd, 1), 0);
	assert_int_equal(get(&x->dev.stops), 1);
	assert_int_equal(get(&x->dev.starts), 2);
	assert_int_equal(x->dev.last.desc_gpa, 0x40000000ull);
	/* a table that cannot be mapped (past the memfd's end) is refused and
	 * the ring keeps running on the old one */
	r.memory_size = 2 * RAM_SIZE;
	assert_int_equal(vu_front_set_mem_table(&x->f, &r, &x->memfd, 1), -EIO);
	x->f.broken = false;
	assert_int_equal(get(&x->dev.starts), 3);
	assert_int_equal(x->dev.last.desc_gpa, 0x40000000ull);
	assert_int_equal(finish(x), 0);
}

/* Values the backend refuses get a REPLY_ACK failure (the frontend sees
 * -EIO and marks itself broken); the connection stays up. */
static void
test_reply_ack_refusals(void **state)
{
	struct fx *x = *state;
	struct vhost_user_memory_region bad = { 0, RAM_SIZE, qva(x, 0), RAM_SIZE };
	uint8_t c[4] = { 0 };
	size_t i;
	int rc;

	handshake(x, DEV_FEATURES | F_PROTO);
	for (i = 0; i < 12; i++) {
		switch (i) {
		case 0: rc = vu_front_set_vring_num(&x->f, 0, 3); break;
		case 1: rc = vu_front_set_vring_num(&x->f, 0, 2048); break;
		case 2: rc = vu_front_set_vring_num(&x->f, NQUEUES, 256); break;
		case 3: rc = vu_front_set_vring_base(&x->f, 0, 70000); break;
		case 4: rc = vu_front_set_vring_addr(&x->f, 0, qva(x, 8), qva(x, 0x1000),
		    qva(x, 0x2000)); break;
		case 5: rc = vu_front_set_vring_enable(&x->f, 7, true); break;
		case 6: rc = vu_front_set_features(&x->f, 1ull << 40); break;
		case 7: rc = vu_front_set_vring_kick(&x->f, 0, x->kick); break;  /* no num */
		case 8: rc = vu_front_set_config(&x->f, 0, c, sizeof(c)); break;
		case 9: rc = vu_front_set_mem_table(&x->f, &bad, &x->memfd, 1); break;
		case 10: rc = vu_front_set_vring_kick(&x->f, 0, -1); break;       /* polling */
		default: rc = vu_front_set_vring_call(&x->f, NQUEUES, x->call); break;
		}
		assert_int_equal(rc, -EIO);
		assert_true(x->f.broken);
		assert_int_equal(vu_front_set_owner(&x->f), -EPIPE);  /* sticky */
		x->f.broken = false;
	}
	/* the connection is still good */
	mem_table(x);
	vring_setup(x, 0, 0);
	assert_int_equal(get(&x->dev.starts), 1);
	/* a ring address outside the table: KICK refused */
	assert_int_equal(vu_front_get_vring_base(&x->f, 0, &(unsigned){ 0 }), 0);
	assert_int_equal(vu_front_set_vring_addr(&x->f, 0, qva(x, RAM_SIZE - 16), qva(x, 0x1000),
	    qva(x, 0x2000)), 0);
	assert_int_equal(vu_front_set_vring_kick(&x->f, 0, x->kick), -EIO);
	x->f.broken = false;
	/* the device refusing to start */
	x->dev.fail_start = true;
	assert_int_equal(vu_front_set_vring_addr(&x->f, 0, qva(x, 0), qva(x, 0x1000),
	    qva(x, 0x2000)), 0);
	assert_int_equal(vu_front_set_vring_kick(&x->f, 0, x->kick), -EIO);
	assert_int_equal(finish(x), 0);
}

static void
test_ring_error_signals_err_fd(void **state)
{
	struct fx *x = *state;
	unsigned base;

	handshake(x, DEV_FEATURES);
	mem_table(x);
	x->dev.error_on_kick = true;
	vring_setup(x, 0, 0);
	wait_count(&x->dev.kicks, 1);
	assert_true(fd_fired(x->err, 1000));
	kick(x);
	usleep(50000);
	assert_int_equal(get(&x->dev.kicks), 1);        /* broken: not polled */
	assert_int_equal(vu_front_get_vring_base(&x->f, 0, &base), 0);
	assert_int_equal(base, 1);
	x->dev.error_on_kick = false;
	vring_setup(x, 0, base);             /* restarted: start + pending kick */
	wait_count(&x->dev.kicks, 3);
	assert_int_equal(finish(x), 0);
}

/* vu_backend_rekick: queue_kick is called again without any kick fd
 * write, and the socket is still served in between. */
static void
test_rekick(void **state)
{
	struct fx *x = *state;
	uint64_t n = 0;

	handshake(x, DEV_FEATURES);
	mem_table(x);
	x->dev.rekicks_left = 3;
	vring_setup(x, 0, 0);
	wait_count(&x->dev.kicks, 4);                    /* start + 3 rekicks */
	assert_false(fd_fired(x->kick, 0));              /* nothing written there */
	assert_int_equal(vu_front_get_queue_num(&x->f, &n), 0);
	/* a stopped ring drops its request */
	x->dev.rekicks_left = 1000;
	kick(x);
	assert_int_equal(vu_front_get_vring_base(&x->f, 0, &(unsigned){ 0 }), 0);
	usleep(20000);
	n = (uint64_t)get(&x->dev.kicks);
	usleep(50000);
	assert_int_equal(get(&x->dev.kicks), (int)n);
	assert_int_equal(finish(x), 0);
}

/* SET_VRING_KICK with a new fd on a running ring kicks it once. */
static void
test_new_kick_fd_kicks(void **state)
{
	struct fx *x = *state;
	int k2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	handshake(x, DEV_FEATURES);
	mem_table(x);
	vring_setup(x, 0, 0);
	wait_count(&x->dev.kicks, 1);
	assert_int_equal(vu_front_set_vring_kick(&x->f, 0, k2), 0);
	wait_count(&x->dev.kicks, 2);
	assert_int_equal(get(&x->dev.starts), 1);
	close(k2);
	assert_int_equal(finish(x), 0);
}

/* Kick/call/err fds that are not eventfds are refused and closed. */
static void
test_non_eventfd_refused(void **state)
{
	struct fx *x = *state;
	int p[2], i, rc;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	handshake(x, DEV_FEATURES | F_PROTO);
	mem_table(x);
	assert_int_equal(vu_front_set_vring_num(&x->f, 0, QSIZE), 0);
	assert_int_equal(vu_front_set_vring_addr(&x->f, 0, qva(x, 0), qva(x, 0x1000),
	    qva(x, 0x2000)), 0);
	for (i = 0; i < 4; i++) {
		switch (i) {
		case 0: rc = vu_front_set_vring_kick(&x->f, 0, p[0]); break;
		case 1: rc = vu_front_set_vring_call(&x->f, 0, p[1]); break;
		case 2: rc = vu_front_set_vring_err(&x->f, 0, p[1]); break;
		default: rc = vu_front_set_vring_kick(&x->f, 0, x->memfd); break;
		}
		assert_int_equal(rc, -EIO);
		x->f.broken = false;
	}
	assert_int_equal(get(&x->dev.starts), 0);
	close(p[0]);
	close(p[1]);
	vring_setup(x, 0, 0);
	assert_int_equal(get(&x->dev.starts), 1);
	assert_int_equal(finish(x), 0);
}

/* Without PROTOCOL_FEATURES the ring runs from SET_VRING_KICK; a
 * notification (or ring error) before SET_VRING_CALL (ERR) is delivered
 * when the fd arrives. */
static void
test_call_after_kick(void **state)
{
	struct fx *x = *state;

	handshake(x, DEV_FEATURES);
	mem_table(x);
	assert_int_equal(vu_front_set_vring_num(&x->f, 0, QSIZE), 0);
	assert_int_equal(vu_front_set_vring_addr(&x->f, 0, qva(x, 0), qva(x, 0x1000),
	    qva(x, 0x2000)), 0);
	assert_int_equal(vu_front_set_vring_kick(&x->f, 0, x->kick), 0);
	wait_count(&x->dev.kicks, 1);                    /* notified: no call fd */
	assert_int_equal(vu_front_set_vring_call(&x->f, 0, x->call), 0);
	assert_true(fd_fired(x->call, 1000));
	assert_int_equal(vu_front_set_vring_call(&x->f, 0, x->call), 0);
	assert_false(fd_fired(x->call, 50));             /* once only */
	/* the same for the err fd */
	x->dev.error_on_kick = true;
	kick(x);
	wait_count(&x->dev.kicks, 2);
	assert_int_equal(vu_front_set_vring_err(&x->f, 0, x->err), 0);
	assert_true(fd_fired(x->err, 1000));
	assert_int_equal(finish(x), 0);
}

/* SET_MEM_TABLE restarts running rings but not a ring the guest broke. */
static void
test_mem_table_keeps_broken_ring(void **state)
{
	struct fx *x = *state;
	unsigned base;

	handshake(x, DEV_FEATURES);
	mem_table(x);
	x->dev.error_on_kick = true;
	vring_setup(x, 0, 0);
	wait_count(&x->dev.kicks, 1);
	assert_true(fd_fired(x->err, 1000));
	x->dev.error_on_kick = false;
	mem_table(x);
	assert_int_equal(get(&x->dev.stops), 1);
	assert_int_equal(get(&x->dev.starts), 1);        /* not restarted */
	kick(x);
	usleep(50000);
	assert_int_equal(get(&x->dev.kicks), 1);
	assert_int_equal(vu_front_get_vring_base(&x->f, 0, &base), 0);
	assert_int_equal(base, 1);
	vring_setup(x, 0, base);
	assert_int_equal(get(&x->dev.starts), 2);
	wait_count(&x->dev.kicks, 3);                    /* start + pending kick */
	assert_int_equal(finish(x), 0);
}

/* A peer that sends half a message is dropped after VU_MSG_REST_MS. */
static void
test_half_message_times_out(void **state)
{
	struct fx *x = *state;
	struct vhost_user_header h = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 8 };
	time_t t0 = time(NULL);

	handshake(x, DEV_FEATURES);
	assert_int_equal(write(x->f.sock, &h, 6), 6);
	pthread_join(x->thread, NULL);
	assert_int_equal(x->rc, -ETIMEDOUT);
	assert_true(time(NULL) - t0 <= VU_MSG_REST_MS / 1000 + 2);
	vu_front_close(&x->f);
	close(x->bsock);
	x->bsock = -1;
}

/* Raw messages the frontend API would never send. */
static void
send_raw_msg(struct fx *x, uint32_t request, uint32_t flags, uint32_t size, uint64_t v)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = flags;
	m.hdr.size = size;
	m.payload.u64 = v;
	assert_int_equal(vu_msg_send(x->f.sock, &m), 0);
}

static void
test_violation_short_message(void **state)
{
	struct fx *x = *state;

	handshake(x, DEV_FEATURES | F_PROTO);
	send_raw_msg(x, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, 4, 0);
	assert_int_equal(finish(x), -EPROTO);
}

static void
test_violation_unknown_request(void **state)
{
	struct fx *x = *state;

	send_raw_msg(x, 99, VHOST_USER_VERSION, 0, 0);
	assert_int_equal(finish(x), -EPROTO);
}

static void
test_violation_refusal_without_need_reply(void **state)
{
	struct fx *x = *state;

	/* REPLY_ACK negotiated but not asked for: a bad value disconnects */
	handshake(x, DEV_FEATURES | F_PROTO);
	send_raw_msg(x, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, 8, 3ull << 32);
	assert_int_equal(finish(x), -EPROTO);
}

static void
test_unimplemented_request(void **state)
{
	struct fx *x = *state;
	struct vhost_user_msg r;

	handshake(x, DEV_FEATURES | F_PROTO);
	send_raw_msg(x, VHOST_USER_NET_SET_MTU, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY, 8, 1500);
	assert_int_equal(vu_msg_recv(x->f.sock, &r, 2000), 0);
	assert_int_equal(vu_msg_check_reply(&r, VHOST_USER_NET_SET_MTU, 0), 0);
	assert_int_equal(r.payload.u64, 1);
	send_raw_msg(x, VHOST_USER_NET_SET_MTU, VHOST_USER_VERSION, 8, 1500);
	assert_int_equal(finish(x), -EPROTO);
}

static void
test_size_over_max_disconnects(void **state)
{
	struct fx *x = *state;
	struct vhost_user_header h = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 0x40000000 };

	assert_int_equal(write(x->f.sock, &h, sizeof(h)), sizeof(h));
	pthread_join(x->thread, NULL);                    /* no payload needed */
	assert_int_equal(x->rc, -EPROTO);
	vu_front_close(&x->f);
	close(x->bsock);
	x->bsock = -1;
}

static void
test_frontend_timeout_is_sticky(void **state)
{
	struct fx *x = *state;
	int sv[2];
	uint64_t v;

	(void)x;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	{
		struct vu_front f;

		vu_front_init(&f, sv[0], "silent");
		f.timeout_ms = 50;
		assert_int_equal(vu_front_get_features(&f, &v), -ETIMEDOUT);
		assert_true(f.broken);
		assert_int_equal(vu_front_get_features(&f, &v), -EPIPE);
		vu_front_close(&f);
		vu_front_close(&f);
	}
	close(sv[1]);
}

static char listen_path[64];

/* Create the listening socket 200 ms late. */
static void *
late_listener(void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	usleep(200000);
	strcpy(sa.sun_path, listen_path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		close(s);
		s = -1;
	}
	*(int *)arg = s;
	return NULL;
}

static void
test_connect_path_waits_for_listener(void **state)
{
	char dir[] = "/tmp/vu-test-XXXXXX";
	pthread_t t;
	int l = -1, s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(listen_path, sizeof(listen_path), "%s/s", dir);
	assert_int_equal(vu_front_connect_path(listen_path, 50), -ENOENT);
	assert_int_equal(vu_front_connect_path("", 50), -EINVAL);
	assert_int_equal(pthread_create(&t, NULL, late_listener, &l), 0);
	s = vu_front_connect_path(listen_path, 3000);
	pthread_join(t, NULL);
	assert_true(l >= 0);
	assert_true(s >= 0);
	close(s);
	close(l);
	unlink(listen_path);
	rmdir(dir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handshake_and_config),
		T(test_vring_lifecycle),
		T(test_enabled_without_protocol_features),
		T(test_mem_table_while_running),
		T(test_reply_ack_refusals),
		T(test_ring_error_signals_err_fd),
		T(test_rekick),
		T(test_new_kick_fd_kicks),
		T(test_non_eventfd_refused),
		T(test_call_after_kick),
		T(test_mem_table_keeps_broken_ring),
		T(test_half_message_times_out),
		T(test_violation_short_message),
		T(test_violation_unknown_request),
		T(test_violation_refusal_without_need_reply),
		T(test_unimplemented_request),
		T(test_size_over_max_disconnects),
		T(test_frontend_timeout_is_sticky),
		cmocka_unit_test(test_connect_path_waits_for_listener),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
