/*
 * The guest-physical memory map every vmm-reference guest sees: where the
 * vmm puts the boot structures, where RAM is, where the MMIO hole is. This is
 * the contract between the vmm and its guests; the selftest guests include it
 * to check that things are where the boot protocol says they are.
 *
 *   0x000500  boot GDT (5 entries, selectors below)
 *   0x000528  boot IDT (empty, limit 0)
 *   0x006000  hvm_start_info (PVH), 0x6040 modlist, 0x6100 memmap
 *   0x007000  zero page (struct boot_params)
 *   0x008ff0  initial stack pointer
 *   0x009000  PML4, 0xa000 PDPT, 0xb000..0xefff four PDs: 0..4 GiB identity
 *             mapped with 2 MiB pages
 *   0x020000  kernel command line (up to BOOT_CMDLINE_MAX bytes incl. NUL)
 *   0x09fc00  MP floating pointer + MP config table (last KiB of base mem)
 *   0x100000  kernel (default load address)
 *   ...       initramfs: top of low RAM, page aligned, below initrd_addr_max
 *   0xc0000000..0x100000000  32-bit MMIO hole (IOAPIC, LAPIC, virtio-mmio)
 *   0x100000000  RAM beyond 3 GiB continues here
 */
#ifndef GUEST_LAYOUT_X86_64_H
#define GUEST_LAYOUT_X86_64_H

#define BOOT_GDT_ADDR        0x500ull
#define BOOT_GDT_ENTRIES     5
#define BOOT_IDT_ADDR        0x528ull  /* right after the GDT */
#define PVH_INFO_ADDR        0x6000ull
#define PVH_MODLIST_ADDR     0x6040ull
#define PVH_MEMMAP_ADDR      0x6100ull
#define PVH_MEMMAP_MAX       32
#ifndef __ASSEMBLER__
_Static_assert(BOOT_IDT_ADDR >= BOOT_GDT_ADDR + 8 * BOOT_GDT_ENTRIES, "IDT overlaps GDT");
#endif
#define ZERO_PAGE_ADDR       0x7000ull
#define BOOT_STACK_ADDR      0x8ff0ull
#define BOOT_PML4_ADDR       0x9000ull
#define BOOT_PDPT_ADDR       0xa000ull
#define BOOT_PD_ADDR         0xb000ull  /* 4 pages */
#define BOOT_IDENTITY_MAP_END 0x100000000ull
#define BOOT_CMDLINE_ADDR    0x20000ull
#define BOOT_CMDLINE_MAX     4096       /* bytes including the NUL */
/* Linux x86 COMMAND_LINE_SIZE: what an ELF/PVH kernel copies (incl. NUL);
 * a bzImage says its own limit in cmdline_size. */
#define BOOT_LINUX_CMDLINE_SIZE 2048
#define EBDA_START           0x9fc00ull
#define MPTABLE_ADDR         EBDA_START
#define HIMEM_START          0x100000ull
#define MMIO_HOLE_START      0xc0000000ull
#define MMIO_HOLE_END        0x100000000ull
#define IOAPIC_ADDR          0xfec00000ull
#define LAPIC_ADDR           0xfee00000ull
#define VIRTIO_MMIO_BASE     0xd0000000ull /* later issues: 4 KiB per device */
#define VIRTIO_MMIO_FIRST_IRQ 5

/* GDT selectors (index * 8) and descriptors, as loaded by the vmm */
#define BOOT_SEL_CODE32      0x08
#define BOOT_SEL_CODE64      0x10   /* __BOOT_CS */
#define BOOT_SEL_DATA        0x18   /* __BOOT_DS */
#define BOOT_SEL_TSS         0x20
#define BOOT_GDT_CODE32      0x00cf9b000000ffffull
#define BOOT_GDT_CODE64      0x00af9b000000ffffull
#define BOOT_GDT_DATA        0x00cf93000000ffffull
#define BOOT_GDT_TSS         0x00008b0000000067ull

/* Default kernel command line when --kernel has no cmdline= */
#define BOOT_DEFAULT_CMDLINE "console=ttyS0 i8042.nokbd reboot=t panic=1 pci=off"

#define COM1_PORT  0x3f8
#define COM1_IRQ   4
#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64
#define I8042_CMD_RESET 0xfe

#endif
