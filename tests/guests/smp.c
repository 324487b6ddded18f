/*
 * smp: start every AP listed in the MP table with INIT / SIPI / SIPI and a
 * real-mode trampoline; each AP prints "smp: cpu N (apic id A) online" and
 * counts itself in. The BSP waits (bounded) and prints "smp: all N cpus
 * online" or "smp: FAILED only K of N cpus online", then resets.
 * Every CPU also checks what CPUID tells it against its LAPIC and the MP
 * table: leaf 1 and leaf 0xb APIC ids, 0xb core count, the hypervisor bit
 * and the KVM signature; a mismatch prints "smp: FAILED cpu N cpuid: ...".
 */
#include "guest.h"
#include "mptable_x86_64.h"
#include "smp.h"

#define ICR_INIT       0x00000500
#define ICR_STARTUP    0x00000600
#define ICR_ASSERT     0x00004000
#define ICR_BUSY       0x00001000
#define SVR_ENABLE     0x00000100
#define WAIT_US        20000000ull   /* give up on APs after ~20 s */

extern const char smp_trampoline_start[], smp_trampoline_end[];
extern uint64_t smp_tramp_cr3[], smp_tramp_entry[];
extern void ap_entry64(void);

static uint32_t aps_online;
static unsigned ncpus;   /* from the MP table, set before any AP starts */

/* What CPUID says about this CPU must match its LAPIC and the MP table. */
static void check_cpuid(uint32_t cpu)
{
	uint32_t apic = lapic_id(), a, b, c, d, max;

	cpuid(0, &max, &b, &c, &d);
	cpuid(1, &a, &b, &c, &d);
	if (b >> 24 != apic)
		gprintf("smp: FAILED cpu %u cpuid: leaf 1 apic id %u != lapic %u\n", cpu, b >> 24, apic);
	if (!(c & (1u << 31)))
		gprintf("smp: FAILED cpu %u cpuid: hypervisor bit clear\n", cpu);
	if (max >= 0xb) {
		cpuid_count(0xb, 0, &a, &b, &c, &d);
		if (d != apic || b != 1 || ((c >> 8) & 0xff) != 1)
			gprintf("smp: FAILED cpu %u cpuid: leaf 0xb.0 ebx %u ecx 0x%x edx %u (apic %u)\n",
			    cpu, b, c, d, apic);
		cpuid_count(0xb, 1, &a, &b, &c, &d);
		if (d != apic || b != ncpus || ((c >> 8) & 0xff) != 2)
			gprintf("smp: FAILED cpu %u cpuid: leaf 0xb.1 ebx %u ecx 0x%x edx %u "
			    "(apic %u, %u cpus)\n", cpu, b, c, d, apic, ncpus);
	}
	cpuid(0x40000000, &a, &b, &c, &d);
	if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d)   /* "KVMKVMKVM\0\0\0" */
		gprintf("smp: FAILED cpu %u cpuid: no KVM signature at 0x40000000\n", cpu);
}

void smp_ap_main(uint32_t cpu);
void smp_ap_main(uint32_t cpu)
{
	gprintf("smp: cpu %u (apic id %u) online\n", cpu, lapic_id());
	check_cpuid(cpu);
	__atomic_fetch_add(&aps_online, 1, __ATOMIC_SEQ_CST);
}

/* APIC ids of the MP table's enabled CPUs; returns how many. */
static unsigned mp_cpus(uint8_t *ids, unsigned max)
{
	uint64_t a = mp_find_mpf();
	const struct mpf_intel *f = phys(a);
	const struct mpc_table *t;
	const uint8_t *p, *end;
	unsigned n = 0;

	if (!a || !f->physptr)
		return 0;
	t = phys(f->physptr);
	p = (const uint8_t *)(t + 1);
	end = (const uint8_t *)t + t->length;
	while (p < end && *p <= MP_LINTSRC) {
		const struct mpc_cpu *c = (const void *)p;

		if (*p == MP_PROCESSOR && (c->cpuflag & MPC_CPU_ENABLED) && n < max)
			ids[n++] = c->apicid;
		p += *p == MP_PROCESSOR ? sizeof(struct mpc_cpu) : 8;
	}
	return n;
}

static void send_ipi(uint8_t apic, uint32_t lo)
{
	unsigned spins = 0;

	lapic_write(LAPIC_ICR_HI, (uint32_t)apic << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_BUSY) && ++spins < 100000)
		cpu_relax();
}

static void start_ap(uint8_t apic)
{
	uint32_t vector = SMP_TRAMPOLINE_ADDR >> 12;

	send_ipi(apic, ICR_INIT | ICR_ASSERT);
	delay_us(10000);
	send_ipi(apic, ICR_STARTUP | vector);
	delay_us(200);
	send_ipi(apic, ICR_STARTUP | vector);
}

void guest_main(const struct guest_boot *gb)
{
	uint8_t ids[SMP_MAX_APS + 1];
	unsigned n = mp_cpus(ids, sizeof(ids)), bsp = lapic_id(), online;
	size_t len = smp_trampoline_end - smp_trampoline_start;
	uint8_t *tramp = phys(SMP_TRAMPOLINE_ADDR);
	uint64_t deadline;

	(void)gb;
	if (!n) {
		gprintf("smp: FAILED no CPUs in the MP table\n");
		return;
	}
	gprintf("smp: %u cpus in the MP table, BSP apic id %u\n", n, bsp);
	ncpus = n;
	check_cpuid(0);
	memcpy(tramp, smp_trampoline_start, len);
	*(uint64_t *)(tramp + ((char *)smp_tramp_cr3 - smp_trampoline_start)) = read_cr3();
	*(uint64_t *)(tramp + ((char *)smp_tramp_entry - smp_trampoline_start)) =
	    (uint64_t)ap_entry64;
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_ENABLE | 0xff);
	for (unsigned i = 0; i < n; i++)
		if (ids[i] != bsp)
			start_ap(ids[i]);
	deadline = rdtsc() + WAIT_US * 4000;
	while ((online = __atomic_load_n(&aps_online, __ATOMIC_SEQ_CST)) + 1 < n &&
	    rdtsc() < deadline)
		cpu_relax();
	if (online + 1 == n)
		gprintf("smp: all %u cpus online\n", n);
	else
		gprintf("smp: FAILED only %u of %u cpus online\n", online + 1, n);
}
