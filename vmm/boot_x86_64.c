/*
 * boot_load(): detect the kernel format, let its loader copy it in, then
 * write everything else the boot protocol wants (cmdline, initramfs, e820,
 * zero page or hvm_start_info, MP table, GDT/IDT, identity page tables) at
 * the addresses of guest_layout_x86_64.h. boot_vcpu_regs() turns the result
 * into KVM register state. All guest writes go through gm_ptr().
 */
#include <errno.h>
#include <string.h>

#include <linux/kvm.h>

#include "boot_internal.h"
#include "guest_layout_x86_64.h"
#include "pvh_x86_64.h"

#define PAGE_SIZE_4K     0x1000ull
#define PT_PRESENT       0x1ull
#define PT_RW            0x2ull
#define PT_PS            0x80ull
#define PD_PAGE_2M       0x200000ull
#define BOOT_PD_COUNT    4
#define INITRD_ADDR_MAX_OLD 0x37ffffffull  /* boot.rst: before 2.03 */
#define ELF_HDR_VERSION  0x020f
#define ELF_KERNEL_ALIGN 0x1000000

#define X86_CR0_PE 0x1ull
#define X86_CR0_MP 0x2ull
#define X86_CR0_ET 0x10ull
#define X86_CR0_NE 0x20ull
#define X86_CR0_WP 0x10000ull
#define X86_CR0_AM 0x40000ull
#define X86_CR0_PG 0x80000000ull
#define X86_CR4_PAE 0x20ull
#define EFER_LME   0x100ull
#define EFER_LMA   0x400ull
#define RFLAGS_RESERVED 0x2ull

static const uint64_t boot_gdt[BOOT_GDT_ENTRIES] = {
	0, BOOT_GDT_CODE32, BOOT_GDT_CODE64, BOOT_GDT_DATA, BOOT_GDT_TSS,
};

/* ---- e820 ---- */

static int
e820_add(struct e820_entry *out, int n, int max, uint64_t addr, uint64_t size,
    uint32_t type)
{
	if (n >= max)
		return -ENOSPC;
	out[n] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	return n + 1;
}

int
boot_e820(const struct guest_mem *gm, struct e820_entry *out, int max)
{
	uint64_t low = gm_low_end(gm);
	int n = 0;

	if (low <= HIMEM_START)
		return -ENOSPC;   /* gm too small to hold a kernel at all */
	if ((n = e820_add(out, n, max, 0, EBDA_START, E820_TYPE_RAM)) < 0 ||
	    (n = e820_add(out, n, max, EBDA_START, 0xa0000 - EBDA_START,
	    E820_TYPE_RESERVED)) < 0 ||
	    (n = e820_add(out, n, max, HIMEM_START, low - HIMEM_START,
	    E820_TYPE_RAM)) < 0)
		return n;
	if (gm->nregions > 1)
		n = e820_add(out, n, max, gm->region[1].gpa, gm->region[1].size,
		    E820_TYPE_RAM);
	return n;
}

/* ---- cmdline and initramfs ---- */

static int
boot_write_cmdline(struct guest_mem *gm, const struct boot_config *bc,
    uint32_t max, struct err *e)
{
	size_t len = strlen(bc->cmdline);
	char *dst;

	if (max > BOOT_CMDLINE_MAX - 1)
		max = BOOT_CMDLINE_MAX - 1;
	if (len > max)
		return err_set(e, -E2BIG, "kernel cmdline: %zu bytes, longer than the %u the kernel accepts",
		    len, max);
	dst = gm_ptr(gm, BOOT_CMDLINE_ADDR, len + 1);
	if (dst == NULL)
		return err_set(e, -ENOSPC, "kernel cmdline: 0x%llx is outside guest memory",
		    BOOT_CMDLINE_ADDR);
	memcpy(dst, bc->cmdline, len + 1);
	return 0;
}

int
boot_place_initrd(struct guest_mem *gm, const struct boot_config *bc,
    const struct boot_kernel *k, uint64_t *addr, struct err *e)
{
	uint64_t top = gm_low_end(gm), lowest = k->kernel_end, max = k->initrd_addr_max;
	uint64_t a;

	*addr = 0;
	if (bc->initrd == NULL)
		return 0;
	if (max == 0)
		max = INITRD_ADDR_MAX_OLD;
	if (max < UINT64_MAX && max + 1 < top)
		top = max + 1;
	if (lowest < HIMEM_START)
		lowest = HIMEM_START;
	if (bc->initrd_len == 0)
		return err_set(e, -EINVAL, "initramfs %s: empty file", bc->initrd_path);
	if (bc->initrd_len > top)
		goto nospace;
	a = (top - bc->initrd_len) & ~(PAGE_SIZE_4K - 1);
	if (a < lowest || gm_ptr(gm, a, bc->initrd_len) == NULL)
		goto nospace;
	memcpy(gm_ptr(gm, a, bc->initrd_len), bc->initrd, bc->initrd_len);
	*addr = a;
	return 0;
nospace:
	return err_set(e, -ENOSPC, "initramfs %s: %zu bytes do not fit in guest memory between 0x%llx (end of kernel) and 0x%llx (end of low RAM or initrd_addr_max)",
	    bc->initrd_path, bc->initrd_len, (unsigned long long)lowest,
	    (unsigned long long)top);
}

/* ---- zero page (ELF64, bzImage) and hvm_start_info (PVH) ---- */

static void
zp_fill_elf_header(struct setup_header *h)
{
	h->boot_flag = BP_BOOT_FLAG_MAGIC;
	h->header = BP_HDRS_MAGIC;
	h->version = ELF_HDR_VERSION;
	h->kernel_alignment = ELF_KERNEL_ALIGN;
	h->cmdline_size = BOOT_LINUX_CMDLINE_SIZE - 1;
	h->initrd_addr_max = BOOT_INITRD_ADDR_MAX_DEFAULT;
}

static int
boot_write_zero_page(struct guest_mem *gm, const struct boot_kernel *k,
    const struct boot_entry *be, struct err *e)
{
	struct boot_params *bp = gm_ptr(gm, ZERO_PAGE_ADDR, sizeof(*bp));
	int n;

	if (bp == NULL)
		return err_set(e, -ENOSPC, "zero page: 0x%llx is outside guest memory", ZERO_PAGE_ADDR);
	memset(bp, 0, sizeof(*bp));
	if (k->kind == BOOT_KIND_BZIMAGE) {
		memcpy(&bp->hdr, &k->hdr, k->hdr_len);
		bp->hdr.code32_start = (uint32_t)(be->rip - BP_64BIT_ENTRY_OFFSET);
	} else {
		zp_fill_elf_header(&bp->hdr);
	}
	bp->hdr.type_of_loader = BP_TYPE_OF_LOADER_UNDEF;
	bp->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	bp->hdr.ramdisk_image = (uint32_t)be->initrd_addr;
	bp->hdr.ramdisk_size = (uint32_t)be->initrd_size;
	n = boot_e820(gm, bp->e820_table, BP_E820_MAX_ENTRIES);
	if (n < 0)
		return err_set(e, n, "e820: guest memory too small");
	bp->e820_entries = (uint8_t)n;
	return 0;
}

static int
pvh_write_memmap(struct guest_mem *gm, struct hvm_start_info *si, struct err *e)
{
	struct e820_entry map[PVH_MEMMAP_MAX];
	struct hvm_memmap_table_entry *mm;
	int i, n = boot_e820(gm, map, PVH_MEMMAP_MAX);

	if (n < 0)
		return err_set(e, n, "e820: guest memory too small");
	mm = gm_ptr(gm, PVH_MEMMAP_ADDR, (uint64_t)n * sizeof(*mm));
	if (mm == NULL)
		return err_set(e, -ENOSPC, "PVH memmap: outside guest memory");
	for (i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ .addr = map[i].addr,
		    .size = map[i].size, .type = map[i].type };
	si->memmap_paddr = PVH_MEMMAP_ADDR;
	si->memmap_entries = (uint32_t)n;
	return 0;
}

static int
boot_write_start_info(struct guest_mem *gm, const struct boot_entry *be,
    struct err *e)
{
	struct hvm_start_info *si = gm_ptr(gm, PVH_INFO_ADDR, sizeof(*si));
	struct hvm_modlist_entry *mod;

	if (si == NULL)
		return err_set(e, -ENOSPC, "hvm_start_info: 0x%llx is outside guest memory", PVH_INFO_ADDR);
	memset(si, 0, sizeof(*si));
	si->magic = XEN_HVM_START_MAGIC_VALUE;
	si->version = 1;
	si->cmdline_paddr = BOOT_CMDLINE_ADDR;
	si->rsdp_paddr = 0;
	if (be->initrd_addr != 0) {
		mod = gm_ptr(gm, PVH_MODLIST_ADDR, sizeof(*mod));
		if (mod == NULL)
			return err_set(e, -ENOSPC, "PVH modlist: outside guest memory");
		*mod = (struct hvm_modlist_entry){ .paddr = be->initrd_addr,
		    .size = be->initrd_size };
		si->nr_modules = 1;
		si->modlist_paddr = PVH_MODLIST_ADDR;
	}
	return pvh_write_memmap(gm, si, e);
}

/* ---- GDT, IDT, page tables ---- */

/* The GDT, and an IDT of limit 0 (its one zeroed entry is never read). */
static int
boot_write_gdt_idt(struct guest_mem *gm, struct err *e)
{
	uint64_t *gdt = gm_ptr(gm, BOOT_GDT_ADDR, sizeof(boot_gdt));
	uint64_t *idt = gm_ptr(gm, BOOT_IDT_ADDR, sizeof(uint64_t));

	if (gdt == NULL || idt == NULL)
		return err_set(e, -ENOSPC, "GDT/IDT: 0x%llx is outside guest memory", BOOT_GDT_ADDR);
	*idt = 0;
	memcpy(gdt, boot_gdt, sizeof(boot_gdt));
	return 0;
}

int
boot_gdt_pagetables(struct guest_mem *gm, struct err *e)
{
	uint64_t *pml4 = gm_ptr(gm, BOOT_PML4_ADDR, PAGE_SIZE_4K);
	uint64_t *pdpt = gm_ptr(gm, BOOT_PDPT_ADDR, PAGE_SIZE_4K);
	uint64_t *pd = gm_ptr(gm, BOOT_PD_ADDR, BOOT_PD_COUNT * PAGE_SIZE_4K);
	unsigned i;
	int rc;

	if ((rc = boot_write_gdt_idt(gm, e)) < 0)
		return rc;
	if (pml4 == NULL || pdpt == NULL || pd == NULL)
		return err_set(e, -ENOSPC, "page tables: 0x%llx is outside guest memory", BOOT_PML4_ADDR);
	memset(pml4, 0, PAGE_SIZE_4K);
	memset(pdpt, 0, PAGE_SIZE_4K);
	pml4[0] = BOOT_PDPT_ADDR | PT_PRESENT | PT_RW;
	for (i = 0; i < BOOT_PD_COUNT; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE_4K) | PT_PRESENT | PT_RW;
	for (i = 0; i < BOOT_PD_COUNT * 512; i++)
		pd[i] = (i * PD_PAGE_2M) | PT_PRESENT | PT_RW | PT_PS;
	return 0;
}

/* ---- boot_load ---- */

static int
boot_load_kernel(struct guest_mem *gm, const struct boot_config *bc,
    struct boot_kernel *k, struct err *e)
{
	if (boot_is_elf(bc->kernel, bc->kernel_len))
		return boot_elf_load(gm, bc, k, e);
	if (boot_is_bzimage(bc->kernel, bc->kernel_len))
		return boot_bzimage_load(gm, bc, k, e);
	return err_set(e, -ENOEXEC, "kernel %s: not an ELF vmlinux or bzImage (bad magic)",
	    bc->kernel_path);
}

static void
boot_fill_entry(const struct boot_kernel *k, uint64_t initrd_addr,
    size_t initrd_len, struct boot_entry *be)
{
	memset(be, 0, sizeof(*be));
	be->kind = k->kind;
	be->rip = k->entry;
	if (k->kind == BOOT_KIND_PVH)
		be->rbx = PVH_INFO_ADDR;
	else
		be->rsi = ZERO_PAGE_ADDR;
	be->rsp = BOOT_STACK_ADDR;
	be->kernel_end = k->kernel_end;
	be->initrd_addr = initrd_addr;
	be->initrd_size = initrd_addr ? initrd_len : 0;
}

int
boot_load(struct guest_mem *gm, const struct boot_config *bc,
    struct boot_entry *be, struct err *e)
{
	struct boot_kernel k;
	uint64_t initrd_addr;
	int rc;

	if (strlen(bc->cmdline) > BOOT_CMDLINE_MAX - 1)
		return err_set(e, -E2BIG, "kernel cmdline: %zu bytes, longer than the %u the kernel accepts",
		    strlen(bc->cmdline), BOOT_CMDLINE_MAX - 1);
	if ((rc = boot_load_kernel(gm, bc, &k, e)) < 0 ||
	    (rc = boot_write_cmdline(gm, bc, k.cmdline_max, e)) < 0 ||
	    (rc = boot_place_initrd(gm, bc, &k, &initrd_addr, e)) < 0)
		return rc;
	boot_fill_entry(&k, initrd_addr, bc->initrd_len, be);
	if (k.kind == BOOT_KIND_PVH)
		rc = boot_write_start_info(gm, be, e);
	else
		rc = boot_write_zero_page(gm, &k, be, e);
	if (rc < 0 || (rc = boot_mptable(gm, bc->ncpus, e)) < 0 ||
	    (rc = boot_gdt_pagetables(gm, e)) < 0)
		return rc;
	return 0;
}

/* ---- vCPU registers ---- */

/* The KVM view of a GDT descriptor, so segment state and GDT agree. */
void
boot_gdt_to_kvm_segment(uint64_t desc, uint16_t selector, struct kvm_segment *s)
{
	uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));

	memset(s, 0, sizeof(*s));
	s->base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24);
	s->g = (desc >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->selector = selector;
	s->type = (desc >> 40) & 0xf;
	s->s = (desc >> 44) & 1;
	s->dpl = (desc >> 45) & 3;
	s->present = (desc >> 47) & 1;
	s->avl = (desc >> 52) & 1;
	s->l = (desc >> 53) & 1;
	s->db = (desc >> 54) & 1;
	s->unusable = !s->present;
}

static void
boot_segments(struct kvm_sregs *sr, int pvh)
{
	struct kvm_segment data;
	unsigned code = pvh ? 1 : 2;

	boot_gdt_to_kvm_segment(boot_gdt[code], (uint16_t)(code * 8), &sr->cs);
	boot_gdt_to_kvm_segment(BOOT_GDT_DATA, BOOT_SEL_DATA, &data);
	sr->ds = sr->es = sr->fs = sr->gs = sr->ss = data;
	boot_gdt_to_kvm_segment(BOOT_GDT_TSS, BOOT_SEL_TSS, &sr->tr);
	memset(&sr->ldt, 0, sizeof(sr->ldt));
	sr->ldt.unusable = 1;
	sr->gdt.base = BOOT_GDT_ADDR;
	sr->gdt.limit = sizeof(boot_gdt) - 1;
	sr->idt.base = BOOT_IDT_ADDR;
	sr->idt.limit = 0;
}

void
boot_vcpu_regs(const struct boot_entry *be, struct kvm_sregs *sregs,
    struct kvm_regs *regs)
{
	int pvh = be->kind == BOOT_KIND_PVH;

	boot_segments(sregs, pvh);
	if (pvh) {
		sregs->cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs->cr3 = 0;
		sregs->cr4 = 0;
		sregs->efer = 0;
	} else {
		sregs->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		    X86_CR0_WP | X86_CR0_AM | X86_CR0_PG;
		sregs->cr3 = BOOT_PML4_ADDR;
		sregs->cr4 = X86_CR4_PAE;
		sregs->efer = EFER_LME | EFER_LMA;
	}
	memset(regs, 0, sizeof(*regs));
	regs->rflags = RFLAGS_RESERVED;
	regs->rip = be->rip;
	regs->rsi = be->rsi;
	regs->rbx = be->rbx;
	regs->rsp = be->rsp;
	regs->rbp = be->rsp;
}
