/*
 * devices/common: what the main() of every device process (vmm-blk,
 * vmm-net) does the same way: one-line errors, numeric options, the
 * options they all have, the vhost-user socket (listen on a path, or check
 * an inherited fd), serving frontends, and the jail. Not linked into unit
 * tests or fuzz targets (it exits on error).
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

/* The options every device process has. */
struct dev_args {
	const char *socket_path;      /* --socket PATH */
	int socket_fd;                /* --socket-fd N; -1: not given */
	bool once;                    /* --once */
	unsigned jail_id;             /* --jail-id N: as root, our uid/gid in the jail */
	bool jail_id_given;
	bool seccomp_log;             /* --seccomp-log */
	const char *test_forbidden;   /* hidden --x-test-forbidden SYSCALL */
};

/* Their getopt_long entries ('s', 'S', 'o', 'j', 'l', 'x', and 'h' for
 * --help, which each device prints itself). */
#define DEV_LONG_OPTS \
	{ "socket", required_argument, NULL, 's' }, \
	{ "socket-fd", required_argument, NULL, 'S' }, \
	{ "once", no_argument, NULL, 'o' }, \
	{ "jail-id", required_argument, NULL, 'j' }, \
	{ "seccomp-log", no_argument, NULL, 'l' }, \
	{ "x-test-forbidden", required_argument, NULL, 'x' }, /* hidden */ \
	{ "help", no_argument, NULL, 'h' }

/* Defaults: no socket, jail id default_jail_id. */
void dev_args_init(struct dev_args *a, unsigned default_jail_id);

/* Take option c (with optarg) if it is one of DEV_LONG_OPTS' but 'h':
 * true when it was. */
bool dev_parse_opt(struct dev_args *a, int c);

/* The common options, checked (dev_die on error): exactly one of --socket
 * and --socket-fd; --once only with --socket; --jail-id only as root;
 * --x-test-forbidden one of the test-hook syscalls. */
void dev_check_args(const struct dev_args *a);

/* The vhost-user socket of a: --socket-fd checked, or --socket listened on. */
int dev_socket(const struct dev_args *a);

/* Serve on sock (from dev_socket), serve(socket, arg) per frontend: the
 * --socket-fd peer once; on --socket frontends one at a time, each socket
 * closed after it, until --once ends it after the first (the socket file
 * stays behind: the jail reaches no path; the next start replaces it).
 * Returns the exit status: 0 if the (last) serve returned 0, else 1. */
int dev_serve(const struct dev_args *a, int sock, int (*serve)(int sock, void *arg),
    void *arg);

/* Into the jail keeping {sock, res} (res: the disk or the tap): a new PID
 * namespace, uid/gid a->jail_id as root (else ours, in a user namespace),
 * RLIMIT_NOFILE nofile (raised above the higher of the two fds), FSIZE
 * fsize, NPROC 0; then the hidden --x-test-forbidden arm (its sigaction is
 * not in the device profiles), then the seccomp profile prog
 * (--seccomp-log: trap and report). dev_die on any error. */
void dev_jail(const struct dev_args *a, int sock, int res, rlim_t nofile, rlim_t fsize,
    const struct sandbox_prog *prog);

#endif
