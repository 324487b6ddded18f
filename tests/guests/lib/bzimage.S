/*
 * A genuine bzImage around a flat protected-mode payload
 * (Documentation/arch/x86/boot.rst): boot sector with the setup header at
 * 0x1f1, BZ_SETUP_SECTS sectors of real-mode setup (which only halts: our
 * loaders enter the payload directly), then the payload (linked at
 * code32_start, 64-bit entry at +0x200). Built with -DPAYLOAD="file"
 * -DSYSSIZE=<paragraphs> -DINIT_SIZE=<bytes> -DKERNEL_INFO_OFFSET=<off>
 * and cut out with objcopy -O binary -j .text.
 */
#include "bzimage.h"

	.text
	.code16
bootsect:
	cli
1:	hlt
	jmp 1b

	.org 0x1f1
setup_sects:		.byte BZ_SETUP_SECTS
root_flags:		.word 0
syssize:		.long SYSSIZE
ram_size:		.word 0
vid_mode:		.word 0xffff            /* NORMAL_VGA */
root_dev:		.word 0
boot_flag:		.word 0xAA55
	/* 0x200: start of the setup code proper */
			.byte 0xeb               /* jmp short start_of_setup */
			.byte start_of_setup - 1f
1:			.ascii "HdrS"
version:		.word BZ_VERSION
realmode_swtch:		.long 0
start_sys_seg:		.word 0x1000
kernel_version:		.word kernel_version_str - bootsect - 0x200
type_of_loader:		.byte 0
loadflags:		.byte BZ_LOADFLAGS
setup_move_size:	.word 0x8000
code32_start:		.long BZ_CODE32_START
ramdisk_image:		.long 0
ramdisk_size:		.long 0
bootsect_kludge:	.long 0
heap_end_ptr:		.word 0
ext_loader_ver:		.byte 0
ext_loader_type:	.byte 0
cmd_line_ptr:		.long 0
initrd_addr_max:	.long BZ_INITRD_ADDR_MAX
kernel_alignment:	.long BZ_KERNEL_ALIGN
relocatable_kernel:	.byte BZ_RELOCATABLE
min_alignment:		.byte BZ_MIN_ALIGNMENT
xloadflags:		.word BZ_XLOADFLAGS
cmdline_size:		.long BZ_CMDLINE_SIZE
hardware_subarch:	.long 0
hardware_subarch_data:	.quad 0
payload_offset:		.long 0
payload_length:		.long 0
setup_data:		.quad 0
pref_address:		.quad BZ_PREF_ADDRESS
init_size:		.long INIT_SIZE
handover_offset:	.long 0
kernel_info_offset:	.long KERNEL_INFO_OFFSET

start_of_setup:		/* real-mode setup: nothing to do, halt */
	cli
2:	hlt
	jmp 2b

kernel_version_str:
	.asciz "vmm-reference selftest guest"

	.org (BZ_SETUP_SECTS + 1) * 512
payload:
	.incbin PAYLOAD
	.balign 16, 0                /* syssize counts whole paragraphs */

	.section .note.GNU-stack, "", @progbits
