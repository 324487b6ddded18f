/*
 * irq_selftest: the guest library's interrupt path (lib/irq.c). With no
 * command line: a #UD handler sees the interrupted GPRs in its frame, and
 * what it writes there (rbx, rip past the ud2) is restored; two LAPIC
 * self-IPIs on one vector are each taken in wait_for_interrupt() (on a
 * VMX/SVM host the second also needs the dispatcher's EOI; kvm-pvm shows
 * the ISR bit clear inside the handler, so there it does not); prints
 * "irq_selftest: all passed".
 * With fault=ud|pf|gp it raises that exception with no handler, so the
 * library's fatal report ("GUEST_ASSERT failed: exception ...") shows.
 */
#include "guest.h"

#define IPI_VECTOR   0x41
#define ICR_FIXED_SELF 0x00040000   /* destination shorthand: self */
#define UNMAPPED_ADDR  0x0000400000000000ull   /* beyond the identity map */

static volatile uint64_t ud_rax, ud_vector, ipis;

/* Skip the ud2 (0f 0b) and hand a value back through the saved rbx. */
static void ud_handler(struct irq_frame *f)
{
	ud_rax = f->rax;
	ud_vector = f->vector;
	f->rbx = f->rax + 1;
	f->rip += 2;
}

static void ipi_handler(struct irq_frame *f)
{
	(void)f;
	ipis++;
}

static void check_handled_exception(void)
{
	uint64_t rax = 0x1234abcd, rbx = 0;

	irq_register(6, ud_handler);
	__asm__ volatile("ud2" : "+a"(rax), "+b"(rbx) : : "memory");
	irq_register(6, NULL);
	GUEST_ASSERT_EQ(ud_vector, 6);
	GUEST_ASSERT_EQ(ud_rax, 0x1234abcd);
	GUEST_ASSERT_EQ(rax, 0x1234abcd);
	GUEST_ASSERT_EQ(rbx, 0x1234abce);
	GUEST_ASSERT_EQ(irq_count(6), 1);
	gprintf("irq_selftest: #UD handler ok\n");
}

static void self_ipi(void)
{
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, ICR_FIXED_SELF | IPI_VECTOR);
}

static void check_self_ipis(void)
{
	irq_register(IPI_VECTOR, ipi_handler);
	for (uint64_t want = 1; want <= 2; want++) {
		irq_disable();
		self_ipi();
		while (ipis < want)
			wait_for_interrupt();
	}
	GUEST_ASSERT_EQ(irq_count(IPI_VECTOR), 2);
	gprintf("irq_selftest: 2 self-IPIs ok\n");
}

/* (No `int n` test: KVM's instruction emulator, which runs every guest
 * instruction on kvm-pvm hosts, does not emulate it in long mode.) */
static void fault(const char *kind)
{
	gprintf("irq_selftest: raising %s\n", kind);
	if (!strcmp(kind, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(kind, "pf"))
		(void)*(volatile uint64_t *)phys(UNMAPPED_ADDR);
	else if (!strcmp(kind, "gp"))
		(void)rdmsr(0xdeadbeef);   /* no such MSR */
	gprintf("irq_selftest: FAILED, no exception from %s\n", kind);
}

void guest_main(const struct guest_boot *gb)
{
	char kind[8];

	irq_init();
	if (cmdline_get(gb->cmdline, "fault", kind, sizeof(kind)) > 0) {
		fault(kind);
		return;
	}
	check_handled_exception();
	check_self_ipis();
	gprintf("irq_selftest: all passed\n");
}
