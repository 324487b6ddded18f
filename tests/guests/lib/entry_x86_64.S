/*
 * Entry stubs for the three packagings, all linked at GUEST_LOAD_ADDR:
 *
 *   +0x000  bz_entry32: the bzImage 32-bit entry (code32_start). Unused by
 *           our vmm (it enters at +0x200 in long mode): cli; hlt forever.
 *   +0x200  guest_start64: 64-bit entry (ELF e_entry and bzImage
 *           startup_64). Long mode, paging on, %rsi = zero page.
 *   pvh_start32: PVH entry named by the XEN_ELFNOTE_PHYS32_ENTRY note.
 *           32-bit protected mode, paging off, %ebx = hvm_start_info.
 *
 * Each saves the entry state in guest_entry (before touching anything),
 * builds its own identity map of [0, GUEST_MAP_GIB GiB) (1 GiB pages when
 * CPUID has pdpe1gb, else 2 MiB pages), loads our GDT, zeroes .bss and
 * calls guest_c_start() on boot_stack.
 */
#include "entry.h"

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PS  0x080

	.section .head.text, "ax"
	.code32
	.globl bz_entry32
bz_entry32:
	cli
1:	hlt
	jmp 1b

	.org 0x200
	.code64
	.globl guest_start64
guest_start64:
	movq %rsi, guest_entry+ES_RSI(%rip)
	movq %rbx, guest_entry+ES_RBX(%rip)
	movq %rsp, guest_entry+ES_RSP(%rip)
	leaq boot_stack_top(%rip), %rsp
	pushfq
	popq guest_entry+ES_RFLAGS(%rip)
	movq %cr0, %rax
	movq %rax, guest_entry+ES_CR0(%rip)
	movq %cr3, %rax
	movq %rax, guest_entry+ES_CR3(%rip)
	movq %cr4, %rax
	movq %rax, guest_entry+ES_CR4(%rip)
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, guest_entry+ES_EFER(%rip)
	movl %edx, guest_entry+ES_EFER+4(%rip)
	movw %cs, guest_entry+ES_CS(%rip)
	movw %ds, guest_entry+ES_DS(%rip)
	movw %es, guest_entry+ES_ES(%rip)
	movw %ss, guest_entry+ES_SS(%rip)
	sgdt guest_entry+ES_GDTR(%rip)
	sidt guest_entry+ES_IDTR(%rip)
	movq $ENTRY_PATH_LONG64, guest_entry+ES_PATH(%rip)
	call build_pagetables64
	leaq pt_pml4(%rip), %rax
	movq %rax, %cr3
	jmp common64

	.text
	.code32
	.globl pvh_start32
pvh_start32:
	movl %ebx, guest_entry+ES_RBX
	movl %esi, guest_entry+ES_RSI
	movl %esp, guest_entry+ES_RSP
	movl $boot_stack_top, %esp
	pushfl
	popl guest_entry+ES_RFLAGS
	movl %cr0, %eax
	movl %eax, guest_entry+ES_CR0
	movl %cr3, %eax
	movl %eax, guest_entry+ES_CR3
	movl %cr4, %eax
	movl %eax, guest_entry+ES_CR4
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, guest_entry+ES_EFER
	movl %edx, guest_entry+ES_EFER+4
	movw %cs, guest_entry+ES_CS
	movw %ds, guest_entry+ES_DS
	movw %es, guest_entry+ES_ES
	movw %ss, guest_entry+ES_SS
	sgdtl guest_entry+ES_GDTR
	sidtl guest_entry+ES_IDTR
	movl $ENTRY_PATH_PVH32, guest_entry+ES_PATH

	call build_pagetables32
	movl $pt_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	lgdtl guest_gdt_desc
	ljmpl $GSEL_CODE64, $common64

/* 32-bit: zero PML4+PDPT, then fill them (paging is off: plain stores). */
build_pagetables32:
	movl $pt_pml4, %edi
	movl $2048, %ecx
	xorl %eax, %eax
	rep stosl
	movl $(pt_pdpt + PTE_P + PTE_W), pt_pml4
#ifdef GUEST_FORCE_2M_PAGES
	jmp 2f
#endif
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb 2f
	movl $0x80000001, %eax
	cpuid
	btl $26, %edx
	jnc 2f
	/* 1 GiB pages: pdpt[i] = i << 30 | P W PS */
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $30, %eax
	orl $(PTE_P + PTE_W + PTE_PS), %eax
	movl %ecx, %edx
	shrl $2, %edx
	movl %eax, pt_pdpt(,%ecx,8)
	movl %edx, pt_pdpt+4(,%ecx,8)
	incl %ecx
	cmpl $GUEST_MAP_GIB, %ecx
	jb 1b
	ret
2:	/* 2 MiB pages: pdpt[i] = pd + i*4096; pd[j] = j << 21 | P W PS */
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $12, %eax
	addl $(pt_pd + PTE_P + PTE_W), %eax
	movl %eax, pt_pdpt(,%ecx,8)
	incl %ecx
	cmpl $GUEST_MAP_GIB, %ecx
	jb 3b
	xorl %ecx, %ecx
4:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P + PTE_W + PTE_PS), %eax
	movl %ecx, %edx
	shrl $11, %edx
	movl %eax, pt_pd(,%ecx,8)
	movl %edx, pt_pd+4(,%ecx,8)
	incl %ecx
	cmpl $(GUEST_MAP_GIB * 512), %ecx
	jb 4b
	ret

	.code64
/* 64-bit: same tables, written through the vmm's identity map. */
build_pagetables64:
	leaq pt_pml4(%rip), %rdi
	movl $1024, %ecx
	xorl %eax, %eax
	rep stosq
	leaq pt_pdpt+PTE_P+PTE_W(%rip), %rax
	movq %rax, pt_pml4(%rip)
	leaq pt_pdpt(%rip), %rdi
#ifdef GUEST_FORCE_2M_PAGES
	jmp 2f
#endif
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb 2f
	movl $0x80000001, %eax
	cpuid
	btl $26, %edx
	jnc 2f
	xorl %ecx, %ecx
1:	movq %rcx, %rax
	shlq $30, %rax
	orq $(PTE_P + PTE_W + PTE_PS), %rax
	movq %rax, (%rdi,%rcx,8)
	incl %ecx
	cmpl $GUEST_MAP_GIB, %ecx
	jb 1b
	ret
2:	leaq pt_pd+PTE_P+PTE_W(%rip), %rax
	xorl %ecx, %ecx
3:	movq %rax, (%rdi,%rcx,8)
	addq $4096, %rax
	incl %ecx
	cmpl $GUEST_MAP_GIB, %ecx
	jb 3b
	leaq pt_pd(%rip), %rdi
	movq $(PTE_P + PTE_W + PTE_PS), %rax
	xorl %ecx, %ecx
4:	movq %rax, (%rdi,%rcx,8)
	addq $0x200000, %rax
	incl %ecx
	cmpl $(GUEST_MAP_GIB * 512), %ecx
	jb 4b
	ret

/* Both paths: our GDT and segments, zero .bss, call C. */
common64:
	lgdt guest_gdt_desc(%rip)
	movl $GSEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	pushq $GSEL_CODE64
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq
	leaq boot_stack_top(%rip), %rsp
	call guest_c_start
2:	cli
	hlt
	jmp 2b

	.section .rodata
	.balign 16
	.globl guest_gdt, guest_gdt_desc
guest_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff    /* 0x08 code32 */
	.quad 0x00af9b000000ffff    /* 0x10 code64 */
	.quad 0x00cf93000000ffff    /* 0x18 data */
guest_gdt_end:
	.balign 8
	.word 0, 0, 0
guest_gdt_desc:
	.word guest_gdt_end - guest_gdt - 1
	.quad guest_gdt

	/* bzImage kernel_info (boot protocol 2.15); harmless elsewhere */
	.balign 16
	.globl kernel_info
kernel_info:
	.ascii "LToP"
	.long kernel_info_var_len_data - kernel_info
	.long kernel_info_end - kernel_info
	.long 0x0000000c                /* setup_type_max */
kernel_info_var_len_data:
kernel_info_end:

	.data
	.balign 16
	.globl guest_entry
guest_entry:
	.fill ES_SIZE, 1, 0

	.section .pgtables, "aw", @nobits
	.balign 4096
	.globl pt_pml4, pt_pdpt, pt_pd
pt_pml4: .skip 4096
pt_pdpt: .skip 4096
pt_pd:   .skip 4096 * GUEST_MAP_GIB

	.section .stacks, "aw", @nobits
	.balign 4096
boot_stack:
	.skip GUEST_STACK_SIZE
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
