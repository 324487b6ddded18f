/*
 * emulation_fail: execute `int3` with an empty IDT. On kvm-pvm, where CPL0
 * guest code runs through KVM's instruction emulator, int3 is an emulation
 * failure: KVM_EXIT_INTERNAL_ERROR, which the vmm must report with the
 * guest rip (printed here first) and the VMX/SVM hint, exiting 1. On
 * hardware KVM it is a #BP with no IDT: a triple fault (exit 0).
 */
#include "guest.h"

void guest_main(const struct guest_boot *gb)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty_idt = { 0, 0 };
	extern char emulation_fail_int3[];

	(void)gb;
	gprintf("emulation_fail: int3 at %p\n", (void *)emulation_fail_int3);
	__asm__ volatile("lidt %0\n"
	    ".globl emulation_fail_int3\n"
	    "emulation_fail_int3: int3" : : "m"(empty_idt));
	gprintf("emulation_fail: FAILED, still running after int3\n");
	guest_halt_forever();
}
