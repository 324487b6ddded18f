/*
 * devices/common: the main() code every device process shares (see
 * dev_main.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dev_main.h"

void
dev_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", dev_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

unsigned long
dev_parse_num(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max)
		dev_die("%s: '%s' is not a number in %lu..%lu", opt, s, min, max);
	return v;
}

void
dev_args_init(struct dev_args *a, unsigned default_jail_id)
{
	*a = (struct dev_args){ .socket_fd = -1, .jail_id = default_jail_id };
}

bool
dev_parse_opt(struct dev_args *a, int c)
{
	switch (c) {
	case 's': a->socket_path = optarg; return true;
	case 'S': a->socket_fd = (int)dev_parse_num("--socket-fd", optarg, 0, INT_MAX); return true;
	case 'o': a->once = true; return true;
	case 'j':
		a->jail_id = (unsigned)dev_parse_num("--jail-id", optarg, 1, SANDBOX_MAX_ID);
		a->jail_id_given = true;
		return true;
	case 'l': a->seccomp_log = true; return true;
	case 'x': a->test_forbidden = optarg; return true;
	default: return false;
	}
}

void
dev_check_args(const struct dev_args *a)
{
	if ((a->socket_path != NULL) == (a->socket_fd >= 0))
		dev_die("give exactly one of --socket and --socket-fd (try --help)");
	if (a->once && a->socket_path == NULL)
		dev_die("--once: only with --socket");
	if (a->jail_id_given && geteuid() != 0)
		dev_die("--jail-id: only as root; as uid %u the jail keeps uid %u in a user "
		    "namespace", (unsigned)geteuid(), (unsigned)geteuid());
	if (a->test_forbidden != NULL &&
	    sandbox_test_forbidden_index(a->test_forbidden, strlen(a->test_forbidden)) < 0)
		dev_die("--x-test-forbidden: '%s': expected openat, execve, socket or ptrace",
		    a->test_forbidden);
}

/* Bind and listen on path, replacing a stale socket file. */
static int
dev_listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int s;

	if (strlen(path) == 0 || strlen(path) >= sizeof(sa.sun_path))
		dev_die("socket %s: path empty or longer than %zu bytes", path,
		    sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		dev_die("socket %s: exists and is not a socket", path);
	if (unlink(path) < 0 && errno != ENOENT)
		dev_die("socket %s: unlink: %s", path, strerror(errno));
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		dev_die("socket: %s", strerror(errno));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		dev_die("socket %s: bind: %s", path, strerror(errno));
	if (listen(s, 1) < 0)
		dev_die("socket %s: listen: %s", path, strerror(errno));
	return s;
}

/* The connected socket we were given (--socket-fd), checked; made CLOEXEC. */
static int
dev_check_socket_fd(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		dev_die("socket fd %d: %s", fd, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		dev_die("socket fd %d: not a socket", fd);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		dev_die("socket fd %d: %s", fd, strerror(errno));
	return fd;
}

int
dev_socket(const struct dev_args *a)
{
	return a->socket_fd >= 0 ? dev_check_socket_fd(a->socket_fd) :
	    dev_listen_on(a->socket_path);
}

int
dev_serve(const struct dev_args *a, int sock, int (*serve)(int sock, void *arg), void *arg)
{
	int s, rc;

	if (a->socket_fd >= 0)
		return serve(sock, arg) == 0 ? 0 : 1;
	for (;;) {
		s = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0)
			dev_die("socket %s: accept: %s", a->socket_path, strerror(errno));
		rc = serve(s, arg);
		close(s);
		if (a->once)
			return rc == 0 ? 0 : 1;
	}
}

void
dev_jail(const struct dev_args *a, int sock, int res, rlim_t nofile, rlim_t fsize,
    const struct sandbox_prog *prog)
{
	char msg[SANDBOX_MSG_MAX];
	int keep[2] = { sock, res };
	int high = sock > res ? sock : res;
	bool root = geteuid() == 0;
	struct sandbox_cfg sc;

	if ((rlim_t)high >= nofile)
		nofile = (rlim_t)high + 1;
	sc = (struct sandbox_cfg){
		.role = dev_prog, .keep_fds = keep, .nkeep = 2, .new_pid_ns = true,
		.uid = root ? a->jail_id : getuid(), .gid = root ? a->jail_id : getgid(),
		.nofile = nofile, .fsize = fsize, .nproc_zero = true,
		.prog = NULL, .seccomp_log = a->seccomp_log,
	};
	if (sandbox_enter(&sc, msg) < 0 ||
	    (a->test_forbidden != NULL &&
	     sandbox_test_forbidden_arm(a->test_forbidden, msg) < 0) ||
	    sandbox_seccomp(prog, a->seccomp_log, dev_prog, msg) < 0)
		dev_die("%s", msg);
}
