/*
 * boot_mptable(): the MP floating pointer and configuration table, checked
 * the way Linux's arch/x86/kernel/mpparse.c reads them (signature, length,
 * spec 1 or 4, byte sums 0, entry walk by type) for 1, 2, 4 and the
 * maximum number of CPUs, and refused beyond it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "boot.h"
#include "guest_layout_x86_64.h"
#include "mptable_x86_64.h"
#include "fake_mem.h"

#define MEM_SIZE (2ull << 20)

static struct guest_mem gm;

static int
setup(void **state)
{
	fake_gm_create(&gm, MEM_SIZE, 0xa5, FAKE_GM_ALL);   /* garbage a checker would trip on */
	*state = &gm;
	return 0;
}

static uint8_t
sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

struct mp_seen {
	unsigned cpus, bsp, buses, ioapics, intsrcs, lintsrcs;
};

static void
check_cpu(const struct mpc_cpu *c, unsigned idx, struct mp_seen *s)
{
	assert_int_equal(c->apicid, idx);
	assert_int_equal(c->apicver, 0x14);
	assert_true(c->cpuflag & MPC_CPU_ENABLED);
	if (c->cpuflag & MPC_CPU_BOOTPROCESSOR) {
		assert_int_equal(idx, 0);
		s->bsp++;
	}
	assert_int_equal(c->cpufeature, 0x600);
	assert_int_equal(c->featureflag, (1u << 9) | 1u);
}

/* Walk entries as mpparse.c smp_read_mpc() does; fail on unknown types. */
static void
walk(const struct mpc_table *mpc, unsigned ncpus, struct mp_seen *s)
{
	const uint8_t *p = (const uint8_t *)(mpc + 1);
	size_t count = sizeof(*mpc);

	memset(s, 0, sizeof(*s));
	while (count < mpc->length) {
		switch (*p) {
		case MP_PROCESSOR:
			check_cpu((const struct mpc_cpu *)p, s->cpus++, s);
			p += sizeof(struct mpc_cpu), count += sizeof(struct mpc_cpu);
			break;
		case MP_BUS:
			assert_memory_equal(((const struct mpc_bus *)p)->bustype, "ISA   ", 6);
			s->buses++;
			p += 8, count += 8;
			break;
		case MP_IOAPIC: {
			const struct mpc_ioapic *io = (const void *)p;

			assert_int_equal(io->apicid, ncpus);
			assert_int_equal(io->apicver, 0x11);
			assert_int_equal(io->flags, MPC_APIC_USABLE);
			assert_int_equal(io->apicaddr, IOAPIC_ADDR);
			s->ioapics++;
			p += 8, count += 8;
			break;
		}
		case MP_INTSRC: {
			const struct mpc_intsrc *i = (const void *)p;

			assert_int_equal(i->irqtype, MP_IRQTYPE_INT);
			assert_int_equal(i->srcbus, 0);
			assert_int_equal(i->srcbusirq, s->intsrcs);
			assert_int_equal(i->dstirq, s->intsrcs);
			assert_int_equal(i->dstapic, ncpus);
			s->intsrcs++;
			p += 8, count += 8;
			break;
		}
		case MP_LINTSRC: {
			const struct mpc_lintsrc *l = (const void *)p;

			assert_int_equal(l->irqtype, s->lintsrcs == 0 ? MP_IRQTYPE_EXTINT : MP_IRQTYPE_NMI);
			assert_int_equal(l->destapic, 0xff);
			assert_int_equal(l->destapiclint, s->lintsrcs);
			s->lintsrcs++;
			p += 8, count += 8;
			break;
		}
		default:
			fail_msg("unknown MP entry type %u at offset %zu", *p, count);
		}
	}
	assert_int_equal(count, mpc->length);
	assert_int_equal(mpc->oemcount, s->cpus + s->buses + s->ioapics +
	    s->intsrcs + s->lintsrcs);     /* MP spec: base table entry count */
}

static void
check_table(unsigned ncpus)
{
	const struct mpf_intel *mpf;
	const struct mpc_table *mpc;
	struct mp_seen s;

	mpf = fake_gpa(&gm, MPTABLE_ADDR, sizeof(*mpf));
	assert_memory_equal(mpf->signature, "_MP_", 4);
	assert_int_equal(mpf->length, 1);
	assert_int_equal(mpf->specification, 4);
	assert_int_equal(sum((const uint8_t *)mpf, 16), 0);
	assert_int_equal(mpf->feature1, 0);    /* 0: a table follows, no default config */
	assert_int_equal(mpf->physptr, MPTABLE_ADDR + 16);
	mpc = fake_gpa(&gm, mpf->physptr, sizeof(*mpc));
	assert_memory_equal(mpc->signature, "PCMP", 4);
	assert_int_equal(mpc->spec, 4);
	assert_int_equal(mpc->lapic, LAPIC_ADDR);
	assert_memory_equal(mpc->oem, "VMMREF  ", 8);
	assert_true(mpf->physptr + mpc->length <= 0xa0000);
	assert_non_null(gm_ptr(&gm, mpf->physptr, mpc->length));
	assert_int_equal(sum((const uint8_t *)mpc, mpc->length), 0);
	walk(mpc, ncpus, &s);
	assert_int_equal(s.cpus, ncpus);
	assert_int_equal(s.bsp, 1);
	assert_int_equal(s.buses, 1);
	assert_int_equal(s.ioapics, 1);
	assert_int_equal(s.intsrcs, 16);
	assert_int_equal(s.lintsrcs, 2);
}

static void
test_counts(void **state)
{
	unsigned counts[] = { 1, 2, 4, 0 }, i;
	struct err e;

	(void)state;
	counts[3] = boot_mptable_max_cpus();
	print_message("max CPUs in the MP table: %u\n", counts[3]);
	assert_true(counts[3] >= 32);
	for (i = 0; i < 4; i++) {
		fake_gm_fill(&gm, 0xa5, FAKE_GM_ALL);
		assert_int_equal(boot_mptable(&gm, counts[i], &e), 0);
		check_table(counts[i]);
	}
}

static void
test_max_is_tight(void **state)
{
	unsigned max = boot_mptable_max_cpus();
	size_t len = 16 + 44 + 8 + 8 + 16 * 8 + 2 * 8;

	(void)state;
	assert_true(MPTABLE_ADDR + len + max * 20 <= 0xa0000);
	assert_true(MPTABLE_ADDR + len + (max + 1) * 20 > 0xa0000);
}

static void
test_too_many_and_zero(void **state)
{
	struct err e;
	char want[128];
	unsigned max = boot_mptable_max_cpus();

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(boot_mptable(&gm, max + 1, &e), -E2BIG);
	snprintf(want, sizeof(want), "vcpu num=%u: the MP table holds 1 to %u CPUs", max + 1, max);
	assert_string_equal(e.msg, want);
	assert_int_equal(boot_mptable(&gm, 255, &e), -E2BIG);
	assert_int_equal(boot_mptable(&gm, 0, &e), -E2BIG);
}

static void
test_no_memory(void **state)
{
	struct guest_mem none;
	struct err e;

	(void)state;
	assert_int_equal(gm_layout(&none, MEM_SIZE, NULL), 0);   /* hva NULL */
	assert_int_equal(boot_mptable(&none, 1, &e), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_max_is_tight, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_too_many_and_zero, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_no_memory, setup, fake_gm_teardown),
	};

	return cmocka_run_group_tests_name("mptable", tests, NULL, NULL);
}
