/*
 * Private interface between boot_x86_64.c (the orchestrator) and the kernel
 * image loaders (loader_elf.c, loader_bzimage_x86_64.c). Included by the
 * unit tests too, so the loaders can be driven one at a time.
 */
#ifndef VMM_BOOT_INTERNAL_H
#define VMM_BOOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "bootparam_x86_64.h"

/* initrd_addr_max for kernels that do not state one (ELF, PVH). */
#define BOOT_INITRD_ADDR_MAX_DEFAULT 0x7fffffffull

/* What a loader found and did; boot_load() builds the rest from it. */
struct boot_kernel {
	enum boot_kind kind;
	uint64_t entry;            /* rip for the boot CPU */
	uint64_t kernel_end;       /* first byte the kernel no longer needs */
	uint64_t initrd_addr_max;  /* highest byte the initramfs may occupy */
	uint32_t cmdline_max;      /* longest cmdline (bytes, no NUL) it takes */
	struct setup_header hdr;   /* bzImage: the image's setup header */
	size_t hdr_len;            /* bytes of hdr taken from the image, else 0 */
};

/*
 * True when the image starts with the ELF magic / carries a bzImage setup
 * header ("HdrS" at 0x202 and 0xAA55 at 0x1fe). Read only inside
 * [img, img+len).
 */
int boot_is_elf(const uint8_t *img, size_t len);
int boot_is_bzimage(const uint8_t *img, size_t len);

/*
 * Validate an ELF64 x86_64 ET_EXEC image and copy its PT_LOAD segments to
 * their p_paddr in gm (file bytes copied, the rest of p_memsz zeroed). Each
 * segment must lie wholly in guest RAM and start at or above bc->load_addr
 * (the CLI's kernel_load_addr is the lowest address the kernel may occupy:
 * an ELF is never relocated). A XEN_ELFNOTE_PHYS32_ENTRY note makes it
 * BOOT_KIND_PVH with that entry, else BOOT_KIND_ELF64 at e_entry. Returns 0
 * or -ENOEXEC/-EINVAL with e naming bc->kernel_path and the reason.
 */
int boot_elf_load(struct guest_mem *gm, const struct boot_config *bc,
    struct boot_kernel *k, struct err *e);

/*
 * Find the PVH entry note in an ELF image whose header was validated by
 * the caller: PT_NOTE segments first, then SHT_NOTE sections. Returns 1
 * and sets *entry when found, 0 when absent, -ENOEXEC (with e) when a note
 * is malformed (sizes running outside the segment, bad descsz).
 */
int boot_elf_pvh_entry(const struct boot_config *bc, uint64_t *entry,
    struct err *e);

/*
 * Validate a bzImage (boot protocol >= 2.12, XLF_KERNEL_64, LOADED_HIGH)
 * and copy its protected-mode kernel to bc->load_addr. kernel_end covers
 * both the copied payload and init_size from the kernel's runtime start
 * address (boot.rst), which must all be in low RAM. Returns 0 or -ENOEXEC /
 * -EINVAL / -ENOSPC with e naming bc->kernel_path and the reason.
 */
int boot_bzimage_load(struct guest_mem *gm, const struct boot_config *bc,
    struct boot_kernel *k, struct err *e);

/*
 * Place the initramfs: the highest 4 KiB-aligned address whose end is at or
 * below min(low RAM end, initrd_addr_max + 1) and whose start is at or above
 * max(kernel_end, HIMEM_START); copies it there. Returns 0 with *addr set,
 * or -ENOSPC with e naming bc->initrd_path. No initrd: *addr = 0, returns 0.
 */
int boot_place_initrd(struct guest_mem *gm, const struct boot_config *bc,
    const struct boot_kernel *k, uint64_t *addr, struct err *e);

#endif
