/*
 * boot_e820(): the memory map for guest sizes below, at and above the
 * 32-bit MMIO hole, entry by entry. Only the layout is needed (no RAM).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "boot.h"
#include "guest_layout_x86_64.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

struct e820_case {
	uint64_t mem;
	int n;
	struct e820_entry want[4];
};

static const struct e820_case cases[] = {
	{ 128 * MiB, 3, {
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0x9fc00, 0x400, E820_TYPE_RESERVED },
		{ 0x100000, 127 * MiB, E820_TYPE_RAM } } },
	{ 1 * GiB, 3, {
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0x9fc00, 0x400, E820_TYPE_RESERVED },
		{ 0x100000, GiB - MiB, E820_TYPE_RAM } } },
	{ 3 * GiB, 3, {        /* exactly up to the hole: no second region */
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0x9fc00, 0x400, E820_TYPE_RESERVED },
		{ 0x100000, 3 * GiB - MiB, E820_TYPE_RAM } } },
	{ 3 * GiB + 4096, 4, { /* one page above the hole */
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0x9fc00, 0x400, E820_TYPE_RESERVED },
		{ 0x100000, 3 * GiB - MiB, E820_TYPE_RAM },
		{ 4 * GiB, 4096, E820_TYPE_RAM } } },
	{ 5 * GiB, 4, {
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0x9fc00, 0x400, E820_TYPE_RESERVED },
		{ 0x100000, 3 * GiB - MiB, E820_TYPE_RAM },
		{ 4 * GiB, 2 * GiB, E820_TYPE_RAM } } },
	{ 2 * MiB, 3, {
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0x9fc00, 0x400, E820_TYPE_RESERVED },
		{ 0x100000, MiB, E820_TYPE_RAM } } },
};

static void
test_e820_table(void **state)
{
	struct e820_entry out[8];
	struct guest_mem gm;
	size_t i;
	int j, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct e820_case *c = &cases[i];

		assert_int_equal(gm_layout(&gm, c->mem, NULL), 0);
		memset(out, 0xee, sizeof(out));
		n = boot_e820(&gm, out, 8);
		print_message("mem 0x%llx: %d entries\n", (unsigned long long)c->mem, n);
		assert_int_equal(n, c->n);
		for (j = 0; j < n; j++) {
			assert_int_equal(out[j].addr, c->want[j].addr);
			assert_int_equal(out[j].size, c->want[j].size);
			assert_int_equal(out[j].type, c->want[j].type);
		}
		assert_int_equal(out[n].type, 0xeeeeeeee);   /* nothing past n */
	}
}

static void
test_e820_no_overlap_sorted(void **state)
{
	static const uint64_t sizes[] = { 2 * MiB, 256 * MiB, 3 * GiB, 5 * GiB, 64 * GiB };
	struct e820_entry out[8];
	struct guest_mem gm;
	uint64_t ram;
	size_t i;
	int j, n;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(gm_layout(&gm, sizes[i], NULL), 0);
		n = boot_e820(&gm, out, 8);
		assert_true(n > 0);
		ram = 0;
		for (j = 0; j < n; j++) {
			if (j > 0)
				assert_true(out[j].addr >= out[j - 1].addr + out[j - 1].size);
			if (out[j].type == E820_TYPE_RAM)
				ram += out[j].size;
			assert_true(out[j].addr + out[j].size <= MMIO_HOLE_START ||
			    out[j].addr >= MMIO_HOLE_END);
		}
		/* all RAM but the reserved EBDA KiB and the 0xa0000-1M hole */
		assert_int_equal(ram, sizes[i] - 0x400 - (HIMEM_START - 0xa0000));
	}
}

static void
test_e820_errors(void **state)
{
	struct e820_entry out[4];
	struct guest_mem gm;

	(void)state;
	assert_int_equal(gm_layout(&gm, 5 * GiB, NULL), 0);
	assert_int_equal(boot_e820(&gm, out, 3), -ENOSPC);
	assert_int_equal(boot_e820(&gm, out, 0), -ENOSPC);
	assert_int_equal(boot_e820(&gm, out, 4), 4);
	assert_int_equal(gm_layout(&gm, MiB, NULL), 0);   /* no room above 1 MiB */
	assert_int_equal(boot_e820(&gm, out, 4), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_table),
		cmocka_unit_test(test_e820_no_overlap_sorted),
		cmocka_unit_test(test_e820_errors),
	};

	return cmocka_run_group_tests_name("e820", tests, NULL, NULL);
}
