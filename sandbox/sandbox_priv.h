/*
 * What sandbox.c and supervisor.c share; not for the process roles.
 */
#ifndef SANDBOX_PRIV_H
#define SANDBOX_PRIV_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "sandbox.h"

#define SBX_ROLE_MAX 48         /* "<role> supervisor", with NUL */

/* Fill msg with "sandbox: " and the printf-style rest; returns code. */
int sbx_err(char *msg, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Soft and hard limit of res to v, never above the current hard limit
 * (raising it would need CAP_SYS_RESOURCE; v is a ceiling anyway). name
 * ("NOFILE") is for the message. */
int sbx_set_limit(int res, const char *name, rlim_t v, char *msg);

/* Not root and no user namespace of our own yet: make one that maps our
 * uid and gid to themselves. Else nothing. */
int sbx_userns_if_needed(char *msg);

/* The vmm's supervisor jails itself: new mount, IPC, UTS and network
 * namespaces, the empty root, as root a drop to uid/gid, every
 * capability and the bounding set dropped. */
int sbx_jail_supervisor(uid_t uid, gid_t gid, char *msg);

/* fork(): the child (pid 1 if a PID namespace was just unshared) returns 0
 * with PR_SET_PDEATHSIG SIGKILL; the caller becomes its supervisor and
 * never returns (log: the trap variant of the supervisor profile). */
int sbx_fork_supervised(const char *role, enum sandbox_term term, bool log,
    int *sig_fd, char *msg);

#endif
