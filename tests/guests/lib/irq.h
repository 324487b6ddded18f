/*
 * Interrupts for the selftest guests: a 64-bit IDT whose 256 stubs
 * (idt_x86_64.S) save every GPR and call irq_dispatch(); the local APIC
 * (enable, EOI); the IOAPIC (route any GSI to a vector on this CPU); the
 * legacy 8259 PIC masked so only the IOAPIC delivers. An exception with no
 * handler prints its vector, error code and rip as a "GUEST_ASSERT failed"
 * line and resets, so a guest bug is visible instead of a triple fault.
 *
 * Usage: irq_init(); irq_register(v, fn); ioapic_route(gsi, v, 0); then
 * irq_disable(); while (!cond) wait_for_interrupt(); irq_enable();
 */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#define IRQ_VECTORS          256
#define IRQ_FIRST_EXTERNAL   32     /* 0-31 are CPU exceptions */
#define IRQ_SPURIOUS_VECTOR  0xff   /* LAPIC SVR spurious vector */

/* What the stubs leave on the stack; irq_dispatch() gets a pointer to it.
 * Handlers may change it (e.g. rip to skip a faulting instruction). */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;          /* 0 when the CPU pushes none */
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};
_Static_assert(sizeof(struct irq_frame) == 22 * 8, "irq_frame layout");

typedef void (*irq_handler_t)(struct irq_frame *f);

/* Build and load the IDT (all 256 vectors -> stubs), mask both 8259 PICs
 * and software-enable this CPU's local APIC (SVR bit 8, spurious vector
 * 0xff). Leaves RFLAGS.IF clear: call irq_enable() or wait_for_interrupt()
 * once handlers and routes are in place. Call once, on the BSP. */
void irq_init(void);

/* Install h for vector (0-255; NULL removes it). Exceptions (0-31) with a
 * handler go to it instead of the fatal report. For vectors >= 32 except
 * the spurious one the dispatcher sends the LAPIC EOI after h returns. */
void irq_register(unsigned vector, irq_handler_t h);

/* Called by the stubs with the vector and the saved frame: runs the
 * registered handler, reports unhandled exceptions and unexpected vectors
 * (GUEST_ASSERT-style line, then reset), EOIs external vectors. */
void irq_dispatch(uint64_t vector, struct irq_frame *f);

/* Interrupt counts per vector since irq_init (all vectors, handled ones). */
uint64_t irq_count(unsigned vector);

/* Local APIC: software enable with the spurious vector; end of interrupt. */
#define LAPIC_EOI      0x0b0
#define LAPIC_SVR_ENABLE 0x100
void lapic_enable(void);
void lapic_eoi(void);

/* 8259 PIC pair: mask every line (out 0xff to ports 0x21 and 0xa1). */
void pic_mask_all(void);

/* IOAPIC at IOAPIC_ADDR: indirect register access (IOREGSEL / IOWIN). */
#define IOAPIC_REG_ID      0x00
#define IOAPIC_REG_VER     0x01
#define IOAPIC_REG_REDTBL  0x10   /* + 2 * pin: low dword, + 1: high dword */
#define IOAPIC_LEVEL       0x8000   /* redirection flags: trigger mode level */
#define IOAPIC_ACTIVE_LOW  0x2000   /* polarity: active low */
#define IOAPIC_MASKED      0x10000
uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);
/* Number of redirection entries (pins) the IOAPIC version register reports. */
unsigned ioapic_pins(void);

/* Route IOAPIC pin gsi to vector (>= 32), fixed delivery, physical
 * destination = this CPU's APIC id, unmasked. flags: 0 for an ISA IRQ
 * (edge-triggered, active high, as the MP table says) or IOAPIC_LEVEL |
 * IOAPIC_ACTIVE_LOW for PCI-style lines. Asserts gsi < ioapic_pins(). */
void ioapic_route(unsigned gsi, uint8_t vector, uint32_t flags);
/* Mask (true) or unmask (false) pin gsi, keeping its route. */
void ioapic_mask(unsigned gsi, bool masked);

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Sleep until an interrupt has been handled. Call with interrupts disabled,
 * right after finding that what you wait for has not happened yet: sti
 * delays interrupt delivery by one instruction, so an interrupt pending at
 * the sti is taken in the hlt (waking it) rather than between the check and
 * the hlt, where it would be lost. Returns with interrupts disabled. */
static inline void wait_for_interrupt(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

#endif
