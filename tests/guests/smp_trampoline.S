/*
 * AP start-up: a real-mode trampoline the BSP copies to SMP_TRAMPOLINE_ADDR
 * (the SIPI vector page) and patches with its CR3 and ap_entry64. It goes
 * 16 -> 32 -> 64-bit with the same GDT selectors as the BSP, then jumps to
 * ap_entry64, which takes a CPU number and a stack and calls smp_ap_main().
 */
#include "entry.h"
#include "smp.h"

#define T(x) (SMP_TRAMPOLINE_ADDR + ((x) - smp_trampoline_start))

	.text
	.code16
	.globl smp_trampoline_start, smp_trampoline_end
	.globl smp_tramp_cr3, smp_tramp_entry
smp_trampoline_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tr_gdt_desc - smp_trampoline_start
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $GSEL_CODE32, $T(tr32)

	.code32
tr32:
	movl $GSEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl T(smp_tramp_cr3), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmpl $GSEL_CODE64, $T(tr64)

	.code64
tr64:
	movq T(smp_tramp_entry), %rax
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff    /* 0x08 code32 */
	.quad 0x00af9b000000ffff    /* 0x10 code64 */
	.quad 0x00cf93000000ffff    /* 0x18 data */
tr_gdt_desc:
	.word tr_gdt_desc - tr_gdt - 1
	.long T(tr_gdt)
	.balign 8
smp_tramp_cr3:   .quad 0
smp_tramp_entry: .quad 0
smp_trampoline_end:

/* 64-bit, running from the image: CPU number, stack, our GDT, C. */
	.globl ap_entry64
ap_entry64:
	movl $GSEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	lgdt guest_gdt_desc(%rip)
	movl $1, %eax
	lock xaddl %eax, smp_ap_next(%rip)
	cmpl $SMP_MAX_APS, %eax
	jae 2f
	movl %eax, %edi
	incl %edi                   /* cpu number: BSP is 0 */
	movl %edi, %eax
	shlq $SMP_AP_STACK_SHIFT, %rax
	leaq ap_stacks(%rip), %rsp
	addq %rax, %rsp
	call smp_ap_main
2:	cli
	hlt
	jmp 2b

	.data
	.balign 4
	.globl smp_ap_next
smp_ap_next: .long 0

	.section .stacks, "aw", @nobits
	.balign 4096
ap_stacks:
	.skip SMP_MAX_APS << SMP_AP_STACK_SHIFT

	.section .note.GNU-stack, "", @progbits
