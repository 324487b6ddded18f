/* cmocka: guest RAM layout and THE guest-address translator (vmm/memory.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "guest_layout_x86_64.h"
#include "memory.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static void
test_layout_table(void **state)
{
	static const struct {
		uint64_t size;
		int rc;
		unsigned nregions;
		uint64_t r0_size, r1_gpa, r1_size;
	} t[] = {
		{ 0, -EINVAL, 0, 0, 0, 0 },
		{ 4095, -EINVAL, 0, 0, 0, 0 },
		{ 128 * MiB, 0, 1, 128 * MiB, 0, 0 },
		{ 1 * GiB, 0, 1, 1 * GiB, 0, 0 },
		{ 3 * GiB, 0, 1, 3 * GiB, 0, 0 },
		{ 3 * GiB + 4096, 0, 2, 3 * GiB, 4 * GiB, 4096 },
		{ 5 * GiB, 0, 2, 3 * GiB, 4 * GiB, 2 * GiB },
		{ ~0ull & ~0xfffull, -EINVAL, 0, 0, 0, 0 },  /* end overflows */
	};
	struct guest_mem gm;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = gm_layout(&gm, t[i].size, &e);

		assert_int_equal(rc, t[i].rc);
		if (rc < 0)
			continue;
		assert_int_equal(gm.nregions, t[i].nregions);
		assert_int_equal(gm.region[0].gpa, 0);
		assert_int_equal(gm.region[0].size, t[i].r0_size);
		assert_int_equal(gm_low_end(&gm), t[i].r0_size);
		if (t[i].nregions == 2) {
			assert_int_equal(gm.region[1].gpa, t[i].r1_gpa);
			assert_int_equal(gm.region[1].size, t[i].r1_size);
			assert_int_equal(gm.region[1].fd_offset, MMIO_HOLE_START);
		}
	}
}

/* A fake 2-region guest: 8 KiB "low" at 0 and 4 KiB "high" at 4 GiB. */
static void
fake_mem(struct guest_mem *gm, uint8_t *buf)
{
	*gm = (struct guest_mem){ .fd = -1, .size = 12288, .nregions = 2 };
	gm->region[0] = (struct gm_region){ .gpa = 0, .size = 8192, .hva = buf };
	gm->region[1] = (struct gm_region){ .gpa = 4 * GiB, .size = 4096, .hva = buf + 8192 };
}

static void
test_translator_table(void **state)
{
	static uint8_t buf[12288];
	static const struct {
		uint64_t gpa, len;
		long off;   /* expected offset into buf, -1 = NULL */
	} t[] = {
		{ 0, 1, 0 },
		{ 0, 0, 0 },                 /* len 0 treated as 1 */
		{ 8191, 1, 8191 },
		{ 8191, 2, -1 },             /* crosses the region end */
		{ 8192, 1, -1 },             /* in the gap */
		{ 0, 8192, 0 },
		{ 0, 8193, -1 },
		{ 4 * GiB, 4096, 8192 },
		{ 4 * GiB + 4095, 1, 8192 + 4095 },
		{ 4 * GiB + 4096, 1, -1 },
		{ 4 * GiB - 1, 2, -1 },      /* straddles hole and high region */
		{ ~0ull, 1, -1 },
		{ ~0ull - 10, 100, -1 },     /* gpa + len overflows 2^64 */
		{ 16, ~0ull, -1 },
		{ 3 * GiB, 1, -1 },          /* MMIO hole */
	};
	struct guest_mem gm;
	size_t i;

	(void)state;
	fake_mem(&gm, buf);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *p = gm_ptr(&gm, t[i].gpa, t[i].len);

		if (t[i].off < 0)
			assert_null(p);
		else
			assert_ptr_equal(p, buf + t[i].off);
	}
}

static void
test_create_seals(void **state)
{
	struct guest_mem gm;
	struct err e;
	int seals;

	(void)state;
	assert_int_equal(gm_create(&gm, 16 * MiB, &e), 0);
	assert_true(gm.fd >= 0);
	seals = fcntl(gm.fd, F_GET_SEALS);
	assert_int_equal(seals & (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
	    F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	assert_int_not_equal(ftruncate(gm.fd, 32 * MiB), 0);     /* cannot grow */
	assert_int_not_equal(ftruncate(gm.fd, 8 * MiB), 0);      /* cannot shrink */
	*(uint32_t *)gm_ptr(&gm, 16 * MiB - 4, 4) = 0xdeadbeef;  /* mapped, writable */
	assert_int_equal(*(uint32_t *)(gm.base + 16 * MiB - 4), 0xdeadbeef);
	assert_null(gm_ptr(&gm, 16 * MiB - 4, 5));
	gm_destroy(&gm);
	assert_int_equal(gm.fd, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_table),
		cmocka_unit_test(test_translator_table),
		cmocka_unit_test(test_create_seals),
	};

	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
