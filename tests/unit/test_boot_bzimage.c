/*
 * bzImage loading through boot_load(): a synthetic image (setup sectors +
 * a small "protected-mode kernel") with a 2.15 setup header, then
 * table-driven header corruptions and every truncation length.
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

#define MEM_SIZE     (64ull << 20)
#define SETUP_SECTS  4
#define PM_OFF       ((SETUP_SECTS + 1) * 512)
#define PM_LEN       0x1000
#define IMG_LEN      (PM_OFF + PM_LEN)
#define INIT_SIZE    0x800000u
#define PREF_ADDR    0x1000000ull

static uint8_t img[IMG_LEN];
static size_t img_len;
static struct guest_mem gm;
static struct boot_config bc;
static struct boot_entry be;
static struct err err;

static struct setup_header *hdr(void) { return (struct setup_header *)(img + 0x1f1); }

static void
build_bzimage(void)
{
	unsigned i;

	memset(img, 0, sizeof(img));
	for (i = 0; i < PM_OFF; i++)
		img[i] = 0x90;               /* setup code we never run */
	memset(img + 0x1f1, 0, sizeof(struct setup_header));
	hdr()->setup_sects = SETUP_SECTS;
	hdr()->syssize = PM_LEN / 16;
	hdr()->boot_flag = 0xAA55;
	img[0x200] = 0xeb;                   /* jmp over the header */
	img[0x201] = 0x26c - 0x202;
	hdr()->header = 0x53726448;
	hdr()->version = 0x020f;
	hdr()->loadflags = BP_LOADED_HIGH;
	hdr()->code32_start = 0x100000;
	hdr()->initrd_addr_max = 0x7fffffff;
	hdr()->kernel_alignment = 0x200000;
	hdr()->relocatable_kernel = 1;
	hdr()->min_alignment = 21;
	hdr()->xloadflags = BP_XLF_KERNEL_64 | BP_XLF_CAN_BE_LOADED_ABOVE_4G;
	hdr()->cmdline_size = 2047;
	hdr()->pref_address = PREF_ADDR;
	hdr()->init_size = INIT_SIZE;
	hdr()->kernel_info_offset = 0x1234;
	for (i = 0; i < PM_LEN; i++)
		img[PM_OFF + i] = (uint8_t)(i * 13 + 5);
	img_len = IMG_LEN;
}

static int
setup(void **state)
{
	fake_gm_create(&gm, MEM_SIZE, 0xcc, 0x100000);
	build_bzimage();
	bc = (struct boot_config){ .kernel = img, .kernel_path = "bzImage",
	    .cmdline = "console=ttyS0 panic=1", .load_addr = HIMEM_START, .ncpus = 2 };
	*state = &gm;
	return 0;
}

static int
load(void)
{
	return fake_boot_load(&gm, &bc, img, img_len, &be, &err);
}

static void
test_good(void **state)
{
	struct boot_params *bp;

	(void)state;
	assert_int_equal(load(), 0);
	assert_int_equal(be.kind, BOOT_KIND_BZIMAGE);
	assert_int_equal(be.rip, 0x100200);
	assert_int_equal(be.rsi, ZERO_PAGE_ADDR);
	assert_int_equal(be.rbx, 0);
	/* runtime start = max(align_up(1 MiB, 2 MiB), pref_address) */
	assert_int_equal(be.kernel_end, PREF_ADDR + INIT_SIZE);
	assert_memory_equal(fake_gpa(&gm, HIMEM_START, PM_LEN), img + PM_OFF, PM_LEN);
	bp = fake_gpa(&gm, ZERO_PAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.setup_sects, SETUP_SECTS);
	assert_int_equal(bp->hdr.boot_flag, 0xAA55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	assert_int_equal(bp->hdr.code32_start, HIMEM_START);
	assert_int_equal(bp->hdr.loadflags, BP_LOADED_HIGH);   /* no real-mode heap claimed */
	assert_int_equal(bp->hdr.init_size, INIT_SIZE);
	assert_int_equal(bp->hdr.kernel_info_offset, 0x1234);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[0].addr, 0);
	assert_int_equal(bp->e820_table[0].size, EBDA_START);
	assert_int_equal(bp->_pad0[0], 0);     /* zeroed outside hdr */
	assert_string_equal((char *)fake_gpa(&gm, BOOT_CMDLINE_ADDR, 22), "console=ttyS0 panic=1");
}

static void
test_initrd(void **state)
{
	static uint8_t rd[0x3001];
	struct boot_params *bp;

	(void)state;
	memset(rd, 0x77, sizeof(rd));
	bc.initrd = rd;
	bc.initrd_len = sizeof(rd);
	bc.initrd_path = "rd";
	hdr()->initrd_addr_max = 0x2ffffff;     /* 48 MiB - 1 */
	assert_int_equal(load(), 0);
	assert_int_equal(be.initrd_addr, 0x3000000 - 0x4000);
	bp = fake_gpa(&gm, ZERO_PAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.ramdisk_image, 0x3000000 - 0x4000);
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(rd));
	assert_memory_equal(fake_gpa(&gm, be.initrd_addr, sizeof(rd)), rd, sizeof(rd));
}

static void
test_setup_sects_zero_means_4(void **state)
{
	(void)state;
	hdr()->setup_sects = 0;
	assert_int_equal(load(), 0);
	assert_memory_equal(fake_gpa(&gm, HIMEM_START, PM_LEN), img + 5 * 512, PM_LEN);
}

static void
test_short_header_zero_filled(void **state)
{
	struct boot_params *bp;

	(void)state;
	img[0x201] = 0x66;            /* header ends at 0x268: no kernel_info_offset */
	assert_int_equal(load(), 0);
	bp = fake_gpa(&gm, ZERO_PAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.kernel_info_offset, 0);
	assert_int_equal(bp->hdr.init_size, INIT_SIZE);
}

static void
test_not_relocatable(void **state)
{
	(void)state;
	hdr()->relocatable_kernel = 0;
	assert_int_equal(load(), 0);      /* load_addr == code32_start */
	assert_int_equal(be.kernel_end, PREF_ADDR + INIT_SIZE);
	bc.load_addr = 0x200000;
	assert_int_equal(load(), -EINVAL);
	assert_non_null(strstr(err.msg, "not relocatable, must load at 0x100000"));
}

static void
test_relocated_load_addr(void **state)
{
	(void)state;
	bc.load_addr = 0x2100000;         /* aligned up to 0x2200000 > pref */
	assert_int_equal(load(), 0);
	assert_int_equal(be.rip, 0x2100200);
	assert_int_equal(be.kernel_end, 0x2200000 + INIT_SIZE);
	assert_memory_equal(fake_gpa(&gm, 0x2100000, PM_LEN), img + PM_OFF, PM_LEN);
}

static void
test_cmdline_size(void **state)
{
	(void)state;
	hdr()->cmdline_size = 21;        /* strlen("console=ttyS0 panic=1") */
	assert_int_equal(load(), 0);
	hdr()->cmdline_size = 20;
	assert_int_equal(load(), -E2BIG);
	assert_string_equal(err.msg, "kernel cmdline: 21 bytes, longer than the 20 the kernel accepts");
}

struct bad_case {
	const char *name;
	void (*mutate)(void);
	int rc;
	const char *msg;
};

static void m_boot_flag(void) { hdr()->boot_flag = 0xAA56; }
static void m_hdrs(void) { hdr()->header = 0x53726449; }
static void m_version(void) { hdr()->version = 0x020b; }
static void m_no_kernel64(void) { hdr()->xloadflags = BP_XLF_CAN_BE_LOADED_ABOVE_4G; }
static void m_not_high(void) { hdr()->loadflags = 0; }
static void m_payload_beyond(void) { hdr()->setup_sects = 200; }
static void m_payload_empty(void) { hdr()->setup_sects = SETUP_SECTS + 8; }
static void m_syssize(void) { hdr()->syssize = PM_LEN / 16 + 1; }
static void m_syssize_cut(void) { img_len = IMG_LEN - 16; }
static void m_init_size(void) { hdr()->init_size = 0x3800000; }
static void m_pref_high(void) { hdr()->pref_address = 0x3f00000; }
static void m_hdr_short(void) { img[0x201] = 0x30; }
static void m_load_low(void) { bc.load_addr = 0x80000; }
static void m_load_high(void) { bc.load_addr = 0x100000000ull; }
static void m_load_beyond(void) { bc.load_addr = MEM_SIZE - 0x800; }

static const struct bad_case bad_cases[] = {
	{ "boot_flag", m_boot_flag, -ENOEXEC, "kernel bzImage: not an ELF vmlinux or bzImage (bad magic)" },
	{ "HdrS", m_hdrs, -ENOEXEC, "kernel bzImage: not an ELF vmlinux or bzImage (bad magic)" },
	{ "version 2.11", m_version, -ENOEXEC, "boot protocol 2.11 is too old (need 2.12)" },
	{ "no XLF_KERNEL_64", m_no_kernel64, -ENOEXEC, "XLF_KERNEL_64 clear" },
	{ "no LOADED_HIGH", m_not_high, -ENOEXEC, "LOADED_HIGH clear" },
	{ "payload beyond file", m_payload_beyond, -ENOEXEC, "truncated: protected-mode kernel at 0x19200" },
	{ "payload empty", m_payload_empty, -ENOEXEC, "truncated: protected-mode kernel at 0x1a00" },
	{ "syssize past end", m_syssize, -ENOEXEC, "protected-mode kernel is 4096 bytes, header says 4112" },
	{ "one paragraph short", m_syssize_cut, -ENOEXEC, "protected-mode kernel is 4080 bytes, header says 4096" },
	{ "init_size too big", m_init_size, -ENOSPC, "needs init_size 58720256 bytes at 0x1000000" },
	{ "pref_address near top", m_pref_high, -ENOSPC, "needs init_size" },
	{ "header cut by jump", m_hdr_short, -ENOEXEC, "setup header truncated (65 bytes, protocol 2.12 needs 115)" },
	{ "load_addr below 1M", m_load_low, -EINVAL, "kernel_load_addr 0x80000: a bzImage must load in" },
	{ "load_addr above 4G", m_load_high, -EINVAL, "kernel_load_addr 0x100000000" },
	{ "kernel beyond RAM", m_load_beyond, -ENOSPC, "4096 bytes at 0x3fff800 do not fit in guest memory" },
};

static void
test_bad_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		build_bzimage();
		bc.load_addr = HIMEM_START;
		c->mutate();
		fake_boot_check_refused(c->name, load(), &err, c->rc, c->msg, "bzImage");
	}
}

/*
 * Every prefix that is short of a whole 16-byte paragraph of syssize must
 * be refused; the last 15 lengths are accepted because image tools round
 * syssize up (boot.rst: "size in 16-byte paragraphs").
 */
static void
test_truncated(void **state)
{
	size_t len;
	int rc;

	(void)state;
	for (len = 0; len < IMG_LEN; len++) {
		rc = fake_boot_load_copy(&gm, &bc, img, len, &be, &err);
		if (len <= IMG_LEN - 16) {
			assert_true(rc < 0);
			assert_true(err.msg[0] != '\0');
		} else {
			assert_int_equal(rc, 0);
			assert_memory_equal(fake_gpa(&gm, HIMEM_START, len - PM_OFF), img + PM_OFF, len - PM_OFF);
		}
	}
	assert_int_equal(load(), 0);
}

static void
test_small_memory(void **state)
{
	(void)state;
	fake_gm_destroy(&gm);
	fake_gm_create(&gm, 16ull << 20, 0xcc, 0x100000);   /* init_size at 16 MiB cannot fit */
	assert_int_equal(load(), -ENOSPC);
	assert_non_null(strstr(err.msg, "more than guest memory below 0x1000000"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_initrd, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_setup_sects_zero_means_4, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_short_header_zero_filled, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_not_relocatable, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_relocated_load_addr, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_size, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_bad_table, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_small_memory, setup, fake_gm_teardown),
	};

	return cmocka_run_group_tests_name("boot_bzimage", tests, NULL, NULL);
}
