/* ELF64 / bzImage packaging marker: -DPACKAGING=GUEST_KIND_ELF64 or
 * GUEST_KIND_BZIMAGE. No PVH note, so the vmm uses the 64-bit entry. */
#include "entry.h"

	.section .rodata
	.balign 4
	.globl guest_packaging
guest_packaging:
	.long PACKAGING

	.section .note.GNU-stack, "", @progbits
