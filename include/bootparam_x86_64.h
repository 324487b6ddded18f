/*
 * Linux x86 boot protocol structures (Documentation/arch/x86/boot.rst and
 * arch/x86/include/uapi/asm/bootparam.h), written out with the fields this
 * project reads or writes and explicit padding elsewhere. Freestanding: used
 * by the vmm and by the selftest guests.
 */
#ifndef BOOTPARAM_X86_64_H
#define BOOTPARAM_X86_64_H

#include <stdint.h>

#define BP_SETUP_HEADER_OFFSET 0x1f1
#define BP_BOOT_FLAG_MAGIC     0xAA55
#define BP_HDRS_MAGIC          0x53726448u /* "HdrS" */
#define BP_LOADED_HIGH         0x01
#define BP_KEEP_SEGMENTS       0x40
#define BP_CAN_USE_HEAP        0x80
#define BP_XLF_KERNEL_64       0x0001
#define BP_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define BP_TYPE_OF_LOADER_UNDEF 0xff
#define BP_E820_MAX_ENTRIES    128
#define BP_64BIT_ENTRY_OFFSET  0x200  /* startup_64 = code32_start + 0x200 */

#define E820_TYPE_RAM          1
#define E820_TYPE_RESERVED     2

struct __attribute__((packed)) e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};
_Static_assert(sizeof(struct e820_entry) == 20, "e820_entry");

struct __attribute__((packed)) setup_header {
	uint8_t  setup_sects;          /* 0x1f1 */
	uint16_t root_flags;           /* 0x1f2 */
	uint32_t syssize;              /* 0x1f4 */
	uint16_t ram_size;             /* 0x1f8 */
	uint16_t vid_mode;             /* 0x1fa */
	uint16_t root_dev;             /* 0x1fc */
	uint16_t boot_flag;            /* 0x1fe */
	uint16_t jump;                 /* 0x200 */
	uint32_t header;               /* 0x202 */
	uint16_t version;              /* 0x206 */
	uint32_t realmode_swtch;       /* 0x208 */
	uint16_t start_sys_seg;        /* 0x20c */
	uint16_t kernel_version;       /* 0x20e */
	uint8_t  type_of_loader;       /* 0x210 */
	uint8_t  loadflags;            /* 0x211 */
	uint16_t setup_move_size;      /* 0x212 */
	uint32_t code32_start;         /* 0x214 */
	uint32_t ramdisk_image;        /* 0x218 */
	uint32_t ramdisk_size;         /* 0x21c */
	uint32_t bootsect_kludge;      /* 0x220 */
	uint16_t heap_end_ptr;         /* 0x224 */
	uint8_t  ext_loader_ver;       /* 0x226 */
	uint8_t  ext_loader_type;      /* 0x227 */
	uint32_t cmd_line_ptr;         /* 0x228 */
	uint32_t initrd_addr_max;      /* 0x22c */
	uint32_t kernel_alignment;     /* 0x230 */
	uint8_t  relocatable_kernel;   /* 0x234 */
	uint8_t  min_alignment;        /* 0x235 */
	uint16_t xloadflags;           /* 0x236 */
	uint32_t cmdline_size;         /* 0x238 */
	uint32_t hardware_subarch;     /* 0x23c */
	uint64_t hardware_subarch_data;/* 0x240 */
	uint32_t payload_offset;       /* 0x248 */
	uint32_t payload_length;       /* 0x24c */
	uint64_t setup_data;           /* 0x250 */
	uint64_t pref_address;         /* 0x258 */
	uint32_t init_size;            /* 0x260 */
	uint32_t handover_offset;      /* 0x264 */
	uint32_t kernel_info_offset;   /* 0x268 */
};
_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup_header");

/* The "zero page". Only the fields we use are named. */
struct __attribute__((packed)) boot_params {
	uint8_t  _pad0[0x0c0];
	uint32_t ext_ramdisk_image;    /* 0x0c0 */
	uint32_t ext_ramdisk_size;     /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;     /* 0x0c8 */
	uint8_t  _pad1[0x1e8 - 0x0cc];
	uint8_t  e820_entries;         /* 0x1e8 */
	uint8_t  _pad2[0x1f1 - 0x1e9];
	struct setup_header hdr;       /* 0x1f1 */
	uint8_t  _pad3[0x2d0 - 0x26c];
	struct e820_entry e820_table[BP_E820_MAX_ENTRIES]; /* 0x2d0 */
	uint8_t  _pad4[0x1000 - 0xcd0];
};
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params");
_Static_assert(__builtin_offsetof(struct boot_params, hdr) == 0x1f1, "hdr");
_Static_assert(__builtin_offsetof(struct boot_params, e820_table) == 0x2d0, "e820");

#endif
