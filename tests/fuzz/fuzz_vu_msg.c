/*
 * libFuzzer target for the vhost-user backend's receive path: framing
 * (vu_msg_recv), validation (vu_msg_check_request) and dispatch
 * (vu_backend_dispatch) with a fake device, over a real socketpair with
 * real fds.
 *
 * The input is a sequence of records, each sent with one sendmsg():
 *   u8  ctl    bits 0-3: fds to attach (0..15, more than 9 sent as 9);
 *              bit 4: attach a 64 KiB memfd (else an eventfd);
 *              bit 5: write the eventfd (a kick) before kicks are polled
 *   u16 len    little-endian, clamped to what is left
 *   len bytes  sent verbatim: headers and payloads as the fuzzer wrote them
 * After each record the backend receives and dispatches every message the
 * socket holds, its replies are drained, and readable kick fds are served.
 * A protocol error ends the input (the real backend disconnects).
 *
 * Checks: no crash (ASan/UBSan), every fd of a message is consumed, no fd
 * is left open once the backend is freed, the device only ever sees rings
 * that vu_mem_ptr can translate in full. Backend log lines are silenced
 * unless FUZZ_VERBOSE is set.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "virtio.h"
#include "vu.h"
#include "vu_internal.h"

#define FUZZ_RAM_SIZE 65536

struct fuzz_dev {
	bool started[2];
	uint16_t next[2];
};

static int
fuzz_get_config(void *dev, uint32_t offset, uint8_t *buf, uint32_t len)
{
	(void)dev;
	FUZZ_CHECK(len <= 256 && offset <= 256 - len);
	memset(buf, 0x5a, len);
	return offset == 13 ? -EIO : 0;
}

/* Touch the first and last byte of a ring part: a translation that lied
 * about the range would fault here (ASan or SIGSEGV/SIGBUS). */
static void
fuzz_touch(const struct vu_mem *mem, uint64_t gpa, uint64_t len)
{
	volatile uint8_t *p = vu_mem_ptr(mem, gpa, len);

	FUZZ_CHECK(p != NULL);
	p[0] = p[0];
	p[len - 1] = p[len - 1];
}

static int
fuzz_queue_start(void *dev, struct vu_backend *b, const struct vu_mem *mem,
    const struct vu_vring_config *c)
{
	struct fuzz_dev *d = dev;

	(void)b;
	FUZZ_CHECK(c->index < 2 && !d->started[c->index]);
	FUZZ_CHECK(c->num != 0 && (c->num & (c->num - 1)) == 0 && c->num <= 256);
	fuzz_touch(mem, c->desc_gpa, VIRTQ_DESC_BYTES(c->num));
	fuzz_touch(mem, c->avail_gpa, VIRTQ_AVAIL_BYTES(c->num));
	fuzz_touch(mem, c->used_gpa, VIRTQ_USED_BYTES(c->num));
	if (c->base == 77)
		return -EINVAL;      /* a device refusing a ring */
	d->started[c->index] = true;
	d->next[c->index] = c->base;
	return 0;
}

static uint16_t
fuzz_queue_stop(void *dev, unsigned index)
{
	struct fuzz_dev *d = dev;

	FUZZ_CHECK(index < 2 && d->started[index]);
	d->started[index] = false;
	return d->next[index];
}

static void
fuzz_queue_kick(void *dev, struct vu_backend *b, unsigned index)
{
	struct fuzz_dev *d = dev;

	FUZZ_CHECK(index < 2 && d->started[index]);
	if (++d->next[index] % 5 == 0)
		vu_backend_ring_error(b, index);
	else
		vu_backend_notify(b, index);
}

static const struct vu_backend_ops fuzz_ops = {
	.get_config = fuzz_get_config,
	.queue_start = fuzz_queue_start,
	.queue_stop = fuzz_queue_stop,
	.queue_kick = fuzz_queue_kick,
};

static int
fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	FUZZ_CHECK(d != NULL);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	if (!fuzz_verbose()) {
		FILE *null = fopen("/dev/null", "w");

		/* libFuzzer captured stderr at start-up; sanitizers write fd 2 */
		if (null != NULL)
			stderr = null;
	}
	return 0;
}

/* sendmsg one record; false when the socket refuses it. */
static bool
fuzz_send(int sock, const uint8_t *p, size_t len, unsigned nfds, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 9)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)p, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	unsigned i;

	if (len == 0)
		return true;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_DONTWAIT) == (ssize_t)len;
}

/* Receive and dispatch all complete messages; false once the connection
 * is dead (protocol error or a message cut short). */
static bool
fuzz_serve(struct vu_backend *b, int rx, int tx)
{
	struct vhost_user_msg m;
	uint8_t junk[1024];
	int rc;

	int avail;

	for (;;) {
		if (ioctl(rx, FIONREAD, &avail) < 0 || avail == 0)
			return true;             /* everything sent was consumed */
		rc = vu_msg_recv(rx, &m, 0);
		if (rc < 0) {                    /* incl. a message cut short */
			FUZZ_CHECK(m.nfds == 0);
			return false;
		}
		rc = vu_backend_dispatch(b, &m);
		FUZZ_CHECK(m.nfds == 0);
		while (recv(tx, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;            /* replies */
		if (rc < 0)
			return false;
	}
}

static void
fuzz_run(const uint8_t *data, size_t size, int rx, int tx, int memfd, int efd)
{
	static const struct vu_backend_config cfg = {
		"fuzz", 2, 256,
		(1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX),
		(1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		    (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |
		    (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE),
		&fuzz_ops, NULL,
	};
	struct vu_backend_config c = cfg;
	struct fuzz_dev dev = { { false, false }, { 0, 0 } };
	struct vu_backend *b;
	uint64_t one = 1;
	size_t off = 0, len;
	unsigned nfds;
	uint8_t ctl;

	c.dev = &dev;
	b = vu_backend_new(rx, &c);
	FUZZ_CHECK(b != NULL);
	while (off + 3 <= size) {
		ctl = data[off];
		len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		nfds = ctl & 15;
		if (!fuzz_send(tx, data + off, len, nfds > 9 ? 9 : nfds, (ctl & 16) ? memfd : efd))
			break;
		off += len;
		if (!fuzz_serve(b, rx, tx))
			break;
		if (ctl & 32)
			(void)!write(efd, &one, sizeof(one));
		vu_backend_poll_kicks(b);
	}
	vu_backend_free(b);
	FUZZ_CHECK(!dev.started[0] && !dev.started[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], memfd, efd, before = fuzz_count_fds();
	uint64_t v;

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	memfd = memfd_create("fuzz-ram", MFD_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	FUZZ_CHECK(memfd >= 0 && efd >= 0 && ftruncate(memfd, FUZZ_RAM_SIZE) == 0);
	fuzz_run(data, size, sv[1], sv[0], memfd, efd);
	while (read(efd, &v, sizeof(v)) > 0)
		;
	close(sv[0]);
	close(sv[1]);
	close(memfd);
	close(efd);
	FUZZ_CHECK(fuzz_count_fds() == before);
	return 0;
}
