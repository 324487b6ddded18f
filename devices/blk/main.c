/*
 * vmm-blk: a vhost-user virtio-blk backend process.
 *
 *   vmm-blk --socket PATH --disk FILE [--read-only] [--id NAME] [--queues N] [--once]
 *   vmm-blk --socket-fd N --disk-fd M [--read-only] [--id NAME] [--queues N]
 *
 * The first form listens on PATH and serves one frontend at a time; the
 * second serves an already connected socket (the vmm spawned us with the
 * disk it opened) and exits when the peer closes. Errors: one line
 * `vmm-blk: what: why` on stderr, exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "blk.h"

#define PROG "vmm-blk"

struct blk_args {
	const char *socket_path;
	const char *disk_path;
	int socket_fd;          /* -1: not given */
	int disk_fd;            /* -1: not given */
	bool read_only;
	bool once;
	const char *id;
	unsigned queues;
	unsigned poll_us;
};

static struct blk_dev blk_device;    /* ~17 KiB: not on the stack */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " --socket PATH --disk FILE [options] [--once]\n"
	    "       " PROG " --socket-fd N --disk-fd M [options]\n"
	    "A vhost-user virtio-blk backend.\n"
	    "  --socket PATH   listen on the AF_UNIX socket PATH (a stale socket file\n"
	    "                  is replaced) and serve one frontend at a time\n"
	    "  --once          exit after the first connection ends\n"
	    "  --socket-fd N   serve the connected socket N; exit when it closes\n"
	    "  --disk FILE     the disk image (regular file or block device, size a\n"
	    "                  non-zero multiple of 512)\n"
	    "  --disk-fd M     the disk as an open fd (opened by the caller)\n"
	    "  --read-only     open/serve the disk read-only (VIRTIO_BLK_F_RO)\n"
	    "  --id NAME       the GET_ID string, at most 20 bytes (default vmm-blk)\n"
	    "  --queues N      number of request queues, 1..%u (default 1)\n"
	    "  --poll-us N     busy-poll an emptied queue for N us before waiting\n"
	    "                  for a kick, 0..%u (default %u; 0 never polls)\n"
	    "  --help          this text\n", BLK_MAX_QUEUES, BLK_MAX_POLL_US,
	    BLK_DEFAULT_POLL_US);
}

/* A decimal number in [min, max], else die naming the option. */
static unsigned long
parse_num(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max)
		die("%s: '%s' is not a number in %lu..%lu", opt, s, min, max);
	return v;
}

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "socket-fd", required_argument, NULL, 'S' },
	{ "disk", required_argument, NULL, 'd' },
	{ "disk-fd", required_argument, NULL, 'D' },
	{ "read-only", no_argument, NULL, 'r' },
	{ "id", required_argument, NULL, 'i' },
	{ "queues", required_argument, NULL, 'q' },
	{ "poll-us", required_argument, NULL, 'p' },
	{ "once", no_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
parse_opt(struct blk_args *a, int c, const char *bad)
{
	switch (c) {
	case 's': a->socket_path = optarg; break;
	case 'S': a->socket_fd = (int)parse_num("--socket-fd", optarg, 0, INT_MAX); break;
	case 'd': a->disk_path = optarg; break;
	case 'D': a->disk_fd = (int)parse_num("--disk-fd", optarg, 0, INT_MAX); break;
	case 'r': a->read_only = true; break;
	case 'i': a->id = optarg; break;
	case 'q': a->queues = (unsigned)parse_num("--queues", optarg, 1, BLK_MAX_QUEUES); break;
	case 'p': a->poll_us = (unsigned)parse_num("--poll-us", optarg, 0, BLK_MAX_POLL_US); break;
	case 'o': a->once = true; break;
	case 'h': usage(stdout); exit(0);
	case ':': die("%s: missing argument (try --help)", bad);
	default: die("%s: unknown option (try --help)", bad);
	}
}

static void
check_args(const struct blk_args *a)
{
	if ((a->socket_path != NULL) == (a->socket_fd >= 0))
		die("give exactly one of --socket and --socket-fd (try --help)");
	if ((a->disk_path != NULL) == (a->disk_fd >= 0))
		die("give exactly one of --disk and --disk-fd (try --help)");
	if (a->once && a->socket_path == NULL)
		die("--once: only with --socket");
	if (strlen(a->id) == 0 || strlen(a->id) > VIRTIO_BLK_ID_BYTES)
		die("--id: '%s' must be 1..%u bytes", a->id, VIRTIO_BLK_ID_BYTES);
}

static void
parse_args(struct blk_args *a, int argc, char **argv)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->socket_fd = -1;
	a->disk_fd = -1;
	a->id = "vmm-blk";
	a->queues = 1;
	a->poll_us = BLK_DEFAULT_POLL_US;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1)
		parse_opt(a, c, argv[optind - 1]);
	if (optind < argc)
		die("%s: unexpected argument (try --help)", argv[optind]);
	check_args(a);
}

/* Size of a regular file or block device, checked for the virtio-blk
 * sector size. */
static uint64_t
disk_size(int fd, const char *name)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) < 0)
		die("disk %s: %s", name, strerror(errno));
	if (S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	else if (!S_ISBLK(st.st_mode))
		die("disk %s: not a regular file or block device", name);
	else if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		die("disk %s: BLKGETSIZE64: %s", name, strerror(errno));
	if (size == 0 || size % VIRTIO_BLK_SECTOR_SIZE != 0)
		die("disk %s: size %llu is not a %smultiple of 512", name,
		    (unsigned long long)size, size == 0 ? "non-zero " : "");
	return size;
}

/* The fd we were given must allow what we will do with it. */
static void
check_disk_fd(int fd, const char *name, bool read_only)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		die("disk %s: %s", name, strerror(errno));
	if ((fl & O_ACCMODE) == O_WRONLY)
		die("disk %s: opened write-only; reads need O_RDONLY or O_RDWR", name);
	if ((fl & O_ACCMODE) == O_RDONLY && !read_only)
		die("disk %s: opened read-only; pass --read-only", name);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		die("disk %s: %s", name, strerror(errno));
}

static int
open_disk(const struct blk_args *a, char *name, size_t name_len)
{
	int fd;

	if (a->disk_fd >= 0) {
		snprintf(name, name_len, "fd %d", a->disk_fd);
		check_disk_fd(a->disk_fd, name, a->read_only);
		return a->disk_fd;
	}
	snprintf(name, name_len, "%s", a->disk_path);
	fd = open(a->disk_path, (a->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		die("disk %s: %s", name, strerror(errno));
	return fd;
}

/* Bind and listen on path, replacing a stale socket file. */
static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int s;

	if (strlen(path) == 0 || strlen(path) >= sizeof(sa.sun_path))
		die("socket %s: path empty or longer than %zu bytes", path,
		    sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		die("socket %s: exists and is not a socket", path);
	if (unlink(path) < 0 && errno != ENOENT)
		die("socket %s: unlink: %s", path, strerror(errno));
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket: %s", strerror(errno));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("socket %s: bind: %s", path, strerror(errno));
	if (listen(s, 1) < 0)
		die("socket %s: listen: %s", path, strerror(errno));
	return s;
}

/* Serve frontends one at a time on the listening socket. */
static int
serve_listener(const struct blk_args *a, const struct vu_backend_config *cfg)
{
	int ls = listen_on(a->socket_path), s, rc;

	for (;;) {
		s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0)
			die("socket %s: accept: %s", a->socket_path, strerror(errno));
		rc = vu_backend_run(s, cfg);
		close(s);
		if (a->once) {
			close(ls);
			unlink(a->socket_path);
			return rc == 0 ? 0 : 1;
		}
	}
}

static int
serve_fd(const struct blk_args *a, const struct vu_backend_config *cfg)
{
	struct stat st;

	if (fstat(a->socket_fd, &st) < 0)
		die("socket fd %d: %s", a->socket_fd, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		die("socket fd %d: not a socket", a->socket_fd);
	if (fcntl(a->socket_fd, F_SETFD, FD_CLOEXEC) < 0)
		die("socket fd %d: %s", a->socket_fd, strerror(errno));
	return vu_backend_run(a->socket_fd, cfg) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct vu_backend_config cfg;
	struct blk_args a;
	char disk_name[PATH_MAX + 16], name[64];
	int fd;

	parse_args(&a, argc, argv);
	if (a.socket_fd >= 0 && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	fd = open_disk(&a, disk_name, sizeof(disk_name));
	if (blk_init(&blk_device, fd, disk_size(fd, disk_name), a.read_only, a.id,
	    a.queues) < 0)
		die("disk %s: cannot set up the device", disk_name);
	blk_device.poll_us = a.poll_us;
	snprintf(name, sizeof(name), PROG " %s", a.id);
	blk_backend_config(&blk_device, name, &cfg);
	if (a.socket_fd >= 0)
		return serve_fd(&a, &cfg);
	return serve_listener(&a, &cfg);
}
