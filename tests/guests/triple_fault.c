/*
 * triple_fault: load an empty IDT (limit 0) and raise #UD. With no IDT the
 * #UD becomes #DF, then a triple fault: KVM_EXIT_SHUTDOWN, which the vmm
 * treats as a reset (exit 0).
 */
#include "guest.h"

void guest_main(const struct guest_boot *gb)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty_idt = { 0, 0 };

	(void)gb;
	gprintf("triple_fault: faulting now\n");
	__asm__ volatile("lidt %0; ud2" : : "m"(empty_idt));
	gprintf("triple_fault: FAILED, still running after ud2\n");
	guest_halt_forever();
}
