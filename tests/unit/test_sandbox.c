/*
 * Tests of the jail (sandbox/sandbox.c) on the real kernel: each scenario
 * forks a child that jails itself under the `test` profile
 * (tests/unit/sandbox_test.policy) and then talks to the test over two
 * pipes; the test inspects it from outside through /proc (status, fds,
 * limits, root, namespaces) and checks how it, or its supervisor, ends.
 *
 * As root the jail drops to uid TEST_UID; the user-namespace path runs as
 * uid 65534 (as root) or as the caller (not root). A scenario skips, saying
 * why, when the host lacks what it needs (root; user namespaces).
 */
#include <dirent.h>
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
#include <sched.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

extern const struct sandbox_prog sandbox_prog_test;

#define TEST_UID   (SANDBOX_DEFAULT_ID + 77)
#define NOBODY     65534
#define FD_CMD     5            /* the child reads commands here */
#define FD_REPORT  9            /* and reports here */
#define FD_EXTRA   11           /* kept too, a gap away */
#define TIMEOUT_MS 10000

enum who { AS_ROOT, AS_USERNS };

struct opts {
	enum who who;
	bool new_pid_ns;
	bool log;
	bool nproc_zero;
	bool no_prog;
	const char *arm;        /* sandbox_test_forbidden_arm() before */
};

struct child {
	pid_t pid;              /* the forked child (a supervisor with pid ns) */
	int cmd, report, err;   /* our ends of the pipes; err: its stderr */
};

/* ---- the child side ---- */

static void
put(int fd, char tag, long v)
{
	char buf[1 + sizeof(long)];

	buf[0] = tag;
	memcpy(buf + 1, &v, sizeof(v));
	(void)!write(fd, buf, sizeof(buf));
}

static void
become_nobody(void)
{
	gid_t g = NOBODY;

	if (setgroups(1, &g) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		_exit(90);
}

/* Fds 3..12 open, the pipes at FD_CMD and FD_REPORT, stderr to err. The
 * pipes move out of the way first, so no dup2() lands on one of them. */
static void
child_fds(int cmd, int report, int err)
{
	int fd, i;

	cmd = fcntl(cmd, F_DUPFD, 100);
	report = fcntl(report, F_DUPFD, 100);
	err = fcntl(err, F_DUPFD, 100);
	if (cmd < 0 || report < 0 || err < 0 || dup2(cmd, FD_CMD) < 0 ||
	    dup2(report, FD_REPORT) < 0 || dup2(err, 2) < 0)
		_exit(91);
	for (i = 3; i <= 12; i++) {
		if (i == FD_CMD || i == FD_REPORT)
			continue;
		fd = open("/dev/null", O_RDONLY);
		if (fd != i && (fd < 0 || dup2(fd, i) < 0 || close(fd) < 0))
			_exit(92);
	}
}

/* Jailed: obey the test until told to exit. */
static void __attribute__((noreturn))
child_loop(void)
{
	char c;
	long r;

	put(FD_REPORT, 'R', (long)getpid());
	for (;;) {
		if (read(FD_CMD, &c, 1) != 1)
			_exit(93);
		switch (c) {
		case 'x':
			_exit(7);
		case 'q':
			_exit(0);
		case 's':       /* a syscall the profile forbids */
			r = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
			put(FD_REPORT, 'n', r < 0 ? errno : 0);
			break;
		case 'f':       /* fork under RLIMIT_NPROC 0 (no profile) */
			r = fork();
			if (r == 0)
				_exit(0);
			put(FD_REPORT, 'n', r < 0 ? errno : 0);
			break;
		}
	}
}

static void __attribute__((noreturn))
child_main(const struct opts *o, int cmd, int report, int err)
{
	static const int keep[] = { FD_REPORT, FD_CMD, FD_EXTRA };
	struct sandbox_cfg cfg = {
		.role = "test", .keep_fds = keep, .nkeep = 3,
		.new_pid_ns = o->new_pid_ns, .uid = TEST_UID, .gid = TEST_UID,
		.nofile = 16, .fsize = 0, .nproc_zero = o->nproc_zero,
		.prog = o->no_prog ? NULL : &sandbox_prog_test,
		.seccomp_log = o->log,
	};
	char msg[SANDBOX_MSG_MAX];

	child_fds(cmd, report, err);
	if (o->who == AS_USERNS && geteuid() == 0)
		become_nobody();
	if (o->arm != NULL && sandbox_test_forbidden_arm(o->arm, msg) < 0)
		_exit(94);
	if (sandbox_enter(&cfg, msg) < 0) {
		(void)!write(FD_REPORT, "E", 1);
		(void)!write(FD_REPORT, msg, strlen(msg));
		_exit(95);
	}
	child_loop();
}

/* ---- the test side ---- */

/* Read exactly n bytes within TIMEOUT_MS; returns bytes read (< n on EOF
 * or timeout). */
static size_t
read_full(int fd, void *buf, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if (poll(&p, 1, TIMEOUT_MS) != 1)
			break;
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static long
get(struct child *c, char want)
{
	char buf[1 + sizeof(long)] = { 0 }, msg[SANDBOX_MSG_MAX] = "";
	size_t n = read_full(c->report, buf, sizeof(buf));
	long v;

	if (n >= 1 && buf[0] == 'E') {
		memcpy(msg, buf + 1, n - 1);
		read_full(c->report, msg + n - 1, sizeof(msg) - n);
		fail_msg("child: %s", msg);
	}
	if (n != sizeof(buf) || buf[0] != want)
		fail_msg("child: no '%c' report (got %zu bytes, '%c')", want, n,
		    n ? buf[0] : '-');
	memcpy(&v, buf + 1, sizeof(v));
	return v;
}

static void
send_cmd(struct child *c, char cmd)
{
	assert_int_equal(write(c->cmd, &cmd, 1), 1);
}

static struct child
start(const struct opts *o)
{
	int cmd[2], report[2], err[2];
	struct child c;

	assert_int_equal(pipe2(cmd, O_CLOEXEC), 0);
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0)
		child_main(o, cmd[0], report[1], err[1]);
	close(cmd[0]);
	close(report[1]);
	close(err[1]);
	c.cmd = cmd[1];
	c.report = report[0];
	c.err = err[0];
	return c;
}

static int
finish(struct child *c)
{
	int status = -1;

	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->cmd);
	close(c->report);
	close(c->err);
	return status;
}

static void
assert_signaled(int status, int sig)
{
	if (!WIFSIGNALED(status) || WTERMSIG(status) != sig)
		fail_msg("status 0x%x: want killed by signal %d", status, sig);
}

static void
assert_exited(int status, int code)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		fail_msg("status 0x%x: want exit %d", status, code);
}

/* /proc/PID/FILE into buf (NUL-terminated); its path into path. */
static void
read_proc(pid_t pid, const char *file, char *path, size_t path_size, char *buf,
    size_t size)
{
	ssize_t n;
	int fd;

	snprintf(path, path_size, "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
}

/* The value of "Name:" in /proc/pid/status, e.g. "0000000000000000". */
static void
status_field(pid_t pid, const char *name, char *out, size_t size)
{
	char path[64], buf[4096], key[64], *p, *end;

	read_proc(pid, "status", path, sizeof(path), buf, sizeof(buf));
	snprintf(key, sizeof(key), "\n%s:\t", name);
	p = strstr(buf, key);
	if (p == NULL)
		fail_msg("%s: no %s", path, name);
	p += strlen(key);
	end = strchr(p, '\n');
	if (end == NULL)
		end = p + strlen(p);
	while (end > p && end[-1] == ' ')
		end--;          /* "Groups:\t \n" when there are none */
	snprintf(out, size, "%.*s", (int)(end - p), p);
}

static void
assert_status(pid_t pid, const char *name, const char *want)
{
	char v[256];

	status_field(pid, name, v, sizeof(v));
	if (strcmp(v, want) != 0)
		fail_msg("pid %d %s: \"%s\", want \"%s\"", (int)pid, name, v,
		    want);
}

static void
assert_no_caps(pid_t pid)
{
	static const char *const sets[] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
	};
	size_t i;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		assert_status(pid, sets[i], "0000000000000000");
	assert_status(pid, "NoNewPrivs", "1");
	assert_status(pid, "Seccomp", "2");
}

/* Entries of /proc/pid/DIR other than . and ..; fds as a bit mask. */
static unsigned
list_dir(pid_t pid, const char *dir, uint64_t *fds)
{
	char path[64];
	struct dirent *d;
	unsigned n = 0;
	DIR *dp;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, dir);
	dp = opendir(path);
	if (dp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	*fds = 0;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		n++;
		if (atoi(d->d_name) < 64)
			*fds |= 1ull << atoi(d->d_name);
	}
	closedir(dp);
	return n;
}

static void
assert_empty_root(pid_t pid)
{
	uint64_t unused;

	assert_int_equal(list_dir(pid, "root", &unused), 0);
}

static void
assert_limit(pid_t pid, const char *name, const char *soft_hard)
{
	char path[64], buf[4096], *p;

	read_proc(pid, "limits", path, sizeof(path), buf, sizeof(buf));
	p = strstr(buf, name);
	assert_non_null(p);
	p += strlen(name);
	while (*p == ' ')
		p++;
	if (strncmp(p, soft_hard, strlen(soft_hard)) != 0)
		fail_msg("%s %s: \"%.30s\", want \"%s\"", path, name, p,
		    soft_hard);
}

static bool
same_ns(pid_t pid, const char *ns)
{
	char a[64], b[64], la[64] = "", lb[64] = "";

	snprintf(a, sizeof(a), "/proc/self/ns/%s", ns);
	snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, ns);
	assert_true(readlink(a, la, sizeof(la) - 1) > 0);
	assert_true(readlink(b, lb, sizeof(lb) - 1) > 0);
	return strcmp(la, lb) == 0;
}

/* The jailed process of a supervisor: its only child. */
static pid_t
jailed_child_of(pid_t sup)
{
	char path[64], buf[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)sup,
	    (int)sup);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	return (pid_t)atoi(buf);
}

/* ---- skips ---- */

static bool
userns_works(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (geteuid() == 0)
			become_nobody();
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#define NEED_ROOT() do { \
	if (geteuid() != 0) { \
		print_message("skip: needs root (the uid drop)\n"); \
		skip(); \
	} \
} while (0)

#define NEED_USERNS() do { \
	if (!userns_works()) { \
		print_message("skip: unprivileged user namespaces are " \
		    "disabled on this host\n"); \
		skip(); \
	} \
} while (0)

/* As root: a dropped uid/gid, nothing but the kept fds, an empty root,
 * new namespaces, the limits, no capabilities, the filter on. */
static void
test_jail_root(void **state)
{
	struct opts o = { .who = AS_ROOT, .nproc_zero = true };
	char ids[64];
	uint64_t fds;
	struct child c;

	(void)state;
	NEED_ROOT();
	c = start(&o);
	get(&c, 'R');
	snprintf(ids, sizeof(ids), "%u\t%u\t%u\t%u", TEST_UID, TEST_UID,
	    TEST_UID, TEST_UID);
	assert_status(c.pid, "Uid", ids);
	assert_status(c.pid, "Gid", ids);
	assert_status(c.pid, "Groups", "");
	assert_no_caps(c.pid);
	assert_empty_root(c.pid);
	list_dir(c.pid, "fd", &fds);
	assert_int_equal(fds & ~7ull, (1ull << FD_CMD) | (1ull << FD_REPORT) |
	    (1ull << FD_EXTRA));
	assert_limit(c.pid, "Max open files", "16                   16");
	assert_limit(c.pid, "Max file size", "0                    0");
	assert_limit(c.pid, "Max core file size", "0                    0");
	assert_limit(c.pid, "Max processes", "0                    0");
	assert_false(same_ns(c.pid, "mnt"));
	assert_false(same_ns(c.pid, "net"));
	assert_false(same_ns(c.pid, "ipc"));
	assert_false(same_ns(c.pid, "uts"));
	assert_true(same_ns(c.pid, "user"));
	assert_true(same_ns(c.pid, "pid"));
	send_cmd(&c, 'q');
	assert_exited(finish(&c), 0);
}

/* Not root: the same jail inside a user namespace, the uid kept. */
static void
test_jail_userns(void **state)
{
	struct opts o = { .who = AS_USERNS, .nproc_zero = true };
	unsigned uid = geteuid() == 0 ? NOBODY : (unsigned)geteuid();
	char ids[64];
	uint64_t fds;
	struct child c;

	(void)state;
	NEED_USERNS();
	c = start(&o);
	get(&c, 'R');
	snprintf(ids, sizeof(ids), "%u\t%u\t%u\t%u", uid, uid, uid, uid);
	assert_status(c.pid, "Uid", ids);
	assert_no_caps(c.pid);
	assert_empty_root(c.pid);
	list_dir(c.pid, "fd", &fds);
	assert_int_equal(fds & ~7ull, (1ull << FD_CMD) | (1ull << FD_REPORT) |
	    (1ull << FD_EXTRA));
	assert_limit(c.pid, "Max processes", "0                    0");
	assert_false(same_ns(c.pid, "user"));
	assert_false(same_ns(c.pid, "mnt"));
	assert_false(same_ns(c.pid, "net"));
	send_cmd(&c, 'q');
	assert_exited(finish(&c), 0);
}

static void
run_forbidden(enum who who, const char *name)
{
	struct opts o = { .who = who, .arm = name };
	struct child c = start(&o);

	get(&c, 'R');
	assert_int_equal(kill(c.pid, SIGUSR1), 0);
	assert_signaled(finish(&c), SIGSYS);
}

/* SIGUSR1 after sandbox_test_forbidden_arm(): killed by SIGSYS. */
static void
test_forbidden_kills(void **state)
{
	static const char *const names[] = { "openat", "execve", "socket",
	    "ptrace" };
	char msg[SANDBOX_MSG_MAX];
	size_t i;

	(void)state;
	assert_int_equal(sandbox_test_forbidden_arm("fork", msg), -EINVAL);
	assert_string_equal(msg, "sandbox: test: forbidden syscall 'fork': "
	    "want openat, execve, socket or ptrace");
	assert_int_equal(sandbox_test_forbidden_arm(NULL, msg), -EINVAL);
	if (geteuid() != 0)
		NEED_USERNS();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		run_forbidden(geteuid() == 0 ? AS_ROOT : AS_USERNS, names[i]);
}

static void
assert_stderr(struct child *c, const char *want)
{
	char buf[256] = "";
	size_t n = read_full(c->err, buf, strlen(want));

	if (n != strlen(want) || memcmp(buf, want, n) != 0)
		fail_msg("stderr \"%.*s\", want \"%s\"", (int)n, buf, want);
}

/* --seccomp-log: the name on stderr, ENOSYS, and the process lives on. */
static void
test_seccomp_log(void **state)
{
	struct opts o = { .log = true, .arm = "openat" };
	struct child c;
	char want[128];

	(void)state;
	if (geteuid() != 0)
		NEED_USERNS();
	o.who = geteuid() == 0 ? AS_ROOT : AS_USERNS;
	c = start(&o);
	get(&c, 'R');
	send_cmd(&c, 's');
	assert_int_equal(get(&c, 'n'), ENOSYS);
	snprintf(want, sizeof(want), "test: seccomp: blocked syscall socket "
	    "(nr %d)\n", SYS_socket);
	assert_stderr(&c, want);
	assert_int_equal(kill(c.pid, SIGUSR1), 0);
	snprintf(want, sizeof(want), "test: seccomp: blocked syscall openat "
	    "(nr %d)\n", SYS_openat);
	assert_stderr(&c, want);
	send_cmd(&c, 'q');
	assert_exited(finish(&c), 0);
}

/* RLIMIT_NPROC 0: fork fails with EAGAIN (no profile, to reach it). */
static void
test_nproc_zero(void **state)
{
	struct opts o = { .nproc_zero = true, .no_prog = true };
	struct child c;

	(void)state;
	if (geteuid() != 0)
		NEED_USERNS();
	o.who = geteuid() == 0 ? AS_ROOT : AS_USERNS;
	c = start(&o);
	get(&c, 'R');
	send_cmd(&c, 'f');
	assert_int_equal(get(&c, 'n'), EAGAIN);
	send_cmd(&c, 'q');
	assert_exited(finish(&c), 0);
}

static struct child
start_supervised(const struct opts *base, pid_t *jailed)
{
	struct opts o = *base;
	struct child c;

	o.new_pid_ns = true;
	o.who = geteuid() == 0 ? AS_ROOT : AS_USERNS;
	c = start(&o);
	assert_int_equal(get(&c, 'R'), 1);      /* pid 1 of its namespace */
	*jailed = jailed_child_of(c.pid);
	/* sandbox_enter() returned only once the supervisor was locked down */
	assert_status(c.pid, "Seccomp", "2");
	return c;
}

/* The supervisor is locked down too, and ends as its child exits; with
 * and without --seccomp-log (the trap variant of both profiles). */
static void
run_supervisor_exit(bool log)
{
	struct opts o = { .log = log };
	uint64_t fds;
	struct child c;
	pid_t jailed;

	c = start_supervised(&o, &jailed);
	assert_false(same_ns(jailed, "pid"));
	assert_true(same_ns(c.pid, "pid"));
	assert_no_caps(jailed);
	assert_no_caps(c.pid);
	assert_empty_root(jailed);
	assert_empty_root(c.pid);
	assert_int_equal(list_dir(c.pid, "fd", &fds), 1);
	assert_int_equal(fds, 1ull << 2);
	assert_limit(c.pid, "Max processes", "0                    0");
	send_cmd(&c, 'x');
	assert_exited(finish(&c), 7);
}

static void
test_supervisor_exit(void **state)
{
	(void)state;
	if (geteuid() != 0)
		NEED_USERNS();
	run_supervisor_exit(false);
	run_supervisor_exit(true);
}

/* A child killed by seccomp: the supervisor dies by SIGSYS too. */
static void
test_supervisor_sigsys(void **state)
{
	struct opts o = { 0 };
	struct child c;
	pid_t jailed;

	(void)state;
	if (geteuid() != 0)
		NEED_USERNS();
	c = start_supervised(&o, &jailed);
	send_cmd(&c, 's');
	assert_signaled(finish(&c), SIGSYS);
}

/* SIGUSR1 to the supervisor reaches the armed child. */
static void
test_supervisor_usr1(void **state)
{
	struct opts o = { .arm = "ptrace" };
	struct child c;
	pid_t jailed;

	(void)state;
	if (geteuid() != 0)
		NEED_USERNS();
	c = start_supervised(&o, &jailed);
	assert_int_equal(kill(c.pid, SIGUSR1), 0);
	assert_signaled(finish(&c), SIGSYS);
}

/* TERM, INT, HUP, QUIT: the child is SIGKILLed, the supervisor dies by
 * the signal it got. */
static void
test_supervisor_term(void **state)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	struct opts o = { 0 };
	struct child c;
	pid_t jailed;
	char b;
	size_t i;

	(void)state;
	if (geteuid() != 0)
		NEED_USERNS();
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		c = start_supervised(&o, &jailed);
		assert_int_equal(kill(c.pid, sigs[i]), 0);
		assert_int_equal(read_full(c.report, &b, 1), 0);  /* EOF: gone */
		assert_signaled(finish(&c), sigs[i]);
		assert_true(kill(jailed, 0) < 0 && errno == ESRCH);
	}
}

/* sandbox_new_pid_ns(FORWARD) alone: the child reads the signal's number
 * from its signal pipe; the supervisor ends as the child does. */
static void
test_new_pid_ns_forward(void **state)
{
	char msg[SANDBOX_MSG_MAX], c;
	int report[2], cmd[2], status;
	pid_t pid;
	int round;

	(void)state;
	if (geteuid() != 0)
		NEED_USERNS();
	for (round = 0; round < 2; round++) {
		assert_int_equal(pipe(report), 0);
		assert_int_equal(pipe(cmd), 0);
		pid = fork();
		if (pid == 0) {
			int sig_fd = -1;
			uint64_t v = 0;
			struct pollfd pf[2];

			if (sandbox_new_pid_ns("test", SANDBOX_TERM_FORWARD,
			    TEST_UID, TEST_UID, &sig_fd, msg) < 0)
				_exit(95);
			put(report[1], 'R', (long)getpid());
			pf[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
			pf[1] = (struct pollfd){ .fd = cmd[0], .events = POLLIN };
			if (poll(pf, 2, 30000) <= 0)
				_exit(5);
			if (pf[0].revents && read(sig_fd, &v, sizeof(v)) == sizeof(v))
				_exit(v == SIGTERM ? 42 : 6);
			_exit(read(cmd[0], &c, 1) == 1 ? 3 : 4);
		}
		close(report[1]);
		close(cmd[0]);
		struct child ch = { .pid = pid, .cmd = cmd[1],
		    .report = report[0], .err = dup(2) };
		assert_int_equal(get(&ch, 'R'), 1);
		if (round == 0)
			assert_int_equal(kill(pid, SIGTERM), 0);
		else
			send_cmd(&ch, 'x');
		status = finish(&ch);
		assert_exited(status, round == 0 ? 42 : 3);
	}
}

/* Bad configurations fail before anything changes (so here, in-process). */
static void
test_cfg_errors(void **state)
{
	static const int bad_fd[] = { 99 };
	static const int fd3[] = { 3 };
	struct sandbox_cfg cfg = { .role = "test", .uid = TEST_UID,
	    .gid = TEST_UID, .nofile = 16 };
	char msg[SANDBOX_MSG_MAX];
	int fd;

	(void)state;
	cfg.keep_fds = bad_fd;
	cfg.nkeep = 1;
	assert_int_equal(sandbox_enter(&cfg, msg), -EBADF);
	assert_string_equal(msg, "sandbox: fds: kept fd 99 is not open");
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(dup2(fd, 20), 20);
	cfg.keep_fds = (const int[]){ 20 };
	assert_int_equal(sandbox_enter(&cfg, msg), -EINVAL);
	assert_string_equal(msg, "sandbox: rlimits: nofile 16 does not cover "
	    "kept fd 20");
	close(20);
	close(fd);
	cfg.keep_fds = fd3;
	cfg.nkeep = 0;
	cfg.role = NULL;
	assert_int_equal(sandbox_enter(&cfg, msg), -EINVAL);
	cfg.role = "test";
	if (geteuid() == 0) {
		cfg.uid = 0;
		assert_int_equal(sandbox_enter(&cfg, msg), -EINVAL);
		assert_string_equal(msg, "sandbox: uid: uid 0 gid 400077: want "
		    "1 to 4000000000");
	}
	assert_int_equal(sandbox_seccomp(NULL, false, "x", msg), -EINVAL);
}

/* sandbox_fsize: the role's limit, raised only when stderr is a regular
 * file (a log the limit would make lose every message) to its size plus
 * SANDBOX_LOG_ROOM; stdout does not count (jailed roles do not write it). */
static void
test_fsize_log_file(void **state)
{
	char path[] = "/tmp/test_sandbox_fsize.XXXXXX";
	int saved1 = dup(STDOUT_FILENO), saved2 = dup(STDERR_FILENO);
	int p[2], f = mkstemp(path);

	(void)state;
	assert_true(saved1 >= 0 && saved2 >= 0 && f >= 0);
	unlink(path);
	assert_int_equal(pipe(p), 0);
	assert_true(dup2(p[1], STDOUT_FILENO) >= 0 && dup2(p[1], STDERR_FILENO) >= 0);
	assert_int_equal(sandbox_fsize(0), 0);
	assert_int_equal(sandbox_fsize(4096), 4096);
	assert_int_equal(write(f, "0123456789", 10), 10);
	assert_true(dup2(f, STDERR_FILENO) >= 0);
	assert_true(sandbox_fsize(0) == 10 + SANDBOX_LOG_ROOM);
	assert_true(sandbox_fsize(SANDBOX_LOG_ROOM * 2) == SANDBOX_LOG_ROOM * 2);
	assert_true(dup2(p[1], STDERR_FILENO) >= 0 && dup2(f, STDOUT_FILENO) >= 0);
	assert_int_equal(sandbox_fsize(4096), 4096);
	assert_true(dup2(saved1, STDOUT_FILENO) >= 0 && dup2(saved2, STDERR_FILENO) >= 0);
	close(saved1);
	close(saved2);
	close(p[0]);
	close(p[1]);
	close(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_errors),
		cmocka_unit_test(test_jail_root),
		cmocka_unit_test(test_jail_userns),
		cmocka_unit_test(test_forbidden_kills),
		cmocka_unit_test(test_seccomp_log),
		cmocka_unit_test(test_nproc_zero),
		cmocka_unit_test(test_supervisor_exit),
		cmocka_unit_test(test_supervisor_sigsys),
		cmocka_unit_test(test_supervisor_usr1),
		cmocka_unit_test(test_supervisor_term),
		cmocka_unit_test(test_new_pid_ns_forward),
		cmocka_unit_test(test_fsize_log_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
