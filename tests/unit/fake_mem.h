/*
 * Fake guest memory for the unit tests: the region layout of gm_layout(),
 * each region backed by a private anonymous MAP_NORESERVE mapping instead
 * of the sealed memfd (no KVM, and multi-GiB layouts cost nothing until
 * touched). Optionally prefilled with a garbage byte so a test can tell
 * what the code under test wrote from what it left alone. Plus the cmocka
 * teardown for it and boot_load() wrappers for the loader tests. Pulls in
 * what cmocka needs; every helper fails the running test on its own errors.
 */
#ifndef TESTS_UNIT_FAKE_MEM_H
#define TESTS_UNIT_FAKE_MEM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "boot.h"
#include "memory.h"

#define FAKE_GM_ALL UINT64_MAX   /* fill_len: the whole of every region */

/*
 * Set the first fill_len bytes of every region (capped at the region's
 * size) to fill_byte. fill_len 0 does nothing.
 */
static inline void
fake_gm_fill(struct guest_mem *gm, int fill_byte, uint64_t fill_len)
{
	unsigned i;

	for (i = 0; i < gm->nregions; i++)
		memset(gm->region[i].hva, fill_byte, fill_len < gm->region[i].size ?
		    fill_len : gm->region[i].size);
}

/*
 * gm_layout() for `size` bytes, then one anonymous mapping per region and
 * fake_gm_fill(gm, fill_byte, fill_len) (fill_len 0: left zero). Fails
 * the running test if the layout or a mapping fails. Undo with
 * fake_gm_destroy().
 */
static inline void
fake_gm_create(struct guest_mem *gm, uint64_t size, int fill_byte, uint64_t fill_len)
{
	unsigned i;

	assert_int_equal(gm_layout(gm, size, NULL), 0);
	for (i = 0; i < gm->nregions; i++) {
		gm->region[i].hva = mmap(NULL, gm->region[i].size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(gm->region[i].hva != MAP_FAILED);
	}
	fake_gm_fill(gm, fill_byte, fill_len);
}

/* Unmap what fake_gm_create() mapped; the regions' hva become NULL. */
static inline void
fake_gm_destroy(struct guest_mem *gm)
{
	unsigned i;

	for (i = 0; i < gm->nregions; i++) {
		munmap(gm->region[i].hva, gm->region[i].size);
		gm->region[i].hva = NULL;
	}
}

/*
 * cmocka teardown for a fixture whose setup did fake_gm_create(gm, ...)
 * and set *state = gm.
 */
static inline int
fake_gm_teardown(void **state)
{
	fake_gm_destroy(*state);
	return 0;
}

/* gm_ptr(gm, gpa, len), failing the running test when it is NULL. */
static inline void *
fake_gpa(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	assert_non_null(p);
	return p;
}

/*
 * boot_load() of kernel[0, len) with *e cleared first; bc's kernel and
 * kernel_len are set to them and stay so. Returns what boot_load() does.
 */
static inline int
fake_boot_load(struct guest_mem *gm, struct boot_config *bc, const uint8_t *kernel,
    size_t len, struct boot_entry *be, struct err *e)
{
	bc->kernel = kernel;
	bc->kernel_len = len;
	memset(e, 0, sizeof(*e));
	return boot_load(gm, bc, be, e);
}

/*
 * Check a refused load of table case `name`: rc is want_rc and e->msg
 * contains both want_msg and path (the file every message must name).
 * Prints the case first, so a failure shows which one it was.
 */
static inline void
fake_boot_check_refused(const char *name, int rc, const struct err *e, int want_rc,
    const char *want_msg, const char *path)
{
	print_message("%-24s rc=%d %s\n", name, rc, e->msg);
	assert_int_equal(rc, want_rc);
	assert_non_null(strstr(e->msg, want_msg));
	assert_non_null(strstr(e->msg, path));
}

/*
 * fake_boot_load() of an exact-size heap copy of kernel[0, len), so that a
 * read past its end is caught by ASan or valgrind; bc's kernel and
 * kernel_len are put back afterwards. Returns what boot_load() does.
 */
static inline int
fake_boot_load_copy(struct guest_mem *gm, struct boot_config *bc, const uint8_t *kernel,
    size_t len, struct boot_entry *be, struct err *e)
{
	const uint8_t *old = bc->kernel;
	size_t old_len = bc->kernel_len;
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, kernel, len);
	rc = fake_boot_load(gm, bc, copy, len, be, e);
	free(copy);
	bc->kernel = old;
	bc->kernel_len = old_len;
	return rc;
}

#endif
