/*
 * build/vu-driver: guest and vhost-user frontend in one host process, for
 * testing and measuring vhost-user-blk backends. See tests/driver/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv.h"
#include "net.h"

static const char usage[] =
"usage: vu-driver MODE --socket PATH [options]\n"
"modes:\n"
"  func     functional checks: `ok NAME` / `not ok NAME: why` per line\n"
"           --disk-size BYTES  check capacity\n"
"           --disk-index D     disk pre-filled with THE pattern of disk D (0)\n"
"           --read-only        expect RO: writes refused, data unchanged\n"
"           --id NAME          check GET_ID answers NAME\n"
"           --features-report  only print offered features, protocol\n"
"                              features, queue count and config\n"
"  hostile  malformed descriptor tables, then verified good requests\n"
"           --seed S --count N [--corpus] [--good-every K (50 batches)]\n"
"           [--wait-ms MS (200): wait for a malformed batch]\n"
"  bench    --rw randread|randwrite|read|write --bs BYTES --qd N\n"
"           --seconds S [--warmup S (0.3)] [--backend-pid PID]\n"
"           [--disk-size BYTES] [--poll-us US (50)]\n"
"vhost-user-net (run inside the tap's network namespace; see README.md):\n"
"  net-func     functional checks through the backend and its tap, byte for\n"
"               byte both ways; --peer-if IF (the tap; an AF_PACKET peer)\n"
"               [--offloads none|csum|tso] [--mrg-rxbuf] [--rx-buf-size N]\n"
"  net-hostile  malformed TX/RX chains, no RX buffers, then good traffic\n"
"               --peer-if IF --seed S --count N [--backend-pid PID]\n"
"               [--nobuf-seconds S (1.5)]\n"
"  net-bench    --peer-if IF --dir tx|rx --frame-size N (64..1514)\n"
"               --seconds S [--warmup S] [--backend-pid PID] [--poll-us US]\n"
"  tap-direct   the same measurement on the tap itself (readv/writev with\n"
"               the 12-byte vnet header, no backend): --tap IF --peer-if IF\n"
"               --dir tx|rx --frame-size N --seconds S\n"
"common:    --mem-mib N (64)  --queue-size N (256)  --timeout-ms MS (5000)\n"
"           --no-event-idx  --no-indirect  --help\n"
"Sizes take K/M/G suffixes. Exit 0 only when every check passes.\n";

enum {
	O_SOCKET = 256, O_DISK_SIZE, O_DISK_INDEX, O_READ_ONLY, O_ID,
	O_FEATURES, O_SEED, O_COUNT, O_CORPUS, O_GOOD_EVERY, O_WAIT_MS, O_RW,
	O_BS, O_QD, O_SECONDS, O_WARMUP, O_PID, O_POLL_US, O_MEM, O_QSIZE,
	O_TIMEOUT, O_NO_EIDX, O_NO_IND, O_PEER_IF, O_TAP, O_MRG, O_RXBUF,
	O_OFFLOADS, O_DIR, O_FRAME, O_NOBUF, O_HELP,
};

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, O_SOCKET },
	{ "disk-size", required_argument, NULL, O_DISK_SIZE },
	{ "disk-index", required_argument, NULL, O_DISK_INDEX },
	{ "read-only", no_argument, NULL, O_READ_ONLY },
	{ "id", required_argument, NULL, O_ID },
	{ "features-report", no_argument, NULL, O_FEATURES },
	{ "seed", required_argument, NULL, O_SEED },
	{ "count", required_argument, NULL, O_COUNT },
	{ "corpus", no_argument, NULL, O_CORPUS },
	{ "good-every", required_argument, NULL, O_GOOD_EVERY },
	{ "wait-ms", required_argument, NULL, O_WAIT_MS },
	{ "rw", required_argument, NULL, O_RW },
	{ "bs", required_argument, NULL, O_BS },
	{ "qd", required_argument, NULL, O_QD },
	{ "seconds", required_argument, NULL, O_SECONDS },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "backend-pid", required_argument, NULL, O_PID },
	{ "poll-us", required_argument, NULL, O_POLL_US },
	{ "mem-mib", required_argument, NULL, O_MEM },
	{ "queue-size", required_argument, NULL, O_QSIZE },
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "no-event-idx", no_argument, NULL, O_NO_EIDX },
	{ "no-indirect", no_argument, NULL, O_NO_IND },
	{ "peer-if", required_argument, NULL, O_PEER_IF },
	{ "tap", required_argument, NULL, O_TAP },
	{ "mrg-rxbuf", no_argument, NULL, O_MRG },
	{ "rx-buf-size", required_argument, NULL, O_RXBUF },
	{ "offloads", required_argument, NULL, O_OFFLOADS },
	{ "dir", required_argument, NULL, O_DIR },
	{ "frame-size", required_argument, NULL, O_FRAME },
	{ "nobuf-seconds", required_argument, NULL, O_NOBUF },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static void
bad_arg(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "vu-driver: --%s %s: %s\n", opt, val, why);
	exit(2);
}

/* Unsigned number with an optional K/M/G suffix, in [min, max]. */
static uint64_t
num_arg(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	uint64_t v, mul = 1;

	errno = 0;
	if (!*s || *s == '-')
		bad_arg(opt, s, "not a number");
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		bad_arg(opt, s, "not a number");
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10;
	else if (*end == 'm' || *end == 'M')
		mul = 1ull << 20;
	else if (*end == 'g' || *end == 'G')
		mul = 1ull << 30;
	if (mul > 1)
		end++;
	if (*end)
		bad_arg(opt, s, "trailing characters");
	if (__builtin_mul_overflow(v, mul, &v) || v < min || v > max)
		bad_arg(opt, s, "out of range");
	return v;
}

static double
real_arg(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= min && v <= max))
		bad_arg(opt, s, "not a number in range");
	return v;
}

static void
parse_one(struct drv_opts *o, int c, const char *a)
{
	const char *n = longopts[c - O_SOCKET].name;

	switch (c) {
	case O_SOCKET: o->socket = a; break;
	case O_DISK_SIZE: o->disk_size = num_arg(n, a, 512, 1ull << 62); break;
	case O_DISK_INDEX: o->disk_index = num_arg(n, a, 0, 1000); break;
	case O_READ_ONLY: o->read_only = true; break;
	case O_ID: o->id = a; break;
	case O_FEATURES: o->features_report = true; break;
	case O_SEED: o->seed = num_arg(n, a, 0, ~0ull); break;
	case O_COUNT: o->count = num_arg(n, a, 1, 1ull << 40); break;
	case O_CORPUS: o->corpus = true; break;
	case O_GOOD_EVERY: o->good_every = num_arg(n, a, 1, 1u << 30); break;
	case O_WAIT_MS: o->hostile_wait_ms = num_arg(n, a, 1, 600000); break;
	case O_RW: o->rw = a; break;
	case O_BS: o->bs = num_arg(n, a, 512, 64u << 20); break;
	case O_QD: o->qd = num_arg(n, a, 1, DRV_MAX_QUEUE / 3); break;
	case O_SECONDS: o->seconds = real_arg(n, a, 0.01, 86400); break;
	case O_WARMUP: o->warmup = real_arg(n, a, 0, 3600); break;
	case O_PID: o->backend_pid = num_arg(n, a, 1, 1u << 30); break;
	case O_POLL_US: o->poll_us = num_arg(n, a, 0, 1000000); break;
	case O_MEM: o->mem_bytes = num_arg(n, a, 16, 1u << 20) << 20; break;
	case O_QSIZE: o->queue_size = num_arg(n, a, 4, DRV_MAX_QUEUE); break;
	case O_TIMEOUT: o->timeout_ms = num_arg(n, a, 1, 3600000); break;
	case O_NO_EIDX: o->no_event_idx = true; break;
	case O_NO_IND: o->no_indirect = true; break;
	case O_PEER_IF: o->peer_if = a; break;
	case O_TAP: o->tap = a; break;
	case O_MRG: o->mrg_rxbuf = true; break;
	case O_RXBUF: o->rx_buf_size = num_arg(n, a, 64, NET_HDR_LEN +
	    VIRTIO_NET_MAX_FRAME); break;
	case O_OFFLOADS: o->offloads = a; break;
	case O_DIR: o->dir = a; break;
	case O_FRAME: o->frame_size = num_arg(n, a, NET_MIN_FRAME, NET_FULL_FRAME);
	    break;
	case O_NOBUF: o->nobuf_seconds = real_arg(n, a, 0, 60); break;
	}
}

static void
parse(struct drv_opts *o, int argc, char **argv)
{
	int c;

	*o = (struct drv_opts){ .mem_bytes = 64ull << 20, .timeout_ms = 5000,
	    .queue_size = 256, .good_every = 50, .hostile_wait_ms = 200,
	    .seconds = 5, .warmup = 0.3, .poll_us = 50, .qd = 1, .bs = 4096,
	    .offloads = "none", .dir = "tx", .frame_size = NET_FULL_FRAME,
	    .nobuf_seconds = 1.5 };
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		exit(argc < 2 ? 2 : 0);
	}
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h' || c == O_HELP) {
			fputs(usage, stdout);
			exit(0);
		}
		if (c == '?') {
			fprintf(stderr, "vu-driver: %s: bad arguments (see --help)\n",
			    o->mode);
			exit(2);
		}
		parse_one(o, c, optarg);
	}
	if (optind < argc) {
		fprintf(stderr, "vu-driver: %s: unexpected argument '%s'\n",
		    o->mode, argv[optind]);
		exit(2);
	}
}

static void
validate(const struct drv_opts *o)
{
	if (strcmp(o->offloads, "none") && strcmp(o->offloads, "csum") &&
	    strcmp(o->offloads, "tso"))
		bad_arg("offloads", o->offloads, "must be none, csum or tso");
	if (strcmp(o->dir, "tx") && strcmp(o->dir, "rx"))
		bad_arg("dir", o->dir, "must be tx or rx");
	if (!strcmp(o->mode, "tap-direct")) {
		if (!o->tap || !o->peer_if) {
			fprintf(stderr, "vu-driver: tap-direct: --tap IF and --peer-if "
			    "IF are required\n");
			exit(2);
		}
		return;
	}
	if (!o->socket) {
		fprintf(stderr, "vu-driver: %s: --socket PATH is required\n", o->mode);
		exit(2);
	}
	if (o->queue_size & (o->queue_size - 1))
		bad_arg("queue-size", "", "must be a power of 2");
	if (o->disk_size % 512)
		bad_arg("disk-size", "", "must be a multiple of 512");
	if (o->mem_bytes < DRV_DATA_BASE + DRV_SCRATCH + (8ull << 20))
		bad_arg("mem-mib", "", "at least 18 MiB needed");
}

int
main(int argc, char **argv)
{
	struct drv_opts o;

	parse(&o, argc, argv);
	validate(&o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(o.mode, "func"))
		return drv_func(&o);
	if (!strcmp(o.mode, "hostile"))
		return drv_hostile(&o);
	if (!strcmp(o.mode, "bench"))
		return drv_bench(&o);
	if (!strcmp(o.mode, "net-func"))
		return drv_net_func(&o);
	if (!strcmp(o.mode, "net-hostile"))
		return drv_net_hostile(&o);
	if (!strcmp(o.mode, "net-bench") || !strcmp(o.mode, "tap-direct"))
		return drv_net_bench(&o);
	fprintf(stderr, "vu-driver: %s: unknown mode (func, hostile, bench, "
	    "net-func, net-hostile, net-bench, tap-direct; see --help)\n", o.mode);
	return 2;
}
