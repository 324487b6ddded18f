/*
 * ELF vmlinux loading through boot_load(): a tiny ELF built here (one
 * PT_LOAD, optionally a PT_NOTE with the PVH entry), run against fake
 * guest memory; then table-driven corruptions of it, each of which must
 * fail with a message naming the kernel and the reason.
 */
#include <elf.h>
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
#include "pvh_x86_64.h"
#include "fake_mem.h"

#define MEM_SIZE    (64ull << 20)
#define SEG_PADDR   0x200000ull
#define SEG_OFF     0x100
#define SEG_FILESZ  0x100
#define SEG_MEMSZ   0x2000
#define NOTE_OFF    0xb0
#define PVH_ENTRY   (SEG_PADDR + 0x10)
#define ELF_ENTRY   (SEG_PADDR + 0x20)
#define IMG_LEN     0x200
#define SH_OFF      IMG_LEN            /* section table, when built */
#define IMG_LEN_SH  (IMG_LEN + 2 * sizeof(Elf64_Shdr))

static uint8_t img[IMG_LEN_SH];
static size_t img_len;
static struct guest_mem gm;
static struct boot_config bc;
static struct boot_entry be;
static struct err err;

static Elf64_Ehdr *eh(void) { return (Elf64_Ehdr *)img; }
static Elf64_Phdr *ph(unsigned i) { return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i; }
static uint32_t *note(void) { return (uint32_t *)(img + NOTE_OFF); }

/* Valid image; pvh adds a PT_NOTE with a descsz-byte PVH entry. */
static void
build_elf(int pvh, uint32_t descsz)
{
	unsigned i;

	memset(img, 0, sizeof(img));
	memcpy(img, ELFMAG, SELFMAG);
	eh()->e_ident[EI_CLASS] = ELFCLASS64;
	eh()->e_ident[EI_DATA] = ELFDATA2LSB;
	eh()->e_ident[EI_VERSION] = EV_CURRENT;
	eh()->e_type = ET_EXEC;
	eh()->e_machine = EM_X86_64;
	eh()->e_version = EV_CURRENT;
	eh()->e_entry = ELF_ENTRY;
	eh()->e_phoff = sizeof(Elf64_Ehdr);
	eh()->e_ehsize = sizeof(Elf64_Ehdr);
	eh()->e_phentsize = sizeof(Elf64_Phdr);
	eh()->e_phnum = pvh ? 2 : 1;
	*ph(0) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
	    .p_offset = SEG_OFF, .p_vaddr = 0xffffffff80000000ull + SEG_PADDR,
	    .p_paddr = SEG_PADDR, .p_filesz = SEG_FILESZ, .p_memsz = SEG_MEMSZ };
	for (i = 0; i < SEG_FILESZ; i++)
		img[SEG_OFF + i] = (uint8_t)(i * 7 + 1);
	if (pvh) {
		*ph(1) = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
		    .p_filesz = 12 + 4 + descsz };
		note()[0] = 4;
		note()[1] = descsz;
		note()[2] = XEN_ELFNOTE_PHYS32_ENTRY;
		memcpy(&note()[3], "Xen", 4);
		note()[4] = (uint32_t)PVH_ENTRY;
	}
	img_len = IMG_LEN;
}

/* Moves the note from a PT_NOTE segment to an SHT_NOTE section. */
static void
note_to_section(void)
{
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + SH_OFF);

	sh[1] = (Elf64_Shdr){ .sh_type = SHT_NOTE, .sh_offset = NOTE_OFF,
	    .sh_size = ph(1)->p_filesz, .sh_addralign = 4 };
	eh()->e_phnum = 1;
	eh()->e_shoff = SH_OFF;
	eh()->e_shentsize = sizeof(Elf64_Shdr);
	eh()->e_shnum = 2;
	img_len = IMG_LEN_SH;
}

static int
setup(void **state)
{
	fake_gm_create(&gm, MEM_SIZE, 0xcc, 0x400000);   /* dirty: bss must be zeroed */
	build_elf(0, 0);
	bc = (struct boot_config){ .kernel = img, .kernel_len = IMG_LEN,
	    .kernel_path = "vmlinux", .cmdline = "console=ttyS0",
	    .load_addr = HIMEM_START, .ncpus = 1 };
	memset(&err, 0, sizeof(err));
	*state = &gm;
	return 0;
}

static int
load(void)
{
	return fake_boot_load(&gm, &bc, img, img_len, &be, &err);
}

static void
check_segment_loaded(void)
{
	uint8_t *seg = fake_gpa(&gm, SEG_PADDR, SEG_MEMSZ);
	unsigned i;

	assert_memory_equal(seg, img + SEG_OFF, SEG_FILESZ);
	for (i = SEG_FILESZ; i < SEG_MEMSZ; i++)
		assert_int_equal(seg[i], 0);
	assert_int_equal(be.kernel_end, SEG_PADDR + SEG_MEMSZ);
	assert_string_equal((char *)fake_gpa(&gm, BOOT_CMDLINE_ADDR, 14), "console=ttyS0");
}

static void
test_elf64_good(void **state)
{
	struct boot_params *bp;

	(void)state;
	assert_int_equal(load(), 0);
	assert_int_equal(be.kind, BOOT_KIND_ELF64);
	assert_int_equal(be.rip, ELF_ENTRY);
	assert_int_equal(be.rsi, ZERO_PAGE_ADDR);
	assert_int_equal(be.rbx, 0);
	assert_int_equal(be.rsp, BOOT_STACK_ADDR);
	check_segment_loaded();
	bp = fake_gpa(&gm, ZERO_PAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.boot_flag, 0xAA55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.kernel_alignment, 0x1000000);
	assert_int_equal(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[2].addr, HIMEM_START);
	assert_int_equal(bp->e820_table[2].size, MEM_SIZE - HIMEM_START);
}

static void
test_elf64_initrd(void **state)
{
	static uint8_t rd[5000];
	struct boot_params *bp;

	(void)state;
	memset(rd, 0x5a, sizeof(rd));
	bc.initrd = rd;
	bc.initrd_len = sizeof(rd);
	bc.initrd_path = "initrd.cpio";
	assert_int_equal(load(), 0);
	assert_int_equal(be.initrd_addr, MEM_SIZE - 0x2000);
	assert_int_equal(be.initrd_size, sizeof(rd));
	bp = fake_gpa(&gm, ZERO_PAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.ramdisk_image, MEM_SIZE - 0x2000);
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(rd));
	assert_memory_equal(fake_gpa(&gm, be.initrd_addr, sizeof(rd)), rd, sizeof(rd));
}

static void
check_start_info(unsigned nr_modules)
{
	struct hvm_start_info *si = fake_gpa(&gm, PVH_INFO_ADDR, sizeof(*si));
	struct hvm_memmap_table_entry *mm;
	struct e820_entry map[8];
	int i, n = boot_e820(&gm, map, 8);

	assert_int_equal(si->magic, XEN_HVM_START_MAGIC_VALUE);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->cmdline_paddr, BOOT_CMDLINE_ADDR);
	assert_int_equal(si->rsdp_paddr, 0);
	assert_int_equal(si->nr_modules, nr_modules);
	assert_int_equal(si->memmap_paddr, PVH_MEMMAP_ADDR);
	assert_int_equal(si->memmap_entries, n);
	mm = fake_gpa(&gm, PVH_MEMMAP_ADDR, n * sizeof(*mm));
	for (i = 0; i < n; i++) {
		assert_int_equal(mm[i].addr, map[i].addr);
		assert_int_equal(mm[i].size, map[i].size);
		assert_int_equal(mm[i].type, map[i].type);
		assert_int_equal(mm[i].reserved, 0);
	}
}

static void
test_pvh_good(void **state)
{
	(void)state;
	build_elf(1, 8);
	assert_int_equal(load(), 0);
	assert_int_equal(be.kind, BOOT_KIND_PVH);
	assert_int_equal(be.rip, PVH_ENTRY);
	assert_int_equal(be.rbx, PVH_INFO_ADDR);
	assert_int_equal(be.rsi, 0);
	check_segment_loaded();
	check_start_info(0);
}

static void
test_pvh_desc4(void **state)
{
	(void)state;
	build_elf(1, 4);
	assert_int_equal(load(), 0);
	assert_int_equal(be.kind, BOOT_KIND_PVH);
	assert_int_equal(be.rip, PVH_ENTRY);
}

static void
test_pvh_initrd_modlist(void **state)
{
	static uint8_t rd[100];
	struct hvm_start_info *si;
	struct hvm_modlist_entry *mod;

	(void)state;
	build_elf(1, 8);
	bc.initrd = rd;
	bc.initrd_len = sizeof(rd);
	bc.initrd_path = "rd";
	assert_int_equal(load(), 0);
	check_start_info(1);
	si = fake_gpa(&gm, PVH_INFO_ADDR, sizeof(*si));
	assert_int_equal(si->modlist_paddr, PVH_MODLIST_ADDR);
	mod = fake_gpa(&gm, PVH_MODLIST_ADDR, sizeof(*mod));
	assert_int_equal(mod->paddr, be.initrd_addr);
	assert_int_equal(mod->paddr, MEM_SIZE - 0x1000);
	assert_int_equal(mod->size, sizeof(rd));
}

static void
test_pvh_note_in_section(void **state)
{
	(void)state;
	build_elf(1, 8);
	note_to_section();
	assert_int_equal(load(), 0);
	assert_int_equal(be.kind, BOOT_KIND_PVH);
	assert_int_equal(be.rip, PVH_ENTRY);
}

static void
test_other_note_is_not_pvh(void **state)
{
	(void)state;
	build_elf(1, 8);
	note()[2] = 1;            /* XEN_ELFNOTE_INFO: not the entry */
	assert_int_equal(load(), 0);
	assert_int_equal(be.kind, BOOT_KIND_ELF64);
	build_elf(1, 8);
	memcpy(&note()[3], "Xe", 3);  /* other owner */
	assert_int_equal(load(), 0);
	assert_int_equal(be.kind, BOOT_KIND_ELF64);
	assert_int_equal(be.rip, ELF_ENTRY);
}

/* ---- table of corruptions ---- */

struct bad_case {
	const char *name;
	int pvh;
	void (*mutate)(void);
	int rc;
	const char *msg;   /* substring of the error */
};

static void m_magic(void) { img[1] = 'X'; }
static void m_class(void) { eh()->e_ident[EI_CLASS] = ELFCLASS32; }
static void m_data(void) { eh()->e_ident[EI_DATA] = ELFDATA2MSB; }
static void m_machine(void) { eh()->e_machine = EM_386; }
static void m_type(void) { eh()->e_type = ET_DYN; }
static void m_phentsize(void) { eh()->e_phentsize = 32; }
static void m_phnum0(void) { eh()->e_phnum = 0; }
static void m_phoff_out(void) { eh()->e_phoff = IMG_LEN - 8; }
static void m_phoff_wrap(void) { eh()->e_phoff = UINT64_MAX - 8; }
static void m_phnum_big(void) { eh()->e_phnum = 0xffff; }
static void m_seg_off_out(void) { ph(0)->p_offset = IMG_LEN - 0x80; }
static void m_seg_off_wrap(void) { ph(0)->p_offset = UINT64_MAX - 0x10; }
static void m_filesz_gt_memsz(void) { ph(0)->p_filesz = SEG_MEMSZ + 1; }
static void m_seg_beyond_ram(void) { ph(0)->p_paddr = MEM_SIZE - 0x1000; eh()->e_entry = MEM_SIZE - 0x1000; }
static void m_seg_in_hole(void) { ph(0)->p_paddr = 0xd0000000; eh()->e_entry = 0xd0000000; }
static void m_seg_wrap(void) { ph(0)->p_paddr = UINT64_MAX - 0x1000; eh()->e_entry = UINT64_MAX - 0x800; }
static void m_memsz_huge(void) { ph(0)->p_memsz = UINT64_MAX; }
static void m_seg_low(void) { ph(0)->p_paddr = 0x80000; eh()->e_entry = 0x80000; }
static void m_entry_out(void) { eh()->e_entry = 0x100; }
static void m_no_load(void) { ph(0)->p_type = PT_NOTE; ph(0)->p_filesz = 0; }
static void m_namesz_huge(void) { note()[0] = 0xffffffff; }
static void m_descsz_huge(void) { note()[1] = 0xfffffffd; }
static void m_descsz_2(void) { note()[1] = 2; ph(1)->p_filesz = 12 + 4 + 4; }
static void m_descsz_12(void) { note()[1] = 12; ph(1)->p_filesz = 12 + 4 + 12; }
static void m_note_seg_out(void) { ph(1)->p_filesz = IMG_LEN; }
static void m_note_seg_wrap(void) { ph(1)->p_offset = UINT64_MAX; }
static void m_pvh_above_4g(void) { note()[5] = 1; }
static void m_pvh_entry_out(void) { note()[4] = 0x1000; }
static void m_note_short(void) { ph(1)->p_filesz = 12 + 4 + 4; }  /* desc 8 cut */

static const struct bad_case bad_cases[] = {
	{ "bad magic", 0, m_magic, -ENOEXEC, "vmlinux: not an ELF vmlinux or bzImage (bad magic)" },
	{ "ELFCLASS32", 0, m_class, -ENOEXEC, "not a 64-bit ELF" },
	{ "big endian", 0, m_data, -ENOEXEC, "not a little-endian ELF" },
	{ "EM_386", 0, m_machine, -ENOEXEC, "is not x86_64" },
	{ "ET_DYN", 0, m_type, -ENOEXEC, "is not ET_EXEC" },
	{ "phentsize", 0, m_phentsize, -ENOEXEC, "program headers of 32 bytes" },
	{ "no phdrs", 0, m_phnum0, -ENOEXEC, "has 0 program headers" },
	{ "phdrs past end", 0, m_phoff_out, -ENOEXEC, "program headers outside the file" },
	{ "phoff wraps", 0, m_phoff_wrap, -ENOEXEC, "program headers outside the file" },
	{ "phnum huge", 0, m_phnum_big, -ENOEXEC, "program headers outside the file" },
	{ "segment past end", 0, m_seg_off_out, -ENOEXEC, "segment 0: file bytes outside the file" },
	{ "segment offset wraps", 0, m_seg_off_wrap, -ENOEXEC, "segment 0: file bytes outside the file" },
	{ "filesz > memsz", 0, m_filesz_gt_memsz, -ENOEXEC, "p_filesz 0x2001 > p_memsz 0x2000" },
	{ "segment beyond RAM", 0, m_seg_beyond_ram, -EINVAL, "segment 0 [0x3fff000, +0x2000) is outside guest memory" },
	{ "segment in MMIO hole", 0, m_seg_in_hole, -EINVAL, "is outside guest memory" },
	{ "segment wraps 2^64", 0, m_seg_wrap, -EINVAL, "is outside guest memory" },
	{ "memsz 2^64-1", 0, m_memsz_huge, -EINVAL, "is outside guest memory" },
	{ "segment below load_addr", 0, m_seg_low, -EINVAL, "segment 0 at 0x80000 is below kernel_load_addr 0x100000" },
	{ "entry outside segments", 0, m_entry_out, -ENOEXEC, "ELF entry point 0x100 is not inside a loadable segment" },
	{ "no PT_LOAD", 0, m_no_load, -ENOEXEC, "no loadable segment" },
	{ "note namesz huge", 1, m_namesz_huge, -ENOEXEC, "runs past its segment" },
	{ "note descsz huge", 1, m_descsz_huge, -ENOEXEC, "runs past its segment" },
	{ "PVH desc 2 bytes", 1, m_descsz_2, -ENOEXEC, "PVH entry note has 2-byte descriptor" },
	{ "PVH desc 12 bytes", 1, m_descsz_12, -ENOEXEC, "PVH entry note has 12-byte descriptor" },
	{ "note segment past end", 1, m_note_seg_out, -ENOEXEC, "note segment 1 outside the file" },
	{ "note segment wraps", 1, m_note_seg_wrap, -ENOEXEC, "note segment 1 outside the file" },
	{ "PVH entry above 4G", 1, m_pvh_above_4g, -ENOEXEC, "above 4 GiB" },
	{ "PVH entry outside", 1, m_pvh_entry_out, -ENOEXEC, "PVH entry point 0x1000 is not inside" },
	{ "note cut short", 1, m_note_short, -ENOEXEC, "runs past its segment" },
};

static void
test_bad_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		build_elf(c->pvh, 8);
		c->mutate();
		fake_boot_check_refused(c->name, load(), &err, c->rc, c->msg, "vmlinux");
	}
}

/* Every proper prefix of a valid image must be refused, cleanly. */
static void
truncate_all(int pvh, int section)
{
	size_t len, full;

	build_elf(pvh, 8);
	if (section)
		note_to_section();
	full = img_len;
	for (len = 0; len < full; len++) {
		assert_true(fake_boot_load_copy(&gm, &bc, img, len, &be, &err) < 0);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(load(), 0);
}

static void test_truncated_elf64(void **s) { (void)s; truncate_all(0, 0); }
static void test_truncated_pvh(void **s) { (void)s; truncate_all(1, 0); }
static void test_truncated_pvh_section(void **s) { (void)s; truncate_all(1, 1); }

static void
test_section_table_outside(void **state)
{
	(void)state;
	build_elf(1, 8);
	note_to_section();
	eh()->e_shoff = IMG_LEN_SH - 8;
	assert_int_equal(load(), -ENOEXEC);
	assert_non_null(strstr(err.msg, "section headers outside the file"));
}

static void
test_garbage_and_empty(void **state)
{
	static const uint8_t junk[] = "MZ\x90\x00 this is not a kernel at all, not even close.";

	(void)state;
	bc.kernel = junk;
	bc.kernel_len = sizeof(junk);
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_load(&gm, &bc, &be, &err), -ENOEXEC);
	assert_string_equal(err.msg, "kernel vmlinux: not an ELF vmlinux or bzImage (bad magic)");
	bc.kernel_len = 0;
	assert_int_equal(boot_load(&gm, &bc, &be, &err), -ENOEXEC);
	bc.kernel = img;
}

static void
test_cmdline(void **state)
{
	enum { MAX = BOOT_LINUX_CMDLINE_SIZE - 1 };   /* Linux copies 2048 incl. NUL */
	static char line[MAX + 2];
	struct boot_params *bp;

	(void)state;
	memset(line, 'a', MAX);
	line[MAX] = '\0';
	bc.cmdline = line;
	assert_int_equal(load(), 0);     /* 2047 bytes: the most Linux keeps */
	assert_int_equal(strlen(fake_gpa(&gm, BOOT_CMDLINE_ADDR, MAX + 1)), MAX);
	bp = fake_gpa(&gm, ZERO_PAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.cmdline_size, MAX);
	line[MAX] = 'a';
	line[MAX + 1] = '\0';
	assert_int_equal(load(), -E2BIG);
	assert_string_equal(err.msg, "kernel cmdline: 2048 bytes, longer than the 2047 the kernel accepts");
}

/* A segment in RAM above the MMIO hole is unreachable at entry (PVH runs
 * with paging off; the boot page tables map only [0, 4 GiB)). */
static void
test_segment_above_low_memory(void **state)
{
	struct guest_mem big;

	(void)state;
	fake_gm_create(&big, 5ull << 30, 0, 0);
	ph(0)->p_paddr = MMIO_HOLE_END + SEG_PADDR;
	eh()->e_entry = MMIO_HOLE_END + ELF_ENTRY;
	assert_int_equal(fake_boot_load(&big, &bc, img, img_len, &be, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "kernel vmlinux: segment 0 [0x100200000, +0x2000) is above low memory"));
	fake_gm_destroy(&big);
}

static void
test_load_addr_semantics(void **state)
{
	(void)state;
	bc.load_addr = SEG_PADDR;        /* segment exactly at load_addr: ok */
	assert_int_equal(load(), 0);
	bc.load_addr = SEG_PADDR + 1;
	assert_int_equal(load(), -EINVAL);
	assert_non_null(strstr(err.msg, "below kernel_load_addr 0x200001"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_elf64_good, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_elf64_initrd, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_good, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_desc4, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_initrd_modlist, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_note_in_section, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_other_note_is_not_pvh, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_bad_table, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_elf64, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_pvh, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_pvh_section, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_section_table_outside, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_and_empty, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_cmdline, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_segment_above_low_memory, setup, fake_gm_teardown),
		cmocka_unit_test_setup_teardown(test_load_addr_semantics, setup, fake_gm_teardown),
	};

	return cmocka_run_group_tests_name("boot_elf", tests, NULL, NULL);
}
