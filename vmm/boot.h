/*
 * Loading a kernel into guest RAM and describing the vCPU state it starts
 * in. Pure functions over a `struct guest_mem` (so unit tests can use a
 * malloc'd fake): no KVM calls here.
 *
 * Formats (detected from the image, never from the file name):
 *   - ELF64 x86_64 with a XEN_ELFNOTE_PHYS32_ENTRY note: PVH. 32-bit
 *     protected mode entry, paging off, %ebx = hvm_start_info.
 *   - ELF64 x86_64 without it: Linux 64-bit boot protocol at e_entry, %rsi =
 *     zero page, identity-mapped page tables, our GDT.
 *   - bzImage (boot protocol >= 2.12 with XLF_KERNEL_64): protected-mode
 *     kernel at load_addr, 64-bit entry at load_addr + 0x200, %rsi = zero
 *     page carrying the image's setup header.
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "bootparam_x86_64.h"
#include "err.h"
#include "memory.h"

enum boot_kind {
	BOOT_KIND_ELF64 = 1,    /* 64-bit Linux boot protocol from an ELF */
	BOOT_KIND_PVH = 2,      /* PVH 32-bit entry from an ELF note */
	BOOT_KIND_BZIMAGE = 3,  /* 64-bit Linux boot protocol from a bzImage */
};

struct boot_config {
	const uint8_t *kernel;     /* whole kernel image file */
	size_t kernel_len;
	const char *kernel_path;   /* for messages */
	const uint8_t *initrd;     /* NULL when none */
	size_t initrd_len;
	const char *initrd_path;   /* for messages */
	const char *cmdline;       /* NUL-terminated, never NULL */
	uint64_t load_addr;        /* --kernel kernel_load_addr (default HIMEM_START):
	                            * bzImage: where the protected-mode kernel goes
	                            * (>= 1 MiB; == code32_start if not relocatable);
	                            * ELF: lowest address a PT_LOAD segment may use
	                            * (ELFs load at p_paddr, never relocated) */
	unsigned ncpus;            /* for the MP table */
};

/* Where the boot CPU starts; the vcpu code turns this into KVM registers
 * with boot_vcpu_regs(). */
struct boot_entry {
	enum boot_kind kind;
	uint64_t rip;              /* entry point (guest-physical) */
	uint64_t rsi;              /* zero page (ELF64, bzImage), else 0 */
	uint64_t rbx;              /* hvm_start_info (PVH), else 0 */
	uint64_t rsp;              /* BOOT_STACK_ADDR */
	uint64_t kernel_end;       /* first byte after the loaded kernel */
	uint64_t initrd_addr;      /* 0 when none */
	uint64_t initrd_size;
};

/*
 * Parse the kernel, load it, place the initramfs, write the command line,
 * zero page or hvm_start_info, e820, MP table, GDT/IDT and identity page
 * tables into gm. On bad input returns -EINVAL/-ENOEXEC/-E2BIG/-ENOSPC with
 * a one-line message in e naming the file or option and the reason
 * (truncated, bad magic, protocol too old, segment outside memory, initramfs
 * does not fit, cmdline too long, ...). Never reads outside the buffers.
 */
int boot_load(struct guest_mem *gm, const struct boot_config *bc,
    struct boot_entry *be, struct err *e);

/*
 * Fill KVM register structs for the boot CPU from `be` (sregs must first be
 * read from the vCPU with KVM_GET_SREGS so unrelated fields stay valid).
 * PVH: CS=BOOT_SEL_CODE32 flat 32-bit, CR0.PE, no paging, EBX. Long modes:
 * CS=BOOT_SEL_CODE64, DS..SS=BOOT_SEL_DATA, CR0 PE|PG|..., CR4.PAE,
 * EFER LME|LMA, CR3=BOOT_PML4_ADDR, RSI. Both: GDT at BOOT_GDT_ADDR,
 * RFLAGS=2, interrupts off.
 */
struct kvm_sregs;
struct kvm_regs;
void boot_vcpu_regs(const struct boot_entry *be, struct kvm_sregs *sregs,
    struct kvm_regs *regs);

/* Internal pieces, exported for unit tests. Each returns 0 or -errno with e. */

/* e820 map for gm's layout: [0, EBDA_START) RAM, [EBDA_START, 0xa0000)
 * reserved, [HIMEM_START, low end) RAM, [MMIO_HOLE_END, ...) RAM when
 * split. Returns the number of entries written (<= max) or -ENOSPC. */
int boot_e820(const struct guest_mem *gm, struct e820_entry *out, int max);

/* Write an MP floating pointer + table for ncpus CPUs (APIC ids 0..n-1,
 * CPU 0 the BSP), one ISA bus, the IOAPIC (id ncpus) and ISA IRQs 0-15, at
 * MPTABLE_ADDR. -E2BIG when ncpus does not fit below 0xa0000. */
int boot_mptable(struct guest_mem *gm, unsigned ncpus, struct err *e);

/* Largest ncpus boot_mptable() accepts (the table must end by 0xa0000). */
unsigned boot_mptable_max_cpus(void);

/* GDT (BOOT_GDT_*), empty IDT, and identity page tables for [0, 4 GiB). */
int boot_gdt_pagetables(struct guest_mem *gm, struct err *e);

/* Decode a GDT descriptor into the kvm_segment KVM wants for `selector`
 * (limit scaled by G, unusable when not present), so the vCPU's hidden
 * segment state always matches the GDT the guest can read. */
struct kvm_segment;
void boot_gdt_to_kvm_segment(uint64_t desc, uint16_t selector,
    struct kvm_segment *s);

#endif
