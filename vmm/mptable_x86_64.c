/*
 * Intel MultiProcessor Specification 1.4 table at MPTABLE_ADDR (the last
 * KiB of base memory, one of the places Linux's mpparse.c scans): floating
 * pointer, then the configuration table with one processor entry per vCPU,
 * one ISA bus, the I/O APIC, ISA IRQs 0-15 routed to I/O APIC pins 0-15,
 * and ExtINT/NMI on LINT0/LINT1 of every local APIC.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "guest_layout_x86_64.h"
#include "mptable_x86_64.h"

#define MP_END          0xa0000ull   /* end of base memory */
#define MP_ISA_IRQS     16
#define MP_APIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11
#define MP_CPU_SIGNATURE 0x600       /* family 6, as Firecracker reports */
#define MP_CPU_FEATURES ((1u << 9) | (1u << 0))  /* APIC, FPU */
#define MP_BUS_ISA      0
#define MP_LINT_ALL     0xff

static size_t
mp_size(unsigned ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	    ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	    sizeof(struct mpc_ioapic) + MP_ISA_IRQS * sizeof(struct mpc_intsrc) +
	    2 * sizeof(struct mpc_lintsrc);
}

unsigned
boot_mptable_max_cpus(void)
{
	unsigned n = 0;

	while (MPTABLE_ADDR + mp_size(n + 1) <= MP_END)
		n++;
	return n;
}

/* Value that makes the bytes of [p, p+len) sum to 0 mod 256 with it. */
static uint8_t
mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

static uint8_t *
mp_put_cpus(uint8_t *p, unsigned ncpus)
{
	struct mpc_cpu c;
	unsigned i;

	for (i = 0; i < ncpus; i++) {
		memset(&c, 0, sizeof(c));
		c.type = MP_PROCESSOR;
		c.apicid = (uint8_t)i;
		c.apicver = MP_APIC_VERSION;
		c.cpuflag = MPC_CPU_ENABLED | (i == 0 ? MPC_CPU_BOOTPROCESSOR : 0);
		c.cpufeature = MP_CPU_SIGNATURE;
		c.featureflag = MP_CPU_FEATURES;
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}
	return p;
}

static uint8_t *
mp_put_bus_ioapic(uint8_t *p, unsigned ioapic_id)
{
	struct mpc_bus b = { .type = MP_BUS, .busid = MP_BUS_ISA };
	struct mpc_ioapic io = {
		.type = MP_IOAPIC, .apicid = (uint8_t)ioapic_id,
		.apicver = MP_IOAPIC_VERSION, .flags = MPC_APIC_USABLE,
		.apicaddr = (uint32_t)IOAPIC_ADDR,
	};

	memcpy(b.bustype, "ISA   ", sizeof(b.bustype));
	memcpy(p, &b, sizeof(b));
	p += sizeof(b);
	memcpy(p, &io, sizeof(io));
	return p + sizeof(io);
}

static uint8_t *
mp_put_irqs(uint8_t *p, unsigned ioapic_id)
{
	struct mpc_intsrc s;
	struct mpc_lintsrc l;
	unsigned i;

	for (i = 0; i < MP_ISA_IRQS; i++) {
		s = (struct mpc_intsrc){ .type = MP_INTSRC, .irqtype = MP_IRQTYPE_INT,
		    .irqflag = 0, .srcbus = MP_BUS_ISA, .srcbusirq = (uint8_t)i,
		    .dstapic = (uint8_t)ioapic_id, .dstirq = (uint8_t)i };
		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
	}
	l = (struct mpc_lintsrc){ .type = MP_LINTSRC, .irqtype = MP_IRQTYPE_EXTINT,
	    .srcbusid = MP_BUS_ISA, .destapic = MP_LINT_ALL, .destapiclint = 0 };
	memcpy(p, &l, sizeof(l));
	p += sizeof(l);
	l.irqtype = MP_IRQTYPE_NMI;
	l.destapiclint = 1;
	memcpy(p, &l, sizeof(l));
	return p + sizeof(l);
}

static void
mp_put_headers(uint8_t *base, size_t table_len, unsigned nentries)
{
	struct mpf_intel *mpf = (struct mpf_intel *)base;
	struct mpc_table *mpc = (struct mpc_table *)(base + sizeof(*mpf));

	memset(mpf, 0, sizeof(*mpf));
	memcpy(mpf->signature, MPF_SIGNATURE, 4);
	mpf->physptr = (uint32_t)(MPTABLE_ADDR + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = MP_SPEC_REV;
	mpf->checksum = mp_checksum(base, sizeof(*mpf));

	memset(mpc, 0, sizeof(*mpc));
	memcpy(mpc->signature, MPC_SIGNATURE, 4);
	mpc->length = (uint16_t)table_len;
	mpc->spec = MP_SPEC_REV;
	memcpy(mpc->oem, "VMMREF  ", sizeof(mpc->oem));
	memcpy(mpc->productid, "000000000000", sizeof(mpc->productid));
	mpc->oemcount = (uint16_t)nentries;   /* "entry count" of the base table */
	mpc->lapic = (uint32_t)LAPIC_ADDR;
	mpc->checksum = mp_checksum((uint8_t *)mpc, table_len);
}

int
boot_mptable(struct guest_mem *gm, unsigned ncpus, struct err *e)
{
	size_t len = mp_size(ncpus);
	uint8_t *base, *p;

	if (ncpus == 0 || ncpus > boot_mptable_max_cpus())
		return err_set(e, -E2BIG, "vcpu num=%u: the MP table holds 1 to %u CPUs",
		    ncpus, boot_mptable_max_cpus());
	base = gm_ptr(gm, MPTABLE_ADDR, len);
	if (base == NULL)
		return err_set(e, -ENOSPC, "MP table: 0x%llx+%zu is outside guest memory",
		    MPTABLE_ADDR, len);
	p = base + sizeof(struct mpf_intel) + sizeof(struct mpc_table);
	p = mp_put_cpus(p, ncpus);
	p = mp_put_bus_ioapic(p, ncpus);
	p = mp_put_irqs(p, ncpus);
	mp_put_headers(base, (size_t)(p - base) - sizeof(struct mpf_intel),
	    ncpus + 2 + MP_ISA_IRQS + 2);   /* CPUs, bus, IOAPIC, IRQs, LINTs */
	return 0;
}
