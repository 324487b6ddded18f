/* boot_state internals shared between boot_state.c and boot_state_tables.c */
#ifndef BOOT_STATE_H
#define BOOT_STATE_H

#include "guest.h"
#include "bootparam_x86_64.h"
#include "pvh_x86_64.h"

#define BS_MAP_MAX 128

struct bs_region {
	uint64_t addr, size;
	uint32_t type;
};

struct bs_ctx {
	const struct guest_boot *gb;
	const struct guest_entry_state *es;
	bool pvh;                          /* entered via the PVH entry */
	const struct boot_params *bp;      /* 64-bit kinds */
	const struct hvm_start_info *si;   /* PVH */
	uint64_t cmdline_ptr;              /* as the boot structure says */
	struct bs_region map[BS_MAP_MAX];
	int nmap;
};

/* One numbered TAP-like line; `why` (printf format) only on failure. */
void bs_check(bool ok, const char *name, const char *why, ...)
    __attribute__((format(printf, 3, 4)));

/* zero page / hvm_start_info: fill c->bp or c->si, c->cmdline_ptr, c->map */
void bs_check_zero_page(struct bs_ctx *c);
void bs_check_start_info(struct bs_ctx *c);
void bs_check_memmap(const struct bs_ctx *c);
void bs_check_initrd(const struct bs_ctx *c);
void bs_check_mptable(const struct bs_ctx *c);

#endif
