/*
 * Device processes (see devproc.h): locate, spawn, end.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devproc.h"

#define DEVPROC_MAX_FDS 8
#define DEVPROC_FD_BASE 3
#define DEVPROC_HIGH_FD 64     /* park fds here before placing them */

int
devproc_find(const char *name, const char *env_override, char *buf,
    size_t size, struct err *e)
{
	const char *env = env_override ? getenv(env_override) : NULL;
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env != NULL && env[0] != '\0') {
		if ((size_t)snprintf(buf, size, "%s", env) >= size)
			return err_set(e, -ENAMETOOLONG, "%s=%s: path too long",
			    env_override, env);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return err_set(e, -errno, "%s: /proc/self/exe: %s", name,
			    strerror(errno));
		self[n] = '\0';
		slash = strrchr(self, '/');
		*(slash ? slash : self) = '\0';
		if ((size_t)snprintf(buf, size, "%s/%s", slash ? self : ".", name) >= size)
			return err_set(e, -ENAMETOOLONG, "%s: path too long", name);
	}
	/* effective ids: our real uid may already be the jail's (sandbox.h) */
	if (faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) < 0)
		return err_set(e, -errno, "%s: %s: %s (build it with make, or set %s)",
		    name, buf, strerror(errno), env_override ? env_override : "its path");
	return 0;
}

/* In the child: reset signals, die with the parent, place the fds (and
 * /dev/null as stdin), exec. Only async-signal-safe calls. */
static void __attribute__((noreturn))
devproc_child(const char *path, char *const argv[], const int *fds,
    unsigned nfds, int null_fd, pid_t parent)
{
	int high[DEVPROC_MAX_FDS + 1];
	sigset_t none;
	unsigned i;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);           /* fails harmlessly for KILL/STOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* Park every fd above the targets first so no dup2 clobbers one;
	 * the parked copies are close-on-exec. high[nfds] is /dev/null. */
	for (i = 0; i <= nfds; i++)
		if ((high[i] = fcntl(i < nfds ? fds[i] : null_fd, F_DUPFD_CLOEXEC,
		    DEVPROC_HIGH_FD)) < 0)
			_exit(127);
	for (i = 0; i < nfds; i++)
		if (dup2(high[i], DEVPROC_FD_BASE + (int)i) < 0)
			_exit(127);
	if (dup2(high[nfds], STDIN_FILENO) < 0)
		_exit(127);
	if (close_range(DEVPROC_FD_BASE + nfds, ~0u, 0) < 0)
		_exit(127);
	execv(path, argv);
	_exit(127);
}

pid_t
devproc_spawn(const char *path, char *const argv[], const int *fds,
    unsigned nfds, struct err *e)
{
	pid_t parent = getpid(), pid;
	int null_fd, err;

	if (nfds > DEVPROC_MAX_FDS)
		return err_set(e, -EINVAL, "%s: too many fds", path);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (null_fd < 0)
		return err_set(e, -errno, "%s: /dev/null: %s", path, strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		devproc_child(path, argv, fds, nfds, null_fd, parent);
	err = errno;
	close(null_fd);
	if (pid < 0)
		return err_set(e, -err, "%s: fork: %s", path, strerror(err));
	return pid;
}

/* The last field of the NSpid line of /proc/PID/status: that process's
 * pid in its own namespace; -1 if unreadable. */
static long
devproc_nspid_of(const char *hostpid)
{
	char path[64], buf[2048], *line, *last;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/status", hostpid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((line = strstr(buf, "\nNSpid:")) == NULL)
		return -1;
	line[strcspn(line + 1, "\n") + 1] = '\0';
	last = strrchr(line, '\t');
	last = last ? last : strrchr(line, ' ');
	return last ? strtol(last + 1, NULL, 10) : -1;
}

pid_t
devproc_host_pid(pid_t pid)
{
	char buf[1024], *tok, *save;
	ssize_t n;
	int fd;

	/* thread-self's children are numbered in the procfs's (host) PID
	 * namespace; find the one whose own-namespace pid is ours. */
	if ((fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC)) < 0)
		return pid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pid;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (devproc_nspid_of(tok) == (long)pid)
			return (pid_t)strtol(tok, NULL, 10);
	return pid;
}

const char *
devproc_status_str(int status, char *buf, size_t size)
{
	const char *abbrev;

	if (WIFEXITED(status)) {
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		abbrev = sigabbrev_np(WTERMSIG(status));
		snprintf(buf, size, "killed by signal %d%s%s%s", WTERMSIG(status),
		    abbrev ? " (SIG" : "", abbrev ? abbrev : "", abbrev ? ")" : "");
	} else
		snprintf(buf, size, "ended (wait status %#x)", status);
	return buf;
}

static long
devproc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reap what has ended; returns how many are still running. */
static unsigned
devproc_reap_some(pid_t *pids, unsigned n)
{
	unsigned i, left = 0;
	pid_t r;

	for (i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		r = waitpid(pids[i], NULL, WNOHANG);
		if (r == pids[i] || (r < 0 && errno == ECHILD))
			pids[i] = 0;
		else
			left++;
	}
	return left;
}

/* Wait up to ms for the children to end; returns how many still run. */
static unsigned
devproc_wait(pid_t *pids, unsigned n, int ms)
{
	struct timespec pause = { 0, 5000000L };
	long end = devproc_now_ms() + ms;
	unsigned left;

	while ((left = devproc_reap_some(pids, n)) > 0 && devproc_now_ms() < end)
		nanosleep(&pause, NULL);
	return left;
}

/* Send sig to every child still running; returns how many it reached
 * (in the jail, kill() fails with EPERM: other uids, no CAP_KILL). */
static unsigned
devproc_signal(const pid_t *pids, unsigned n, int sig)
{
	unsigned i, sent = 0;

	for (i = 0; i < n; i++)
		if (pids[i] > 0 && kill(pids[i], sig) == 0)
			sent++;
	return sent;
}

void
devproc_terminate(pid_t *pids, unsigned n, int grace_ms, int timeout_ms)
{
	if (devproc_wait(pids, n, grace_ms) == 0)
		return;
	if (devproc_signal(pids, n, SIGTERM) > 0 &&
	    devproc_wait(pids, n, timeout_ms) == 0)
		return;
	/* SIGKILL cannot be caught; a child stuck in the kernel (D state)
	 * is still not waited for forever. */
	if (devproc_signal(pids, n, SIGKILL) > 0)
		devproc_wait(pids, n, timeout_ms);
}
