/*
 * devices/common: the main() code every device process shares (see
 * dev_main.h).
 */
#include <errno.h>
#include <fcntl.h>
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
dev_check_common_args(const char *socket_path, int socket_fd, bool once,
    bool jail_id_given, const char *test_forbidden)
{
	if ((socket_path != NULL) == (socket_fd >= 0))
		dev_die("give exactly one of --socket and --socket-fd (try --help)");
	if (once && socket_path == NULL)
		dev_die("--once: only with --socket");
	if (jail_id_given && geteuid() != 0)
		dev_die("--jail-id: only as root; as uid %u the jail keeps uid %u in a user "
		    "namespace", (unsigned)geteuid(), (unsigned)geteuid());
	if (test_forbidden != NULL &&
	    sandbox_test_forbidden_index(test_forbidden, strlen(test_forbidden)) < 0)
		dev_die("--x-test-forbidden: '%s': expected openat, execve, socket or ptrace",
		    test_forbidden);
}

int
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

int
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
dev_serve_listener(int ls, const char *path, bool once,
    int (*serve)(int sock, void *arg), void *arg)
{
	int s, rc;

	for (;;) {
		s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0)
			dev_die("socket %s: accept: %s", path, strerror(errno));
		rc = serve(s, arg);
		close(s);
		if (once)
			return rc == 0 ? 0 : 1;
	}
}

void
dev_jail(int sock, int res, unsigned jail_id, rlim_t nofile, rlim_t fsize,
    bool seccomp_log, const char *test_forbidden, const struct sandbox_prog *prog)
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
		.uid = root ? jail_id : getuid(), .gid = root ? jail_id : getgid(),
		.nofile = nofile, .fsize = fsize, .nproc_zero = true,
		.prog = NULL, .seccomp_log = seccomp_log,
	};
	if (sandbox_enter(&sc, msg) < 0 ||
	    (test_forbidden != NULL && sandbox_test_forbidden_arm(test_forbidden, msg) < 0) ||
	    sandbox_seccomp(prog, seccomp_log, dev_prog, msg) < 0)
		dev_die("%s", msg);
}
