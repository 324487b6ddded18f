/*
 * boot_place_initrd(): top of low RAM, 4 KiB aligned, below
 * initrd_addr_max, above the kernel and the boot structures; refused with
 * a message naming the file when it does not fit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot_internal.h"
#include "guest_layout_x86_64.h"
#include "fake_mem.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct guest_mem gm;
static uint8_t *rd;

struct place_case {
	const char *name;
	uint64_t mem;
	uint64_t kernel_end;
	uint64_t addr_max;
	size_t len;
	int rc;
	uint64_t want;       /* expected address when rc == 0 */
};

static const struct place_case cases[] = {
	{ "top of 64M", 64 * MiB, 2 * MiB, 0x7fffffff, 5000, 0, 64 * MiB - 0x2000 },
	{ "page sized", 64 * MiB, 2 * MiB, 0x7fffffff, 0x1000, 0, 64 * MiB - 0x1000 },
	{ "one byte", 64 * MiB, 2 * MiB, 0x7fffffff, 1, 0, 64 * MiB - 0x1000 },
	{ "addr_max 32M", 64 * MiB, 2 * MiB, 32 * MiB - 1, 5000, 0, 32 * MiB - 0x2000 },
	{ "addr_max unaligned", 64 * MiB, 2 * MiB, 32 * MiB + 0x123, 0x1000, 0, 32 * MiB - 0x1000 },
	{ "addr_max fits a page", 64 * MiB, 2 * MiB, 32 * MiB + 0xfff, 0x1000, 0, 32 * MiB },
	{ "addr_max 0 -> 0x37ffffff", 2 * GiB, 2 * MiB, 0, 0x1000, 0, 0x38000000 - 0x1000 },
	{ "3G RAM, max 2G", 3 * GiB, 2 * MiB, 0x7fffffff, 0x1000, 0, 2 * GiB - 0x1000 },
	{ "3G RAM, max 4G", 3 * GiB, 2 * MiB, 0xffffffff, 0x1000, 0, 3 * GiB - 0x1000 },
	{ "5G RAM stays low", 5 * GiB, 2 * MiB, 0xffffffff, 0x1000, 0, 3 * GiB - 0x1000 },
	{ "exact fit on kernel", 64 * MiB, 64 * MiB - 0x3000, 0x7fffffff, 0x3000, 0, 64 * MiB - 0x3000 },
	{ "overlaps kernel", 64 * MiB, 63 * MiB, 0x7fffffff, 2 * MiB, -ENOSPC, 0 },
	{ "overlaps by a page", 64 * MiB, 64 * MiB - 0x2fff, 0x7fffffff, 0x3000, -ENOSPC, 0 },
	{ "bigger than RAM", 64 * MiB, 2 * MiB, 0x7fffffff, 64 * MiB, -ENOSPC, 0 },
	{ "below 1M only", 2 * MiB, 0, 0x7fffffff, MiB + 1, -ENOSPC, 0 },
	{ "max below kernel", 64 * MiB, 16 * MiB, 8 * MiB - 1, 0x1000, -ENOSPC, 0 },
	{ "empty file", 64 * MiB, 2 * MiB, 0x7fffffff, 0, -EINVAL, 0 },
};

static void
test_place_table(void **state)
{
	size_t i;

	(void)state;
	rd = malloc(64 * MiB);
	assert_non_null(rd);
	memset(rd, 0x3c, 64 * MiB);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct place_case *c = &cases[i];
		struct boot_config bc = { .initrd = rd, .initrd_len = c->len,
		    .initrd_path = "initrd.img" };
		struct boot_kernel k = { .kernel_end = c->kernel_end,
		    .initrd_addr_max = c->addr_max };
		struct err e = { "" };
		uint64_t addr = 1;
		int rc;

		fake_gm_create(&gm, c->mem, 0, 0);
		rc = boot_place_initrd(&gm, &bc, &k, &addr, &e);
		print_message("%-26s rc=%d addr=0x%llx %s\n", c->name, rc,
		    (unsigned long long)addr, e.msg);
		assert_int_equal(rc, c->rc);
		if (rc == 0) {
			assert_int_equal(addr, c->want);
			assert_int_equal(addr & 0xfff, 0);
			assert_true(addr >= c->kernel_end && addr >= HIMEM_START);
			assert_memory_equal(gm_ptr(&gm, addr, c->len), rd, c->len);
		} else {
			assert_int_equal(addr, 0);
			assert_non_null(strstr(e.msg, "initramfs initrd.img: "));
			assert_non_null(strstr(e.msg, c->len ? "bytes do not fit in guest memory" : "empty file"));
		}
		fake_gm_destroy(&gm);
	}
	free(rd);
}

static void
test_no_initrd(void **state)
{
	struct boot_config bc = { .initrd = NULL };
	struct boot_kernel k = { .kernel_end = 2 * MiB, .initrd_addr_max = 0x7fffffff };
	uint64_t addr = 1;

	(void)state;
	fake_gm_create(&gm, 4 * MiB, 0, 0);
	assert_int_equal(boot_place_initrd(&gm, &bc, &k, &addr, NULL), 0);
	assert_int_equal(addr, 0);
	fake_gm_destroy(&gm);
}

static void
test_message(void **state)
{
	static uint8_t small[0x2000];
	struct boot_config bc = { .initrd = small, .initrd_len = sizeof(small),
	    .initrd_path = "/tmp/rd.cpio" };
	struct boot_kernel k = { .kernel_end = 4 * MiB - 0x1000, .initrd_addr_max = 0x7fffffff };
	struct err e;
	uint64_t addr;

	(void)state;
	fake_gm_create(&gm, 4 * MiB, 0, 0);
	assert_int_equal(boot_place_initrd(&gm, &bc, &k, &addr, &e), -ENOSPC);
	assert_string_equal(e.msg, "initramfs /tmp/rd.cpio: 8192 bytes do not fit in guest memory between 0x3ff000 (end of kernel) and 0x400000 (end of low RAM or initrd_addr_max)");
	fake_gm_destroy(&gm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place_table),
		cmocka_unit_test(test_no_initrd),
		cmocka_unit_test(test_message),
	};

	return cmocka_run_group_tests_name("initrd", tests, NULL, NULL);
}
