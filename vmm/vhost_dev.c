/*
 * virtio-mmio devices served by vhost-user backends (see vhost_dev.h):
 * handshake, the start/stop sequences the register file triggers, KVM
 * ioeventfd/irqfd wiring, and the reaction to a backend that breaks.
 *
 * Start and stop run on a vCPU thread with the device lock held, bounded by
 * one VHOST_DEV_OP_MS deadline for the whole sequence; they print nothing
 * themselves (virtio_mmio_note). The main loop never takes the lock: it
 * posts its news with virtio_mmio_post() (lock-free).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devproc.h"
#include "guest_layout_x86_64.h"
#include "vhost_dev_internal.h"
#include "vm.h"

#define PROG "vmm-reference"
#define VHOST_DEV_QUEUE_STEPS 7    /* vhost-user messages per started queue */

/* ---- start / stop (vCPU thread, device lock held) ---- */

/* Host addresses of a ready queue's three parts, each checked whole (and
 * aligned as 2.7 requires) by the one translator. */
static int
vhost_dev_queue_hva(struct vhost_dev *d, const struct virtio_mmio_queue *q,
    uint64_t hva[3])
{
	const struct guest_mem *gm = &d->vm->mem;
	uint8_t *p[3];

	if (q->num == 0 || q->num > VIRTIO_MMIO_QUEUE_SIZE_MAX || (q->num & (q->num - 1)))
		return -EINVAL;
	if ((q->desc & (VIRTQ_DESC_ALIGN - 1)) || (q->avail & (VIRTQ_AVAIL_ALIGN - 1)) ||
	    (q->used & (VIRTQ_USED_ALIGN - 1)))
		return -EINVAL;
	p[0] = gm_ptr(gm, q->desc, VIRTQ_DESC_BYTES(q->num));
	p[1] = gm_ptr(gm, q->avail, VIRTQ_AVAIL_BYTES(q->num));
	p[2] = gm_ptr(gm, q->used, VIRTQ_USED_BYTES(q->num));
	if (p[0] == NULL || p[1] == NULL || p[2] == NULL)
		return -EINVAL;
	hva[0] = (uint64_t)(uintptr_t)p[0];
	hva[1] = (uint64_t)(uintptr_t)p[1];
	hva[2] = (uint64_t)(uintptr_t)p[2];
	return 0;
}

static int64_t
vhost_dev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Give the next vhost-user call what is left before `end`. */
static int
vhost_dev_budget(struct vhost_dev *d, int64_t end)
{
	int64_t left = end - vhost_dev_now_ms();

	if (left <= 0)
		return -ETIMEDOUT;
	d->front.timeout_ms = (int)left;
	return 0;
}

/* A start or stop failed: the backend is no longer trusted. Leave one
 * line (printed after the lock is released), unless a failure was already
 * reported or the vmm is exiting, and hang up on it (a spawned device process
 * then exits). */
static void
vhost_dev_log_fail(struct vhost_dev *d, const char *op, int rc)
{
	if (d->front.sock >= 0)
		shutdown(d->front.sock, SHUT_RDWR);
	if (atomic_exchange(&d->reported, true))
		return;
	if (d->front.why[0] != '\0')
		virtio_mmio_note(&d->mmio, PROG ": %s: %s: %s; device failed", d->name,
		    d->backend, d->front.why);
	else if (rc == -ETIMEDOUT)
		virtio_mmio_note(&d->mmio, PROG ": %s: %s: device %s took longer than "
		    "%d ms; device failed", d->name, d->backend, op, VHOST_DEV_OP_MS);
	else
		virtio_mmio_note(&d->mmio, PROG ": %s: %s: device %s: %s; device failed",
		    d->name, d->backend, op, strerror(-rc));
}

static int
vhost_dev_set_mem_table(struct vhost_dev *d)
{
	const struct guest_mem *gm = &d->vm->mem;
	struct vhost_user_memory_region r[GM_MAX_REGIONS];
	int fds[GM_MAX_REGIONS];
	unsigned i;

	for (i = 0; i < gm->nregions; i++) {
		r[i] = (struct vhost_user_memory_region){
			.guest_phys_addr = gm->region[i].gpa,
			.memory_size = gm->region[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)gm->region[i].hva,
			.mmap_offset = gm->region[i].fd_offset,
		};
		fds[i] = gm->fd;
	}
	return vu_front_set_mem_table(&d->front, r, fds, gm->nregions);
}

/* Step `step` of starting ready queue i: SET_VRING_NUM, ADDR, BASE, KICK,
 * CALL, ERR, then ENABLE when PROTOCOL_FEATURES was negotiated. */
static int
vhost_dev_queue_step(struct vhost_dev *d, unsigned i, unsigned step,
    const uint64_t hva[3])
{
	struct vu_front *f = &d->front;

	switch (step) {
	case 0: return vu_front_set_vring_num(f, i, d->mmio.q[i].num);
	case 1: return vu_front_set_vring_addr(f, i, hva[0], hva[1], hva[2]);
	case 2: return vu_front_set_vring_base(f, i, 0);
	case 3: return vu_front_set_vring_kick(f, i, d->kick_efd[i]);
	case 4: return vu_front_set_vring_call(f, i, d->call_efd);
	case 5: return vu_front_set_vring_err(f, i, d->err_efd[i]);
	default:
		if (!(f->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
			return 0;
		return vu_front_set_vring_enable(f, i, true);
	}
}

/* Every ready queue must be usable before anything is sent. The guest
 * chose the rings: say so once per device at most. */
static int
vhost_dev_check_queues(struct vhost_dev *d, uint64_t hva[][3])
{
	const struct virtio_mmio_queue *q;
	unsigned i;

	for (i = 0; i < d->nqueues; i++) {
		q = &d->mmio.q[i];
		if (!q->ready || vhost_dev_queue_hva(d, q, hva[i]) == 0)
			continue;
		if (!d->said_bad_ring && !atomic_load(&d->reported))
			virtio_mmio_note(&d->mmio, PROG ": %s: queue %u: unusable ring "
			    "(size %u, desc %#llx, driver %#llx, device %#llx); "
			    "DEVICE_NEEDS_RESET (not repeated)", d->name, i, q->num,
			    (unsigned long long)q->desc, (unsigned long long)q->avail,
			    (unsigned long long)q->used);
		d->said_bad_ring = true;
		return -EINVAL;
	}
	return 0;
}

/* Lock held: forget ring errors of earlier lives (stale events must not
 * mark the new one) and let the main loop poll every err fd again. */
static void
vhost_dev_drain_errs(struct vhost_dev *d)
{
	uint64_t cnt, one = 1;
	unsigned i;

	for (i = 0; i < d->nqueues; i++)
		if (read(d->err_efd[i], &cnt, sizeof(cnt)) < 0) {
			/* nonblocking: nothing pending */
		}
	if (atomic_exchange(&d->err_seen, 0) != 0 &&
	    write(d->wake_efd, &one, sizeof(one)) < 0) {
		/* overflow only: a wake-up is pending anyway */
	}
}

static int
vhost_dev_start(struct virtio_mmio_dev *m)
{
	struct vhost_dev *d = m->opaque;
	uint64_t hva[VIRTIO_MMIO_MAX_QUEUES][3];
	/* only what the backend offered: not the bits the vmm serves itself
	 * (virtio-net's MAC, STATUS) */
	uint64_t features = (m->driver_features & d->front.features) |
	    (d->front.features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
	int64_t end = vhost_dev_now_ms() + VHOST_DEV_OP_MS;
	unsigned i, step;
	int rc;

	if ((rc = vhost_dev_check_queues(d, hva)) < 0)
		return rc;
	vhost_dev_drain_errs(d);
	if ((rc = vhost_dev_budget(d, end)) == 0 &&
	    (rc = vu_front_set_features(&d->front, features)) == 0 &&
	    (rc = vhost_dev_budget(d, end)) == 0)
		rc = vhost_dev_set_mem_table(d);
	for (i = 0; rc == 0 && i < d->nqueues; i++) {
		if (!m->q[i].ready)
			continue;
		m->q[i].started = true;
		for (step = 0; rc == 0 && step < VHOST_DEV_QUEUE_STEPS; step++)
			if ((rc = vhost_dev_budget(d, end)) == 0)
				rc = vhost_dev_queue_step(d, i, step, hva[i]);
	}
	if (rc == 0)
		return 0;
	vhost_dev_log_fail(d, "start", rc);
	return rc == -EINVAL ? -EIO : rc;
}

static void
vhost_dev_stop(struct virtio_mmio_dev *m)
{
	struct vhost_dev *d = m->opaque;
	int64_t end = vhost_dev_now_ms() + VHOST_DEV_OP_MS;
	unsigned i, base;
	int rc;

	if (atomic_load(&m->failed))
		return;         /* the backend is gone or untrusted */
	for (i = 0; i < d->nqueues; i++) {
		if (!m->q[i].started)
			continue;
		if ((rc = vhost_dev_budget(d, end)) == 0)
			rc = vu_front_get_vring_base(&d->front, i, &base);
		if (rc < 0) {
			vhost_dev_log_fail(d, "stop", rc);
			atomic_store(&m->failed, true);
			return;
		}
	}
}

/* Lock held, after the main loop saw err eventfds readable: a count on a
 * started queue is a ring error of this life (start drained older ones). */
static bool
vhost_dev_sync(struct virtio_mmio_dev *m)
{
	struct vhost_dev *d = m->opaque;
	unsigned seen = atomic_exchange(&d->err_seen, 0), i, bad = 0;
	uint64_t cnt, one = 1;
	bool broken = false;

	for (i = 0; i < d->nqueues; i++) {
		if (!(seen & (1u << i)) ||
		    read(d->err_efd[i], &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		if (m->q[i].started && !atomic_load(&m->failed) && !broken) {
			broken = true;
			bad = i;
		}
	}
	if (seen != 0 && write(d->wake_efd, &one, sizeof(one)) < 0) {
		/* overflow only: a wake-up is pending anyway */
	}
	if (broken && !d->said_ring_error && !atomic_load(&d->reported))
		virtio_mmio_note(m, PROG ": %s: queue %u broken by the guest; "
		    "DEVICE_NEEDS_RESET (not repeated)", d->name, bad);
	d->said_ring_error |= broken;
	return broken;
}

/* Lock-free: only writes the irqfd eventfd. */
static void
vhost_dev_interrupt(struct virtio_mmio_dev *m)
{
	struct vhost_dev *d = m->opaque;
	uint64_t one = 1;

	if (write(d->call_efd, &one, sizeof(one)) < 0) {
		/* an eventfd only fails on overflow: an interrupt is pending */
	}
}

static const struct virtio_mmio_ops vhost_dev_ops = {
	.start = vhost_dev_start,
	.stop = vhost_dev_stop,
	.interrupt = vhost_dev_interrupt,
	.sync = vhost_dev_sync,
};

/* ---- creation (main thread, before the vCPUs run) ---- */

struct vhost_dev *
vhost_dev_new(unsigned index, const char *kind, const char *id)
{
	struct vhost_dev *d = calloc(1, sizeof(*d));
	unsigned i;

	if (d == NULL)
		return NULL;
	d->index = index;
	d->front.sock = -1;
	d->call_efd = d->wake_efd = -1;
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		d->kick_efd[i] = d->err_efd[i] = -1;
	atomic_init(&d->err_seen, 0);
	atomic_init(&d->reported, false);
	snprintf(d->name, sizeof(d->name), "%s %s", kind, id);
	return d;
}

static int
vhost_dev_eventfds(struct vhost_dev *d, const char *input, struct err *e)
{
	unsigned i;

	d->call_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (i = 0; i < d->nqueues && d->call_efd >= 0 && d->wake_efd >= 0; i++) {
		d->kick_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		d->err_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->kick_efd[i] < 0 || d->err_efd[i] < 0)
			break;
	}
	if (d->call_efd < 0 || d->wake_efd < 0 || i < d->nqueues)
		return err_set(e, -errno, "%s: eventfd: %s", input, strerror(errno));
	return 0;
}

const char *
vhost_dev_why(const struct vhost_dev *d, int rc)
{
	return d->front.why[0] != '\0' ? d->front.why : strerror(-rc);
}

/* The register file of a device whose queue count is set. */
int
vhost_dev_setup(struct vhost_dev *d, const char *input, uint32_t device_id,
    uint64_t features, const void *config, uint32_t config_len, struct err *e)
{
	int rc;

	if ((rc = vhost_dev_eventfds(d, input, e)) < 0)
		return rc;
	if ((rc = virtio_mmio_init(&d->mmio, device_id, features, d->nqueues,
	    config, config_len, &vhost_dev_ops, d)) < 0)
		return err_set(e, rc, "%s: mutex: %s", input, strerror(-rc));
	return 0;
}

int
vhost_dev_handshake(struct vhost_dev *d, const char *input, uint64_t *nq,
    struct err *e)
{
	int rc;

	if ((rc = vu_front_handshake(&d->front)) < 0)
		return err_set(e, rc, "%s: vhost-user handshake: %s", input,
		    vhost_dev_why(d, rc));
	if (!(d->front.features & (1ull << VIRTIO_F_VERSION_1)))
		return err_set(e, -ENOTSUP, "%s: the backend does not offer "
		    "VIRTIO_F_VERSION_1", input);
	if ((d->front.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_MQ)) &&
	    (rc = vu_front_get_queue_num(&d->front, nq)) < 0)
		return err_set(e, rc, "%s: %s", input, vhost_dev_why(d, rc));
	return 0;
}

static void
vhost_dev_free(struct vhost_dev *d)
{
	unsigned i;

	vu_front_close(&d->front);
	if (d->call_efd >= 0)
		close(d->call_efd);
	if (d->wake_efd >= 0)
		close(d->wake_efd);
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		if (d->kick_efd[i] >= 0)
			close(d->kick_efd[i]);
		if (d->err_efd[i] >= 0)
			close(d->err_efd[i]);
	}
	if (d->mmio.ops != NULL)
		virtio_mmio_destroy(&d->mmio);
	free(d);
}


void
vhost_dev_argv_tail(char **argv, unsigned *n, unsigned jail_id,
    int seccomp_log, const char *forbidden, char jail_buf[16])
{
	if (jail_id != 0 && geteuid() == 0) {
		snprintf(jail_buf, 16, "%u", jail_id);
		argv[(*n)++] = "--jail-id";
		argv[(*n)++] = jail_buf;
	}
	if (seccomp_log)
		argv[(*n)++] = "--seccomp-log";
	if (forbidden != NULL) {
		argv[(*n)++] = "--x-test-forbidden";
		argv[(*n)++] = (char *)forbidden;
	}
	argv[*n] = NULL;
}

int
vhost_dev_spawn(struct vhost_dev *d, const char *bin_name, const char *env,
    char **argv, int dev_fd, const char *input, struct err *e)
{
	static char bin[4096];   /* main thread only, before the jail */
	char why[ERR_MSG_MAX];
	int sv[2], fds[2], rc;
	pid_t pid;

	if ((rc = devproc_find(bin_name, env, bin, sizeof(bin), e)) < 0) {
		snprintf(why, sizeof(why), "%s", e->msg);
		return err_set(e, rc, "%s: %s", input, why);
	}
	argv[0] = bin;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(e, -errno, "%s: socketpair: %s", input, strerror(errno));
	fds[0] = sv[1];
	fds[1] = dev_fd;
	pid = devproc_spawn(bin, argv, fds, 2, e);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return pid;
	}
	d->pid = pid;
	snprintf(d->backend, sizeof(d->backend), "%s (pid %d)", bin_name,
	    (int)devproc_host_pid(pid));
	vu_front_init(&d->front, sv[0], d->name);
	return 0;
}

/* A bounded, non-blocking connect; the error names the real errno and
 * the whole path. */
int
vhost_dev_connect(struct vhost_dev *d, const char *opt, const char *path,
    struct err *e)
{
	int sock = vu_front_connect_path(path, VHOST_DEV_CONNECT_MS);

	if (sock == -ENOENT || sock == -ECONNREFUSED || sock == -EAGAIN)
		return err_set(e, sock, "%s socket=%s: connect: %s (no vhost-user "
		    "backend accepted within %d s)", opt, path, strerror(-sock),
		    VHOST_DEV_CONNECT_MS / 1000);
	if (sock < 0)
		return err_set(e, sock, "%s socket=%s: connect: %s", opt, path,
		    strerror(-sock));
	snprintf(d->backend, sizeof(d->backend), "backend at %s", path);
	vu_front_init(&d->front, sock, d->name);
	return 0;
}

int
vhost_dev_created(struct vhost_dev *d, int rc, struct vhost_dev **out)
{
	if (rc < 0) {
		atomic_store(&d->reported, true);
		vhost_dev_destroy_all(&d, 1, 1000);
		return rc;
	}
	*out = d;
	return 0;
}
int
vhost_dev_attach(struct vhost_dev *d, struct vm *vm, struct err *e)
{
	uint64_t notify = VIRTIO_MMIO_BASE + (uint64_t)d->index * VIRTIO_MMIO_WINDOW_SIZE +
	    VIRTIO_MMIO_QUEUE_NOTIFY;
	unsigned i;
	int rc;

	for (i = 0; i < d->nqueues; i++)
		if ((rc = kvm_ioeventfd(vm, notify, 4, i, d->kick_efd[i])) < 0)
			return err_set(e, rc, "%s: KVM_IOEVENTFD: %s", d->name, strerror(-rc));
	if ((rc = kvm_irqfd(vm, VIRTIO_MMIO_FIRST_IRQ + d->index, d->call_efd)) < 0)
		return err_set(e, rc, "%s: KVM_IRQFD: %s", d->name, strerror(-rc));
	d->vm = vm;
	vm->virtio[d->index] = &d->mmio;
	if (vm->nvirtio <= d->index)
		vm->nvirtio = d->index + 1;
	return 0;
}

/* ---- failure handling (main loop: lock-free, never sleeps) ---- */

/* Fail the device for good and say why, unless a failure was already
 * reported (or the vmm is exiting). */
static void
vhost_dev_fail(struct vhost_dev *d, const char *why)
{
	virtio_mmio_post(&d->mmio, VIRTIO_MMIO_EV_FAILED);
	if (!atomic_exchange(&d->reported, true))
		fprintf(stderr, PROG ": %s: %s %s\n", d->name, d->backend, why);
}

/* Reap d's process without blocking; returns 1 with *status if it ended. */
static int
vhost_dev_reap(struct vhost_dev *d, int *status)
{
	if (d->pid <= 0 || waitpid(d->pid, status, WNOHANG) != d->pid)
		return 0;
	d->pid = 0;
	return 1;
}

void
vhost_dev_child_check(struct vhost_dev *d)
{
	char buf[64];
	int status;

	if (vhost_dev_reap(d, &status))
		vhost_dev_fail(d, devproc_status_str(status, buf, sizeof(buf)));
}

/* The socket hung up. A spawned device process is ending: fail the device now
 * and let its SIGCHLD say how it ended. An external backend: say so. */
static void
vhost_dev_hangup(struct vhost_dev *d)
{
	d->hung_up = true;
	if (d->pid > 0)
		virtio_mmio_post(&d->mmio, VIRTIO_MMIO_EV_FAILED);
	else
		vhost_dev_fail(d, "hung up");
}

void
vhost_dev_pollfds(struct vhost_dev *d, struct pollfd *p)
{
	unsigned seen = atomic_load(&d->err_seen), i;
	bool sock = !d->hung_up && !atomic_load(&d->mmio.failed);

	p[0] = (struct pollfd){ .fd = sock ? d->front.sock : -1 };
	p[1] = (struct pollfd){ .fd = d->wake_efd, .events = POLLIN };
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		p[2 + i] = (struct pollfd){ .events = POLLIN,
		    .fd = i < d->nqueues && !(seen & (1u << i)) ? d->err_efd[i] : -1 };
}

void
vhost_dev_poll_handle(struct vhost_dev *d, const struct pollfd *p)
{
	unsigned i, seen = 0;
	uint64_t cnt;

	if (p[0].fd >= 0 && (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
		vhost_dev_hangup(d);
	if (p[1].revents && read(d->wake_efd, &cnt, sizeof(cnt)) < 0) {
		/* nonblocking: nothing to drain */
	}
	for (i = 0; i < d->nqueues; i++)
		if (p[2 + i].fd >= 0 && p[2 + i].revents)
			seen |= 1u << i;
	if (seen == 0)
		return;
	/* The register file reads the eventfds under its lock (it knows
	 * whether the queue is still the one that broke). */
	atomic_fetch_or(&d->err_seen, seen);
	virtio_mmio_post(&d->mmio, VIRTIO_MMIO_EV_SYNC);
}

/* At exit: a spawned process whose socket hung up before the VM stopped
 * is ending by itself (killed, crashed) and its SIGCHLD may not have come
 * yet (its supervisor ends after its jailed child): wait for it a little,
 * so that the line saying how it ended is not lost to the exit. */
static void
vhost_dev_report_late(struct vhost_dev *d)
{
	struct timespec pause = { 0, 5000000L };
	int64_t end = vhost_dev_now_ms() + VHOST_DEV_LATE_MS;

	if (!d->hung_up || atomic_load(&d->reported))
		return;
	for (;;) {
		vhost_dev_child_check(d);
		if (d->pid <= 0 || vhost_dev_now_ms() >= end)
			return;
		nanosleep(&pause, NULL);
	}
}

void
vhost_dev_shutdown(struct vhost_dev *d)
{
	if (d == NULL)
		return;
	vhost_dev_report_late(d);
	atomic_store(&d->reported, true);      /* no failure lines at exit */
	if (d->front.sock >= 0)
		shutdown(d->front.sock, SHUT_RDWR);
}

unsigned
vhost_dev_fds(const struct vhost_dev *d, int *fds, unsigned max)
{
	unsigned i, n = 0;

	if (max < VHOST_DEV_MAX_FDS)
		return 0;
	if (d->front.sock >= 0)
		fds[n++] = d->front.sock;
	fds[n++] = d->call_efd;
	fds[n++] = d->wake_efd;
	for (i = 0; i < d->nqueues; i++) {
		fds[n++] = d->kick_efd[i];
		fds[n++] = d->err_efd[i];
	}
	return n;
}

void
vhost_dev_print_stats(struct vhost_dev *d)
{
	fprintf(stderr, PROG ": stats: %s: mmio_exits=%lu\n", d->name,
	    virtio_mmio_exits(&d->mmio));
}

void
vhost_dev_destroy_all(struct vhost_dev **devs, unsigned n, int timeout_ms)
{
	pid_t pids[VIRTIO_MMIO_MAX_DEVICES];
	unsigned i, np = 0;

	for (i = 0; i < n; i++) {
		if (devs[i] == NULL)
			continue;
		vu_front_close(&devs[i]->front);   /* EOF: a device process exits 0 */
		if (devs[i]->pid > 0 && np < VIRTIO_MMIO_MAX_DEVICES)
			pids[np++] = devs[i]->pid;
	}
	devproc_terminate(pids, np, VHOST_DEV_EXIT_GRACE_MS, timeout_ms);
	for (i = 0; i < n; i++) {
		if (devs[i] != NULL)
			vhost_dev_free(devs[i]);
		devs[i] = NULL;
	}
}
