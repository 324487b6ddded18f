/*
 * devices/common: what the main() of every device process (vmm-blk,
 * vmm-net) does the same way: one-line errors, numeric options, the
 * vhost-user socket (listen on a path, or check an inherited fd), serving
 * a listening socket one frontend at a time, and the jail. Not linked into
 * unit tests or fuzz targets (it exits on error).
 *
 * Each device's main.c defines `const char dev_prog[] = "vmm-xxx";`, the
 * prefix of every message.
 */
#ifndef DEVICES_COMMON_DEV_MAIN_H
#define DEVICES_COMMON_DEV_MAIN_H

#include <stdbool.h>
#include <sys/resource.h>

#include "sandbox.h"

extern const char dev_prog[];

/* `dev_prog: ...` and a newline on stderr, exit 1. */
void dev_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* A decimal number in [min, max], else dev_die naming the option. */
unsigned long dev_parse_num(const char *opt, const char *s, unsigned long min,
    unsigned long max);

/* The options every device has, checked (dev_die on error): exactly one of
 * --socket PATH and --socket-fd N; --once only with --socket; --jail-id
 * only as root; --x-test-forbidden one of the test-hook syscalls. */
void dev_check_common_args(const char *socket_path, int socket_fd, bool once,
    bool jail_id_given, const char *test_forbidden);

/* Bind and listen on path, replacing a stale socket file. */
int dev_listen_on(const char *path);

/* The connected socket we were given (--socket-fd), checked; made CLOEXEC. */
int dev_check_socket_fd(int fd);

/* Serve frontends one at a time on the listening socket ls (made from
 * path): serve(socket, arg) for each, the socket closed after it. With
 * once, returns after the first: 0 if serve returned 0, else 1 (the
 * socket file stays behind: the jail reaches no path; the next start
 * replaces it). */
int dev_serve_listener(int ls, const char *path, bool once,
    int (*serve)(int sock, void *arg), void *arg);

/* Into the jail keeping {sock, res} (res: the disk or the tap): a new PID
 * namespace, uid/gid jail_id as root (else ours, in a user namespace),
 * RLIMIT_NOFILE nofile (raised above the higher of the two fds), FSIZE
 * fsize, NPROC 0; then the hidden --x-test-forbidden arm (its sigaction is
 * not in the device profiles), then the seccomp profile prog. dev_die on
 * any error. */
void dev_jail(int sock, int res, unsigned jail_id, rlim_t nofile, rlim_t fsize,
    bool seccomp_log, const char *test_forbidden, const struct sandbox_prog *prog);

#endif
