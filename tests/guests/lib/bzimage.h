/*
 * The setup-header values our bzImage wrapper (bzimage.S) writes, shared
 * with boot_state so it can check the vmm copied them into the zero page.
 */
#ifndef GUEST_BZIMAGE_H
#define GUEST_BZIMAGE_H

#define BZ_SETUP_SECTS      4           /* setup = 4 sectors after the boot sector */
#define BZ_VERSION          0x020f
#define BZ_LOADFLAGS        0x01        /* LOADED_HIGH */
#define BZ_XLOADFLAGS       0x0001      /* XLF_KERNEL_64 */
#define BZ_CODE32_START     0x100000
#define BZ_INITRD_ADDR_MAX  0x7fffffff
#define BZ_KERNEL_ALIGN     0x200000
#define BZ_RELOCATABLE      0
#define BZ_MIN_ALIGNMENT    21
#define BZ_CMDLINE_SIZE     2047   /* Linux x86: COMMAND_LINE_SIZE - 1 */
#define BZ_PREF_ADDRESS     0x100000

#endif
