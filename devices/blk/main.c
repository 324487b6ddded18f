/*
 * vmm-blk: a vhost-user virtio-blk backend process.
 *
 *   vmm-blk --socket PATH --disk FILE [--read-only] [--id NAME] [--queues N] [--once]
 *   vmm-blk --socket-fd N --disk-fd M [--read-only] [--id NAME] [--queues N]
 *   (both: [--poll-us N] [--jail-id N] [--seccomp-log])
 *
 * The first form listens on PATH and serves one frontend at a time; the
 * second serves an already connected socket (the vmm spawned us with the
 * disk it opened) and exits when the peer closes. Errors: one line
 * `vmm-blk: what: why` on stderr, exit 1.
 *
 * It opens the disk and the socket (binds and listens with --socket), then
 * enters the jail before it reads a byte from a peer: the process that was
 * started stays as a supervisor, and the jailed child (pid 1 of its own
 * PID namespace, uid --jail-id as root, an empty root, no capabilities,
 * no new process, the `blk` seccomp profile) serves with the socket and
 * the disk as its only fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"
#include "common/dev_main.h"
#include "sandbox.h"

#define PROG "vmm-blk"
const char dev_prog[] = PROG;
/* RLIMIT_NOFILE: 0-2, the listening and the connected socket, the disk,
 * the fds of one message in flight, kick/call/err per queue, and slack
 * (transient fds: a region's fd until it is mapped). */
#define BLK_NOFILE(queues) (3 + 2 + 1 + VHOST_USER_MAX_FDS + 3 * (queues) + 16)
#define BLK_FSIZE_ALIGN 4096ull

struct blk_args {
	struct dev_args d;      /* --socket/-fd, --once, --jail-id, --seccomp-log */
	const char *disk_path;
	int disk_fd;            /* -1: not given */
	bool read_only;
	const char *id;
	unsigned queues;
	unsigned poll_us;
};

static struct blk_dev blk_device;    /* ~17 KiB: not on the stack */

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
	    "  --jail-id N     as root: the uid and gid of the jailed process,\n"
	    "                  1..%u (default %u); not root: an error\n"
	    "                  (the jail keeps the caller's uid, in a user\n"
	    "                  namespace)\n"
	    "  --seccomp-log   a syscall outside the blk seccomp profile prints\n"
	    "                  \"vmm-blk: seccomp: blocked syscall NAME\" and fails\n"
	    "                  with ENOSYS instead of killing the process\n"
	    "  --help          this text\n"
	    "Served from a jail: the socket file cannot be removed at exit (a\n"
	    "stale one is replaced at the next start).\n", BLK_MAX_QUEUES,
	    BLK_MAX_POLL_US, BLK_DEFAULT_POLL_US, SANDBOX_MAX_ID,
	    SANDBOX_DEFAULT_ID + 100);
}

static const struct option long_opts[] = {
	{ "disk", required_argument, NULL, 'd' },
	{ "disk-fd", required_argument, NULL, 'D' },
	{ "read-only", no_argument, NULL, 'r' },
	{ "id", required_argument, NULL, 'i' },
	{ "queues", required_argument, NULL, 'q' },
	{ "poll-us", required_argument, NULL, 'p' },
	DEV_LONG_OPTS,
	{ NULL, 0, NULL, 0 },
};

static void
parse_opt(struct blk_args *a, int c, const char *bad)
{
	if (dev_parse_opt(&a->d, c))
		return;
	switch (c) {
	case 'd': a->disk_path = optarg; break;
	case 'D': a->disk_fd = (int)dev_parse_num("--disk-fd", optarg, 0, INT_MAX); break;
	case 'r': a->read_only = true; break;
	case 'i': a->id = optarg; break;
	case 'q': a->queues = (unsigned)dev_parse_num("--queues", optarg, 1, BLK_MAX_QUEUES); break;
	case 'p': a->poll_us = (unsigned)dev_parse_num("--poll-us", optarg, 0, BLK_MAX_POLL_US); break;
	case 'h': usage(stdout); exit(0);
	case ':': dev_die("%s: missing argument (try --help)", bad);
	default: dev_die("%s: unknown option (try --help)", bad);
	}
}

static void
check_args(const struct blk_args *a)
{
	dev_check_args(&a->d);
	if ((a->disk_path != NULL) == (a->disk_fd >= 0))
		dev_die("give exactly one of --disk and --disk-fd (try --help)");
	if (strlen(a->id) == 0 || strlen(a->id) > VIRTIO_BLK_ID_BYTES)
		dev_die("--id: '%s' must be 1..%u bytes", a->id, VIRTIO_BLK_ID_BYTES);
}

static void
parse_args(struct blk_args *a, int argc, char **argv)
{
	int c;

	memset(a, 0, sizeof(*a));
	dev_args_init(&a->d, SANDBOX_DEFAULT_ID + 100);
	a->disk_fd = -1;
	a->id = "vmm-blk";
	a->queues = 1;
	a->poll_us = BLK_DEFAULT_POLL_US;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1)
		parse_opt(a, c, argv[optind - 1]);
	if (optind < argc)
		dev_die("%s: unexpected argument (try --help)", argv[optind]);
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
		dev_die("disk %s: %s", name, strerror(errno));
	if (S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	else if (!S_ISBLK(st.st_mode))
		dev_die("disk %s: not a regular file or block device", name);
	else if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		dev_die("disk %s: BLKGETSIZE64: %s", name, strerror(errno));
	if (size == 0 || size % VIRTIO_BLK_SECTOR_SIZE != 0)
		dev_die("disk %s: size %llu is not a %smultiple of 512", name,
		    (unsigned long long)size, size == 0 ? "non-zero " : "");
	return size;
}

/* The fd we were given must allow what we will do with it. */
static void
check_disk_fd(int fd, const char *name, bool read_only)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		dev_die("disk %s: %s", name, strerror(errno));
	if ((fl & O_ACCMODE) == O_WRONLY)
		dev_die("disk %s: opened write-only; reads need O_RDONLY or O_RDWR", name);
	if ((fl & O_ACCMODE) == O_RDONLY && !read_only)
		dev_die("disk %s: opened read-only; pass --read-only", name);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		dev_die("disk %s: %s", name, strerror(errno));
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
		dev_die("disk %s: %s", name, strerror(errno));
	return fd;
}

/* One frontend (dev_serve's callback). */
static int
serve_one(int sock, void *cfg)
{
	return vu_backend_run(sock, cfg);
}

/* RLIMIT_FSIZE: we write only inside the disk, never past its end. A
 * regular file's size rounded up to 4 KiB; a block device has no file
 * size to guard (and the limit does not apply to it). sandbox_fsize lifts
 * it when stderr is a log file. */
static rlim_t
disk_fsize(int fd, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return RLIM_INFINITY;
	return (rlim_t)((size + BLK_FSIZE_ALIGN - 1) & ~(BLK_FSIZE_ALIGN - 1));
}

int
main(int argc, char **argv)
{
	struct vu_backend_config cfg;
	struct blk_args a;
	char disk_name[PATH_MAX + 16], name[64];
	uint64_t size;
	int fd, sock;

	parse_args(&a, argc, argv);
	if (a.d.socket_fd >= 0 && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		dev_die("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	fd = open_disk(&a, disk_name, sizeof(disk_name));
	size = disk_size(fd, disk_name);
	if (blk_init(&blk_device, fd, size, a.read_only, a.id, a.queues) < 0)
		dev_die("disk %s: cannot set up the device", disk_name);
	blk_device.poll_us = a.poll_us;
	snprintf(name, sizeof(name), PROG " %s", a.id);
	blk_backend_config(&blk_device, name, &cfg);
	sock = dev_socket(&a.d);
	/* into the jail with the socket and the disk; files never grow
	 * past the disk */
	dev_jail(&a.d, sock, fd, BLK_NOFILE(a.queues), sandbox_fsize(disk_fsize(fd, size)),
	    &sandbox_prog_blk);
	return dev_serve(&a.d, sock, serve_one, &cfg);
}
