/*
 * ELF64 vmlinux loader: PT_LOAD segments to their physical addresses, and
 * the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) when the kernel has one.
 * Every read of the image is checked against kernel_len first; every write
 * to the guest goes through gm_ptr().
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot_internal.h"
#include "guest_layout_x86_64.h"
#include "pvh_x86_64.h"

#define NOTE_HDR_LEN 12u   /* namesz, descsz, type */

/* True when [off, off+len) lies inside an image of img_len bytes. */
static int
in_file(uint64_t off, uint64_t len, size_t img_len)
{
	uint64_t end;

	return !__builtin_add_overflow(off, len, &end) && end <= img_len;
}

int
boot_is_elf(const uint8_t *img, size_t len)
{
	return len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

static int
elf_check_ehdr(const struct boot_config *bc, Elf64_Ehdr *eh, struct err *e)
{
	const char *p = bc->kernel_path;
	uint64_t phlen;

	if (bc->kernel_len < sizeof(*eh))
		return err_set(e, -ENOEXEC, "kernel %s: truncated ELF (%zu bytes, header needs %zu)",
		    p, bc->kernel_len, sizeof(*eh));
	memcpy(eh, bc->kernel, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return err_set(e, -ENOEXEC, "kernel %s: not a 64-bit ELF (class %u)",
		    p, eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set(e, -ENOEXEC, "kernel %s: not a little-endian ELF", p);
	if (eh->e_machine != EM_X86_64)
		return err_set(e, -ENOEXEC, "kernel %s: ELF machine %u is not x86_64",
		    p, eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return err_set(e, -ENOEXEC, "kernel %s: ELF type %u is not ET_EXEC",
		    p, eh->e_type);
	if (eh->e_phnum == 0 || eh->e_phentsize != sizeof(Elf64_Phdr))
		return err_set(e, -ENOEXEC, "kernel %s: ELF has %u program headers of %u bytes",
		    p, eh->e_phnum, eh->e_phentsize);
	phlen = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (!in_file(eh->e_phoff, phlen, bc->kernel_len))
		return err_set(e, -ENOEXEC, "kernel %s: ELF program headers outside the file (truncated?)", p);
	return 0;
}

static void
elf_phdr(const struct boot_config *bc, const Elf64_Ehdr *eh, unsigned i,
    Elf64_Phdr *ph)
{
	memcpy(ph, bc->kernel + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* Checks one PT_LOAD segment against the file, guest RAM and load_addr. */
static int
elf_check_load(struct guest_mem *gm, const struct boot_config *bc,
    const Elf64_Phdr *ph, unsigned i, struct err *e)
{
	const char *p = bc->kernel_path;
	uint64_t end;

	if (ph->p_filesz > ph->p_memsz)
		return err_set(e, -ENOEXEC, "kernel %s: segment %u: p_filesz 0x%llx > p_memsz 0x%llx",
		    p, i, (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (!in_file(ph->p_offset, ph->p_filesz, bc->kernel_len))
		return err_set(e, -ENOEXEC, "kernel %s: segment %u: file bytes outside the file (truncated?)",
		    p, i);
	if (ph->p_paddr < bc->load_addr)
		return err_set(e, -EINVAL, "kernel %s: segment %u at 0x%llx is below kernel_load_addr 0x%llx",
		    p, i, (unsigned long long)ph->p_paddr, (unsigned long long)bc->load_addr);
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end) ||
	    gm_ptr(gm, ph->p_paddr, ph->p_memsz) == NULL)
		return err_set(e, -EINVAL, "kernel %s: segment %u [0x%llx, +0x%llx) is outside guest memory",
		    p, i, (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz);
	/* PVH enters with paging off, and the 64-bit page tables map only
	 * low memory's range: the kernel must be reachable from its entry. */
	if (end > gm_low_end(gm))
		return err_set(e, -EINVAL, "kernel %s: segment %u [0x%llx, +0x%llx) is above low memory "
		    "(ends past 0x%llx): not reachable at entry", p, i,
		    (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz,
		    (unsigned long long)gm_low_end(gm));
	return 0;
}

static void
elf_copy_load(struct guest_mem *gm, const struct boot_config *bc,
    const Elf64_Phdr *ph)
{
	uint8_t *dst = gm_ptr(gm, ph->p_paddr, ph->p_memsz);

	memcpy(dst, bc->kernel + ph->p_offset, ph->p_filesz);
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
}

/* Validates every PT_LOAD; *kend = end of the highest one. */
static int
elf_check_segments(struct guest_mem *gm, const struct boot_config *bc,
    const Elf64_Ehdr *eh, uint64_t *kend, struct err *e)
{
	Elf64_Phdr ph;
	unsigned i, nload = 0;
	int rc;

	*kend = 0;
	for (i = 0; i < eh->e_phnum; i++) {
		elf_phdr(bc, eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if ((rc = elf_check_load(gm, bc, &ph, i, e)) < 0)
			return rc;
		if (ph.p_paddr + ph.p_memsz > *kend)
			*kend = ph.p_paddr + ph.p_memsz;
		nload++;
	}
	if (nload == 0)
		return err_set(e, -ENOEXEC, "kernel %s: ELF has no loadable segment", bc->kernel_path);
	return 0;
}

static void
elf_copy_segments(struct guest_mem *gm, const struct boot_config *bc,
    const Elf64_Ehdr *eh)
{
	Elf64_Phdr ph;
	unsigned i;

	for (i = 0; i < eh->e_phnum; i++) {
		elf_phdr(bc, eh, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_memsz != 0)
			elf_copy_load(gm, bc, &ph);
	}
}

/* True when gpa lies inside some non-empty PT_LOAD segment. */
static int
elf_in_segment(const struct boot_config *bc, const Elf64_Ehdr *eh, uint64_t gpa)
{
	Elf64_Phdr ph;
	unsigned i;

	for (i = 0; i < eh->e_phnum; i++) {
		elf_phdr(bc, eh, i, &ph);
		if (ph.p_type == PT_LOAD && gpa >= ph.p_paddr &&
		    gpa - ph.p_paddr < ph.p_memsz)
			return 1;
	}
	return 0;
}

/*
 * Walks the notes in [off, off+len) of the image (already checked to be
 * inside it). Returns 1 with *entry on the PVH note, 0 if absent, -ENOEXEC
 * for a note running past the end or a PVH note of the wrong size.
 */
static int
elf_scan_notes(const struct boot_config *bc, uint64_t off, uint64_t len,
    uint64_t *entry, struct err *e)
{
	const uint8_t *n = bc->kernel + off;
	uint32_t hdr[3];
	uint64_t namesz, descsz, need;

	while (len >= NOTE_HDR_LEN) {
		memcpy(hdr, n, sizeof(hdr));
		namesz = ((uint64_t)hdr[0] + 3) & ~3ull;
		descsz = ((uint64_t)hdr[1] + 3) & ~3ull;
		need = NOTE_HDR_LEN + namesz + descsz;  /* < 2^35: no overflow */
		if (need > len)
			return err_set(e, -ENOEXEC, "kernel %s: ELF note at file offset 0x%llx runs past its segment (namesz %u, descsz %u)",
			    bc->kernel_path, (unsigned long long)(n - bc->kernel), hdr[0], hdr[1]);
		if (hdr[2] == XEN_ELFNOTE_PHYS32_ENTRY && hdr[0] == 4 &&
		    memcmp(n + NOTE_HDR_LEN, "Xen", 4) == 0) {
			const uint8_t *d = n + NOTE_HDR_LEN + namesz;
			uint64_t v = 0;

			if (hdr[1] != 4 && hdr[1] != 8)
				return err_set(e, -ENOEXEC, "kernel %s: PVH entry note has %u-byte descriptor (want 4 or 8)",
				    bc->kernel_path, hdr[1]);
			memcpy(&v, d, hdr[1]);
			if (v > UINT32_MAX)
				return err_set(e, -ENOEXEC, "kernel %s: PVH entry 0x%llx is above 4 GiB",
				    bc->kernel_path, (unsigned long long)v);
			*entry = v;
			return 1;
		}
		n += need;
		len -= need;
	}
	return 0;
}

static int
elf_pvh_from_phdrs(const struct boot_config *bc, const Elf64_Ehdr *eh,
    uint64_t *entry, struct err *e)
{
	Elf64_Phdr ph;
	unsigned i;
	int rc;

	for (i = 0; i < eh->e_phnum; i++) {
		elf_phdr(bc, eh, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		if (!in_file(ph.p_offset, ph.p_filesz, bc->kernel_len))
			return err_set(e, -ENOEXEC, "kernel %s: note segment %u outside the file (truncated?)",
			    bc->kernel_path, i);
		if ((rc = elf_scan_notes(bc, ph.p_offset, ph.p_filesz, entry, e)) != 0)
			return rc;
	}
	return 0;
}

static int
elf_pvh_from_shdrs(const struct boot_config *bc, const Elf64_Ehdr *eh,
    uint64_t *entry, struct err *e)
{
	Elf64_Shdr sh;
	unsigned i;
	int rc;

	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(sh) ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(sh), bc->kernel_len))
		return err_set(e, -ENOEXEC, "kernel %s: ELF section headers outside the file (truncated?)",
		    bc->kernel_path);
	for (i = 0; i < eh->e_shnum; i++) {
		memcpy(&sh, bc->kernel + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_NOTE)
			continue;
		if (!in_file(sh.sh_offset, sh.sh_size, bc->kernel_len))
			return err_set(e, -ENOEXEC, "kernel %s: note section %u outside the file (truncated?)",
			    bc->kernel_path, i);
		if ((rc = elf_scan_notes(bc, sh.sh_offset, sh.sh_size, entry, e)) != 0)
			return rc;
	}
	return 0;
}

int
boot_elf_pvh_entry(const struct boot_config *bc, uint64_t *entry, struct err *e)
{
	Elf64_Ehdr eh;
	int rc;

	if ((rc = elf_check_ehdr(bc, &eh, e)) < 0)
		return rc;
	if ((rc = elf_pvh_from_phdrs(bc, &eh, entry, e)) != 0)
		return rc;
	return elf_pvh_from_shdrs(bc, &eh, entry, e);
}

int
boot_elf_load(struct guest_mem *gm, const struct boot_config *bc,
    struct boot_kernel *k, struct err *e)
{
	Elf64_Ehdr eh;
	uint64_t entry = 0;
	int rc, pvh;

	memset(k, 0, sizeof(*k));
	if ((rc = elf_check_ehdr(bc, &eh, e)) < 0)
		return rc;
	if ((pvh = boot_elf_pvh_entry(bc, &entry, e)) < 0)
		return pvh;
	if (!pvh)
		entry = eh.e_entry;
	if ((rc = elf_check_segments(gm, bc, &eh, &k->kernel_end, e)) < 0)
		return rc;
	if (!elf_in_segment(bc, &eh, entry))
		return err_set(e, -ENOEXEC, "kernel %s: %s entry point 0x%llx is not inside a loadable segment",
		    bc->kernel_path, pvh ? "PVH" : "ELF", (unsigned long long)entry);
	elf_copy_segments(gm, bc, &eh);
	k->kind = pvh ? BOOT_KIND_PVH : BOOT_KIND_ELF64;
	k->entry = entry;
	k->initrd_addr_max = BOOT_INITRD_ADDR_MAX_DEFAULT;
	k->cmdline_max = BOOT_LINUX_CMDLINE_SIZE - 1;
	return 0;
}
