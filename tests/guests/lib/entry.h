/*
 * Entry-state layout shared by the assembly entry stubs (entry_x86_64.S)
 * and C (guest.h). Every slot is 8 bytes (descriptor-table registers 16) so
 * the assembler can address them by these offsets; guest.h checks them
 * with _Static_assert.
 */
#ifndef GUEST_ENTRY_H
#define GUEST_ENTRY_H

/* How the guest was entered (ES_PATH) and how it was packaged. */
#define GUEST_KIND_ELF64   1   /* 64-bit Linux boot protocol, ELF */
#define GUEST_KIND_PVH     2   /* PVH 32-bit entry */
#define GUEST_KIND_BZIMAGE 3   /* 64-bit Linux boot protocol, bzImage */

#define ENTRY_PATH_PVH32   2   /* came in through pvh_start32 */
#define ENTRY_PATH_LONG64  64  /* came in through guest_start64 */

#define ES_PATH    0
#define ES_RSI     8
#define ES_RBX     16
#define ES_RSP     24
#define ES_CR0     32
#define ES_CR3     40
#define ES_CR4     48
#define ES_EFER    56
#define ES_RFLAGS  64
#define ES_CS      72
#define ES_DS      80
#define ES_ES      88
#define ES_SS      96
#define ES_GDTR    104   /* raw sgdt image: u16 limit, then base */
#define ES_IDTR    120   /* raw sidt image */
#define ES_SIZE    136

/* Our own GDT (same selectors as the vmm's boot GDT) */
#define GSEL_CODE32 0x08
#define GSEL_CODE64 0x10
#define GSEL_DATA   0x18

#define CR0_PE   0x00000001
#define CR0_ET   0x00000010
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define EFER_LMA 0x00000400

#define GUEST_LOAD_ADDR   0x100000
#define GUEST_MAP_GIB     8         /* identity map built by the entry stub */
#define GUEST_STACK_SIZE  16384

#endif
