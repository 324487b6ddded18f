/*
 * Command line of vmm-reference, in rust-vmm vmm-reference's syntax: each
 * option takes one argument, a comma-separated key=value list; a value may be
 * double-quoted to hold commas and spaces (cmdline="a=1 b,c").
 *
 *   --kernel path=PATH[,cmdline="..."][,kernel_load_addr=N]
 *   --memory size_mib=N          (default 256)
 *   --vcpu num=N                 (default 1)
 *   --initramfs path=PATH
 *   --block path=FILE[,read_only=on|off][,id=NAME]   (repeatable)
 *   --block socket=PATH[,id=NAME]                    (repeatable)
 *   --stats                      (no argument)
 *   --jail-id N                  (a bare number, not key=value; root only)
 *   --seccomp-log                (no argument)
 *   --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX][,id=NAME]  (repeatable)
 *   --net socket=PATH[,mac=...][,id=NAME]             (repeatable)
 *   --help, -h
 *
 * `--opt ARG` and `--opt=ARG` are equivalent. Numbers are decimal or
 * 0x-hex, no sign, no trailing junk, no overflow. A '"' is only allowed
 * around a whole value; inside one, \" is a quote and \\ a backslash
 * (so a Linux cmdline can carry param="a b").
 */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "sandbox.h"

#define CLI_MAX_MEMORY_MIB (1024ull * 1024)  /* 1 TiB */
/* Absolute cap on the vCPU count: xAPIC ids are 8 bits, 0xff is broadcast,
 * and the IOAPIC takes id ncpus in the MP table, so CPUs use ids 0..253.
 * The effective limit, cli_max_vcpus(), is also bounded by the room for
 * the MP table below 0xa0000 (boot_mptable_max_cpus()). */
#define CLI_MAX_VCPUS 254
#define CLI_PATH_MAX 4096                    /* bytes including the NUL */
#define CLI_CMDLINE_MAX 4096                 /* bytes including the NUL */
/* virtio-mmio devices (--block, then --net) share IRQs 5..11. */
#define CLI_MAX_VIRTIO 7
#define CLI_ID_MAX 20                        /* virtio-blk GET_ID: 20 bytes */
#define CLI_IFNAME_MAX 15                    /* a tap name: IFNAMSIZ - 1 */
#define CLI_MAC_LEN 6
#define CLI_SOCKET_MAX 108                   /* sun_path, including the NUL */
/* --jail-id N: the vmm takes uid N, its devices N + 1 + i (room for 64). */
#define CLI_JAIL_ID_MAX (SANDBOX_MAX_ID - 64)

/* One --block: exactly one of path (an image the vmm opens and hands to a
 * vmm-blk it spawns) and socket (an external vhost-user-blk backend). */
struct cli_block {
	const char *path;            /* NULL, or points into path_buf */
	const char *socket;          /* NULL, or points into socket_buf */
	int read_only;               /* read_only=on (path= only) */
	char id[CLI_ID_MAX + 1];     /* default "vda", "vdb", ... by position */
	/* hidden key x-test-forbidden= (tests only; path= only): the syscall
	 * the jailed vmm-blk makes on SIGUSR1; NULL, or a static string */
	const char *test_forbidden;
	/* filled by cli_parse from --jail-id and --seccomp-log for the vmm-blk
	 * of path=: its uid/gid as root (jail_id + 1 + position; 0: none, the
	 * device's default) and whether it reports rather than kills */
	unsigned jail_id;
	int seccomp_log;
	char path_buf[CLI_PATH_MAX];
	char socket_buf[CLI_SOCKET_MAX];
};

/* One --net: exactly one of tap (a tap the vmm opens and hands to a
 * vmm-net it spawns) and socket (an external vhost-user-net backend). */
struct cli_net {
	const char *tap;             /* NULL, or points into tap_buf */
	const char *socket;          /* NULL, or points into socket_buf */
	uint8_t mac[CLI_MAC_LEN];    /* the config space's; default
	                              * 52:54:00:12:34:56 + position among --net */
	int mac_given;               /* mac= was given */
	char id[CLI_ID_MAX + 1];     /* default "eth0", "eth1", ... by position */
	/* hidden key x-test-forbidden= (tests only; tap= only), as --block's */
	const char *test_forbidden;
	/* filled by cli_parse for the vmm-net of tap=: its uid/gid as root
	 * (jail_id + 1 + its window, after the --block ones) and
	 * --seccomp-log */
	unsigned jail_id;
	int seccomp_log;
	char tap_buf[CLI_IFNAME_MAX + 1];
	char socket_buf[CLI_SOCKET_MAX];
};

struct vmm_config {
	const char *kernel_path;     /* points into kernel_path_buf */
	char cmdline[CLI_CMDLINE_MAX]; /* NUL-terminated; default BOOT_DEFAULT_CMDLINE */
	uint64_t kernel_load_addr;   /* default HIMEM_START */
	uint64_t memory_mib;         /* default 256 */
	unsigned vcpus;              /* default 1 */
	const char *initramfs_path;  /* NULL when none, else initramfs_path_buf */
	int help;                    /* --help given: print cli_usage() and exit 0 */
	int stats;                   /* --stats: per-device MMIO exits at exit */
	unsigned nblock;             /* --block options, in CLI order */
	struct cli_block block[CLI_MAX_VIRTIO];
	unsigned nnet;               /* --net options, in CLI order; windows
	                              * nblock.. (nblock + nnet <= CLI_MAX_VIRTIO) */
	struct cli_net net[CLI_MAX_VIRTIO];
	unsigned jail_id;            /* --jail-id (root: the vmm's uid/gid; device
	                              * i gets jail_id + 1 + i); default
	                              * SANDBOX_DEFAULT_ID */
	int jail_id_given;           /* --jail-id was on the command line */
	int seccomp_log;             /* --seccomp-log: report, don't kill */
	/* storage for the unquoted paths; do not copy a vmm_config by value */
	char kernel_path_buf[CLI_PATH_MAX];
	char initramfs_path_buf[CLI_PATH_MAX];
};

/*
 * Parse argv (argv[0] is the program name) into cfg, defaults first.
 * With --help or -h anywhere, sets cfg->help and returns 0 without
 * validating anything else. Returns 0, or -EINVAL with a one-line message
 * in e naming the option/key and the reason: unknown option or key,
 * missing argument or value, empty value, repeated option/key,
 * unterminated quote, bad number, size 0 or above CLI_MAX_MEMORY_MIB,
 * vCPU count 0 or above cli_max_vcpus() or max_vcpus (the caller passes
 * KVM_CAP_MAX_VCPUS, or 0 to skip that check), kernel_load_addr below
 * HIMEM_START / unaligned / above 4 GiB, cmdline longer than 4095 bytes,
 * path longer than 4095 bytes, missing --kernel or path=, stray
 * positional arguments; for --block: more than CLI_MAX_VIRTIO devices
 * (--block and --net together), neither or both of path= and socket=,
 * read_only= not on/off or given with socket=, socket path longer than
 * 107 bytes, id empty, longer than 20 bytes, not [A-Za-z0-9._-] or used
 * twice (default ids "vda", "vdb", ... by position count),
 * x-test-forbidden= not one of openat/execve/socket/ptrace or given with
 * socket=; for --net the same for tap= instead of path= (no read_only=;
 * ids "eth0", "eth1", ... by position among --net), tap= longer than 15
 * bytes, ".", "..", or holding '/', ':' or white space, mac= not six
 * ':'-separated hex pairs, multicast (bit 0 of the first byte) or all
 * zero (default 52:54:00:12:34:56 + position among --net); --stats or
 * --seccomp-log with an argument; --jail-id not a number in
 * 1..CLI_JAIL_ID_MAX. Whether --jail-id may be given at all (root only)
 * is cli_check_jail()'s.
 * Does not open files and does not modify argv; cfg owns copies of the
 * strings.
 */
int cli_parse(int argc, char **argv, unsigned max_vcpus,
    struct vmm_config *cfg, struct err *e);

/* --jail-id needs root: a process that is not root keeps its uid (mapped
 * to itself in a user namespace) in the jail. Returns 0, or -EINVAL with
 * a one-line message when cfg->jail_id_given and euid != 0. */
int cli_check_jail(const struct vmm_config *cfg, uid_t euid, struct err *e);

/* Highest --vcpu num= accepted: min(CLI_MAX_VCPUS, boot_mptable_max_cpus()). */
unsigned cli_max_vcpus(void);

/* The --help text: every option and key, defaults, examples. */
const char *cli_usage(void);

#endif
