/*
 * The jail every process of vmm-reference enters (STYLE.md, "Sandbox").
 *
 * sandbox_enter() applies, in this order, and fails closed (a step that
 * fails is an error, never skipped):
 *   1. close every fd except 0, 1, 2 and cfg->keep_fds;
 *   2. new namespaces: user (only when not root: it maps the caller's uid
 *      and gid to themselves), mount, IPC, UTS, network, and PID when
 *      cfg->new_pid_ns;
 *   3. pivot_root into an empty, read-only tmpfs (nosuid, nodev, noexec);
 *      no host path is reachable afterwards;
 *   4. as root: drop to cfg->uid/cfg->gid, no supplementary groups (libcap-ng
 *      capng_change_id); not root: keep the (mapped) uid;
 *   5. rlimits: NOFILE cfg->nofile, CORE 0, FSIZE cfg->fsize;
 *   6. every capability, the bounding set and the ambient set dropped
 *      (libcap-ng), then checked empty;
 *   7. PR_SET_NO_NEW_PRIVS; PR_SET_PDEATHSIG re-armed (a uid change clears it);
 *   8. cfg->new_pid_ns: fork. The child, pid 1 of the new PID namespace, is
 *      the jailed process and returns from sandbox_enter(). The caller's
 *      process becomes a supervisor that never returns: it closes every fd
 *      but 2, installs the `supervisor` profile, waits for the child and ends
 *      as the child did (same exit status, or killed by the same signal).
 *      SIGTERM, SIGINT, SIGHUP and SIGQUIT sent to the supervisor kill the
 *      child (SIGKILL) and then the supervisor, by that signal; SIGUSR1 is
 *      passed on to the child (see sandbox_test_forbidden_arm()). So the
 *      pid a launcher (the vmm, a test, a user) knows reports what
 *      happened. The child goes on only once its supervisor is locked
 *      down; a supervisor that cannot lock itself down kills the child,
 *      prints "<role> supervisor: sandbox: ..." and exits 1;
 *   9. RLIMIT_NPROC 0 when cfg->nproc_zero (no fork, no new thread);
 *  10. the seccomp filter cfg->prog (if not NULL) on the calling thread:
 *      default action kill the process; with cfg->seccomp_log instead a
 *      SIGSYS handler prints "<role>: seccomp: blocked syscall NAME (nr N)"
 *      to stderr and the syscall fails with ENOSYS (for writing profiles).
 *
 * The caller must be single-threaded (a user namespace and a private fs
 * root are per process only then). The vmm enters with prog == NULL, starts
 * its vCPU threads (each calls sandbox_seccomp(vcpu profile) first), then
 * calls sandbox_limit_procs() and sandbox_seccomp(vmm profile) itself.
 *
 * Errors: a negative errno and one line in msg ("sandbox: <step>: <why>",
 * naming what is missing, e.g. disabled unprivileged user namespaces).
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <linux/filter.h>

#define SANDBOX_MSG_MAX 256

/* Default jail ids when run as root: the vmm uses SANDBOX_DEFAULT_ID, the
 * vmm's device i uses SANDBOX_DEFAULT_ID + 1 + i; a standalone device
 * process uses SANDBOX_DEFAULT_ID + 100 unless told otherwise. */
#define SANDBOX_DEFAULT_ID 400000u
#define SANDBOX_MAX_ID     4000000000u

/* A seccomp profile compiled at build time from seccomp-profiles/NAME.policy
 * (build/gen/seccomp_NAME.c, made by build/seccomp-compile). `kill` is the
 * filter with default action SECCOMP_RET_KILL_PROCESS; `trap` the same
 * allow-list with SECCOMP_RET_TRAP, plus rt_sigreturn and write(2), for
 * --seccomp-log. Both start with the architecture check. */
struct sandbox_prog {
	const char *name;                  /* "blk" */
	const struct sock_filter *kill;
	unsigned short kill_len;
	const struct sock_filter *trap;
	unsigned short trap_len;
	unsigned nsyscalls;                /* distinct syscalls allowed */
};

extern const struct sandbox_prog sandbox_prog_vmm;
extern const struct sandbox_prog sandbox_prog_vcpu;
extern const struct sandbox_prog sandbox_prog_blk;
extern const struct sandbox_prog sandbox_prog_net;
extern const struct sandbox_prog sandbox_prog_supervisor;

struct sandbox_cfg {
	const char *role;                  /* in messages: "vmm-blk" */
	const int *keep_fds;               /* kept besides 0, 1, 2 */
	unsigned nkeep;
	bool new_pid_ns;                   /* step 8: fork a pid-1 child */
	uid_t uid;                         /* as root: drop to these */
	gid_t gid;
	rlim_t nofile;                     /* RLIMIT_NOFILE, > highest kept fd */
	rlim_t fsize;                      /* RLIMIT_FSIZE: 0 for roles that
	                                    * write no file; RLIM_INFINITY keeps */
	bool nproc_zero;                   /* step 9 */
	const struct sandbox_prog *prog;   /* step 10; NULL: caller installs */
	bool seccomp_log;                  /* trap and report, don't kill */
};

/*
 * RLIMIT_FSIZE for a role that writes at most `want` bytes into files of
 * its own (0: none): `want`, unless our stderr is a regular file (the
 * operator logs to a file), whose writes a smaller limit would refuse
 * (EFBIG: every later message lost): then the log's current size plus
 * SANDBOX_LOG_ROOM, if that is more. Call before sandbox_enter.
 */
#define SANDBOX_LOG_ROOM (64ull << 20)
rlim_t sandbox_fsize(rlim_t want);

/* Enter the jail described by cfg (steps above). Returns 0 in the jailed
 * process; on error a negative errno with msg filled, and the process may
 * be partly jailed (the caller exits). */
int sandbox_enter(const struct sandbox_cfg *cfg, char msg[SANDBOX_MSG_MAX]);

/* Install prog on the calling thread only (no TSYNC), kill or trap variant.
 * Needs no_new_privs (set by sandbox_enter). role names the process in
 * --seccomp-log reports. */
int sandbox_seccomp(const struct sandbox_prog *prog, bool log, const char *role,
    char msg[SANDBOX_MSG_MAX]);

/* What a supervisor does with SIGTERM, SIGINT, SIGHUP and SIGQUIT. */
enum sandbox_term {
	SANDBOX_TERM_KILL,      /* SIGKILL the child, then die by the signal
	                         * (device processes: pid 1 ignores the rest) */
	SANDBOX_TERM_FORWARD,   /* pass the signal on to the child through a
	                         * pipe (sandbox_new_pid_ns) */
};

/* Step 8 on its own: unshare a PID namespace (with a user namespace first
 * when not root) and fork. Returns 0 in the child, pid 1 of the new
 * namespace, with PR_SET_PDEATHSIG SIGKILL; the calling process becomes the
 * supervisor described above and never returns. The vmm calls this first
 * thing (before it opens anything), so that everything it starts lives in
 * its PID namespace; sandbox_enter() with new_pid_ns uses it too.
 * SANDBOX_TERM_FORWARD: the supervisor jails itself too (new mount, IPC,
 * UTS and network namespaces, the empty root, as root a drop to uid/gid
 * (the vmm passes its own jail ids, so the supervisor's kill() reaches
 * nothing but the jailed vmm), no capabilities, an empty bounding set)
 * and forwards SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT and SIGUSR1 not with kill() (the child changes uid in its jail,
 * and the supervisor has no CAP_KILL) but as one uint64_t, the signal
 * number, written to a pipe whose read end (non-blocking, close-on-exec)
 * is *sig_fd in the child. sig_fd is only used, and must not be NULL,
 * with SANDBOX_TERM_FORWARD. EOF on it means the supervisor is gone: once
 * the child has changed uid, the supervisor's PR_SET_PDEATHSIG cannot
 * reach it (the kernel checks it like kill()), so the child must stop on
 * that EOF itself. */
int sandbox_new_pid_ns(const char *role, enum sandbox_term term, uid_t uid,
    gid_t gid, int *sig_fd, char msg[SANDBOX_MSG_MAX]);

/* Test-only (hidden options): after this, SIGUSR1 makes the process call
 * the syscall `name` (openat, execve, socket or ptrace) from the signal
 * handler, so tests can prove the jail kills it. -EINVAL for other names. */
int sandbox_test_forbidden_arm(const char *name, char msg[SANDBOX_MSG_MAX]);

/* The index of the test-only forbidden syscall named by name[0..len) in
 * the one list (openat, execve, socket, ptrace), or -1; and back from an
 * index to its (static) name, or NULL. */
int sandbox_test_forbidden_index(const char *name, size_t len);
const char *sandbox_test_forbidden_name(int index);

/* RLIMIT_NPROC 0 for the whole process: no fork, no new thread. */
int sandbox_limit_procs(char msg[SANDBOX_MSG_MAX]);

/* The name of syscall nr on this architecture ("?" if unknown), from the
 * table generated at build time. Async-signal-safe. */
const char *sandbox_syscall_name(long nr);

/* The number of the syscall `name` on this architecture, -1 if unknown
 * (the same table; the profile parser's resolver in tests). */
long sandbox_syscall_nr(const char *name);

#endif
