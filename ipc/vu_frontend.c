/*
 * The vhost-user frontend: blocking request/reply over one socket, used by
 * the vmm and the host test driver. Every reply is waited for at most
 * f->timeout_ms and checked by vu_msg_check_reply; with REPLY_ACK
 * negotiated, requests without a reply of their own carry NEED_REPLY and
 * their ack is checked. The first failure marks the connection broken for
 * good (a backend that misbehaved once is not trusted again) and is kept in
 * f->why for the caller to report: this module prints nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vu.h"

#define VU_FRONT_TIMEOUT_MS 5000
#define VU_CONNECT_RETRY_MS 20

void
vu_front_init(struct vu_front *f, int sock, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->sock = sock;
	f->timeout_ms = VU_FRONT_TIMEOUT_MS;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "vhost-user");
}

void
vu_front_close(struct vu_front *f)
{
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
}

/* ---------------------------------------------------------------- connect */

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait for a non-blocking connect in progress; returns 0 or -errno. */
static int
connect_wait(int s, int64_t deadline)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int64_t left = deadline - now_ms();
	socklen_t len = sizeof(int);
	int err = 0, rc;

	do
		rc = poll(&p, 1, left > 0 ? (int)left : 0);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return rc < 0 ? -errno : -ETIMEDOUT;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

/* One non-blocking attempt (a full backlog is EAGAIN, not a hang); the
 * socket returned is blocking again. */
static int
try_connect(const struct sockaddr_un *sa, int64_t deadline)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = 0;

	if (s < 0)
		return -errno;
	if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		rc = errno == EINPROGRESS ? connect_wait(s, deadline) : -errno;
	if (rc == 0 && fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK) < 0)
		rc = -errno;
	if (rc == 0)
		return s;
	close(s);
	return rc;
}

int
vu_front_connect_path(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		s = try_connect(&sa, deadline);
		if (s >= 0)
			return s;
		if (s != -ENOENT && s != -ECONNREFUSED && s != -EAGAIN && s != -EINTR)
			return s;
		if (now_ms() >= deadline)
			return s;
		usleep(VU_CONNECT_RETRY_MS * 1000);
	}
}

/* ----------------------------------------------------------- one request */

static bool
has_reply(uint32_t request)
{
	return request == VHOST_USER_GET_FEATURES ||
	    request == VHOST_USER_GET_PROTOCOL_FEATURES ||
	    request == VHOST_USER_GET_VRING_BASE ||
	    request == VHOST_USER_GET_QUEUE_NUM ||
	    request == VHOST_USER_GET_CONFIG;
}

/* Mark f broken and keep the first reason in f->why (nothing printed). */
static int
front_fail(struct vu_front *f, uint32_t request, int rc, const char *why)
{
	if (!f->broken)
		snprintf(f->why, sizeof(f->why), "%s: %s", vu_request_name(request),
		    why);
	f->broken = true;
	return rc;
}

/* Bound a blocking send by f->timeout_ms (SO_SNDTIMEO: vu_msg_send then
 * fails with -ETIMEDOUT instead of waiting forever on a full socket). */
static void
front_send_timeout(struct vu_front *f)
{
	struct timeval tv = { 0, 0 };

	if (f->timeout_ms > 0) {
		tv.tv_sec = f->timeout_ms / 1000;
		tv.tv_usec = (f->timeout_ms % 1000) * 1000;
	}
	(void)setsockopt(f->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Wait for the reply to `req` and check it. */
static int
front_reply(struct vu_front *f, const struct vhost_user_msg *req,
    struct vhost_user_msg *rep)
{
	uint32_t r = req->hdr.request;
	int rc = vu_msg_recv(f->sock, rep, f->timeout_ms);

	if (rc == -ETIMEDOUT)
		return front_fail(f, r, rc, "no reply in time");
	if (rc < 0)
		return front_fail(f, r, rc == -EPROTO ? rc : -EPIPE,
		    rc == -EPROTO ? "malformed reply" : "connection lost");
	if (r == VHOST_USER_GET_CONFIG && rep->hdr.size == 0 &&
	    rep->hdr.request == r && rep->nfds == 0)
		return front_fail(f, r, -EIO, "refused by the backend");
	rc = vu_msg_check_reply(rep, r, r == VHOST_USER_GET_CONFIG ?
	    req->payload.config.size : 0);
	if (rc < 0) {
		vu_msg_close_fds(rep);
		return front_fail(f, r, -EPROTO, "reply breaks the protocol");
	}
	return 0;
}

/*
 * Send req (flags are set here) and, when it has a reply or an ack is due,
 * receive and check it into rep. Returns 0 or -errno; any failure marks f
 * broken.
 */
static int
front_call(struct vu_front *f, struct vhost_user_msg *req, struct vhost_user_msg *rep)
{
	uint32_t r = req->hdr.request;
	bool ack = !has_reply(r) &&
	    (f->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	int rc;

	if (f->broken || f->sock < 0)
		return -EPIPE;
	req->hdr.flags = VHOST_USER_VERSION | (ack ? VHOST_USER_NEED_REPLY : 0);
	front_send_timeout(f);
	rc = vu_msg_send(f->sock, req);
	if (rc == -ETIMEDOUT)
		return front_fail(f, r, rc, "cannot send in time (backend not reading)");
	if (rc < 0)
		return front_fail(f, r, rc, "cannot send (connection lost)");
	if (!ack && !has_reply(r))
		return 0;
	rc = front_reply(f, req, rep);
	if (rc < 0)
		return rc;
	if (ack && rep->payload.u64 != 0)
		return front_fail(f, r, -EIO, "refused by the backend");
	return 0;
}

static void
msg_init(struct vhost_user_msg *m, uint32_t request, uint32_t size)
{
	memset(m, 0, sizeof(*m));
	m->hdr.request = request;
	m->hdr.size = size;
}

static int
call_u64(struct vu_front *f, uint32_t request, uint64_t v)
{
	struct vhost_user_msg m, rep;

	msg_init(&m, request, sizeof(uint64_t));
	m.payload.u64 = v;
	return front_call(f, &m, &rep);
}

static int
call_none(struct vu_front *f, uint32_t request)
{
	struct vhost_user_msg m, rep;

	msg_init(&m, request, 0);
	return front_call(f, &m, &rep);
}

static int
get_u64(struct vu_front *f, uint32_t request, uint64_t *out)
{
	struct vhost_user_msg m, rep;
	int rc;

	msg_init(&m, request, 0);
	rc = front_call(f, &m, &rep);
	if (rc == 0)
		*out = rep.payload.u64;
	return rc;
}

static int
call_state(struct vu_front *f, uint32_t request, unsigned idx, unsigned num)
{
	struct vhost_user_msg m, rep;

	msg_init(&m, request, sizeof(m.payload.state));
	m.payload.state.index = idx;
	m.payload.state.num = num;
	return front_call(f, &m, &rep);
}

static int
call_vring_fd(struct vu_front *f, uint32_t request, unsigned idx, int fd)
{
	struct vhost_user_msg m, rep;

	if (idx > VHOST_USER_VRING_IDX_MASK)
		return -EINVAL;
	msg_init(&m, request, sizeof(uint64_t));
	m.payload.u64 = idx;
	if (fd < 0) {
		m.payload.u64 |= VHOST_USER_VRING_NOFD_MASK;
	} else {
		m.fds[0] = fd;
		m.nfds = 1;
	}
	return front_call(f, &m, &rep);
}

/* -------------------------------------------------------------- messages */

int
vu_front_get_features(struct vu_front *f, uint64_t *features)
{
	return get_u64(f, VHOST_USER_GET_FEATURES, features);
}

int
vu_front_set_features(struct vu_front *f, uint64_t features)
{
	return call_u64(f, VHOST_USER_SET_FEATURES, features);
}

int
vu_front_get_protocol_features(struct vu_front *f, uint64_t *pf)
{
	return get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES, pf);
}

/* Sent before REPLY_ACK is in force (f->protocol_features is what the
 * previous call negotiated); the new set applies from the next call. */
int
vu_front_set_protocol_features(struct vu_front *f, uint64_t pf)
{
	int rc = call_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, pf);

	if (rc == 0)
		f->protocol_features = pf;
	return rc;
}

int
vu_front_set_owner(struct vu_front *f)
{
	return call_none(f, VHOST_USER_SET_OWNER);
}

int
vu_front_reset_owner(struct vu_front *f)
{
	return call_none(f, VHOST_USER_RESET_OWNER);
}

int
vu_front_get_queue_num(struct vu_front *f, uint64_t *num)
{
	return get_u64(f, VHOST_USER_GET_QUEUE_NUM, num);
}

int
vu_front_handshake(struct vu_front *f)
{
	uint64_t theirs = 0;
	int rc;

	rc = vu_front_set_owner(f);
	if (rc == 0)
		rc = vu_front_get_features(f, &f->features);
	if (rc < 0 || !(f->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		return rc;
	rc = vu_front_get_protocol_features(f, &theirs);
	if (rc == 0)
		rc = vu_front_set_protocol_features(f, theirs & VU_FRONT_PROTOCOL_FEATURES);
	return rc;
}

int
vu_front_set_mem_table(struct vu_front *f,
    const struct vhost_user_memory_region *regions, const int *fds, unsigned n)
{
	struct vhost_user_msg m, rep;

	if (n == 0 || n > VHOST_USER_MAX_REGIONS)
		return -EINVAL;
	msg_init(&m, VHOST_USER_SET_MEM_TABLE, VHOST_USER_MEMORY_SIZE(n));
	m.payload.memory.nregions = n;
	memcpy(m.payload.memory.regions, regions, sizeof(*regions) * n);
	memcpy(m.fds, fds, sizeof(*fds) * n);
	m.nfds = n;
	return front_call(f, &m, &rep);
}

int
vu_front_set_vring_num(struct vu_front *f, unsigned idx, unsigned num)
{
	return call_state(f, VHOST_USER_SET_VRING_NUM, idx, num);
}

int
vu_front_set_vring_addr(struct vu_front *f, unsigned idx, uint64_t desc_qva,
    uint64_t avail_qva, uint64_t used_qva)
{
	struct vhost_user_msg m, rep;

	msg_init(&m, VHOST_USER_SET_VRING_ADDR, sizeof(m.payload.addr));
	m.payload.addr.index = idx;
	m.payload.addr.desc_user_addr = desc_qva;
	m.payload.addr.avail_user_addr = avail_qva;
	m.payload.addr.used_user_addr = used_qva;
	return front_call(f, &m, &rep);
}

int
vu_front_set_vring_base(struct vu_front *f, unsigned idx, unsigned base)
{
	return call_state(f, VHOST_USER_SET_VRING_BASE, idx, base);
}

int
vu_front_get_vring_base(struct vu_front *f, unsigned idx, unsigned *base)
{
	struct vhost_user_msg m, rep;
	int rc;

	msg_init(&m, VHOST_USER_GET_VRING_BASE, sizeof(m.payload.state));
	m.payload.state.index = idx;
	rc = front_call(f, &m, &rep);
	if (rc == 0 && rep.payload.state.index != idx)
		rc = front_fail(f, m.hdr.request, -EPROTO, "reply names another vring");
	if (rc == 0)
		*base = rep.payload.state.num;
	return rc;
}

int
vu_front_set_vring_kick(struct vu_front *f, unsigned idx, int fd)
{
	return call_vring_fd(f, VHOST_USER_SET_VRING_KICK, idx, fd);
}

int
vu_front_set_vring_call(struct vu_front *f, unsigned idx, int fd)
{
	return call_vring_fd(f, VHOST_USER_SET_VRING_CALL, idx, fd);
}

int
vu_front_set_vring_err(struct vu_front *f, unsigned idx, int fd)
{
	return call_vring_fd(f, VHOST_USER_SET_VRING_ERR, idx, fd);
}

int
vu_front_set_vring_enable(struct vu_front *f, unsigned idx, bool enable)
{
	return call_state(f, VHOST_USER_SET_VRING_ENABLE, idx, enable ? 1 : 0);
}

static bool
config_range_ok(uint32_t offset, uint32_t len)
{
	return len <= VHOST_USER_MAX_CONFIG_SIZE &&
	    offset <= VHOST_USER_MAX_CONFIG_SIZE - len;
}

int
vu_front_get_config(struct vu_front *f, uint32_t offset, void *buf, uint32_t len)
{
	struct vhost_user_msg m, rep;
	int rc;

	if (!config_range_ok(offset, len))
		return -EINVAL;
	msg_init(&m, VHOST_USER_GET_CONFIG, VHOST_USER_CONFIG_HDR_SIZE + len);
	m.payload.config.offset = offset;
	m.payload.config.size = len;
	rc = front_call(f, &m, &rep);
	if (rc == 0 && rep.payload.config.offset != offset)
		rc = front_fail(f, m.hdr.request, -EPROTO, "reply for another offset");
	if (rc == 0)
		memcpy(buf, rep.payload.config.region, len);
	return rc;
}

int
vu_front_set_config(struct vu_front *f, uint32_t offset, const void *buf,
    uint32_t len)
{
	struct vhost_user_msg m, rep;

	if (!config_range_ok(offset, len))
		return -EINVAL;
	msg_init(&m, VHOST_USER_SET_CONFIG, VHOST_USER_CONFIG_HDR_SIZE + len);
	m.payload.config.offset = offset;
	m.payload.config.size = len;
	memcpy(m.payload.config.region, buf, len);
	return front_call(f, &m, &rep);
}
