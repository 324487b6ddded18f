/*
 * PVH boot ABI (Xen's xen/include/public/arch-x86/hvm/start_info.h and
 * docs/misc/pvh.pandoc): the entry point is named by an ELF note
 * XEN_ELFNOTE_PHYS32_ENTRY; the vCPU starts in 32-bit protected mode with
 * paging off and %ebx holding the physical address of hvm_start_info.
 * Freestanding: used by the vmm and by the selftest guests.
 */
#ifndef PVH_X86_64_H
#define PVH_X86_64_H

#include <stdint.h>

#define XEN_ELFNOTE_PHYS32_ENTRY   18
#define XEN_HVM_START_MAGIC_VALUE  0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;        /* 1: memmap fields valid */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;           /* E820 types */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_entry");

#endif
