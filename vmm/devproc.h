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
 * Format how a process ended (a waitpid status) as "exited with status N"
 * or "killed by signal N" into buf.
 */
const char *devproc_status_str(int status, char *buf, size_t size);

/*
 * End children: wait up to grace_ms for each pid > 0 to exit by itself
 * (e.g. on EOF), then SIGTERM the rest, wait up to timeout_ms for all of
 * them together, then SIGKILL and reap what is left. pids[i] is set to 0
 * once reaped. Never leaves a zombie of ours.
 */
void devproc_terminate(pid_t *pids, unsigned n, int grace_ms, int timeout_ms);

#endif
