/*
 * cmocka: vhost-user framing and per-type validation (ipc/vu_msg.c).
 * Messages travel over a real socketpair with real fds (eventfds); every
 * test checks that no fd leaks (the count in /proc/self/fd is unchanged).
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
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vu.h"
#include "vu_internal.h"

#define VALID_FLAGS VHOST_USER_VERSION
#define NOFD VHOST_USER_VRING_NOFD_MASK

struct pair {
	int tx, rx;
	int fds_before;
};

static int
setup(void **state)
{
	static struct pair p;
	int sv[2];

	p.fds_before = count_fds();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p.tx = sv[0];
	p.rx = sv[1];
	*state = &p;
	return 0;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	close(p->tx);
	close(p->rx);
	assert_int_equal(count_fds(), p->fds_before);   /* nothing leaked */
	return 0;
}

/* Send header + `len` payload bytes + `nfds` fresh eventfds raw (no
 * checks), closing our copies of the fds. */
static void
send_raw(int sock, uint32_t request, uint32_t flags, uint32_t size,
    const void *payload, size_t len, unsigned nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	uint8_t buf[12 + 512];
	struct vhost_user_header h = { request, flags, size };
	struct iovec iov = { buf, 12 + len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int fds[16];
	unsigned i;

	assert_true(len <= 512 && nfds <= 16);
	memcpy(buf, &h, 12);
	if (len)
		memcpy(buf + 12, payload, len);
	for (i = 0; i < nfds; i++)
		assert_true((fds[i] = eventfd(0, EFD_CLOEXEC)) >= 0);
	if (nfds) {
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)(12 + len));
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/* Receive one message and run the request check; closes the fds. */
static int
recv_check(int sock, struct vhost_user_msg *m)
{
	int rc = vu_msg_recv(sock, m, 1000);
	int fds[VHOST_USER_MAX_FDS];
	unsigned i, n;

	if (rc < 0) {
		assert_int_equal(m->nfds, 0);
		return rc;
	}
	rc = vu_msg_check_request(m);
	n = m->nfds;
	memcpy(fds, m->fds, sizeof(fds));
	vu_msg_close_fds(m);
	assert_int_equal(m->nfds, 0);
	for (i = 0; i < n; i++)         /* really closed */
		assert_int_equal(fcntl(fds[i], F_GETFD), -1);
	return rc;
}

/* ------------------------------------------------- the table of requests */

struct req_case {
	uint32_t request;
	uint32_t size;
	unsigned nfds;
	uint8_t payload[300];
};

static struct req_case cases[32];
static unsigned ncases;

static void
add_case(uint32_t request, uint32_t size, unsigned nfds, const void *payload)
{
	struct req_case *c = &cases[ncases++];

	c->request = request;
	c->size = size;
	c->nfds = nfds;
	memset(c->payload, 0, sizeof(c->payload));
	if (payload)
		memcpy(c->payload, payload, size);
}

/* One valid message of every type the backend parses. */
static void
build_cases(void)
{
	struct vhost_user_memory mem = { .nregions = 1 };
	struct vhost_user_config cfg = { .offset = 0, .size = 60 };
	struct vhost_user_vring_state st = { 0, 256 };
	struct vhost_user_vring_addr addr = { 0 };
	uint64_t one = 1, nofd = 1 | NOFD;

	ncases = 0;
	add_case(VHOST_USER_GET_FEATURES, 0, 0, NULL);
	add_case(VHOST_USER_SET_FEATURES, 8, 0, &one);
	add_case(VHOST_USER_SET_OWNER, 0, 0, NULL);
	add_case(VHOST_USER_RESET_OWNER, 0, 0, NULL);
	add_case(VHOST_USER_SET_MEM_TABLE, VHOST_USER_MEMORY_SIZE(1), 1, &mem);
	mem.nregions = 8;
	add_case(VHOST_USER_SET_MEM_TABLE, VHOST_USER_MEMORY_SIZE(8), 8, &mem);
	add_case(VHOST_USER_SET_VRING_NUM, 8, 0, &st);
	add_case(VHOST_USER_SET_VRING_ADDR, 40, 0, &addr);
	add_case(VHOST_USER_SET_VRING_BASE, 8, 0, &st);
	add_case(VHOST_USER_GET_VRING_BASE, 8, 0, &st);
	add_case(VHOST_USER_SET_VRING_KICK, 8, 1, &one);
	add_case(VHOST_USER_SET_VRING_CALL, 8, 1, &one);
	add_case(VHOST_USER_SET_VRING_ERR, 8, 1, &one);
	add_case(VHOST_USER_SET_VRING_KICK, 8, 0, &nofd);
	add_case(VHOST_USER_SET_VRING_CALL, 8, 0, &nofd);
	add_case(VHOST_USER_SET_VRING_ERR, 8, 0, &nofd);
	add_case(VHOST_USER_GET_PROTOCOL_FEATURES, 0, 0, NULL);
	add_case(VHOST_USER_SET_PROTOCOL_FEATURES, 8, 0, &one);
	add_case(VHOST_USER_GET_QUEUE_NUM, 0, 0, NULL);
	add_case(VHOST_USER_SET_VRING_ENABLE, 8, 0, &st);
	add_case(VHOST_USER_GET_CONFIG, 12 + 60, 0, &cfg);
	add_case(VHOST_USER_SET_CONFIG, 12 + 60, 0, &cfg);
	cfg.size = 0;
	add_case(VHOST_USER_GET_CONFIG, 12, 0, &cfg);
	cfg.size = 256;
	add_case(VHOST_USER_GET_CONFIG, 12 + 256, 0, &cfg);
	add_case(VHOST_USER_RESET_DEVICE, 0, 0, NULL);
}

static int
send_case(struct pair *p, const struct req_case *c, uint32_t flags, uint32_t size,
    unsigned nfds)
{
	struct vhost_user_msg m;
	size_t len = size <= sizeof(c->payload) ? size : sizeof(c->payload);

	uint8_t junk[512];
	int rc;

	send_raw(p->tx, c->request, flags, size, c->payload, len, nfds);
	rc = recv_check(p->rx, &m);
	while (recv(p->rx, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;                    /* a refused header leaves its payload */
	return rc;
}

static void
test_exact_size_ok(void **state)
{
	unsigned i;

	build_cases();
	for (i = 0; i < ncases; i++) {
		const struct req_case *c = &cases[i];

		assert_int_equal(send_case(*state, c, VALID_FLAGS, c->size, c->nfds), 0);
		/* NEED_REPLY is allowed on any request */
		assert_int_equal(send_case(*state, c, VALID_FLAGS | VHOST_USER_NEED_REPLY,
		    c->size, c->nfds), 0);
	}
}

static void
test_short_and_long(void **state)
{
	unsigned i;

	build_cases();
	for (i = 0; i < ncases; i++) {
		const struct req_case *c = &cases[i];

		if (c->size > 0)
			assert_int_equal(send_case(*state, c, VALID_FLAGS, c->size - 1, c->nfds), -EPROTO);
		if (c->size < VHOST_USER_MAX_PAYLOAD)
			assert_int_equal(send_case(*state, c, VALID_FLAGS, c->size + 1, c->nfds), -EPROTO);
		if (c->size + 8 <= VHOST_USER_MAX_PAYLOAD)
			assert_int_equal(send_case(*state, c, VALID_FLAGS, c->size + 8, c->nfds), -EPROTO);
	}
}

static void
test_wrong_fd_count(void **state)
{
	unsigned i;

	build_cases();
	for (i = 0; i < ncases; i++) {
		const struct req_case *c = &cases[i];

		if (c->nfds < VHOST_USER_MAX_FDS)
			assert_int_equal(send_case(*state, c, VALID_FLAGS, c->size, c->nfds + 1), -EPROTO);
		if (c->nfds > 0)
			assert_int_equal(send_case(*state, c, VALID_FLAGS, c->size, c->nfds - 1), -EPROTO);
		if (c->nfds == 0)
			assert_int_equal(send_case(*state, c, VALID_FLAGS, c->size, 8), -EPROTO);
	}
}

static void
test_bad_flags(void **state)
{
	static const uint32_t bad[] = {
		0, 2, 3, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
		VHOST_USER_VERSION | (1u << 4), VHOST_USER_VERSION | (1u << 31),
		2 | VHOST_USER_NEED_REPLY,
	};
	unsigned i, j;

	build_cases();
	for (i = 0; i < ncases; i++)
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++)
			assert_int_equal(send_case(*state, &cases[i], bad[j], cases[i].size,
			    cases[i].nfds), -EPROTO);
}

static void
test_unknown_request(void **state)
{
	static const uint32_t unknown[] = { VHOST_USER_NONE, VHOST_USER_MAX_REQUEST, 1000,
	    0xffffffffu };
	struct req_case c = { 0 };
	unsigned i;

	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		c.request = unknown[i];
		assert_int_equal(send_case(*state, &c, VALID_FLAGS, 0, 0), -EPROTO);
		assert_int_equal(send_case(*state, &c, VALID_FLAGS, 8, 1), -EPROTO);
	}
	assert_string_equal(vu_request_name(1000), "UNKNOWN");
	assert_string_equal(vu_request_name(VHOST_USER_SET_MEM_TABLE), "SET_MEM_TABLE");
}

/* Requests the spec defines that we do not implement pass the check (the
 * backend refuses them); their fds are still closed. */
static void
test_unimplemented_request_passes_check(void **state)
{
	struct req_case c = { .request = VHOST_USER_SET_LOG_FD };

	assert_false(vu_msg_request_implemented(VHOST_USER_SET_LOG_FD));
	assert_false(vu_msg_request_implemented(VHOST_USER_GET_MAX_MEM_SLOTS));
	assert_true(vu_msg_request_implemented(VHOST_USER_SET_VRING_ENABLE));
	assert_int_equal(send_case(*state, &c, VALID_FLAGS, 0, 1), 0);
	c.request = VHOST_USER_GET_MAX_MEM_SLOTS;
	assert_int_equal(send_case(*state, &c, VALID_FLAGS, 0, 0), 0);
}

static void
test_mem_table(void **state)
{
	struct vhost_user_memory mem = { 0 };
	struct req_case c = { .request = VHOST_USER_SET_MEM_TABLE };
	struct pair *p = *state;
	struct vhost_user_msg m;

	memcpy(c.payload, &mem, sizeof(mem));
	/* 0 regions */
	assert_int_equal(send_case(p, &c, VALID_FLAGS, 8, 0), -EPROTO);
	assert_int_equal(send_case(p, &c, VALID_FLAGS, 8 + 32, 1), -EPROTO);
	/* 9 regions: claimed with the size of 8, or with its own size (over
	 * the maximum: refused by recv before the payload is read) */
	mem.nregions = 9;
	memcpy(c.payload, &mem, sizeof(mem));
	assert_int_equal(send_case(p, &c, VALID_FLAGS, VHOST_USER_MEMORY_SIZE(8), 8), -EPROTO);
	send_raw(p->tx, VHOST_USER_SET_MEM_TABLE, VALID_FLAGS, VHOST_USER_MEMORY_SIZE(9),
	    NULL, 0, 8);
	assert_int_equal(vu_msg_recv(p->rx, &m, 1000), -EPROTO);
	/* fd count mismatch, both ways */
	mem.nregions = 2;
	memcpy(c.payload, &mem, sizeof(mem));
	assert_int_equal(send_case(p, &c, VALID_FLAGS, VHOST_USER_MEMORY_SIZE(2), 2), 0);
	assert_int_equal(send_case(p, &c, VALID_FLAGS, VHOST_USER_MEMORY_SIZE(2), 1), -EPROTO);
	assert_int_equal(send_case(p, &c, VALID_FLAGS, VHOST_USER_MEMORY_SIZE(2), 3), -EPROTO);
	assert_int_equal(send_case(p, &c, VALID_FLAGS, VHOST_USER_MEMORY_SIZE(1), 2), -EPROTO);
	/* size below the nregions field */
	assert_int_equal(send_case(p, &c, VALID_FLAGS, 4, 0), -EPROTO);
}

static void
test_config_ranges(void **state)
{
	static const struct { uint32_t offset, size; int rc; } t[] = {
		{ 0, 256, 0 }, { 255, 1, 0 }, { 256, 0, 0 }, { 0, 257, -EPROTO },
		{ 200, 57, -EPROTO }, { 257, 0, -EPROTO }, { 0xffffffffu, 2, -EPROTO },
		{ 4, 0xfffffffcu, -EPROTO },
	};
	struct vhost_user_config cfg;
	struct req_case c;
	unsigned i, r;

	for (r = 0; r < 2; r++) {
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			uint32_t size = 12 + (t[i].size <= 256 ? t[i].size : 0);

			memset(&c, 0, sizeof(c));
			c.request = r ? VHOST_USER_SET_CONFIG : VHOST_USER_GET_CONFIG;
			cfg.offset = t[i].offset;
			cfg.size = t[i].size;
			cfg.flags = 0;
			memcpy(c.payload, &cfg, 12);
			assert_int_equal(send_case(*state, &c, VALID_FLAGS, size, 0), t[i].rc);
		}
	}
}

static void
test_vring_file_bits(void **state)
{
	struct req_case c = { .request = VHOST_USER_SET_VRING_CALL };
	uint64_t v;

	v = 5 | (1ull << 9);                 /* a reserved bit */
	memcpy(c.payload, &v, 8);
	assert_int_equal(send_case(*state, &c, VALID_FLAGS, 8, 1), -EPROTO);
	v = 255;                             /* index bits only: fine here */
	memcpy(c.payload, &v, 8);
	assert_int_equal(send_case(*state, &c, VALID_FLAGS, 8, 1), 0);
}

/* A header claiming a huge payload is refused at once: recv must not wait
 * for (or read) the payload. The alarm turns a hang into a failure. */
static void
test_size_over_max_rejected_before_payload(void **state)
{
	static const uint32_t sizes[] = { VHOST_USER_MAX_PAYLOAD + 1, 0x10000, 0x7fffffff,
	    0xffffffffu };
	struct pair *p = *state;
	struct vhost_user_msg m;
	uint8_t after[4];
	unsigned i;

	alarm(10);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		send_raw(p->tx, VHOST_USER_SET_FEATURES, VALID_FLAGS, sizes[i], "ABCD", 4, 2);
		assert_int_equal(vu_msg_recv(p->rx, &m, -1), -EPROTO);
		assert_int_equal(m.nfds, 0);
		/* the 4 bytes after the header were not consumed */
		assert_int_equal(recv(p->rx, after, 4, MSG_DONTWAIT), 4);
		assert_memory_equal(after, "ABCD", 4);
	}
	alarm(0);
}

static void
test_recv_errors(void **state)
{
	struct pair *p = *state;
	struct vhost_user_msg m;
	uint64_t v = 1;

	/* nothing sent: timeout */
	assert_int_equal(vu_msg_recv(p->rx, &m, 50), -ETIMEDOUT);
	/* more than VHOST_USER_MAX_FDS fds: all closed */
	send_raw(p->tx, VHOST_USER_SET_FEATURES, VALID_FLAGS, 8, &v, 8, 9);
	assert_int_equal(vu_msg_recv(p->rx, &m, 1000), -EPROTO);
	assert_int_equal(m.nfds, 0);
	assert_int_equal(recv(p->rx, &v, 8, MSG_DONTWAIT), 8);  /* its payload */
	/* a payload that never comes: timeout, fds closed */
	send_raw(p->tx, VHOST_USER_SET_FEATURES, VALID_FLAGS, 8, &v, 4, 2);
	assert_int_equal(vu_msg_recv(p->rx, &m, 50), -ETIMEDOUT);
	assert_int_equal(m.nfds, 0);
	/* half a header, then EOF */
	assert_int_equal(write(p->tx, &v, 6), 6);
	shutdown(p->tx, SHUT_WR);
	assert_int_equal(vu_msg_recv(p->rx, &m, 1000), -EPROTO);
}

static void
test_recv_eof(void **state)
{
	struct pair *p = *state;
	struct vhost_user_msg m;

	shutdown(p->tx, SHUT_WR);
	assert_int_equal(vu_msg_recv(p->rx, &m, 1000), -ECONNRESET);
	assert_int_equal(vu_msg_recv(p->rx, &m, -1), -ECONNRESET);
}

static void
test_send_roundtrip(void **state)
{
	struct pair *p = *state;
	struct vhost_user_msg m, r;

	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_SET_VRING_KICK;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = 8;
	m.payload.u64 = 3;
	m.fds[0] = eventfd(0, EFD_CLOEXEC);
	m.nfds = 1;
	assert_int_equal(vu_msg_send(p->tx, &m), 0);
	assert_int_equal(vu_msg_recv(p->rx, &r, 1000), 0);
	assert_int_equal(r.hdr.request, VHOST_USER_SET_VRING_KICK);
	assert_int_equal(r.payload.u64, 3);
	assert_int_equal(r.nfds, 1);
	assert_true(fcntl(r.fds[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(vu_msg_check_request(&r), 0);
	vu_msg_close_fds(&r);
	/* the sender refuses what no receiver would accept */
	m.nfds = VHOST_USER_MAX_FDS + 1;
	assert_int_equal(vu_msg_send(p->tx, &m), -EINVAL);
	m.nfds = 1;
	m.hdr.size = VHOST_USER_MAX_PAYLOAD + 1;
	assert_int_equal(vu_msg_send(p->tx, &m), -EINVAL);
	close(m.fds[0]);
}

/* ---------------------------------------------------------------- replies */

static struct vhost_user_msg
reply(uint32_t request, uint32_t flags, uint32_t size)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = flags;
	m.hdr.size = size;
	return m;
}

static void
test_check_reply(void **state)
{
	const uint32_t ok = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	struct vhost_user_msg m;

	(void)state;
	m = reply(VHOST_USER_GET_FEATURES, ok, 8);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_FEATURES, 0), 0);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_QUEUE_NUM, 0), -EPROTO);
	m = reply(VHOST_USER_SET_MEM_TABLE, ok, 8);        /* a REPLY_ACK */
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_SET_MEM_TABLE, 0), 0);
	m = reply(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 8);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_FEATURES, 0), -EPROTO);
	m = reply(VHOST_USER_GET_FEATURES, ok | 2, 8);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_FEATURES, 0), -EPROTO);
	m = reply(VHOST_USER_GET_FEATURES, ok, 4);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_FEATURES, 0), -EPROTO);
	m = reply(VHOST_USER_GET_FEATURES, ok, 8);
	m.nfds = 1;
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_FEATURES, 0), -EPROTO);
	m = reply(VHOST_USER_GET_VRING_BASE, ok, 8);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_VRING_BASE, 0), 0);
	m = reply(VHOST_USER_GET_VRING_BASE, ok, 16);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_VRING_BASE, 0), -EPROTO);
	m = reply(VHOST_USER_GET_CONFIG, ok, 12 + 60);
	m.payload.config.size = 60;
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_CONFIG, 60), 0);
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_CONFIG, 40), -EPROTO);
	m.payload.config.offset = 200;
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_CONFIG, 60), -EPROTO);
	m = reply(VHOST_USER_GET_CONFIG, ok, 12 + 40);
	m.payload.config.size = 60;
	assert_int_equal(vu_msg_check_reply(&m, VHOST_USER_GET_CONFIG, 60), -EPROTO);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_exact_size_ok),
		T(test_short_and_long),
		T(test_wrong_fd_count),
		T(test_bad_flags),
		T(test_unknown_request),
		T(test_unimplemented_request_passes_check),
		T(test_mem_table),
		T(test_config_ranges),
		T(test_vring_file_bits),
		T(test_size_over_max_rejected_before_payload),
		T(test_recv_errors),
		T(test_recv_eof),
		T(test_send_roundtrip),
		T(test_check_reply),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
