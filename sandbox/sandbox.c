/*
 * The jail (sandbox.h): one function per step of sandbox_enter(), in the
 * order of the list there, each failing closed with "sandbox: step: why"
 * (step 8, the supervisor, is supervisor.c); seccomp installation and the
 * --seccomp-log SIGSYS reporter; the test hook. Nothing here prints but
 * the SIGSYS reporter.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cap-ng.h>

#include "sandbox.h"
#include "sandbox_priv.h"

#ifndef __x86_64__
#error "sandbox.c: the SIGSYS reporter sets the x86_64 return register"
#endif
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1           /* si_code of a seccomp SIGSYS */
#endif

#define SBX_MAX_CAP  63

/* This process made its own user namespace (sandbox_new_pid_ns() or
 * sandbox_enter()): a later sandbox_enter() must not nest another one.
 * Inherited by fork, forgotten by exec, as the namespace itself is. */
static bool sbx_own_userns;

/* The --seccomp-log role of this thread, for the SIGSYS reporter. */
static __thread char sbx_role[SBX_ROLE_MAX];

int
sbx_err(char *msg, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(msg, SANDBOX_MSG_MAX, "sandbox: ");
	va_start(ap, fmt);
	vsnprintf(msg + n, SANDBOX_MSG_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- step 1: fds ---- */


rlim_t
sandbox_fsize(rlim_t want)
{
	struct stat st;
	rlim_t room;

	if (fstat(STDERR_FILENO, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0)
		return want;
	room = (rlim_t)st.st_size + SANDBOX_LOG_ROOM;
	return room > want ? room : want;
}

static int
check_cfg(const struct sandbox_cfg *cfg, char *msg)
{
	int maxfd = 2;
	unsigned i;

	if (cfg->role == NULL || (cfg->nkeep > 0 && cfg->keep_fds == NULL))
		return sbx_err(msg, -EINVAL, "config: no role or no keep_fds");
	for (i = 0; i < cfg->nkeep; i++) {
		if (cfg->keep_fds[i] < 0 || fcntl(cfg->keep_fds[i], F_GETFD) < 0)
			return sbx_err(msg, -EBADF, "fds: kept fd %d is not open",
			    cfg->keep_fds[i]);
		if (cfg->keep_fds[i] > maxfd)
			maxfd = cfg->keep_fds[i];
	}
	if (cfg->nofile <= (rlim_t)maxfd)
		return sbx_err(msg, -EINVAL, "rlimits: nofile %llu does not "
		    "cover kept fd %d", (unsigned long long)cfg->nofile, maxfd);
	if (geteuid() == 0 && (cfg->uid == 0 || cfg->gid == 0 ||
	    cfg->uid > SANDBOX_MAX_ID || cfg->gid > SANDBOX_MAX_ID))
		return sbx_err(msg, -EINVAL, "uid: uid %u gid %u: want 1 to %u",
		    (unsigned)cfg->uid, (unsigned)cfg->gid, SANDBOX_MAX_ID);
	return 0;
}

/* The smallest kept fd >= lo, or UINT_MAX. */
static unsigned
next_kept(const struct sandbox_cfg *cfg, unsigned lo)
{
	unsigned i, next = UINT_MAX;

	for (i = 0; i < cfg->nkeep; i++)
		if ((unsigned)cfg->keep_fds[i] >= lo &&
		    (unsigned)cfg->keep_fds[i] < next)
			next = (unsigned)cfg->keep_fds[i];
	return next;
}

/* close_range() over each gap between 2 and the kept fds. */
static int
close_fds(const struct sandbox_cfg *cfg, char *msg)
{
	unsigned lo = 3, next;

	for (;;) {
		next = next_kept(cfg, lo);
		if (next > lo && close_range(lo, next - 1, 0) < 0)
			return sbx_err(msg, -errno, "fds: close_range: %s",
			    strerror(errno));
		if (next == UINT_MAX)
			return 0;
		lo = next + 1;
	}
}

/* ---- step 2: namespaces ---- */

static bool
sysctl_is(const char *path, char want)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == want;
}

/* Why an unprivileged user namespace is refused, from the knobs that
 * gate it. */
static int
userns_err(char *msg, int err, const char *what)
{
	static const struct {
		const char *path, *name;
		char bad;
	} knobs[] = {
		{ "/proc/sys/user/max_user_namespaces",
		    "user.max_user_namespaces", '0' },
		{ "/proc/sys/kernel/unprivileged_userns_clone",
		    "kernel.unprivileged_userns_clone", '0' },
		{ "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
		    "kernel.apparmor_restrict_unprivileged_userns", '1' },
	};
	size_t i;

	if (err == EINVAL)
		return sbx_err(msg, -err, "user namespace: %s: %s (the caller "
		    "must be single-threaded)", what, strerror(err));
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (sysctl_is(knobs[i].path, knobs[i].bad))
			return sbx_err(msg, -err, "user namespace: %s: %s "
			    "(unprivileged user namespaces disabled: sysctl "
			    "%s is %c; enable them or run as root)", what,
			    strerror(err), knobs[i].name, knobs[i].bad);
	return sbx_err(msg, -err, "user namespace: %s: %s (unprivileged user "
	    "namespaces unavailable: check sysctl user.max_user_namespaces, "
	    "kernel.unprivileged_userns_clone, kernel.apparmor_restrict_"
	    "unprivileged_userns; or run as root)", what, strerror(err));
}

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	ssize_t len = (ssize_t)strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

static int
write_maps(uid_t uid, gid_t gid, char *msg)
{
	char map[64];
	int rc;

	if ((rc = write_file("/proc/self/setgroups", "deny")) < 0)
		return userns_err(msg, -rc, "/proc/self/setgroups");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((rc = write_file("/proc/self/uid_map", map)) < 0)
		return userns_err(msg, -rc, "/proc/self/uid_map");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if ((rc = write_file("/proc/self/gid_map", map)) < 0)
		return userns_err(msg, -rc, "/proc/self/gid_map");
	return 0;
}

/* A user namespace mapping our uid and gid to themselves. A process that
 * changed its ids without exec is not dumpable, so its /proc/self files
 * belong to root: dumpable for the time of the writes. */
static int
enter_userns(char *msg)
{
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), rc;

	if (unshare(CLONE_NEWUSER) < 0)
		return userns_err(msg, errno, "unshare");
	if (dumpable == 0)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	rc = write_maps(geteuid(), getegid(), msg);
	if (dumpable == 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (rc == 0)
		sbx_own_userns = true;
	return rc;
}

int
sbx_userns_if_needed(char *msg)
{
	if (geteuid() == 0 || sbx_own_userns)
		return 0;
	return enter_userns(msg);
}

static int
enter_namespaces(const struct sandbox_cfg *cfg, char *msg)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
	int rc;

	if ((rc = sbx_userns_if_needed(msg)) < 0)
		return rc;
	if (cfg->new_pid_ns)
		flags |= CLONE_NEWPID;
	if (unshare(flags) < 0)
		return sbx_err(msg, -errno, "namespaces: unshare: %s",
		    strerror(errno));
	return 0;
}

/* ---- step 3: an empty, read-only root ---- */

#define SBX_ROOT_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* Mount the future root on the first existing of /tmp, /mnt, /run (in our
 * mount namespace only) and return that directory. */
static const char *
mount_empty(char *msg, int *rc)
{
	static const char *const dirs[] = { "/tmp", "/mnt", "/run" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (mount("sandbox", dirs[i], "tmpfs", SBX_ROOT_FLAGS,
		    "size=4k,mode=0555") == 0)
			return dirs[i];
		if (errno != ENOENT && errno != ENOTDIR)
			break;
	}
	*rc = sbx_err(msg, -errno, "root: mounting a tmpfs on %s: %s",
	    i < sizeof(dirs) / sizeof(dirs[0]) ? dirs[i] : "/tmp, /mnt or /run",
	    strerror(errno));
	return NULL;
}

static int
enter_empty_root(char *msg)
{
	const char *dir;
	int rc = 0;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_err(msg, -errno, "root: making / private: %s",
		    strerror(errno));
	if ((dir = mount_empty(msg, &rc)) == NULL)
		return rc;
	if (chdir(dir) < 0)
		return sbx_err(msg, -errno, "root: chdir %s: %s", dir,
		    strerror(errno));
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_err(msg, -errno, "root: pivot_root: %s",
		    strerror(errno));
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_err(msg, -errno, "root: detaching the old root: %s",
		    strerror(errno));
	if (chdir("/") < 0)
		return sbx_err(msg, -errno, "root: chdir /: %s",
		    strerror(errno));
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    SBX_ROOT_FLAGS, NULL) < 0)
		return sbx_err(msg, -errno, "root: remounting read-only: %s",
		    strerror(errno));
	return 0;
}

/* ---- step 4: uid and gid ---- */

static const char *
capng_step(int rc)
{
	switch (rc) {
	case -4: return "setresgid";
	case -5: return "setgroups";
	case -6: return "setresuid";
	case -8: return "clearing the bounding set";
	default: return "capabilities";
	}
}

/* As root: to cfg->uid/gid, no supplementary groups, no capabilities, an
 * empty bounding set (*caps_done). Not root: the mapped uid stays. */
static int
drop_ids(const struct sandbox_cfg *cfg, bool *caps_done, char *msg)
{
	int rc;

	if (geteuid() != 0)
		return 0;
	capng_clear(CAPNG_SELECT_BOTH);
	errno = 0;
	rc = capng_change_id((int)cfg->uid, (int)cfg->gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc < 0)
		return sbx_err(msg, errno ? -errno : -EPERM, "uid: to %u:%u: "
		    "%s: %s", (unsigned)cfg->uid, (unsigned)cfg->gid,
		    capng_step(rc), errno ? strerror(errno) : "failed");
	*caps_done = true;
	return 0;
}

/* ---- step 5: rlimits ---- */

int
sbx_set_limit(int res, const char *name, rlim_t v, char *msg)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		return sbx_err(msg, -errno, "rlimits: %s: %s", name,
		    strerror(errno));
	if (v > rl.rlim_max)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(res, &rl) < 0)
		return sbx_err(msg, -errno, "rlimits: %s: %s", name,
		    strerror(errno));
	return 0;
}

static int
set_limits(const struct sandbox_cfg *cfg, char *msg)
{
	int rc;

	if ((rc = sbx_set_limit(RLIMIT_NOFILE, "NOFILE", cfg->nofile, msg)) < 0 ||
	    (rc = sbx_set_limit(RLIMIT_CORE, "CORE", 0, msg)) < 0)
		return rc;
	if (cfg->fsize != RLIM_INFINITY)
		return sbx_set_limit(RLIMIT_FSIZE, "FSIZE", cfg->fsize, msg);
	return 0;
}

/* ---- step 6: capabilities ---- */

static int
check_caps(char *msg)
{
	unsigned cap;

	if (capng_get_caps_process() < 0)
		return sbx_err(msg, -EPERM, "caps: cannot read them back");
	if (capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
		return sbx_err(msg, -EPERM, "caps: still held after the drop");
	for (cap = 0; cap <= SBX_MAX_CAP; cap++) {
		if (capng_have_capability(CAPNG_EFFECTIVE, cap) ||
		    capng_have_capability(CAPNG_PERMITTED, cap) ||
		    capng_have_capability(CAPNG_INHERITABLE, cap) ||
		    capng_have_capability(CAPNG_BOUNDING_SET, cap))
			return sbx_err(msg, -EPERM, "caps: capability %u still "
			    "held after the drop", cap);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return sbx_err(msg, -EPERM, "caps: ambient capability "
			    "%u still set", cap);
	}
	return 0;
}

static int
drop_caps(bool caps_done, char *msg)
{
	if (!caps_done) {
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_apply(CAPNG_SELECT_BOTH) < 0)
			return sbx_err(msg, -EPERM, "caps: capng_apply failed");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return sbx_err(msg, -errno, "caps: clearing the ambient set: %s",
		    strerror(errno));
	return check_caps(msg);
}

int
sbx_jail_supervisor(uid_t uid, gid_t gid, char *msg)
{
	const struct sandbox_cfg c = { .role = "supervisor", .uid = uid,
	    .gid = gid };
	bool caps_done = false;
	int rc;

	if ((rc = enter_namespaces(&c, msg)) < 0 ||
	    (rc = enter_empty_root(msg)) < 0 ||
	    (rc = drop_ids(&c, &caps_done, msg)) < 0)
		return rc;
	return drop_caps(caps_done, msg);
}

/* ---- step 7: no_new_privs, parent-death signal ---- */

static int
lock_privs(int pdeathsig, pid_t ppid, char *msg)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_err(msg, -errno, "no_new_privs: %s", strerror(errno));
	if (pdeathsig == 0)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) < 0)
		return sbx_err(msg, -errno, "pdeathsig: %s", strerror(errno));
	if (getppid() != ppid)
		return sbx_err(msg, -ESRCH, "pdeathsig: the parent has exited");
	return 0;
}

/* ---- steps 9 and 10 ---- */

int
sandbox_limit_procs(char msg[SANDBOX_MSG_MAX])
{
	return sbx_set_limit(RLIMIT_NPROC, "NPROC", 0, msg);
}

static size_t
put_str(char *buf, size_t n, size_t size, const char *s)
{
	while (*s != '\0' && n < size)
		buf[n++] = *s++;
	return n;
}

static size_t
put_num(char *buf, size_t n, size_t size, long v)
{
	char digits[24];
	size_t i = sizeof(digits);
	unsigned long u = v < 0 ? 0 - (unsigned long)v : (unsigned long)v;

	digits[--i] = '\0';
	do
		digits[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		digits[--i] = '-';
	return put_str(buf, n, size, digits + i);
}

/* --seccomp-log: "<role>: seccomp: blocked syscall NAME (nr N)" on fd 2,
 * then the syscall returns -ENOSYS. Only write(2) and rt_sigreturn. */
static void
sigsys_report(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	int saved = errno;
	char buf[160];
	size_t n = 0;

	(void)sig;
	if (si->si_code != SYS_SECCOMP)
		return;
	n = put_str(buf, n, sizeof(buf), sbx_role);
	n = put_str(buf, n, sizeof(buf), ": seccomp: blocked syscall ");
	n = put_str(buf, n, sizeof(buf), sandbox_syscall_name(si->si_syscall));
	n = put_str(buf, n, sizeof(buf), " (nr ");
	n = put_num(buf, n, sizeof(buf), si->si_syscall);
	n = put_str(buf, n, sizeof(buf), ")\n");
	(void)!write(2, buf, n);
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
	errno = saved;
}

static int
arm_sigsys_report(const char *role, char *msg)
{
	struct sigaction sa = { .sa_sigaction = sigsys_report,
	    .sa_flags = SA_SIGINFO };
	sigset_t set;

	snprintf(sbx_role, sizeof(sbx_role), "%s", role ? role : "?");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return sbx_err(msg, -errno, "seccomp: SIGSYS handler: %s",
		    strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return 0;
}

int
sandbox_seccomp(const struct sandbox_prog *prog, bool log, const char *role,
    char msg[SANDBOX_MSG_MAX])
{
	struct sock_fprog fprog;
	int rc;

	if (prog == NULL || (log ? prog->trap : prog->kill) == NULL)
		return sbx_err(msg, -EINVAL, "seccomp: no program");
	fprog.filter = (struct sock_filter *)(log ? prog->trap : prog->kill);
	fprog.len = log ? prog->trap_len : prog->kill_len;
	if (log && (rc = arm_sigsys_report(role, msg)) < 0)
		return rc;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
		return sbx_err(msg, -errno, "seccomp: installing profile %s: %s",
		    prog->name, strerror(errno));
	return 0;
}

/* ---- sandbox_enter ---- */

int
sandbox_enter(const struct sandbox_cfg *cfg, char msg[SANDBOX_MSG_MAX])
{
	pid_t ppid = getppid();
	bool caps_done = false;
	int pdeathsig = 0, rc;

	if ((rc = check_cfg(cfg, msg)) < 0)
		return rc;
	if (prctl(PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0) < 0)
		return sbx_err(msg, -errno, "pdeathsig: %s", strerror(errno));
	if ((rc = close_fds(cfg, msg)) < 0 ||
	    (rc = enter_namespaces(cfg, msg)) < 0 ||
	    (rc = enter_empty_root(msg)) < 0 ||
	    (rc = drop_ids(cfg, &caps_done, msg)) < 0 ||
	    (rc = set_limits(cfg, msg)) < 0 ||
	    (rc = drop_caps(caps_done, msg)) < 0 ||
	    (rc = lock_privs(pdeathsig, ppid, msg)) < 0)
		return rc;
	if (cfg->new_pid_ns && (rc = sbx_fork_supervised(cfg->role,
	    SANDBOX_TERM_KILL, cfg->seccomp_log, NULL, msg)) < 0)
		return rc;
	if (cfg->nproc_zero && (rc = sandbox_limit_procs(msg)) < 0)
		return rc;
	if (cfg->prog != NULL)
		return sandbox_seccomp(cfg->prog, cfg->seccomp_log, cfg->role,
		    msg);
	return 0;
}

/* ---- test hook ---- */

static volatile sig_atomic_t sbx_forbidden = -1;


/* SIGUSR1: one forbidden syscall with harmless arguments. */
static void
forbidden_handler(int sig)
{
	static char *const argv[] = { "/bin/true", NULL }, *const envp[] = {
		NULL };
	int saved = errno;

	(void)sig;
	switch (sbx_forbidden) {
	case 0:
		syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
		break;
	case 1:
		syscall(SYS_execve, "/bin/true", argv, envp);
		break;
	case 2:
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case 3:
		syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
		break;
	}
	errno = saved;
}

int
sandbox_test_forbidden_arm(const char *name, char msg[SANDBOX_MSG_MAX])
{
	struct sigaction sa = { .sa_handler = forbidden_handler,
	    .sa_flags = SA_RESTART };
	sigset_t set;
	int i;

	i = sandbox_test_forbidden_index(name, name ? strlen(name) : 0);
	if (i < 0)
		return sbx_err(msg, -EINVAL, "test: forbidden syscall '%s': "
		    "want openat, execve, socket or ptrace", name ? name : "");
	sbx_forbidden = (sig_atomic_t)i;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return sbx_err(msg, -errno, "test: SIGUSR1: %s", strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return 0;
}
