/*
 * vhost-user framing: one message (12-byte header, payload, SCM_RIGHTS fds)
 * over an AF_UNIX stream socket, and the per-type checks every received
 * message goes through before anything uses it.
 *
 * Receiving reads the header, checks its size against VHOST_USER_MAX_PAYLOAD,
 * and only then reads exactly that many payload bytes into the fixed-size
 * union: nothing is ever sized by the peer. Received fds are collected
 * into msg->fds (at most VHOST_USER_MAX_FDS) and closed on every error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vu.h"
#include "vu_internal.h"

#define VU_HDR_SIZE ((uint32_t)sizeof(struct vhost_user_header))

static const char *const vu_names[VHOST_USER_MAX_REQUEST] = {
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_SEND_RARP] = "SEND_RARP",
	[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
	[VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
	[26] = "CREATE_CRYPTO_SESSION",
	[27] = "CLOSE_CRYPTO_SESSION",
	[28] = "POSTCOPY_ADVISE",
	[29] = "POSTCOPY_LISTEN",
	[30] = "POSTCOPY_END",
	[31] = "GET_INFLIGHT_FD",
	[32] = "SET_INFLIGHT_FD",
	[33] = "GPU_SET_SOCKET",
	[VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
	[35] = "VRING_KICK",
	[VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[37] = "ADD_MEM_REG",
	[38] = "REM_MEM_REG",
	[39] = "SET_STATUS",
	[40] = "GET_STATUS",
};

const char *
vu_request_name(uint32_t request)
{
	if (request < VHOST_USER_MAX_REQUEST && vu_names[request] != NULL)
		return vu_names[request];
	return "UNKNOWN";
}

void
vu_msg_close_fds(struct vhost_user_msg *msg)
{
	unsigned i;

	for (i = 0; i < msg->nfds && i < VHOST_USER_MAX_FDS; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
}

/* ------------------------------------------------------------------ send */

/* Wait until the socket can take more bytes (a non-blocking socket). */
static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

int
vu_msg_send(int sock, const struct vhost_user_msg *msg)
{
	uint8_t buf[sizeof(struct vhost_user_header) + VHOST_USER_MAX_PAYLOAD];
	union {
		char b[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;
	size_t len, off = 0;
	ssize_t n;

	if (msg->hdr.size > VHOST_USER_MAX_PAYLOAD || msg->nfds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	len = VU_HDR_SIZE + msg->hdr.size;
	memcpy(buf, &msg->hdr, VU_HDR_SIZE);
	memcpy(buf + VU_HDR_SIZE, &msg->payload, msg->hdr.size);
	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	if (msg->nfds > 0) {
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * msg->nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * msg->nfds);
		memcpy(CMSG_DATA(c), msg->fds, sizeof(int) * msg->nfds);
	}
	while (off < len) {
		iov.iov_base = buf + off;
		iov.iov_len = len - off;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc;

			/* A blocking socket says EAGAIN when its SO_SNDTIMEO
			 * expired: the caller's bound on the wait. */
			if (!(fcntl(sock, F_GETFL) & O_NONBLOCK))
				return -ETIMEDOUT;
			rc = wait_fd(sock, POLLOUT, -1);

			if (rc < 0)
				return rc;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		off += (size_t)n;
		mh.msg_control = NULL;       /* fds go with the first byte only */
		mh.msg_controllen = 0;
	}
	return 0;
}

/* --------------------------------------------------------------- receive */

static int
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (ms > 1000000000 ? 1000000000 : (int)ms);
}

/* Take the SCM_RIGHTS fds of one recvmsg into msg; anything else in the
 * control data, a truncation or more than VHOST_USER_MAX_FDS fds in all
 * is -EPROTO (the surplus fds are closed here, the rest by the caller). */
static int
take_fds(struct vhost_user_msg *msg, struct msghdr *mh)
{
	struct cmsghdr *c;
	int rc = (mh->msg_flags & MSG_CTRUNC) ? -EPROTO : 0;
	size_t n, i;
	int fd;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			rc = -EPROTO;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (msg->nfds < VHOST_USER_MAX_FDS) {
				msg->fds[msg->nfds++] = fd;
			} else {
				close(fd);
				rc = -EPROTO;
			}
		}
	}
	return rc;
}

/* A receive deadline; `set` false: none (wait forever). */
struct vu_deadline {
	struct timespec ts;
	bool set;
};

/* Move the deadline to at most ms from now. */
static void
deadline_within(struct vu_deadline *dl, int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	if (!dl->set || t.tv_sec < dl->ts.tv_sec ||
	    (t.tv_sec == dl->ts.tv_sec && t.tv_nsec < dl->ts.tv_nsec))
		dl->ts = t;
	dl->set = true;
}

/* Read exactly len bytes (and any fds sent with them) before the deadline.
 * When `first` (the header), the first byte moves the deadline to at most
 * VU_MSG_REST_MS away: a peer that starts a message must finish it.
 * Returns 0; -ECONNRESET on EOF before the first byte when `first`,
 * -EPROTO on EOF later; -ETIMEDOUT; -errno. */
static int
recv_exact(int sock, void *buf, size_t len, struct vhost_user_msg *msg,
    struct vu_deadline *dl, bool first)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	size_t off = 0;
	ssize_t n;
	int rc;

	while (off < len) {
		rc = wait_fd(sock, POLLIN, dl->set ? ms_left(&dl->ts) : -1);
		if (rc < 0)
			return rc;
		iov.iov_base = (uint8_t *)buf + off;
		iov.iov_len = len - off;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return -errno;
		rc = take_fds(msg, &mh);
		if (rc < 0)
			return rc;
		if (n == 0)
			return (first && off == 0) ? -ECONNRESET : -EPROTO;
		if (first && off == 0)
			deadline_within(dl, VU_MSG_REST_MS);
		off += (size_t)n;
	}
	return 0;
}

int
vu_msg_recv(int sock, struct vhost_user_msg *msg, int timeout_ms)
{
	struct vu_deadline dl = { .set = false };
	int rc;

	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->nfds = 0;
	if (timeout_ms >= 0)
		deadline_within(&dl, timeout_ms);
	rc = recv_exact(sock, &msg->hdr, VU_HDR_SIZE, msg, &dl, true);
	if (rc == 0 && msg->hdr.size > VHOST_USER_MAX_PAYLOAD)
		rc = -EPROTO;                 /* before any payload byte is read */
	if (rc == 0)
		rc = recv_exact(sock, &msg->payload, msg->hdr.size, msg, &dl, false);
	if (rc < 0)
		vu_msg_close_fds(msg);
	return rc;
}

/* ------------------------------------------------------------ validation */

/* The payload size of each request our backend implements (or how to
 * compute it); VU_SIZE_NONE for the ones it does not implement. */
enum { VU_SIZE_MEM = -1, VU_SIZE_CONFIG = -2, VU_SIZE_NONE = -3 };

static int
request_size(uint32_t request)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_RESET_DEVICE:
		return 0;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return (int)sizeof(uint64_t);
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return (int)sizeof(struct vhost_user_vring_state);
	case VHOST_USER_SET_VRING_ADDR:
		return (int)sizeof(struct vhost_user_vring_addr);
	case VHOST_USER_SET_MEM_TABLE:
		return VU_SIZE_MEM;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		return VU_SIZE_CONFIG;
	default:
		return VU_SIZE_NONE;
	}
}

bool
vu_msg_request_implemented(uint32_t request)
{
	return request_size(request) != VU_SIZE_NONE;
}

static int
check_mem_table(const struct vhost_user_msg *msg)
{
	uint32_t n;

	if (msg->hdr.size < VHOST_USER_MEMORY_SIZE(0))
		return -EPROTO;
	n = msg->payload.memory.nregions;
	if (n == 0 || n > VHOST_USER_MAX_REGIONS ||
	    msg->hdr.size != VHOST_USER_MEMORY_SIZE(n) || msg->nfds != n)
		return -EPROTO;
	return 0;
}

/* Both directions of GET/SET_CONFIG: 12 + size bytes, size <= 256,
 * offset + size <= 256. */
static int
check_config(const struct vhost_user_msg *msg)
{
	const struct vhost_user_config *c = &msg->payload.config;

	if (msg->hdr.size < VHOST_USER_CONFIG_HDR_SIZE ||
	    c->size > VHOST_USER_MAX_CONFIG_SIZE ||
	    c->offset > VHOST_USER_MAX_CONFIG_SIZE - c->size ||
	    msg->hdr.size != VHOST_USER_CONFIG_HDR_SIZE + c->size)
		return -EPROTO;
	return 0;
}

static int
check_vring_file(const struct vhost_user_msg *msg)
{
	uint64_t v = msg->payload.u64;

	if (v & ~(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK))
		return -EPROTO;
	return msg->nfds == ((v & VHOST_USER_VRING_NOFD_MASK) ? 0u : 1u) ? 0 : -EPROTO;
}

static int
check_flags(uint32_t flags, bool reply)
{
	uint32_t allowed = VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK |
	    VHOST_USER_NEED_REPLY;

	if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    (flags & ~allowed) != 0)
		return -EPROTO;
	return (!!(flags & VHOST_USER_REPLY_MASK) == reply) ? 0 : -EPROTO;
}

int
vu_msg_check_request(const struct vhost_user_msg *msg)
{
	uint32_t req = msg->hdr.request;
	int size;

	if (check_flags(msg->hdr.flags, false) < 0 || msg->hdr.size > VHOST_USER_MAX_PAYLOAD ||
	    msg->nfds > VHOST_USER_MAX_FDS)
		return -EPROTO;
	if (req == VHOST_USER_NONE || req >= VHOST_USER_MAX_REQUEST)
		return -EPROTO;
	size = request_size(req);
	switch (size) {
	case VU_SIZE_NONE:
		return 0;       /* in the spec, not implemented: refused later */
	case VU_SIZE_MEM:
		return check_mem_table(msg);
	case VU_SIZE_CONFIG:
		return (check_config(msg) == 0 && msg->nfds == 0) ? 0 : -EPROTO;
	default:
		break;
	}
	if (msg->hdr.size != (uint32_t)size)
		return -EPROTO;
	if (req == VHOST_USER_SET_VRING_KICK || req == VHOST_USER_SET_VRING_CALL ||
	    req == VHOST_USER_SET_VRING_ERR)
		return check_vring_file(msg);
	return msg->nfds == 0 ? 0 : -EPROTO;
}

int
vu_msg_check_reply(const struct vhost_user_msg *msg, uint32_t request,
    uint32_t config_size)
{
	if (check_flags(msg->hdr.flags, true) < 0 || msg->hdr.request != request ||
	    msg->nfds != 0 || msg->hdr.size > VHOST_USER_MAX_PAYLOAD)
		return -EPROTO;
	switch (request) {
	case VHOST_USER_GET_VRING_BASE:
		return msg->hdr.size == sizeof(struct vhost_user_vring_state) ? 0 : -EPROTO;
	case VHOST_USER_GET_CONFIG:
		if (check_config(msg) < 0 || msg->payload.config.size != config_size)
			return -EPROTO;
		return 0;
	default:        /* GET_FEATURES ... and every REPLY_ACK: a u64 */
		return msg->hdr.size == sizeof(uint64_t) ? 0 : -EPROTO;
	}
}
