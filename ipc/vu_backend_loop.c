/*
 * The vhost-user backend library, part 2: set-up and the single-threaded
 * poll loop over the socket and the kick fds (see vu_backend.c for the
 * messages and the vring states).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vu.h"
#include "vu_internal.h"
#include "vu_backend_priv.h"

/* ---------------------------------------------------------------- setup */

static bool
config_ok(const struct vu_backend_config *cfg)
{
	return cfg != NULL && cfg->ops != NULL && cfg->ops->queue_start != NULL &&
	    cfg->ops->queue_stop != NULL && cfg->ops->queue_kick != NULL &&
	    cfg->num_queues > 0 && cfg->num_queues <= VHOST_USER_MAX_QUEUES &&
	    cfg->max_queue_size > 0;
}

struct vu_backend *
vu_backend_new(int sock, const struct vu_backend_config *cfg)
{
	struct vu_backend *b;
	unsigned i;

	if (!config_ok(cfg))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->sock = sock;
	b->cfg = cfg;
	b->dev_fd = -1;
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++)
		b->vq[i].kick_fd = b->vq[i].call_fd = b->vq[i].err_fd = -1;
	return b;
}

void
vu_backend_free(struct vu_backend *b)
{
	unsigned i;

	if (b == NULL)
		return;
	for (i = 0; i < b->cfg->num_queues; i++)
		vu_be_vring_reset(b, i);
	vu_mem_clear(&b->mem);
	free(b);
}

/* --------------------------------------------------------------- the loop */

/* Drain one readable kick fd and let the device process the ring. A kick
 * fd that reports an error or hang-up is dropped (the ring is marked
 * broken) rather than polled in a busy loop. */
static void
serve_kick(struct vu_backend *b, unsigned i, short revents)
{
	uint64_t v;
	ssize_t n;

	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		vu_be_log(b, "kick fd", "queue %u: error or hang-up; ring stopped", i);
		vu_backend_ring_error(b, i);
		return;
	}
	do
		n = read(b->vq[i].kick_fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	vu_be_vring_kick(b, i);
}

/* Fill pfd[1..] with the kick fds to poll; idx[k] is pfd[k+1]'s vring. */
static unsigned
collect_kicks(struct vu_backend *b, struct pollfd *pfd, unsigned *idx)
{
	unsigned i, n = 0;

	for (i = 0; i < b->cfg->num_queues; i++) {
		if (!vu_be_vring_ready(b, &b->vq[i]))
			continue;
		pfd[n + 1].fd = b->vq[i].kick_fd;
		pfd[n + 1].events = POLLIN;
		pfd[n + 1].revents = 0;
		idx[n++] = i;
	}
	return n;
}

/* Put the watched device fd (vu_backend_watch_fd) at pfd[at]; returns
 * 1 if there is one, else 0. */
static unsigned
collect_device(const struct vu_backend *b, struct pollfd *pfd, unsigned at)
{
	if (b->dev_fd < 0 || b->dev_events == 0)
		return 0;
	pfd[at].fd = b->dev_fd;
	pfd[at].events = b->dev_events;
	pfd[at].revents = 0;
	return 1;
}

/* The device fd fired: call the device, unless a kick served just before
 * changed what it watches (then the next poll asks again). */
static void
serve_device(struct vu_backend *b, const struct pollfd *p)
{
	short rev = p->revents & (b->dev_events | POLLERR | POLLHUP | POLLNVAL);

	if (p->fd != b->dev_fd || b->dev_events == 0 || rev == 0)
		return;
	b->cfg->ops->device_event(b->cfg->dev, b, rev);
}

_Static_assert(VHOST_USER_MAX_QUEUES <= 64, "rekick masks are 64 bits");

/* Take the rings that asked to be called again (bit i: vring i). */
static uint64_t
take_rekicks(struct vu_backend *b)
{
	uint64_t mask = 0;
	unsigned i;

	for (i = 0; i < b->cfg->num_queues; i++) {
		if (b->vq[i].rekick)
			mask |= 1ull << i;
		b->vq[i].rekick = false;
	}
	return mask;
}

/* Serve the fired kick fds; a ring served here is dropped from *rekicks. */
static void
serve_kicks(struct vu_backend *b, struct pollfd *pfd, const unsigned *idx, unsigned n,
    uint64_t *rekicks)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		if (pfd[k + 1].revents == 0 || !vu_be_vring_ready(b, &b->vq[idx[k]]))
			continue;
		*rekicks &= ~(1ull << idx[k]);
		serve_kick(b, idx[k], pfd[k + 1].revents);
	}
}

static void
serve_rekicks(struct vu_backend *b, uint64_t rekicks)
{
	unsigned i;

	for (i = 0; i < b->cfg->num_queues; i++)
		if (rekicks & (1ull << i))
			vu_be_vring_kick(b, i);
}

void
vu_backend_poll_kicks(struct vu_backend *b)
{
	struct pollfd pfd[VHOST_USER_MAX_QUEUES + 2];
	unsigned idx[VHOST_USER_MAX_QUEUES];
	uint64_t rekicks = take_rekicks(b);
	unsigned n = collect_kicks(b, pfd, idx);
	unsigned ndev = collect_device(b, pfd, n + 1);

	pfd[0].fd = -1;
	pfd[0].events = 0;
	if (n + ndev > 0 && poll(pfd + 1, n + ndev, 0) > 0) {
		serve_kicks(b, pfd, idx, n, &rekicks);
		if (ndev)
			serve_device(b, &pfd[n + 1]);
	}
	serve_rekicks(b, rekicks);
}

/* One message from the socket: 1 to go on, 0 on disconnect, -errno. */
static int
serve_socket(struct vu_backend *b)
{
	struct vhost_user_msg m;
	int rc = vu_msg_recv(b->sock, &m, -1);

	if (rc == -ECONNRESET || rc == -EPIPE)
		return 0;
	if (rc < 0) {
		vu_be_log(b, "receive", "%s", rc == -EPROTO ?
		    "malformed framing (size over the maximum, stray or too many fds)" :
		    rc == -ETIMEDOUT ? "message cut short (the rest did not arrive in time)" :
		    strerror(-rc));
		return rc == -EPROTO ? -EPROTO : rc;
	}
	rc = vu_backend_dispatch(b, &m);
	return rc < 0 ? rc : 1;
}

/* poll the socket, the kick fds and the watched device fd (kicks, then
 * the device fd, then the socket are served); while a ring asked to be
 * called again (vu_backend_rekick) the poll does not wait, and that
 * ring's queue_kick runs after the socket has been served. */
static int
run_loop(struct vu_backend *b)
{
	struct pollfd pfd[VHOST_USER_MAX_QUEUES + 2];
	unsigned idx[VHOST_USER_MAX_QUEUES];
	uint64_t rekicks;
	unsigned n, ndev;
	int rc;

	for (;;) {
		rekicks = take_rekicks(b);
		n = collect_kicks(b, pfd, idx);
		ndev = collect_device(b, pfd, n + 1);
		pfd[0].fd = b->sock;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		rc = poll(pfd, n + 1 + ndev, rekicks != 0 ? 0 : -1);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc < 0) {
			pfd[0].revents = 0;
		} else {
			serve_kicks(b, pfd, idx, n, &rekicks);
			if (ndev)
				serve_device(b, &pfd[n + 1]);
		}
		if (pfd[0].revents != 0) {
			rc = serve_socket(b);
			if (rc <= 0)
				return rc;
		}
		serve_rekicks(b, rekicks);
	}
}

int
vu_backend_run(int sock, const struct vu_backend_config *cfg)
{
	struct vu_backend *b;
	int rc;

	if (!config_ok(cfg))
		return -EINVAL;
	b = vu_backend_new(sock, cfg);
	if (b == NULL)
		return -ENOMEM;
	rc = run_loop(b);
	vu_backend_free(b);
	return rc;
}
