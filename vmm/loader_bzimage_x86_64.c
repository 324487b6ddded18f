/*
 * bzImage loader (Documentation/arch/x86/boot.rst): checks the setup
 * header, copies the protected-mode kernel to the load address and keeps
 * the header for the zero page. The 64-bit entry (startup_64) is at the
 * load address + 0x200.
 */
#include <errno.h>
#include <string.h>

#include "boot_internal.h"
#include "guest_layout_x86_64.h"

#define BZ_MIN_VERSION     0x020c   /* 2.12: xloadflags */
#define BZ_CMDLINE_SIZE_VERSION 0x0206
#define BZ_DEFAULT_SETUP_SECTS 4
#define BZ_SECTOR          512u
#define BZ_HDRS_OFF        0x202u
#define BZ_JUMP_LEN_OFF    0x201u

int
boot_is_bzimage(const uint8_t *img, size_t len)
{
	uint32_t hdrs;
	uint16_t flag;

	if (len < BZ_HDRS_OFF + sizeof(hdrs))
		return 0;
	memcpy(&flag, img + 0x1fe, sizeof(flag));
	memcpy(&hdrs, img + BZ_HDRS_OFF, sizeof(hdrs));
	return flag == BP_BOOT_FLAG_MAGIC && hdrs == BP_HDRS_MAGIC;
}

/* The header's own length: 0x202 + the jump offset at 0x201, clamped. */
static size_t
bz_header_len(const struct boot_config *bc)
{
	size_t len = BZ_HDRS_OFF + bc->kernel[BZ_JUMP_LEN_OFF] - BP_SETUP_HEADER_OFFSET;

	if (len > sizeof(struct setup_header))
		len = sizeof(struct setup_header);
	if (len > bc->kernel_len - BP_SETUP_HEADER_OFFSET)
		len = bc->kernel_len - BP_SETUP_HEADER_OFFSET;
	return len;
}

/* Copies the setup header into k->hdr (zero beyond what the image has). */
static int
bz_read_header(const struct boot_config *bc, struct boot_kernel *k, struct err *e)
{
	const char *p = bc->kernel_path;
	const struct setup_header *h = &k->hdr;

	if (!boot_is_bzimage(bc->kernel, bc->kernel_len))
		return err_set(e, -ENOEXEC, "kernel %s: not a bzImage (no boot_flag/HdrS)", p);
	k->hdr_len = bz_header_len(bc);
	memcpy(&k->hdr, bc->kernel + BP_SETUP_HEADER_OFFSET, k->hdr_len);
	if (h->version < BZ_MIN_VERSION)
		return err_set(e, -ENOEXEC, "kernel %s: boot protocol %u.%02u is too old (need 2.12)",
		    p, h->version >> 8, h->version & 0xff);
	/* 2.12 headers reach init_size (2.10), which placement relies on. */
	if (k->hdr_len < offsetof(struct setup_header, init_size) + sizeof(h->init_size))
		return err_set(e, -ENOEXEC, "kernel %s: setup header truncated (%zu bytes, "
		    "protocol 2.12 needs %zu)", p, k->hdr_len,
		    offsetof(struct setup_header, init_size) + sizeof(h->init_size));
	if (!(h->xloadflags & BP_XLF_KERNEL_64))
		return err_set(e, -ENOEXEC, "kernel %s: bzImage has no 64-bit entry (XLF_KERNEL_64 clear)", p);
	if (!(h->loadflags & BP_LOADED_HIGH))
		return err_set(e, -ENOEXEC, "kernel %s: bzImage is not loaded high (LOADED_HIGH clear)", p);
	return 0;
}

/* Offset and length of the protected-mode kernel in the file. */
static int
bz_payload(const struct boot_config *bc, const struct setup_header *h,
    uint64_t *off, uint64_t *len, struct err *e)
{
	unsigned sects = h->setup_sects ? h->setup_sects : BZ_DEFAULT_SETUP_SECTS;

	*off = (uint64_t)(sects + 1) * BZ_SECTOR;
	if (*off >= bc->kernel_len)
		return err_set(e, -ENOEXEC, "kernel %s: truncated: protected-mode kernel at 0x%llx, file is %zu bytes",
		    bc->kernel_path, (unsigned long long)*off, bc->kernel_len);
	*len = bc->kernel_len - *off;
	/* syssize counts 16-byte paragraphs; tools round it up or down, so
	 * only a file short of whole paragraphs is truncated */
	if ((*len + 15) / 16 < h->syssize)
		return err_set(e, -ENOEXEC, "kernel %s: truncated: protected-mode kernel is %llu bytes, header says %llu",
		    bc->kernel_path, (unsigned long long)*len, (unsigned long long)h->syssize * 16);
	return 0;
}

/*
 * Where the kernel decompresses itself and runs (boot.rst, init_size):
 * relocatable -> load address aligned up to kernel_alignment (the
 * decompressor also never goes below pref_address), else pref_address.
 */
static uint64_t
bz_runtime_start(const struct setup_header *h, uint64_t load_addr)
{
	uint64_t a = h->kernel_alignment, start;

	if (!h->relocatable_kernel)
		return h->pref_address;
	if (a == 0 || (a & (a - 1)) != 0)
		a = 1;
	start = (load_addr + a - 1) & ~(a - 1);
	return start > h->pref_address ? start : h->pref_address;
}

static int
bz_check_fit(struct guest_mem *gm, const struct boot_config *bc,
    const struct setup_header *h, uint64_t len, uint64_t *kend, struct err *e)
{
	uint64_t rt = bz_runtime_start(h, bc->load_addr), end;

	*kend = bc->load_addr + len;       /* load_addr < 2^32, len < 2^63 */
	if (gm_ptr(gm, bc->load_addr, len) == NULL || *kend > gm_low_end(gm))
		return err_set(e, -ENOSPC, "kernel %s: %llu bytes at 0x%llx do not fit in guest memory below 0x%llx",
		    bc->kernel_path, (unsigned long long)len, (unsigned long long)bc->load_addr,
		    (unsigned long long)gm_low_end(gm));
	end = rt + h->init_size;
	if (gm_ptr(gm, rt, h->init_size) == NULL || end > gm_low_end(gm))
		return err_set(e, -ENOSPC, "kernel %s: needs init_size %u bytes at 0x%llx, more than guest memory below 0x%llx",
		    bc->kernel_path, h->init_size, (unsigned long long)rt,
		    (unsigned long long)gm_low_end(gm));
	if (end > *kend)
		*kend = end;
	return 0;
}

static int
bz_check_load_addr(const struct boot_config *bc, const struct setup_header *h,
    struct err *e)
{
	if (bc->load_addr < HIMEM_START || bc->load_addr > UINT32_MAX)
		return err_set(e, -EINVAL, "kernel %s: kernel_load_addr 0x%llx: a bzImage must load in [0x%llx, 4 GiB)",
		    bc->kernel_path, (unsigned long long)bc->load_addr, HIMEM_START);
	if (!h->relocatable_kernel && bc->load_addr != h->code32_start)
		return err_set(e, -EINVAL, "kernel %s: kernel_load_addr 0x%llx: kernel is not relocatable, must load at 0x%x",
		    bc->kernel_path, (unsigned long long)bc->load_addr, h->code32_start);
	return 0;
}

int
boot_bzimage_load(struct guest_mem *gm, const struct boot_config *bc,
    struct boot_kernel *k, struct err *e)
{
	uint64_t off = 0, len = 0;
	int rc;

	memset(k, 0, sizeof(*k));
	if ((rc = bz_read_header(bc, k, e)) < 0)
		return rc;
	if ((rc = bz_payload(bc, &k->hdr, &off, &len, e)) < 0)
		return rc;
	if ((rc = bz_check_load_addr(bc, &k->hdr, e)) < 0)
		return rc;
	if ((rc = bz_check_fit(gm, bc, &k->hdr, len, &k->kernel_end, e)) < 0)
		return rc;
	memcpy(gm_ptr(gm, bc->load_addr, len), bc->kernel + off, len);
	k->kind = BOOT_KIND_BZIMAGE;
	k->entry = bc->load_addr + BP_64BIT_ENTRY_OFFSET;
	k->initrd_addr_max = k->hdr.initrd_addr_max;
	k->cmdline_max = k->hdr.version >= BZ_CMDLINE_SIZE_VERSION ?
	    k->hdr.cmdline_size : 255;
	return 0;
}
