/*
 * vu-driver: the memfd "guest RAM", the vhost-user connection (through the
 * ipc/ frontend) and vring setup / restart.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "drv.h"

int
drv_err(int rc, const char *fmt, ...)
{
	va_list ap;

	fputs("vu-driver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(rc < 0 ? -rc : rc));
	return rc;
}

void
drv_check(struct drv_tally *t, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	t->checks++;
	if (ok) {
		printf("ok %s\n", name);
		return;
	}
	t->failed++;
	printf("not ok %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void
drv_skip(struct drv_tally *t, const char *name, const char *why)
{
	t->checks++;
	printf("ok %s: skip: %s\n", name, why);
}

double
drv_stat_cpu_s(const char *path)
{
	char buf[1024], *p;
	unsigned long long ut, st;
	FILE *f = fopen(path, "r");
	size_t k;

	if (!f)
		return -1;
	k = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[k] = 0;
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double
drv_proc_cpu_s(int pid)
{
	char path[64];

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return drv_stat_cpu_s(path);
}

/* drv_err for a failed vhost-user call: the frontend's own reason
 * (vu_front.why, e.g. "GET_FEATURES: no reply in time") when it has one. */
static int
drv_vu_err(const struct drv *d, int rc, const char *fmt, ...)
{
	va_list ap;

	fputs("vu-driver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (d->f.why[0] != '\0')
		fprintf(stderr, ": %s (%s)\n", d->f.why, strerror(rc < 0 ? -rc : rc));
	else
		fprintf(stderr, ": %s\n", strerror(rc < 0 ? -rc : rc));
	return rc;
}

uint64_t
drv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void *
drv_ptr(const struct drv *d, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end) || end > d->mem_size) {
		fprintf(stderr, "vu-driver: internal: gpa 0x%llx+0x%llx outside RAM\n",
		    (unsigned long long)gpa, (unsigned long long)len);
		abort();
	}
	return d->mem + gpa;
}

static int
drv_make_ram(struct drv *d, uint64_t size)
{
	d->memfd = memfd_create("vu-driver-ram", MFD_CLOEXEC);
	if (d->memfd < 0)
		return drv_err(-errno, "memfd_create");
	if (ftruncate(d->memfd, (off_t)size) < 0)
		return drv_err(-errno, "ftruncate guest RAM to %llu bytes",
		    (unsigned long long)size);
	d->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		return drv_err(-errno, "mmap guest RAM");
	}
	d->mem_size = size;
	return 0;
}

static int
drv_make_eventfds(struct drv *d)
{
	for (unsigned i = 0; i < DRV_MAX_VQS; i++) {
		struct drv_vq *q = &d->vqs[i];

		q->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		q->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		q->err_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->kick_fd < 0 || q->call_fd < 0 || q->err_fd < 0)
			return drv_err(-errno, "eventfd");
	}
	return 0;
}

static int
drv_query(struct drv *d)
{
	const char *p = d->o->socket;
	int rc;

	d->offered = d->f.features;
	d->queue_num = 1;
	if (d->f.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_MQ)) {
		rc = vu_front_get_queue_num(&d->f, &d->queue_num);
		if (rc < 0)
			return drv_vu_err(d, rc, "%s: GET_QUEUE_NUM", p);
	}
	if (d->f.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_CONFIG)) {
		rc = vu_front_get_config(&d->f, 0, &d->cfg, sizeof(d->cfg));
		if (rc < 0)
			return drv_vu_err(d, rc, "%s: GET_CONFIG", p);
		d->have_cfg = true;
	}
	return 0;
}

int
drv_open(struct drv *d, const struct drv_opts *o)
{
	int rc, sock;

	memset(d, 0, sizeof(*d));
	d->o = o;
	d->memfd = -1;
	d->nvqs = 1;
	for (unsigned i = 0; i < DRV_MAX_VQS; i++) {
		d->vqs[i].index = i;
		d->vqs[i].kick_fd = d->vqs[i].call_fd = d->vqs[i].err_fd = -1;
	}
	d->f.sock = -1;
	rc = drv_make_ram(d, o->mem_bytes);
	if (rc == 0)
		rc = drv_make_eventfds(d);
	if (rc < 0)
		return rc;
	sock = vu_front_connect_path(o->socket, o->timeout_ms);
	if (sock < 0)
		return drv_err(sock, "connect %s", o->socket);
	vu_front_init(&d->f, sock, "vu-driver");
	d->f.timeout_ms = o->timeout_ms;
	rc = vu_front_handshake(&d->f);
	if (rc < 0)
		return drv_vu_err(d, rc, "%s: handshake (SET_OWNER, GET_FEATURES, "
		    "PROTOCOL_FEATURES)", o->socket);
	return drv_query(d);
}

uint64_t
drv_pick_features(const struct drv *d)
{
	uint64_t want = 0xffffffull | (1ull << VIRTIO_F_VERSION_1) |
	    (1ull << VHOST_USER_F_PROTOCOL_FEATURES);

	if (!d->o->no_event_idx)
		want |= 1ull << VIRTIO_F_RING_EVENT_IDX;
	if (!d->o->no_indirect)
		want |= 1ull << VIRTIO_F_RING_INDIRECT_DESC;
	return d->offered & want;
}

int
drv_start(struct drv *d, uint64_t features)
{
	struct vhost_user_memory_region r = {
		.guest_phys_addr = 0,
		.memory_size = d->mem_size,
		.userspace_addr = (uint64_t)(uintptr_t)d->mem,
		.mmap_offset = 0,
	};
	int rc;

	rc = vu_front_set_features(&d->f, features);
	if (rc < 0)
		return drv_vu_err(d, rc, "%s: SET_FEATURES 0x%llx", d->o->socket,
		    (unsigned long long)features);
	d->acked = features;
	rc = vu_front_set_mem_table(&d->f, &r, &d->memfd, 1);
	if (rc < 0)
		return drv_vu_err(d, rc, "%s: SET_MEM_TABLE", d->o->socket);
	for (unsigned i = 0; i < d->nvqs; i++)
		if ((rc = drv_vring_setup_q(d, i)) < 0)
			return rc;
	return 0;
}

static void
drv_drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

/* The next ring slot in turn that no other vring of ours lives in. */
static unsigned
drv_free_slot(struct drv *d, unsigned index)
{
	for (;;) {
		unsigned s = d->ring_starts++ % DRV_RING_SLOTS;
		bool busy = false;

		for (unsigned i = 0; i < DRV_MAX_VQS; i++)
			busy |= i != index && d->vqs[i].num && d->vqs[i].ring_slot == s;
		if (!busy)
			return s;
	}
}

/* Fresh, zeroed ring memory in the next free slot; keeps the queue's fds. */
static void
drv_vq_layout(struct drv *d, struct drv_vq *q)
{
	struct drv_vq keep = *q;
	uint64_t base;

	memset(q, 0, sizeof(*q));
	q->index = keep.index;
	q->kick_fd = keep.kick_fd;
	q->call_fd = keep.call_fd;
	q->err_fd = keep.err_fd;
	q->ring_slot = drv_free_slot(d, q->index);
	base = q->ring_slot * DRV_RING_SLOT_SIZE;
	q->num = d->o->queue_size;
	q->desc_gpa = base;
	q->avail_gpa = base + DRV_RING_AVAIL_OFF;
	q->used_gpa = base + DRV_RING_USED_OFF;
	q->desc = drv_ptr(d, q->desc_gpa, VIRTQ_DESC_BYTES(q->num));
	q->avail = drv_ptr(d, q->avail_gpa, VIRTQ_AVAIL_BYTES(q->num));
	q->used = drv_ptr(d, q->used_gpa, VIRTQ_USED_BYTES(q->num));
	/* zero what the rings use (hostile mode restarts often) */
	memset(q->desc, 0, VIRTQ_DESC_BYTES(q->num));
	memset(q->avail, 0, VIRTQ_AVAIL_BYTES(q->num));
	memset(q->used, 0, VIRTQ_USED_BYTES(q->num));
	q->event_idx = d->acked & (1ull << VIRTIO_F_RING_EVENT_IDX);
}

static uint64_t
drv_qva(const struct drv *d, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)(d->mem + gpa);
}

int
drv_vring_setup_q(struct drv *d, unsigned i)
{
	struct drv_vq *q = &d->vqs[i];
	const char *p = d->o->socket;
	int rc;

	drv_vq_layout(d, q);
	if ((rc = vu_front_set_vring_num(&d->f, i, q->num)) < 0)
		return drv_vu_err(d, rc, "%s: SET_VRING_NUM %u %u", p, i, q->num);
	rc = vu_front_set_vring_addr(&d->f, i, drv_qva(d, q->desc_gpa),
	    drv_qva(d, q->avail_gpa), drv_qva(d, q->used_gpa));
	if (rc < 0)
		return drv_vu_err(d, rc, "%s: SET_VRING_ADDR %u", p, i);
	if ((rc = vu_front_set_vring_base(&d->f, i, 0)) < 0)
		return drv_vu_err(d, rc, "%s: SET_VRING_BASE %u", p, i);
	if ((rc = vu_front_set_vring_kick(&d->f, i, q->kick_fd)) < 0)
		return drv_vu_err(d, rc, "%s: SET_VRING_KICK %u", p, i);
	if ((rc = vu_front_set_vring_call(&d->f, i, q->call_fd)) < 0)
		return drv_vu_err(d, rc, "%s: SET_VRING_CALL %u", p, i);
	if ((rc = vu_front_set_vring_err(&d->f, i, q->err_fd)) < 0)
		return drv_vu_err(d, rc, "%s: SET_VRING_ERR %u", p, i);
	if (d->acked & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		if ((rc = vu_front_set_vring_enable(&d->f, i, true)) < 0)
			return drv_vu_err(d, rc, "%s: SET_VRING_ENABLE %u", p, i);
	}
	drv_drain(q->call_fd);
	drv_drain(q->err_fd);
	return 0;
}

int
drv_vring_setup(struct drv *d)
{
	return drv_vring_setup_q(d, 0);
}

int
drv_vring_restart_q(struct drv *d, unsigned i, unsigned *base)
{
	unsigned b;
	int rc;

	rc = vu_front_get_vring_base(&d->f, i, &b);
	if (rc < 0)
		return drv_vu_err(d, rc, "%s: GET_VRING_BASE %u", d->o->socket, i);
	if (base)
		*base = b;
	return drv_vring_setup_q(d, i);
}

int
drv_vring_restart(struct drv *d)
{
	return drv_vring_restart_q(d, 0, NULL);
}

bool
drv_peer_closed(const struct drv *d)
{
	struct pollfd p = { .fd = d->f.sock, .events = POLLIN };
	char c;

	if (d->f.sock < 0 || d->f.broken)
		return true;
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLHUP | POLLERR))
		return true;
	return recv(d->f.sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

void
drv_close(struct drv *d)
{
	vu_front_close(&d->f);
	if (d->mem)
		munmap(d->mem, d->mem_size);
	d->mem = NULL;
	if (d->memfd >= 0)
		close(d->memfd);
	d->memfd = -1;
	for (unsigned i = 0; i < DRV_MAX_VQS; i++) {
		struct drv_vq *q = &d->vqs[i];

		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
		if (q->err_fd >= 0)
			close(q->err_fd);
		q->kick_fd = q->call_fd = q->err_fd = -1;
	}
}
