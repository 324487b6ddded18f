/*
 * boot_gdt_pagetables() and boot_vcpu_regs(): the boot GDT and IDT, the
 * identity map walked through PML4 -> PDPT -> PD like the MMU would, and
 * the register state of each boot kind (segments must match the GDT).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "boot.h"
#include "guest_layout_x86_64.h"
#include "fake_mem.h"

#define MEM_SIZE (2ull << 20)
#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define ADDR_MASK 0x000ffffffffff000ull

static struct guest_mem gm;

static int
setup(void **state)
{
	fake_gm_create(&gm, MEM_SIZE, 0xff, FAKE_GM_ALL);   /* every stale entry would look present */
	*state = &gm;
	return 0;
}

static uint64_t
entry(uint64_t table, unsigned idx)
{
	uint64_t *t = fake_gpa(&gm, table & ADDR_MASK, 4096);

	return t[idx];
}

/* 4-level walk; returns 1 and *pa when mapped (2 MiB pages only). */
static int
walk(uint64_t va, uint64_t *pa)
{
	uint64_t e;

	e = entry(BOOT_PML4_ADDR, (va >> 39) & 511);
	if (!(e & PTE_P))
		return 0;
	assert_true(e & PTE_RW);
	e = entry(e, (va >> 30) & 511);
	if (!(e & PTE_P))
		return 0;
	assert_false(e & PTE_PS);        /* no 1 GiB pages */
	e = entry(e, (va >> 21) & 511);
	if (!(e & PTE_P))
		return 0;
	assert_true(e & PTE_PS);
	assert_true(e & PTE_RW);
	*pa = (e & 0x000fffffffe00000ull) | (va & 0x1fffff);
	return 1;
}

static void
test_identity_map(void **state)
{
	static const uint64_t vas[] = {
		0, 0x1000, 0x7000, 0x9000, 0x1fffff, 0x200000, 0x1000000, 0x1234567,
		0x3fffffff, 0x40000000, 0x7fffffff, 0xbfffffff, 0xc0000000,
		0xd0000000, 0xfec00000, 0xfee00000, 0xfee000f0, 0xffffffff,
	};
	uint64_t pa;
	size_t i;
	struct err e;

	(void)state;
	assert_int_equal(boot_gdt_pagetables(&gm, &e), 0);
	for (i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
		assert_true(walk(vas[i], &pa));
		assert_int_equal(pa, vas[i]);
	}
	assert_false(walk(0x100000000ull, &pa));      /* 4 GiB: not mapped */
	assert_false(walk(0x8000000000ull, &pa));     /* PML4[1] */
	assert_false(walk(0xffffffff80000000ull, &pa));
}

static void
test_gdt_idt(void **state)
{
	uint64_t *gdt, *idt;
	struct err e;

	(void)state;
	assert_int_equal(boot_gdt_pagetables(&gm, &e), 0);
	gdt = gm_ptr(&gm, BOOT_GDT_ADDR, 8 * BOOT_GDT_ENTRIES);
	idt = gm_ptr(&gm, BOOT_IDT_ADDR, 8);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[BOOT_SEL_CODE32 / 8], BOOT_GDT_CODE32);
	assert_int_equal(gdt[BOOT_SEL_CODE64 / 8], BOOT_GDT_CODE64);
	assert_int_equal(gdt[BOOT_SEL_DATA / 8], BOOT_GDT_DATA);
	assert_int_equal(gdt[BOOT_SEL_TSS / 8], BOOT_GDT_TSS);
	assert_int_equal(*idt, 0);   /* limit-0 IDT, GDT intact above */
}

static void
test_no_memory(void **state)
{
	struct guest_mem none;
	struct err e;

	(void)state;
	assert_int_equal(gm_layout(&none, MEM_SIZE, NULL), 0);
	assert_int_equal(boot_gdt_pagetables(&none, &e), -ENOSPC);
}

static void
check_flat(const struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	assert_int_equal(s->selector, sel);
	assert_int_equal(s->base, 0);
	assert_int_equal(s->limit, 0xffffffff);
	assert_int_equal(s->g, 1);
	assert_int_equal(s->present, 1);
	assert_int_equal(s->s, 1);
	assert_int_equal(s->dpl, 0);
	assert_int_equal(s->type, type);
	assert_int_equal(s->unusable, 0);
}

static void
test_segment_decode(void **state)
{
	struct kvm_segment s;

	(void)state;
	boot_gdt_to_kvm_segment(BOOT_GDT_CODE64, BOOT_SEL_CODE64, &s);
	check_flat(&s, BOOT_SEL_CODE64, 0xb);
	assert_int_equal(s.l, 1);
	assert_int_equal(s.db, 0);
	boot_gdt_to_kvm_segment(BOOT_GDT_CODE32, BOOT_SEL_CODE32, &s);
	check_flat(&s, BOOT_SEL_CODE32, 0xb);
	assert_int_equal(s.l, 0);
	assert_int_equal(s.db, 1);
	boot_gdt_to_kvm_segment(BOOT_GDT_DATA, BOOT_SEL_DATA, &s);
	check_flat(&s, BOOT_SEL_DATA, 0x3);
	assert_int_equal(s.db, 1);
	boot_gdt_to_kvm_segment(BOOT_GDT_TSS, BOOT_SEL_TSS, &s);
	assert_int_equal(s.type, 0xb);
	assert_int_equal(s.s, 0);
	assert_int_equal(s.present, 1);
	assert_int_equal(s.limit, 0x67);
	assert_int_equal(s.g, 0);
	boot_gdt_to_kvm_segment(0, 0, &s);
	assert_int_equal(s.unusable, 1);
	/* a base and a byte-granular limit decode too */
	boot_gdt_to_kvm_segment(0x0040920a1234ffffull, 0x28, &s);
	assert_int_equal(s.base, 0x0a1234);
	assert_int_equal(s.limit, 0xffff);
	assert_int_equal(s.type, 0x2);
	assert_int_equal(s.db, 1);
}

static void
check_common(const struct kvm_sregs *sr, const struct kvm_regs *r,
    const struct boot_entry *be)
{
	assert_int_equal(r->rip, be->rip);
	assert_int_equal(r->rsp, BOOT_STACK_ADDR);
	assert_int_equal(r->rflags, 2);
	assert_int_equal(r->rax, 0);
	assert_int_equal(sr->gdt.base, BOOT_GDT_ADDR);
	assert_int_equal(sr->gdt.limit, 5 * 8 - 1);
	assert_int_equal(sr->idt.base, BOOT_IDT_ADDR);
	assert_int_equal(sr->idt.limit, 0);
	check_flat(&sr->ds, BOOT_SEL_DATA, 3);
	check_flat(&sr->es, BOOT_SEL_DATA, 3);
	check_flat(&sr->fs, BOOT_SEL_DATA, 3);
	check_flat(&sr->gs, BOOT_SEL_DATA, 3);
	check_flat(&sr->ss, BOOT_SEL_DATA, 3);
	assert_int_equal(sr->tr.selector, BOOT_SEL_TSS);
	assert_int_equal(sr->tr.type, 0xb);
	assert_int_equal(sr->tr.present, 1);
	assert_int_equal(sr->tr.limit, 0x67);
	assert_int_equal(sr->ldt.unusable, 1);
	assert_int_equal(sr->apic_base, 0xfee00900);    /* untouched */
}

static void
regs_for(enum boot_kind kind, struct kvm_sregs *sr, struct kvm_regs *r,
    struct boot_entry *be)
{
	*be = (struct boot_entry){ .kind = kind, .rip = 0x1000200,
	    .rsp = BOOT_STACK_ADDR };
	if (kind == BOOT_KIND_PVH)
		be->rbx = PVH_INFO_ADDR;
	else
		be->rsi = ZERO_PAGE_ADDR;
	memset(sr, 0x5a, sizeof(*sr));
	memset(r, 0x5a, sizeof(*r));
	sr->apic_base = 0xfee00900;
	boot_vcpu_regs(be, sr, r);
	check_common(sr, r, be);
}

static void
test_regs_long_mode(void **state)
{
	static const enum boot_kind kinds[] = { BOOT_KIND_ELF64, BOOT_KIND_BZIMAGE };
	struct kvm_sregs sr;
	struct kvm_regs r;
	struct boot_entry be;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		regs_for(kinds[i], &sr, &r, &be);
		check_flat(&sr.cs, BOOT_SEL_CODE64, 0xb);
		assert_int_equal(sr.cs.l, 1);
		assert_int_equal(sr.cs.db, 0);
		assert_int_equal(sr.cr0, 0x80050033);
		assert_int_equal(sr.cr4, 0x20);
		assert_int_equal(sr.efer, 0x500);
		assert_int_equal(sr.cr3, BOOT_PML4_ADDR);
		assert_int_equal(r.rsi, ZERO_PAGE_ADDR);
		assert_int_equal(r.rbx, 0);
	}
}

static void
test_regs_pvh(void **state)
{
	struct kvm_sregs sr;
	struct kvm_regs r;
	struct boot_entry be;

	(void)state;
	regs_for(BOOT_KIND_PVH, &sr, &r, &be);
	check_flat(&sr.cs, BOOT_SEL_CODE32, 0xb);
	assert_int_equal(sr.cs.l, 0);
	assert_int_equal(sr.cs.db, 1);
	assert_int_equal(sr.cr0, 0x11);
	assert_int_equal(sr.cr4, 0);
	assert_int_equal(sr.efer, 0);
	assert_int_equal(r.rbx, PVH_INFO_ADDR);
	assert_int_equal(r.rsi, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_map, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_gdt_idt, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_no_memory, setup, fake_gm_teardown),
		cmocka_unit_test(test_segment_decode),
		cmocka_unit_test(test_regs_long_mode),
		cmocka_unit_test(test_regs_pvh),
	};

	return cmocka_run_group_tests_name("pagetables", tests, NULL, NULL);
}
