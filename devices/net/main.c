/*
 * vmm-net: a vhost-user virtio-net backend process on a tap.
 *
 *   vmm-net --socket PATH --tap NAME [--once]
 *   vmm-net --socket-fd N --tap-fd M
 *   (both: [--id NAME] [--jail-id N] [--seccomp-log])
 *
 * The first form opens the tap NAME itself (an existing tap, or a new one
 * when we may create it), listens on PATH and serves one frontend at a
 * time (e.g. QEMU -netdev vhost-user); the second serves an already
 * connected socket with a tap the caller opened (the vmm) and exits when
 * the peer closes. Errors: one line `vmm-net: what: why` on stderr, exit 1.
 * At the end of every connection one line of counters on stderr.
 *
 * The tap is IFF_TAP|IFF_NO_PI|IFF_VNET_HDR with a 12-byte vnet header
 * (TUNSETVNETHDRSZ), non-blocking; UFO is offered when the tap accepts
 * TUN_F_UFO; its offloads are 0 until the driver's SET_FEATURES. Then the
 * jail, before a byte is read from a peer: the process that was started
 * stays as a supervisor, and the jailed child (pid 1 of its own PID
 * namespace, uid --jail-id as root, an empty root, no capabilities, no new
 * process, no file writes (unless stderr is a file), the `net` seccomp
 * profile) serves with the socket and the tap as its only fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "net.h"
#include "common/dev_main.h"
#include "sandbox.h"

#define PROG "vmm-net"
const char dev_prog[] = PROG;
/* RLIMIT_NOFILE: 0-2, the listening and the connected socket, the tap,
 * the fds of one message in flight, kick/call/err per queue, and slack
 * (a region's fd until it is mapped, the reference eventfd). */
#define NET_NOFILE (3 + 2 + 1 + VHOST_USER_MAX_FDS + 3 * NET_NUM_QUEUES + 16)
#define NET_TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

/* The net profile, build/gen/seccomp_net.c (sandbox.h lists the others). */

struct net_args {
	struct dev_args d;      /* --socket/-fd, --once, --jail-id, --seccomp-log */
	const char *tap_name;
	int tap_fd;             /* -1: not given */
	const char *id;
};

static struct net_dev net_device;    /* ~200 KiB of buffers: not on the stack */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " --socket PATH --tap NAME [options] [--once]\n"
	    "       " PROG " --socket-fd N --tap-fd M [options]\n"
	    "A vhost-user virtio-net backend on a tap (queue 0 RX, queue 1 TX).\n"
	    "  --socket PATH   listen on the AF_UNIX socket PATH (a stale socket file\n"
	    "                  is replaced) and serve one frontend at a time\n"
	    "  --once          exit after the first connection ends\n"
	    "  --socket-fd N   serve the connected socket N; exit when it closes\n"
	    "  --tap NAME      open the tap NAME (created if missing and we may)\n"
	    "  --tap-fd M      the tap as an open fd (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR)\n"
	    "  --id NAME       the name in messages and the counters line (default:\n"
	    "                  the tap's name)\n"
	    "  --jail-id N     as root: the uid and gid of the jailed process,\n"
	    "                  1..%u (default %u); not root: an error\n"
	    "                  (the jail keeps the caller's uid, in a user\n"
	    "                  namespace)\n"
	    "  --seccomp-log   a syscall outside the net seccomp profile prints\n"
	    "                  \"vmm-net: seccomp: blocked syscall NAME\" and fails\n"
	    "                  with ENOSYS instead of killing the process\n"
	    "  --help          this text\n"
	    "When a connection ends: \"vmm-net ID: rx N frames, tx N frames, dropped N\n"
	    "(short header N, writable tx N, oversized N, bad chain N, no rx buffer N)\"\n"
	    "on stderr. Served from a jail: the socket file cannot be removed at exit\n"
	    "(a stale one is replaced at the next start).\n", SANDBOX_MAX_ID,
	    SANDBOX_DEFAULT_ID + 200);
}

static const struct option long_opts[] = {
	{ "tap", required_argument, NULL, 't' },
	{ "tap-fd", required_argument, NULL, 'T' },
	{ "id", required_argument, NULL, 'i' },
	DEV_LONG_OPTS,
	{ NULL, 0, NULL, 0 },
};

static void
parse_opt(struct net_args *a, int c, const char *bad)
{
	if (dev_parse_opt(&a->d, c))
		return;
	switch (c) {
	case 't': a->tap_name = optarg; break;
	case 'T': a->tap_fd = (int)dev_parse_num("--tap-fd", optarg, 0, INT_MAX); break;
	case 'i': a->id = optarg; break;
	case 'h': usage(stdout); exit(0);
	case ':': dev_die("%s: missing argument (try --help)", bad);
	default: dev_die("%s: unknown option (try --help)", bad);
	}
}

static void
check_args(const struct net_args *a)
{
	dev_check_args(&a->d);
	if ((a->tap_name != NULL) == (a->tap_fd >= 0))
		dev_die("give exactly one of --tap and --tap-fd (try --help)");
	if (a->tap_name != NULL && (strlen(a->tap_name) == 0 || strlen(a->tap_name) >= IFNAMSIZ))
		dev_die("--tap: '%s' must be 1..%d bytes", a->tap_name, IFNAMSIZ - 1);
	if (a->id != NULL && (strlen(a->id) == 0 || strlen(a->id) > 64))
		dev_die("--id: '%s' must be 1..64 bytes", a->id);
}

static void
parse_args(struct net_args *a, int argc, char **argv)
{
	int c;

	memset(a, 0, sizeof(*a));
	dev_args_init(&a->d, SANDBOX_DEFAULT_ID + 200);
	a->tap_fd = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1)
		parse_opt(a, c, argv[optind - 1]);
	if (optind < argc)
		dev_die("%s: unexpected argument (try --help)", argv[optind]);
	check_args(a);
}

/* ------------------------------------------------------------------ tap */

static const char *
tap_open_why(int err)
{
	switch (err) {
	case EBUSY:
		return "busy (another process has it open)";
	case EPERM:
	case EACCES:
		return "permission denied (missing, and creating a tap needs "
		    "CAP_NET_ADMIN; or owned by another user)";
	case EINVAL:
		return "exists and is not a tap with a vnet header (a tun device?)";
	default:
		return strerror(err);
	}
}

/* Open (or create) the tap `name`: IFF_TAP|IFF_NO_PI|IFF_VNET_HDR. */
static int
open_tap(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		dev_die("tap %s: /dev/net/tun: %s", name, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = NET_TAP_FLAGS;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		dev_die("tap %s: %s", name, tap_open_why(errno));
	return fd;
}

/* The tap fd we were given: a tap with the flags we need; its interface
 * name into name[IFNAMSIZ]. */
static void
check_tap_fd(int fd, char *name, size_t len)
{
	struct ifreq ifr;
	int fl;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		dev_die("tap fd %d: not a tap (TUNGETIFF: %s)", fd, strerror(errno));
	if ((ifr.ifr_flags & (NET_TAP_FLAGS | IFF_TUN)) != NET_TAP_FLAGS)
		dev_die("tap fd %d (%.*s): flags 0x%x, need IFF_TAP|IFF_NO_PI|IFF_VNET_HDR", fd,
		    IFNAMSIZ, ifr.ifr_name, (unsigned)(unsigned short)ifr.ifr_flags);
	snprintf(name, len, "%.*s", IFNAMSIZ, ifr.ifr_name);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		dev_die("tap fd %d: %s", fd, strerror(errno));
}

/* 12-byte vnet header; offloads probed (UFO) and then off. Returns
 * whether the tap takes TUN_F_UFO. */
static bool
setup_tap(int fd, const char *name)
{
	int hdr = (int)NET_HDR_BYTES;
	bool ufo;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		dev_die("tap %s: TUNSETVNETHDRSZ 12: %s", name, strerror(errno));
	ufo = net_tap_set_offload(fd, TUN_F_CSUM | TUN_F_UFO) == 0;
	if (net_tap_set_offload(fd, 0) < 0)
		dev_die("tap %s: TUNSETOFFLOAD 0: %s", name, strerror(errno));
	return ufo;
}

/* -------------------------------------------------------------- sockets */

/* One frontend: offloads off and counters zeroed first (a new driver
 * negotiates again), the counters line at the end. */
struct net_serve {
	const struct vu_backend_config *cfg;
	const char *id;
};

static int
serve_one(int sock, void *arg)
{
	const struct net_serve *ns = arg;
	char line[256];
	int rc;

	net_device.features = 0;
	net_device.offloads = 0;
	(void)net_tap_set_offload(net_device.tap, 0);
	net_stats_reset(&net_device);
	rc = vu_backend_run(sock, ns->cfg);
	net_summary(&net_device, ns->id, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
	return rc;
}

int
main(int argc, char **argv)
{
	struct vu_backend_config cfg;
	struct net_serve serve = { &cfg, NULL };
	struct net_args a;
	char tap_name[IFNAMSIZ + 16], name[96];
	const char *id;
	int tap, sock;
	bool ufo;

	parse_args(&a, argc, argv);
	if (a.d.socket_fd >= 0 && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		dev_die("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (a.tap_fd >= 0) {
		check_tap_fd(a.tap_fd, tap_name, sizeof(tap_name));
		tap = a.tap_fd;
	} else {
		snprintf(tap_name, sizeof(tap_name), "%s", a.tap_name);
		tap = open_tap(a.tap_name);
	}
	ufo = setup_tap(tap, tap_name);
	id = a.id != NULL ? a.id : tap_name;
	serve.id = id;
	net_init(&net_device, tap, ufo);
	snprintf(name, sizeof(name), PROG " %s", id);
	net_backend_config(&net_device, name, &cfg);
	sock = dev_socket(&a.d);
	/* into the jail with the socket and the tap; no file writes */
	dev_jail(&a.d, sock, tap, NET_NOFILE, sandbox_fsize(0), &sandbox_prog_net);
	return dev_serve(&a.d, sock, serve_one, &serve);
}
