/* PVH packaging: the XEN_ELFNOTE_PHYS32_ENTRY note naming pvh_start32. */
#include "entry.h"

	.section .note.pvh, "a", @note
	.balign 4
	.long 2f - 1f               /* namesz */
	.long 4f - 3f               /* descsz */
	.long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
1:	.asciz "Xen"
2:	.balign 4
3:	.long pvh_start32
4:	.balign 4

	.section .rodata
	.balign 4
	.globl guest_packaging
guest_packaging:
	.long GUEST_KIND_PVH

	.section .note.GNU-stack, "", @progbits
