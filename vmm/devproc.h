/*
 * Device processes of the vmm: find a device binary next to our own,
 * fork+exec it with its fds at fixed numbers, and end/reap it.
 */
#ifndef VMM_DEVPROC_H
#define VMM_DEVPROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/*
 * Path of device binary `name` ("vmm-blk"): $env_override when set and
 * non-empty, else dirname(/proc/self/exe)/name. Checks it is executable.
 * Returns 0 or -errno with e naming the binary.
 */
int devproc_find(const char *name, const char *env_override, char *buf,
    size_t size, struct err *e);

/*
 * fork + exec `path` with argv (NULL-terminated), the child holding
 * fds[i] as fd 3 + i (i < nfds <= 8), /dev/null as fd 0 (it never reads
 * the terminal), our fds 1 and 2, and no other fd; every signal
 * unblocked and at its default action, and PR_SET_PDEATHSIG(SIGKILL) so it
 * dies with the vmm. Call from the main thread (the death signal follows
 * the forking thread). The caller's fds are not closed. Returns the
 * child's pid or -errno with e.
 */
pid_t devproc_spawn(const char *path, char *const argv[], const int *fds,
    unsigned nfds, struct err *e);

/*
 * The pid of our child `pid` (numbered in our own PID namespace: the vmm is
 * pid 1 of one) as the host sees it, which is what an operator can look up:
 * found through /proc (the host's procfs), so only before the jail. Returns
 * pid itself if it cannot be found (e.g. the child already ended).
 */
pid_t devproc_host_pid(pid_t pid);

/*
 * Format how a process ended (a waitpid status) as "exited with status N"
 * or "killed by signal N (SIGNAME)" into buf.
 */
const char *devproc_status_str(int status, char *buf, size_t size);

/*
 * End children without ever blocking for long: wait up to grace_ms
 * (WNOHANG polling) for each pid > 0 to exit by itself (e.g. on EOF: the
 * caller closes their sockets first), then SIGTERM the rest and wait up to
 * timeout_ms for all of them together, then SIGKILL and wait up to
 * timeout_ms again. A signal step that reaches none of them (in the jail
 * kill() fails with EPERM: the children have other uids) is skipped with
 * its wait. pids[i] is set to 0 once reaped; what is left is given up:
 * PR_SET_PDEATHSIG, and the end of the vmm's PID namespace, kill them
 * when the vmm exits.
 */
void devproc_terminate(pid_t *pids, unsigned n, int grace_ms, int timeout_ms);

#endif
