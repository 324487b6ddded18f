/*
 * 256 interrupt stubs and their common tail. Each stub pushes a zero error
 * code where the CPU pushes none (so every frame has the same layout), then
 * its vector, and jumps to irq_common, which saves all GPRs (struct
 * irq_frame in irq.h), calls irq_dispatch(vector, frame), restores and
 * returns with iretq. irq_stub_table[v] is stub v's address, for the IDT.
 *
 * The stack is 16-byte aligned at the call: in 64-bit mode the CPU aligns
 * RSP before pushing its 5-quadword frame, and error code + vector + 15
 * GPRs make 17 more quadwords (176 bytes in all).
 */

/* Vectors for which the CPU pushes an error code: #DF #TS #NP #SS #GP #PF
 * #AC #CP #VC #SX. */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || \
	(v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.balign 16
	.globl irq_stubs
irq_stubs:
	vec = 0
	.rept 256
	.balign 16
	.if !HAS_ERROR_CODE(vec)
	pushq $0
	.endif
	pushq $vec
	jmp irq_common
	vec = vec + 1
	.endr

irq_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq 15*8(%rsp), %rdi       /* vector */
	movq %rsp, %rsi             /* frame */
	call irq_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp              /* vector, error code */
	iretq

	.section .rodata
	.balign 8
	.globl irq_stub_table
irq_stub_table:
	vec = 0
	.rept 256
	.quad irq_stubs + 16 * vec
	vec = vec + 1
	.endr

	.section .note.GNU-stack, "", @progbits
