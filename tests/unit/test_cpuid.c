/* cmocka: per-vCPU CPUID normalisation (vmm/cpuid_x86_64.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpuid.h"

#define CAP 32
#define SIG 0x1u   /* KVM_CPUID_FLAG_SIGNIFCANT_INDEX */

static struct kvm_cpuid2 *
make(int amd, uint32_t max_basic)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CAP * sizeof(c->entries[0]));
	struct kvm_cpuid_entry2 *e = c->entries;

	assert_non_null(c);
	e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = max_basic,
	    .ebx = amd ? 0x68747541 : 0x756e6547 };
	/* host-ish leaf 1: APIC id 7, 64 logical, HTT */
	e[1] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = (7u << 24) | (64u << 16) | 0x0800,
	    .edx = 1u << 28 };
	/* leaf 4: L1d, L1i, L2, L3 with host counts (32 cores, 2 threads) */
	e[2] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0, .flags = SIG,
	    .eax = (31u << 26) | (1u << 14) | (1 << 5) | 1 };
	e[3] = (struct kvm_cpuid_entry2){ .function = 4, .index = 1, .flags = SIG,
	    .eax = (31u << 26) | (1u << 14) | (1 << 5) | 2 };
	e[4] = (struct kvm_cpuid_entry2){ .function = 4, .index = 2, .flags = SIG,
	    .eax = (31u << 26) | (1u << 14) | (2 << 5) | 3 };
	e[5] = (struct kvm_cpuid_entry2){ .function = 4, .index = 3, .flags = SIG,
	    .eax = (31u << 26) | (63u << 14) | (3 << 5) | 3 };
	e[6] = (struct kvm_cpuid_entry2){ .function = 4, .index = 4, .flags = SIG };
	/* what KVM returns for 0xb/0x1f: only subleaf 0, zeroed */
	e[7] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0, .flags = SIG };
	e[8] = (struct kvm_cpuid_entry2){ .function = 0x1f, .index = 0, .flags = SIG };
	e[9] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001,
	    .ebx = 0x4b4d564b };
	e[10] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0x7001 };
	e[11] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .eax = 3, .ebx = 0x101,
	    .ecx = 0x300 };
	c->nent = 12;
	return c;
}

static void
check_topology_leaf(struct kvm_cpuid2 *c, uint32_t fn, unsigned id, unsigned ncpus,
    unsigned order)
{
	struct kvm_cpuid_entry2 *s0 = cpuid_find(c, fn, 0);
	struct kvm_cpuid_entry2 *s1 = cpuid_find(c, fn, 1);
	struct kvm_cpuid_entry2 *s2 = cpuid_find(c, fn, 2);

	assert_non_null(s0);
	assert_non_null(s1);
	assert_non_null(s2);
	/* SMT level: shift 0, 1 thread, type 1 level 0 */
	assert_int_equal(s0->eax, 0);
	assert_int_equal(s0->ebx, 1);
	assert_int_equal(s0->ecx, 0x100);
	/* core level: shift order(ncpus), ncpus logical, type 2 level 1 */
	assert_int_equal(s1->eax, order);
	assert_int_equal(s1->ebx, ncpus);
	assert_int_equal(s1->ecx, 0x201);
	assert_int_equal(s2->ebx, 0);
	assert_int_equal(s2->ecx & 0xff00, 0);   /* invalid level ends the list */
	assert_int_equal(s0->edx, id);
	assert_int_equal(s1->edx, id);
	assert_int_equal(s2->edx, id);
}

static void
test_intel_table(void **state)
{
	static const struct { unsigned id, ncpus, order; } t[] = {
		{ 0, 1, 0 }, { 0, 2, 1 }, { 1, 2, 1 }, { 2, 3, 2 }, { 3, 4, 2 }, { 39, 40, 6 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct kvm_cpuid2 *c = make(0, 0x1f);
		struct kvm_cpuid_entry2 *e;

		assert_int_equal(cpuid_normalize(c, CAP, t[i].id, t[i].ncpus), 0);
		e = cpuid_find(c, 1, 0);
		assert_int_equal(e->ebx >> 24, t[i].id);
		assert_int_equal((e->ebx >> 16) & 0xff, t[i].ncpus);
		assert_int_equal(e->ebx & 0xffff, 0x0800);        /* clflush size kept */
		assert_true(e->ecx & (1u << 31));                 /* hypervisor */
		assert_int_equal(!!(e->edx & (1u << 28)), t[i].ncpus > 1);
		check_topology_leaf(c, 0xb, t[i].id, t[i].ncpus, t[i].order);
		check_topology_leaf(c, 0x1f, t[i].id, t[i].ncpus, t[i].order);
		/* leaf 4: cores-1 = 2^order - 1; L1/L2 private, L3 shared by all */
		e = cpuid_find(c, 4, 0);
		assert_int_equal(e->eax >> 26, (1u << t[i].order) - 1);
		assert_int_equal((e->eax >> 14) & 0xfff, 0);
		assert_int_equal(e->eax & 0x3ff, (1 << 5) | 1);
		e = cpuid_find(c, 4, 3);
		assert_int_equal((e->eax >> 14) & 0xfff, t[i].ncpus - 1);
		assert_int_equal(cpuid_find(c, 4, 4)->eax, 0);  /* null leaf untouched */
		/* the KVM leaves survive; AMD leaves untouched on Intel */
		assert_int_equal(cpuid_find(c, 0x40000000, 0)->ebx, 0x4b4d564b);
		assert_int_equal(cpuid_find(c, 0x8000001e, 0)->ebx, 0x101);
		free(c);
	}
}

static void
test_amd(void **state)
{
	struct kvm_cpuid2 *c = make(1, 0x10);
	struct kvm_cpuid_entry2 *e;

	(void)state;
	assert_int_equal(cpuid_normalize(c, CAP, 2, 4), 0);
	e = cpuid_find(c, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 3);                /* NC = ncpus - 1 */
	assert_int_equal((e->ecx >> 12) & 0xf, 2);         /* ApicIdCoreIdSize */
	e = cpuid_find(c, 0x8000001e, 0);
	assert_int_equal(e->eax, 2);
	assert_int_equal(e->ebx, 2);                       /* core 2, 1 thread */
	assert_int_equal(e->ecx, 0);
	check_topology_leaf(c, 0xb, 2, 4, 2);
	assert_null(cpuid_find(c, 0x1f, 0));               /* above the max basic leaf */
	free(c);
}

static void
test_no_room(void **state)
{
	struct kvm_cpuid2 *c = make(0, 0x1f);

	(void)state;
	assert_int_equal(cpuid_normalize(c, c->nent + 2, 0, 2), -E2BIG);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intel_table),
		cmocka_unit_test(test_amd),
		cmocka_unit_test(test_no_room),
	};

	return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
