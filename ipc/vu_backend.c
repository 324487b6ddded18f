/*
 * The vhost-user backend library: one frontend connection, one thread.
 * Every message is checked by vu_msg_check_request, then one handler per
 * request checks its values and acts on the vring state; a device plugs in
 * by struct vu_backend_ops.
 *
 * Ring states are the spec's: stopped until SET_VRING_KICK (with num,
 * addresses and a memory table set), started until GET_VRING_BASE; when
 * VHOST_USER_F_PROTOCOL_FEATURES was acked a started ring is disabled until
 * SET_VRING_ENABLE 1, otherwise enabled. Only started, enabled and unbroken
 * rings have their kick fd polled. A broken ring stays broken (not polled,
 * not restarted by SET_MEM_TABLE) until GET_VRING_BASE stops it.
 *
 * Kick, call and err fds must be eventfds (checked on arrival). A device
 * that stops a long run of work asks to be called again with
 * vu_backend_rekick: a flag here, served after the socket, never a write
 * to the peer's kick fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio.h"
#include "vu.h"
#include "vu_internal.h"
#include "vu_backend_priv.h"

/* Protocol features the library knows how to honour. */
#define VU_BACKEND_PROTOCOL_FEATURES \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | \
	 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | \
	 (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE))

#define VU_F_PROTOCOL_FEATURES (1ull << VHOST_USER_F_PROTOCOL_FEATURES)

/* A handler's refusal of a value: REPLY_ACK failure or disconnect. */
#define VU_REFUSED (-EINVAL)


void
vu_be_log(const struct vu_backend *b, const char *what, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: vhost-user: %s: %s\n", b->cfg->name ? b->cfg->name : "vhost-user",
	    what, why);
}

static int
refuse(struct vu_backend *b, const char *why)
{
	b->why = why;
	return VU_REFUSED;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static uint64_t
offered_protocol_features(const struct vu_backend *b)
{
	uint64_t pf = b->cfg->protocol_features & VU_BACKEND_PROTOCOL_FEATURES;

	if (b->cfg->ops->get_config == NULL)
		pf &= ~(1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	return pf;
}

bool
vu_be_vring_ready(const struct vu_backend *b, const struct vu_vring *vq)
{
	bool enabled = vq->enabled || !(b->features & VU_F_PROTOCOL_FEATURES);

	return vq->started && enabled && !vq->broken && vq->kick_fd >= 0;
}

static void
signal_fd(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	if (fd < 0)
		return;
	do
		n = write(fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, the peer will see it anyway */
}

/* Without PROTOCOL_FEATURES a ring starts at SET_VRING_KICK and QEMU may
 * send SET_VRING_CALL (and SET_VRING_ERR) after it: a signal that finds no
 * fd is remembered and sent when the fd arrives. */
void
vu_backend_notify(struct vu_backend *b, unsigned index)
{
	if (b == NULL || index >= b->cfg->num_queues)
		return;
	b->vq[index].call_missed = b->vq[index].call_fd < 0;
	signal_fd(b->vq[index].call_fd);
}

void
vu_backend_rekick(struct vu_backend *b, unsigned index)
{
	if (b != NULL && index < b->cfg->num_queues)
		b->vq[index].rekick = true;
}

bool
vu_backend_vring_ready(const struct vu_backend *b, unsigned index)
{
	return b != NULL && index < b->cfg->num_queues && vu_be_vring_ready(b, &b->vq[index]);
}

void
vu_backend_watch_fd(struct vu_backend *b, int fd, short events)
{
	if (b == NULL || b->cfg->ops->device_event == NULL)
		return;
	b->dev_fd = events != 0 ? fd : -1;
	b->dev_events = fd >= 0 ? events : 0;
}

bool
vu_backend_rekick_pending(const struct vu_backend *b, unsigned index)
{
	return b != NULL && index < b->cfg->num_queues && b->vq[index].rekick;
}

void
vu_backend_ring_error(struct vu_backend *b, unsigned index)
{
	if (b == NULL || index >= b->cfg->num_queues)
		return;
	b->vq[index].broken = true;
	b->vq[index].rekick = false;
	b->vq[index].err_missed = b->vq[index].err_fd < 0;
	signal_fd(b->vq[index].err_fd);
}

/* ----------------------------------------------------------- vring state */

void
vu_be_vring_kick(struct vu_backend *b, unsigned i)
{
	if (vu_be_vring_ready(b, &b->vq[i]))
		b->cfg->ops->queue_kick(b->cfg->dev, b, i);
}

/* Translate the ring's three parts (whole sizes, in one region each). */
static int
vring_translate(struct vu_backend *b, unsigned i, struct vu_vring_config *c)
{
	const struct vu_vring *vq = &b->vq[i];

	if (vu_mem_qva_to_gpa(&b->mem, vq->desc_qva, VIRTQ_DESC_BYTES(vq->num), &c->desc_gpa) < 0 ||
	    vu_mem_qva_to_gpa(&b->mem, vq->avail_qva, VIRTQ_AVAIL_BYTES(vq->num), &c->avail_gpa) < 0 ||
	    vu_mem_qva_to_gpa(&b->mem, vq->used_qva, VIRTQ_USED_BYTES(vq->num), &c->used_gpa) < 0)
		return refuse(b, "ring address outside the memory table");
	return 0;
}

/* Start a stopped ring with its current settings; the device's refusal
 * leaves it stopped. Returns 0 or VU_REFUSED (b->why set). */
static int
vring_start(struct vu_backend *b, unsigned i)
{
	struct vu_vring *vq = &b->vq[i];
	struct vu_vring_config c;
	int rc;

	if (vq->num == 0 || !vq->addr_set || b->mem.nregions == 0)
		return refuse(b, "ring started before its size, addresses and memory table");
	memset(&c, 0, sizeof(c));
	rc = vring_translate(b, i, &c);
	if (rc < 0)
		return rc;
	c.index = i;
	c.num = vq->num;
	c.base = vq->base;
	c.event_idx = !!(b->features & (1ull << VIRTIO_F_RING_EVENT_IDX));
	c.indirect = !!(b->features & (1ull << VIRTIO_F_RING_INDIRECT_DESC));
	rc = b->cfg->ops->queue_start(b->cfg->dev, b, &b->mem, &c);
	if (rc < 0)
		return refuse(b, "the device could not start the ring");
	vq->started = true;
	vu_be_vring_kick(b, i);            /* buffers may be pending already */
	return 0;
}

static void
vring_stop(struct vu_backend *b, unsigned i)
{
	struct vu_vring *vq = &b->vq[i];

	if (!vq->started)
		return;
	vq->base = b->cfg->ops->queue_stop(b->cfg->dev, i);
	vq->started = false;
	vq->rekick = false;
}

void
vu_be_vring_reset(struct vu_backend *b, unsigned i)
{
	struct vu_vring *vq = &b->vq[i];

	vring_stop(b, i);
	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

/* ------------------------------------------------------------- replies */

static int
send_reply(struct vu_backend *b, struct vhost_user_msg *m, uint32_t size)
{
	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	m->hdr.size = size;
	m->nfds = 0;
	if (b->sock < 0)
		return 0;
	return vu_msg_send(b->sock, m);
}

static int
reply_u64(struct vu_backend *b, struct vhost_user_msg *m, uint64_t v)
{
	m->payload.u64 = v;
	return send_reply(b, m, sizeof(uint64_t));
}

/* ------------------------------------------------------------ handlers */

static int
get_vring_index(struct vu_backend *b, uint64_t index, unsigned *out)
{
	if (index >= b->cfg->num_queues)
		return refuse(b, "vring index out of range");
	*out = (unsigned)index;
	return 0;
}

static int
h_get_features(struct vu_backend *b, struct vhost_user_msg *m)
{
	return reply_u64(b, m, b->cfg->features | VU_F_PROTOCOL_FEATURES);
}

static int
h_set_features(struct vu_backend *b, struct vhost_user_msg *m)
{
	uint64_t f = m->payload.u64;

	if (f & ~(b->cfg->features | VU_F_PROTOCOL_FEATURES))
		return refuse(b, "features not offered");
	b->features = f;
	if (b->cfg->ops->set_features != NULL)
		b->cfg->ops->set_features(b->cfg->dev, f);
	return 0;
}

static int
h_get_protocol_features(struct vu_backend *b, struct vhost_user_msg *m)
{
	return reply_u64(b, m, offered_protocol_features(b));
}

static int
h_set_protocol_features(struct vu_backend *b, struct vhost_user_msg *m)
{
	if (m->payload.u64 & ~offered_protocol_features(b))
		return refuse(b, "protocol features not offered");
	b->protocol_features = m->payload.u64;
	return 0;
}

static int
h_set_owner(struct vu_backend *b, struct vhost_user_msg *m)
{
	(void)b;
	(void)m;
	return 0;
}

/* Deprecated; the spec recommends disabling all rings: stop them. */
static int
h_reset_owner(struct vu_backend *b, struct vhost_user_msg *m)
{
	unsigned i;

	(void)m;
	for (i = 0; i < b->cfg->num_queues; i++) {
		vring_stop(b, i);
		close_fd(&b->vq[i].kick_fd);
	}
	return 0;
}

static int
h_reset_device(struct vu_backend *b, struct vhost_user_msg *m)
{
	unsigned i;

	(void)m;
	if (!(b->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE)))
		return refuse(b, "RESET_DEVICE not negotiated");
	for (i = 0; i < b->cfg->num_queues; i++)
		vu_be_vring_reset(b, i);
	vu_mem_clear(&b->mem);
	b->features = 0;
	return 0;
}

static int
h_get_queue_num(struct vu_backend *b, struct vhost_user_msg *m)
{
	return reply_u64(b, m, b->cfg->num_queues);
}

/* Stop the running rings, swap the table, restart them on the new one
 * (with the old one if the new one cannot be mapped). A ring the guest
 * broke is stopped and stays broken: only GET_VRING_BASE + setup restarts
 * it. */
static int
h_set_mem_table(struct vu_backend *b, struct vhost_user_msg *m)
{
	bool restart[VHOST_USER_MAX_QUEUES];
	unsigned i, nfds = m->nfds;
	int rc;

	for (i = 0; i < b->cfg->num_queues; i++) {
		restart[i] = b->vq[i].started && !b->vq[i].broken;
		vring_stop(b, i);
	}
	m->nfds = 0;                 /* vu_mem_set_table owns the fds */
	rc = vu_mem_set_table(&b->mem, &m->payload.memory, m->fds, nfds);
	for (i = 0; i < b->cfg->num_queues; i++) {
		if (restart[i] && vring_start(b, i) < 0) {
			vu_be_log(b, "SET_MEM_TABLE", "queue %u not restarted: %s", i, b->why);
			vu_backend_ring_error(b, i);
		}
	}
	if (rc < 0)
		return refuse(b, rc == -EINVAL ? "bad memory regions" : "cannot map a region");
	return 0;
}

static int
h_set_vring_num(struct vu_backend *b, struct vhost_user_msg *m)
{
	uint32_t num = m->payload.state.num;
	unsigned i;
	int rc = get_vring_index(b, m->payload.state.index, &i);

	if (rc < 0)
		return rc;
	if (num == 0 || (num & (num - 1)) != 0 || num > b->cfg->max_queue_size)
		return refuse(b, "queue size not a power of 2 within the maximum");
	if (b->vq[i].started)
		return refuse(b, "ring is running");
	b->vq[i].num = (uint16_t)num;
	return 0;
}

static int
h_set_vring_addr(struct vu_backend *b, struct vhost_user_msg *m)
{
	const struct vhost_user_vring_addr *a = &m->payload.addr;
	struct vu_vring *vq;
	unsigned i;
	int rc = get_vring_index(b, a->index, &i);

	if (rc < 0)
		return rc;
	vq = &b->vq[i];
	if (a->flags != 0)
		return refuse(b, "vring logging not supported");
	if (a->desc_user_addr % VIRTQ_DESC_ALIGN || a->avail_user_addr % VIRTQ_AVAIL_ALIGN ||
	    a->used_user_addr % VIRTQ_USED_ALIGN)
		return refuse(b, "misaligned ring address");
	if (vq->started)
		return refuse(b, "ring is running");
	vq->desc_qva = a->desc_user_addr;
	vq->avail_qva = a->avail_user_addr;
	vq->used_qva = a->used_user_addr;
	vq->addr_set = true;
	return 0;
}

static int
h_set_vring_base(struct vu_backend *b, struct vhost_user_msg *m)
{
	unsigned i;
	int rc = get_vring_index(b, m->payload.state.index, &i);

	if (rc < 0)
		return rc;
	if (m->payload.state.num > UINT16_MAX)
		return refuse(b, "base past 65535");
	if (b->vq[i].started)
		return refuse(b, "ring is running");
	b->vq[i].base = (uint16_t)m->payload.state.num;
	return 0;
}

static int
h_get_vring_base(struct vu_backend *b, struct vhost_user_msg *m)
{
	unsigned i;
	int rc = get_vring_index(b, m->payload.state.index, &i);

	if (rc < 0)
		return rc;
	vring_stop(b, i);
	close_fd(&b->vq[i].kick_fd);
	b->vq[i].broken = false;
	b->vq[i].err_missed = false;
	m->payload.state.index = i;
	m->payload.state.num = b->vq[i].base;
	return send_reply(b, m, sizeof(m->payload.state));
}

/* Whether fd is an eventfd, or at least an anonymous-inode file like one:
 * never a pipe, socket, file or device that could block us or carry
 * anything (the only kind of kick/call/err fd we read or write). Every
 * eventfd shares the kernel's one anonymous inode, so compare with one of
 * our own, made on first use. No /proc: it works in the jail. */
static bool
is_eventfd(int fd)
{
	static dev_t anon_dev;
	static ino_t anon_ino;
	static bool known;
	struct stat st;
	int ref;

	if (!known) {
		if ((ref = eventfd(0, EFD_CLOEXEC)) < 0)
			return false;
		if (fstat(ref, &st) == 0) {
			anon_dev = st.st_dev;
			anon_ino = st.st_ino;
			known = true;
		}
		close(ref);
		if (!known)
			return false;
	}
	return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0 &&
	    st.st_dev == anon_dev && st.st_ino == anon_ino;
}

/* The fd of SET_VRING_KICK/CALL/ERR taken out of the message into *fd
 * (-1 with the NOFD bit). Anything but an eventfd is refused (and closed
 * with the message). */
static int
take_vring_fd(struct vu_backend *b, struct vhost_user_msg *m, int *fd)
{
	*fd = -1;
	if (m->nfds != 1)
		return 0;
	if (!is_eventfd(m->fds[0]))
		return refuse(b, "the fd is not an eventfd");
	*fd = m->fds[0];
	m->nfds = 0;
	return 0;
}

static int
h_set_vring_kick(struct vu_backend *b, struct vhost_user_msg *m)
{
	struct vu_vring *vq;
	unsigned i;
	int fd, fl, rc = get_vring_index(b, m->payload.u64 & VHOST_USER_VRING_IDX_MASK, &i);

	if (rc < 0)
		return rc;
	if (m->nfds == 0)
		return refuse(b, "polling mode (no kick fd) not supported");
	rc = take_vring_fd(b, m, &fd);
	if (rc < 0)
		return rc;
	vq = &b->vq[i];
	close_fd(&vq->kick_fd);
	vq->kick_fd = fd;
	fl = fcntl(vq->kick_fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(vq->kick_fd, F_SETFL, fl | O_NONBLOCK);
	if (vq->started) {
		vu_be_vring_kick(b, i);    /* a kick on the old fd may be lost */
		return 0;
	}
	rc = vring_start(b, i);
	if (rc < 0)
		close_fd(&vq->kick_fd);
	return rc;
}

/* SET_VRING_CALL / SET_VRING_ERR: replace the fd (NOFD: none), any time;
 * a signal that found no fd before is sent to the new one. */
static int
h_set_vring_notifier(struct vu_backend *b, struct vhost_user_msg *m)
{
	struct vu_vring *vq;
	bool call = m->hdr.request == VHOST_USER_SET_VRING_CALL;
	bool *missed;
	unsigned i;
	int *fd, newfd, rc = get_vring_index(b, m->payload.u64 & VHOST_USER_VRING_IDX_MASK, &i);

	if (rc < 0)
		return rc;
	rc = take_vring_fd(b, m, &newfd);
	if (rc < 0)
		return rc;
	vq = &b->vq[i];
	fd = call ? &vq->call_fd : &vq->err_fd;
	missed = call ? &vq->call_missed : &vq->err_missed;
	close_fd(fd);
	*fd = newfd;
	if (*missed && *fd >= 0) {
		signal_fd(*fd);
		*missed = false;
	}
	return 0;
}

static int
h_set_vring_enable(struct vu_backend *b, struct vhost_user_msg *m)
{
	unsigned i;
	int rc = get_vring_index(b, m->payload.state.index, &i);

	if (rc < 0)
		return rc;
	if (m->payload.state.num > 1)
		return refuse(b, "enable is neither 0 nor 1");
	b->vq[i].enabled = m->payload.state.num == 1;
	if (b->vq[i].enabled)
		vu_be_vring_kick(b, i);    /* buffers may be pending */
	return 0;
}

/* GET_CONFIG has a reply of its own: a refusal is a reply with an empty
 * payload (the spec's error indication), never a disconnect. */
static int
h_get_config(struct vu_backend *b, struct vhost_user_msg *m)
{
	struct vhost_user_config *c = &m->payload.config;

	if (!(b->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_CONFIG)) ||
	    b->cfg->ops->get_config == NULL) {
		vu_be_log(b, "GET_CONFIG", "refused: CONFIG not negotiated");
		return send_reply(b, m, 0);
	}
	memset(c->region, 0, sizeof(c->region));
	if (b->cfg->ops->get_config(b->cfg->dev, c->offset, c->region, c->size) < 0) {
		vu_be_log(b, "GET_CONFIG", "refused: the device failed");
		return send_reply(b, m, 0);
	}
	return send_reply(b, m, VHOST_USER_CONFIG_HDR_SIZE + c->size);
}

static int
h_set_config(struct vu_backend *b, struct vhost_user_msg *m)
{
	(void)m;
	return refuse(b, "config space is read-only");
}

typedef int (*vu_handler)(struct vu_backend *b, struct vhost_user_msg *m);

struct vu_handler_entry {
	vu_handler fn;
	bool replies;                /* the request has a reply of its own */
};

static const struct vu_handler_entry vu_handlers[VHOST_USER_MAX_REQUEST] = {
	[VHOST_USER_GET_FEATURES] = { h_get_features, true },
	[VHOST_USER_SET_FEATURES] = { h_set_features, false },
	[VHOST_USER_SET_OWNER] = { h_set_owner, false },
	[VHOST_USER_RESET_OWNER] = { h_reset_owner, false },
	[VHOST_USER_SET_MEM_TABLE] = { h_set_mem_table, false },
	[VHOST_USER_SET_VRING_NUM] = { h_set_vring_num, false },
	[VHOST_USER_SET_VRING_ADDR] = { h_set_vring_addr, false },
	[VHOST_USER_SET_VRING_BASE] = { h_set_vring_base, false },
	[VHOST_USER_GET_VRING_BASE] = { h_get_vring_base, true },
	[VHOST_USER_SET_VRING_KICK] = { h_set_vring_kick, false },
	[VHOST_USER_SET_VRING_CALL] = { h_set_vring_notifier, false },
	[VHOST_USER_SET_VRING_ERR] = { h_set_vring_notifier, false },
	[VHOST_USER_GET_PROTOCOL_FEATURES] = { h_get_protocol_features, true },
	[VHOST_USER_SET_PROTOCOL_FEATURES] = { h_set_protocol_features, false },
	[VHOST_USER_GET_QUEUE_NUM] = { h_get_queue_num, true },
	[VHOST_USER_SET_VRING_ENABLE] = { h_set_vring_enable, false },
	[VHOST_USER_GET_CONFIG] = { h_get_config, true },
	[VHOST_USER_SET_CONFIG] = { h_set_config, false },
	[VHOST_USER_RESET_DEVICE] = { h_reset_device, false },
};

/* ------------------------------------------------------------ dispatch */

static bool
wants_ack(const struct vu_backend *b, const struct vhost_user_msg *m, bool replies)
{
	return !replies && (m->hdr.flags & VHOST_USER_NEED_REPLY) &&
	    (b->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
}

int
vu_backend_dispatch(struct vu_backend *b, struct vhost_user_msg *m)
{
	const char *name = vu_request_name(m->hdr.request);
	const struct vu_handler_entry *h = NULL;
	bool ack;
	int rc;

	if (vu_msg_check_request(m) < 0) {
		vu_be_log(b, name, "malformed message (request %u, flags 0x%x, size %u, %u fds)",
		    m->hdr.request, m->hdr.flags, m->hdr.size, m->nfds);
		vu_msg_close_fds(m);
		return -EPROTO;
	}
	h = &vu_handlers[m->hdr.request];
	b->why = "not implemented";
	rc = h->fn != NULL ? h->fn(b, m) : VU_REFUSED;
	vu_msg_close_fds(m);
	ack = wants_ack(b, m, h->replies);
	if (rc == VU_REFUSED && ack) {
		vu_be_log(b, name, "refused: %s", b->why);
		return reply_u64(b, m, 1);
	}
	if (rc == VU_REFUSED) {
		vu_be_log(b, name, "%s", b->why);
		return -EPROTO;
	}
	if (rc == 0 && ack)
		return reply_u64(b, m, 0);
	return rc;
}

