/*
 * Step 8 of the jail (sandbox.h): the supervisor. After fork() the caller
 * keeps only fd 2, runs under the `supervisor` profile, relays signals to
 * its one child and ends the way the child ended; sandbox_new_pid_ns() is
 * the same with a fresh PID namespace for the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "sandbox_priv.h"

/* The signals a supervisor acts on: the four of enum sandbox_term, and
 * SIGUSR1, always forwarded (tests signal the pid they know). */
static const int sup_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 };

#define SUP_READY_FD 3          /* the ready pipe in the supervisor */
#define SUP_FWD_FD   4          /* FORWARD: the write end of the signal pipe
                                 * (supervisor.policy allows 8-byte writes
                                 * to fd 4) */

static pid_t sup_child;
static enum sandbox_term sup_term;
static uid_t sup_uid;           /* FORWARD, as root: the ids it drops to */
static gid_t sup_gid;
static volatile sig_atomic_t sup_sig;   /* TERM_KILL: the signal received */

static void
sup_handler(int sig)
{
	int saved = errno;

	uint64_t v = (uint64_t)sig;

	if (sup_child <= 0) {
		/* the child is reaped: nothing left to signal */
	} else if (sup_term == SANDBOX_TERM_FORWARD) {
		(void)!write(SUP_FWD_FD, &v, sizeof(v));
	} else if (sig == SIGUSR1) {
		kill(sup_child, sig);
	} else {
		if (sup_sig == 0)
			sup_sig = sig;
		kill(sup_child, SIGKILL);
	}
	errno = saved;
}

static void __attribute__((noreturn))
die_by(int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

static void
say(const char *a, const char *b)
{
	(void)!write(2, a, strlen(a));
	(void)!write(2, b, strlen(b));
}

/* Everything a supervisor keeps: fd 2, the write end of the ready pipe
 * as SUP_READY_FD until its setup is complete, and the supervisor
 * profile. The 'r' it writes before the filter tells the child that the
 * supervisor got this far (an EOF alone could be its death). */
static int
sup_lockdown(const char *who, bool log, int ready, int fwd, char *msg)
{
	unsigned top = fwd >= 0 ? SUP_FWD_FD : SUP_READY_FD;
	int rc, hi_ready, hi_fwd = -1;

	/* Park both above the targets first, so neither dup2 clobbers the
	 * other end. */
	hi_ready = fcntl(ready, F_DUPFD_CLOEXEC, SUP_FWD_FD + 1);
	if (fwd >= 0)
		hi_fwd = fcntl(fwd, F_DUPFD_CLOEXEC, SUP_FWD_FD + 1);
	if (hi_ready < 0 || (fwd >= 0 && hi_fwd < 0) ||
	    dup2(hi_ready, SUP_READY_FD) < 0 ||
	    (fwd >= 0 && dup2(hi_fwd, SUP_FWD_FD) < 0) ||
	    close_range(0, 1, 0) < 0 || close_range(top + 1, ~0U, 0) < 0)
		return sbx_err(msg, -errno, "supervisor: closing fds: %s",
		    strerror(errno));
	if (sup_term == SANDBOX_TERM_FORWARD &&
	    (rc = sbx_jail_supervisor(sup_uid, sup_gid, msg)) < 0)
		return rc;
	if ((rc = sbx_set_limit(RLIMIT_NPROC, "NPROC", 0, msg)) < 0 ||
	    (rc = sbx_set_limit(RLIMIT_CORE, "CORE", 0, msg)) < 0)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_err(msg, -errno, "no_new_privs: %s", strerror(errno));
	if (write(SUP_READY_FD, "r", 1) != 1)
		return sbx_err(msg, -EPIPE, "supervisor: the child is gone");
	return sandbox_seccomp(&sandbox_prog_supervisor, log, who, msg);
}

static void
sup_wait(pid_t child, const char *who, int options, siginfo_t *si)
{
	while (waitid(P_PID, (id_t)child, si, options) < 0) {
		if (errno != EINTR) {
			kill(child, SIGKILL);
			say(who, ": sandbox: supervisor: waitid failed\n");
			_exit(1);
		}
	}
}

static void __attribute__((noreturn))
supervise(pid_t child, const char *role, enum sandbox_term term, bool log,
    int ready, int fwd)
{
	struct sigaction sa = { .sa_handler = sup_handler };
	char msg[SANDBOX_MSG_MAX], who[SBX_ROLE_MAX];
	sigset_t none, handled;
	siginfo_t si;
	size_t i;

	sup_child = child;
	sup_term = term;
	sigfillset(&sa.sa_mask);
	sigemptyset(&handled);
	for (i = 0; i < sizeof(sup_signals) / sizeof(sup_signals[0]); i++) {
		sigaction(sup_signals[i], &sa, NULL);
		sigaddset(&handled, sup_signals[i]);
	}
	snprintf(who, sizeof(who), "%s supervisor", role);
	if (sup_lockdown(who, log, ready, fwd, msg) < 0) {
		kill(child, SIGKILL);
		say(who, ": ");
		say(msg, "\n");
		_exit(1);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close(SUP_READY_FD);    /* the child may go on */
	sup_wait(child, who, WEXITED | WNOWAIT, &si);
	/* A zombie until reaped: block the handlers, so they never signal
	 * the pid once it may belong to another process. */
	sigprocmask(SIG_BLOCK, &handled, NULL);
	sup_wait(child, who, WEXITED, &si);
	sup_child = 0;
	if (sup_sig != 0)
		die_by(sup_sig);
	if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
		die_by(si.si_status);
	_exit(si.si_code == CLD_EXITED ? si.si_status : 1);
}

/* The child's side of the ready pipe: 'r', then EOF once the supervisor
 * is locked down (its filter on, its handlers armed). */
static int
wait_supervisor(int fd, char *msg)
{
	bool started = false;
	ssize_t n;
	char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n == 1 && c == 'r' && !started)
			started = true;
		else if (n != -1 || errno != EINTR)
			break;
	}
	close(fd);
	if (n != 0 || !started)
		return sbx_err(msg, -ESRCH, "supervisor: died in its setup");
	return 0;
}

/* A pipe whose ends are not 0, 1 or 2 (the supervisor keeps fd 2). */
static int
ready_pipe(int p[2], char *msg)
{
	int i, fd;

	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_err(msg, -errno, "supervisor: pipe: %s",
		    strerror(errno));
	for (i = 0; i < 2; i++) {
		if (p[i] > 2)
			continue;
		fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
		close(p[i]);
		p[i] = fd;
	}
	if (p[0] < 0 || p[1] < 0) {
		close(p[0] < 0 ? p[1] : p[0]);
		return sbx_err(msg, -EMFILE, "supervisor: pipe: no fd");
	}
	return 0;
}

/* fork(): the child (pid 1 if a PID namespace was just unshared) returns 0
 * with PR_SET_PDEATHSIG SIGKILL once its supervisor is locked down; the
 * caller becomes that supervisor. The supervisor's signals stay blocked
 * until its handlers are in place. */
int
sbx_fork_supervised(const char *role, enum sandbox_term term, bool log,
    int *sig_fd, char *msg)
{
	sigset_t set, old;
	int err, p[2], f[2] = { -1, -1 };
	size_t i;
	pid_t pid;

	if ((err = ready_pipe(p, msg)) < 0)
		return err;
	if (term == SANDBOX_TERM_FORWARD && (err = ready_pipe(f, msg)) < 0) {
		close(p[0]);
		close(p[1]);
		return err;
	}
	sigemptyset(&set);
	for (i = 0; i < sizeof(sup_signals) / sizeof(sup_signals[0]); i++)
		sigaddset(&set, sup_signals[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0) {
		err = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		for (i = 0; i < 2; i++) {
			close(p[i]);
			if (f[i] >= 0)
				close(f[i]);
		}
		return sbx_err(msg, -err, "fork: %s", strerror(err));
	}
	if (pid > 0)
		supervise(pid, role, term, log, p[1], f[1]);
	close(p[1]);
	if (f[1] >= 0)
		close(f[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* FORWARD as root: the supervisor drops to sup_uid and keeps no
	 * CAP_KILL, and PR_SET_PDEATHSIG is checked like kill(): take
	 * sup_uid as our real uid now (effective and saved stay 0 until our
	 * own jail), so that its death still reaches us. Before the prctl:
	 * a uid change clears the parent-death signal. */
	if (term == SANDBOX_TERM_FORWARD && geteuid() == 0 && sup_uid != 0 &&
	    setresuid(sup_uid, 0, 0) < 0) {
		err = errno;
		close(p[0]);
		close(f[0]);
		return sbx_err(msg, -err, "supervisor: real uid %u: %s",
		    (unsigned)sup_uid, strerror(err));
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    (f[0] >= 0 && fcntl(f[0], F_SETFL, O_NONBLOCK) < 0)) {
		err = errno;
		close(p[0]);
		if (f[0] >= 0)
			close(f[0]);
		return sbx_err(msg, -err, "pdeathsig: %s", strerror(err));
	}
	if ((err = wait_supervisor(p[0], msg)) < 0) {
		if (f[0] >= 0)
			close(f[0]);
		return err;
	}
	if (sig_fd != NULL)
		*sig_fd = f[0];
	return 0;
}

int
sandbox_new_pid_ns(const char *role, enum sandbox_term term, uid_t uid,
    gid_t gid, int *sig_fd, char msg[SANDBOX_MSG_MAX])
{
	int rc;

	sup_uid = uid;
	sup_gid = gid;
	if (term == SANDBOX_TERM_FORWARD && sig_fd == NULL)
		return sbx_err(msg, -EINVAL, "supervisor: FORWARD needs sig_fd");
	if ((rc = sbx_userns_if_needed(msg)) < 0)
		return rc;
	if (unshare(CLONE_NEWPID) < 0)
		return sbx_err(msg, -errno, "pid namespace: unshare: %s",
		    strerror(errno));
	return sbx_fork_supervised(role, term, false, sig_fd, msg);
}
