/*
 * libFuzzer target for boot_load(): the input is a kernel image (ELF with
 * or without the PVH note, bzImage, or garbage). When the input contains
 * FUZZ_INITRD_SEP, the bytes after its first occurrence are the initramfs.
 * The kernel and initramfs are copied into exact-size heap buffers, so
 * ASan catches any read past either one.
 *
 * Guest memory is a fake guest_mem of FUZZ_MEM_SIZE bytes laid out by
 * gm_layout(), backed by an anonymous mapping with PROT_NONE guard pages
 * on both sides: a write outside guest RAM faults instead of landing in
 * some other heap object. It is allocated once and reused.
 *
 * Besides "no crash", each run checks boot_load()'s contract: the return
 * code is 0 or one of the documented errors; on error a one-line message;
 * on success a sane boot_entry and the initramfs copied where it says.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot.h"
#include "fuzz_common.h"
#include "guest_layout_x86_64.h"

#define FUZZ_MEM_SIZE   (64ull << 20)
#define FUZZ_GUARD      (1ull << 20)
#define FUZZ_INITRD_SEP "#INITRD#"
#define FUZZ_CMDLINE    "console=ttyS0 reboot=t panic=1"

static struct guest_mem fuzz_gm;

static void
fuzz_gm_init(void)
{
	struct err e;
	uint8_t *map;

	if (fuzz_gm.nregions != 0)
		return;
	FUZZ_CHECK(gm_layout(&fuzz_gm, FUZZ_MEM_SIZE, &e) == 0);
	FUZZ_CHECK(fuzz_gm.nregions == 1);
	map = mmap(NULL, FUZZ_MEM_SIZE + 2 * FUZZ_GUARD, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	FUZZ_CHECK(map != MAP_FAILED);
	FUZZ_CHECK(mprotect(map + FUZZ_GUARD, FUZZ_MEM_SIZE,
	    PROT_READ | PROT_WRITE) == 0);
	fuzz_gm.region[0].hva = map + FUZZ_GUARD;
}

/* Exact-size heap copy (at least 1 byte allocated so malloc(0) is moot). */
static uint8_t *
fuzz_dup(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	FUZZ_CHECK(d != NULL);
	memcpy(d, p, len);
	return d;
}

static int
fuzz_rc_allowed(int rc)
{
	return rc == 0 || rc == -EINVAL || rc == -ENOEXEC || rc == -E2BIG ||
	    rc == -ENOSPC;
}

/* On success: the entry is consistent, and so is the initramfs placement. */
static void
fuzz_check_entry(const struct boot_config *bc, const struct boot_entry *be)
{
	uint8_t *ird;

	FUZZ_CHECK(be->kind == BOOT_KIND_ELF64 || be->kind == BOOT_KIND_PVH ||
	    be->kind == BOOT_KIND_BZIMAGE);
	FUZZ_CHECK(be->kernel_end <= gm_low_end(&fuzz_gm));
	FUZZ_CHECK(be->rsp == BOOT_STACK_ADDR);
	if (be->kind == BOOT_KIND_PVH)
		FUZZ_CHECK(be->rbx == PVH_INFO_ADDR && be->rip <= UINT32_MAX);
	else
		FUZZ_CHECK(be->rsi == ZERO_PAGE_ADDR);
	if (bc->initrd == NULL) {
		FUZZ_CHECK(be->initrd_addr == 0 && be->initrd_size == 0);
		return;
	}
	FUZZ_CHECK(be->initrd_size == bc->initrd_len);
	FUZZ_CHECK(be->initrd_addr >= HIMEM_START);
	FUZZ_CHECK(be->initrd_addr >= be->kernel_end);
	FUZZ_CHECK((be->initrd_addr & 0xfff) == 0);
	ird = gm_ptr(&fuzz_gm, be->initrd_addr, be->initrd_size);
	FUZZ_CHECK(ird != NULL);
	FUZZ_CHECK(memcmp(ird, bc->initrd, bc->initrd_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memmem(data, size, FUZZ_INITRD_SEP,
	    sizeof(FUZZ_INITRD_SEP) - 1);
	size_t klen = sep ? (size_t)(sep - data) : size;
	struct boot_config bc = {
		.kernel_path = "fuzz-kernel",
		.initrd_path = "fuzz-initrd",
		.cmdline = FUZZ_CMDLINE,
		.load_addr = HIMEM_START,
		.ncpus = 1 + (unsigned)(size & 3),
	};
	struct boot_entry be;
	struct err e;
	int rc;

	fuzz_gm_init();
	bc.kernel = fuzz_dup(data, klen);
	bc.kernel_len = klen;
	if (sep != NULL) {
		bc.initrd_len = size - klen - (sizeof(FUZZ_INITRD_SEP) - 1);
		bc.initrd = fuzz_dup(sep + sizeof(FUZZ_INITRD_SEP) - 1, bc.initrd_len);
	}
	fuzz_poison_err(&e);
	rc = boot_load(&fuzz_gm, &bc, &be, &e);
	FUZZ_CHECK(fuzz_rc_allowed(rc));
	if (fuzz_verbose())
		fprintf(stderr, "boot_load: %d: %s\n", rc, rc < 0 ? e.msg : "ok");
	if (rc < 0)
		fuzz_check_err(&e);
	else
		fuzz_check_entry(&bc, &be);
	free((void *)bc.kernel);
	free((void *)bc.initrd);
	return 0;
}
