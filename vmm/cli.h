/*
 * Command line of vmm-reference, in rust-vmm vmm-reference's syntax: each
 * option takes one argument, a comma-separated key=value list; a value may be
 * double-quoted to hold commas and spaces (cmdline="a=1 b,c").
 *
 *   --kernel path=PATH[,cmdline="..."][,kernel_load_addr=N]
 *   --memory size_mib=N          (default 256)
 *   --vcpu num=N                 (default 1)
 *   --initramfs path=PATH
 *   --block ... / --net ...      (accepted by later issues; refused now)
 *   --help, -h
 *
 * Numbers are decimal or 0x-hex, no sign, no trailing junk, no overflow.
 */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdint.h>

#include "err.h"

#define CLI_MAX_MEMORY_MIB (1024ull * 1024)  /* 1 TiB */

struct vmm_config {
	const char *kernel_path;
	char cmdline[4096];          /* NUL-terminated; default BOOT_DEFAULT_CMDLINE */
	uint64_t kernel_load_addr;   /* default HIMEM_START */
	uint64_t memory_mib;         /* default 256 */
	unsigned vcpus;              /* default 1 */
	const char *initramfs_path;  /* NULL when none */
	int help;                    /* --help given: print cli_usage() and exit 0 */
};

/*
 * Parse argv into cfg (defaults first). Returns 0, or -EINVAL with a
 * one-line message in e naming the option/key and the reason: unknown
 * option or key, missing or repeated option/key, bad number, size 0, vCPU
 * count 0 or above max_vcpus (the caller passes KVM_CAP_MAX_VCPUS, or 0 to
 * skip that check), cmdline longer than 4095 bytes, missing --kernel.
 * Does not open files. Pointers in cfg point into argv.
 */
int cli_parse(int argc, char **argv, unsigned max_vcpus,
    struct vmm_config *cfg, struct err *e);

/* The --help text: every option and key, defaults, an example. */
const char *cli_usage(void);

#endif
