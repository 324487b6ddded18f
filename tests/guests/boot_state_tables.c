/*
 * boot_state: the boot structures (zero page or hvm_start_info), the memory
 * map (checked against the vmm's boot_e820 contract and probed), the
 * initramfs and the MP table.
 */
#include "boot_state.h"
#include "bzimage.h"
#include "guest_layout_x86_64.h"
#include "mptable_x86_64.h"

#define MiB ((uint64_t)1 << 20)
#define MAP_LIMIT ((uint64_t)GUEST_MAP_GIB << 30)
#define LEGACY_GAP ((uint64_t)(HIMEM_START - EBDA_START))   /* not RAM in the e820 */

extern const char kernel_info[];

static bool addr_ok(uint64_t a, uint64_t len)
{
	return a && a < MAP_LIMIT && len <= MAP_LIMIT - a;
}

/* ---- zero page ---- */

static void check_bz_header(const struct setup_header *h)
{
	uint64_t image = (uint64_t)(__image_end - __image_start);
	uint64_t ki = (uint64_t)(kernel_info - __image_start);

	bs_check(h->version == BZ_VERSION && h->code32_start == BZ_CODE32_START,
	    "bzImage header: version 0x020f, code32_start 0x100000",
	    "version 0x%x code32_start 0x%x", h->version, h->code32_start);
	bs_check(h->setup_sects == BZ_SETUP_SECTS &&
	    h->xloadflags == BZ_XLOADFLAGS && (h->loadflags & BZ_LOADFLAGS),
	    "bzImage header: setup_sects, xloadflags, loadflags from the image",
	    "setup_sects %u xloadflags 0x%x loadflags 0x%x", h->setup_sects,
	    h->xloadflags, h->loadflags);
	bs_check(h->kernel_alignment == BZ_KERNEL_ALIGN &&
	    h->relocatable_kernel == BZ_RELOCATABLE &&
	    h->initrd_addr_max == BZ_INITRD_ADDR_MAX &&
	    h->cmdline_size == BZ_CMDLINE_SIZE,
	    "bzImage header: alignment, relocatable, initrd_addr_max, cmdline_size",
	    "kernel_alignment 0x%x relocatable %u initrd_addr_max 0x%x "
	    "cmdline_size %u", h->kernel_alignment, h->relocatable_kernel,
	    h->initrd_addr_max, h->cmdline_size);
	bs_check(h->init_size >= image && h->kernel_info_offset == ki,
	    "bzImage header: init_size covers the image, kernel_info_offset",
	    "init_size 0x%x (image 0x%lx) kernel_info_offset 0x%x (want 0x%lx)",
	    h->init_size, image, h->kernel_info_offset, ki);
}

void bs_check_zero_page(struct bs_ctx *c)
{
	const struct boot_params *bp = phys(c->es->rsi);
	const struct setup_header *h;

	if (!addr_ok(c->es->rsi, sizeof(*bp))) {
		bs_check(false, "zero page readable", "rsi 0x%lx", c->es->rsi);
		return;
	}
	c->bp = bp;
	h = &bp->hdr;
	bs_check(h->boot_flag == BP_BOOT_FLAG_MAGIC && h->header == BP_HDRS_MAGIC,
	    "zero page: boot_flag 0xAA55 and \"HdrS\"",
	    "boot_flag 0x%x header 0x%x", h->boot_flag, h->header);
	bs_check(h->type_of_loader == BP_TYPE_OF_LOADER_UNDEF,
	    "zero page: type_of_loader 0xff", "type_of_loader 0x%x",
	    h->type_of_loader);
	bs_check(bp->e820_entries >= 1 && bp->e820_entries <= BP_E820_MAX_ENTRIES,
	    "zero page: e820_entries in 1..128", "e820_entries %u",
	    bp->e820_entries);
	if (c->gb->kind == GUEST_KIND_BZIMAGE)
		check_bz_header(h);
	c->cmdline_ptr = h->cmd_line_ptr | (uint64_t)bp->ext_cmd_line_ptr << 32;
	for (int i = 0; i < bp->e820_entries && i < BS_MAP_MAX; i++) {
		c->map[i].addr = bp->e820_table[i].addr;
		c->map[i].size = bp->e820_table[i].size;
		c->map[i].type = bp->e820_table[i].type;
		c->nmap = i + 1;
	}
}

/* ---- hvm_start_info ---- */

void bs_check_start_info(struct bs_ctx *c)
{
	const struct hvm_start_info *si = phys(c->es->rbx);
	const struct hvm_memmap_table_entry *mm;

	if (!addr_ok(c->es->rbx, sizeof(*si))) {
		bs_check(false, "hvm_start_info readable", "ebx 0x%lx", c->es->rbx);
		return;
	}
	c->si = si;
	bs_check(si->magic == XEN_HVM_START_MAGIC_VALUE,
	    "hvm_start_info: magic 0x336ec578", "magic 0x%x", si->magic);
	bs_check(si->version >= 1, "hvm_start_info: version >= 1",
	    "version %u", si->version);
	bs_check(si->memmap_paddr == PVH_MEMMAP_ADDR && si->memmap_entries >= 1 &&
	    si->memmap_entries <= PVH_MEMMAP_MAX,
	    "hvm_start_info: memmap at 0x6100 with 1..32 entries",
	    "memmap_paddr 0x%lx entries %u", si->memmap_paddr,
	    si->memmap_entries);
	c->cmdline_ptr = si->cmdline_paddr;
	if (!addr_ok(si->memmap_paddr, 1))
		return;
	mm = phys(si->memmap_paddr);
	for (unsigned i = 0; i < si->memmap_entries && i < BS_MAP_MAX; i++) {
		c->map[i].addr = mm[i].addr;
		c->map[i].size = mm[i].size;
		c->map[i].type = mm[i].type;
		c->nmap = i + 1;
	}
}

/* ---- memory map ---- */

static bool map_sorted(const struct bs_ctx *c, int *bad)
{
	for (int i = 0; i < c->nmap; i++) {
		const struct bs_region *r = &c->map[i];

		if (!r->size || r->addr + r->size < r->addr ||
		    (i && r->addr < c->map[i - 1].addr + c->map[i - 1].size)) {
			*bad = i;
			return false;
		}
	}
	return c->nmap > 0;
}

static bool is_ram(const struct bs_region *r)
{
	return r->type == E820_TYPE_RAM;
}

/* RAM entry containing [a, a+len), or NULL */
static const struct bs_region *ram_at(const struct bs_ctx *c, uint64_t a,
    uint64_t len)
{
	for (int i = 0; i < c->nmap; i++) {
		const struct bs_region *r = &c->map[i];

		if (is_ram(r) && a >= r->addr && a - r->addr <= r->size &&
		    len <= r->size - (a - r->addr))
			return r;
	}
	return NULL;
}

static void check_layout(const struct bs_ctx *c)
{
	const struct bs_region *m = c->map;
	const struct bs_region *hi = ram_at(c, HIMEM_START, 1);
	uint64_t low_end = hi ? hi->addr + hi->size : 0;
	bool split = false, hole = false;

	bs_check(c->nmap >= 3 && is_ram(&m[0]) && m[0].addr == 0 &&
	    m[0].size == EBDA_START && m[1].addr == EBDA_START &&
	    m[1].size == 0xa0000 - EBDA_START && m[1].type == E820_TYPE_RESERVED,
	    "memmap: [0,0x9fc00) RAM then [0x9fc00,0xa0000) reserved",
	    "entry0 0x%lx+0x%lx type %u", c->nmap ? m[0].addr : 0,
	    c->nmap ? m[0].size : 0, c->nmap ? m[0].type : 0);
	bs_check(hi && hi->addr == HIMEM_START &&
	    low_end >= (uint64_t)(__image_end - __image_start) + HIMEM_START,
	    "memmap: RAM from 1 MiB covers the kernel", "entry at 1 MiB: %s",
	    hi ? "starts below 1 MiB or too small" : "none");
	for (int i = 0; i < c->nmap; i++) {
		if (m[i].addr < MMIO_HOLE_END && m[i].addr + m[i].size > MMIO_HOLE_START)
			hole = true;
		if (is_ram(&m[i]) && m[i].addr >= MMIO_HOLE_END)
			split = true;
	}
	bs_check(!hole, "memmap: nothing in the MMIO hole [3 GiB, 4 GiB)",
	    "an entry overlaps it");
	if (split)
		bs_check(low_end == MMIO_HOLE_START && ram_at(c, MMIO_HOLE_END, 1),
		    "memmap: low RAM fills to 3 GiB, high RAM starts at 4 GiB",
		    "low RAM ends at 0x%lx", low_end);
}

static uint64_t ram_total(const struct bs_ctx *c)
{
	uint64_t t = 0;

	for (int i = 0; i < c->nmap; i++)
		if (is_ram(&c->map[i]))
			t += c->map[i].size;
	return t;
}

/* Write a pattern, read it back, restore. True when it read back. */
static bool probe(uint64_t a, uint32_t pat, uint32_t *got)
{
	volatile uint32_t *p = phys(a);
	uint32_t old = *p;

	*p = pat;
	*got = *p;
	*p = old;
	return *got == pat;
}

static void check_probe_ram(const struct bs_ctx *c)
{
	uint64_t n = 0, bad = 0;
	uint32_t got = 0;

	for (int i = 0; i < c->nmap && !bad; i++) {
		const struct bs_region *r = &c->map[i];

		if (!is_ram(r))
			continue;
		for (uint64_t a = r->addr; a < r->addr + r->size;
		    a = (a + MiB) & ~(MiB - 1), n++) {
			if (a + 4 > MAP_LIMIT || !probe(a, 0x5a000000u ^ (uint32_t)(a >> 20), &got)) {
				bad = a ? a : 1;
				break;
			}
		}
	}
	bs_check(n && !bad, "RAM probe: a word at every MiB of RAM reads back",
	    "0x%lx read back 0x%x (%lu probes ok)", bad, got, n);
}

static void check_past_end(const char *name, uint64_t a)
{
	uint32_t got = 0;
	bool mapped = a + 4 <= MAP_LIMIT;

	bs_check(mapped && !probe(a, 0xa55a1234u, &got), name,
	    mapped ? "0x%lx read back the pattern 0x%x: RAM where none should be"
	    : "0x%lx beyond this guest's identity map (%x)", a, got);
}

void bs_check_memmap(const struct bs_ctx *c)
{
	uint64_t mib, total = ram_total(c), last = 0;
	int bad = -1;
	bool sorted = map_sorted(c, &bad);

	bs_check(sorted, "memmap: non-empty, sorted, non-overlapping",
	    "%d entries, entry %d out of order or empty", c->nmap, bad);
	check_layout(c);
	if (cmdline_get_u64(c->gb->cmdline, "expect.mem_mib", &mib))
		bs_check(total == mib * MiB - LEGACY_GAP,
		    "memmap: RAM total = expect.mem_mib MiB - [0x9fc00,1 MiB)",
		    "total 0x%lx, expected 0x%lx", total, mib * MiB - LEGACY_GAP);
	check_probe_ram(c);
	for (int i = 0; i < c->nmap; i++)
		if (is_ram(&c->map[i]))
			last = c->map[i].addr + c->map[i].size;
	check_past_end("no RAM just past the last RAM byte", last);
	if (ram_at(c, MMIO_HOLE_START - 4, 4) && last != MMIO_HOLE_START)
		check_past_end("no RAM at 0xc0000000 (MMIO hole)", MMIO_HOLE_START);
}

/* ---- initramfs ---- */

static void initrd_location(const struct bs_ctx *c, uint64_t *addr,
    uint64_t *size, uint64_t *max)
{
	*addr = *size = 0;
	if (c->bp) {
		*addr = c->bp->hdr.ramdisk_image |
		    (uint64_t)c->bp->ext_ramdisk_image << 32;
		*size = c->bp->hdr.ramdisk_size |
		    (uint64_t)c->bp->ext_ramdisk_size << 32;
		/* a plain ELF has no header of its own to say: x86_64 Linux's */
		*max = c->bp->hdr.initrd_addr_max ? c->bp->hdr.initrd_addr_max :
		    0x7fffffff;
	} else if (c->si && c->si->nr_modules && addr_ok(c->si->modlist_paddr, 32)) {
		const struct hvm_modlist_entry *m = phys(c->si->modlist_paddr);

		*addr = m->paddr;
		*size = m->size;
		*max = MMIO_HOLE_START - 1;
	}
}

static void check_initrd_contents(const struct bs_ctx *c, uint64_t addr,
    uint64_t size)
{
	char magic[64];
	int n = cmdline_get(c->gb->cmdline, "expect.initrd_magic",
	    magic, sizeof(magic));

	if (n < 0)
		return;
	bs_check(n > 0 && (uint64_t)n <= size && addr_ok(addr, n) &&
	    !memcmp(phys(addr), magic, n),
	    "initramfs: starts with expect.initrd_magic",
	    "first bytes differ from \"%s\"", magic);
}

void bs_check_initrd(const struct bs_ctx *c)
{
	uint64_t addr, size, want, max = 0, end;
	uint64_t k0 = (uint64_t)__image_start, k1 = (uint64_t)__image_end;

	initrd_location(c, &addr, &size, &max);
	if (!cmdline_get_u64(c->gb->cmdline, "expect.initrd_size", &want)) {
		bs_check(!addr && !size && !(c->si && c->si->nr_modules),
		    "no initramfs reported when none was given",
		    "addr 0x%lx size 0x%lx", addr, size);
		return;
	}
	end = addr + size;
	bs_check(addr && size == want, "initramfs: present with expect.initrd_size bytes",
	    "addr 0x%lx size %lu, expected %lu", addr, size, want);
	if (c->si)
		bs_check(c->si->nr_modules == 1 && c->si->modlist_paddr == PVH_MODLIST_ADDR,
		    "hvm_start_info: one module in the modlist at 0x6040",
		    "nr_modules %u modlist_paddr 0x%lx", c->si->nr_modules,
		    c->si->modlist_paddr);
	bs_check(!(addr & 0xfff), "initramfs: page aligned", "addr 0x%lx", addr);
	bs_check(size && ram_at(c, addr, size), "initramfs: inside one RAM entry",
	    "[0x%lx, 0x%lx)", addr, end);
	bs_check(size && end - 1 <= max, "initramfs: below initrd_addr_max",
	    "ends at 0x%lx, max 0x%lx", end - 1, max);
	bs_check(end <= k0 || addr >= k1, "initramfs: does not overlap the kernel",
	    "[0x%lx, 0x%lx) vs kernel [0x%lx, 0x%lx)", addr, end, k0, k1);
	check_initrd_contents(c, addr, size);
}

/* ---- MP table ---- */

struct mp_summary {
	unsigned entries, cpus, bsps, disabled, ioapics, bad_type;
	uint8_t bsp_apic;
	bool dup_apic;
	uint32_t ioapic_addr;
};

static bool mp_walk(const struct mpc_table *t, struct mp_summary *s)
{
	const uint8_t *p = (const uint8_t *)(t + 1), *end = (const uint8_t *)t + t->length;
	uint8_t seen[256] = { 0 };

	while (p < end) {
		unsigned len = *p == MP_PROCESSOR ? sizeof(struct mpc_cpu) : 8;

		if (p + len > end || *p > MP_LINTSRC) {
			s->bad_type = *p;
			return false;
		}
		s->entries++;
		if (*p == MP_PROCESSOR) {
			const struct mpc_cpu *cpu = (const void *)p;

			s->cpus++;
			s->disabled += !(cpu->cpuflag & MPC_CPU_ENABLED);
			if (cpu->cpuflag & MPC_CPU_BOOTPROCESSOR)
				s->bsps++, s->bsp_apic = cpu->apicid;
			s->dup_apic |= seen[cpu->apicid]++ != 0;
		} else if (*p == MP_IOAPIC) {
			s->ioapics++;
			s->ioapic_addr = ((const struct mpc_ioapic *)p)->apicaddr;
		}
		p += len;
	}
	return s->entries == t->oemcount;
}

static void check_mp_entries(const struct bs_ctx *c, const struct mpc_table *t)
{
	struct mp_summary s = { 0 };
	uint64_t want;
	bool ok = mp_walk(t, &s);
	bool have = cmdline_get_u64(c->gb->cmdline, "expect.cpus", &want);

	bs_check(ok, "mp: entries fill the table, count = oemcount",
	    "%u entries walked (stopped at type %u), oemcount %u, length %u",
	    s.entries, s.bad_type, t->oemcount, t->length);
	bs_check(have ? s.cpus == want : s.cpus >= 1,
	    "mp: processor entries = expect.cpus (or >= 1)",
	    "%u processor entries, expected %lu", s.cpus, have ? want : 1);
	bs_check(s.bsps == 1 && !s.disabled && !s.dup_apic,
	    "mp: one BSP, all CPUs enabled, unique APIC ids",
	    "%u BSPs, %u disabled, duplicate ids: %s", s.bsps, s.disabled,
	    s.dup_apic ? "yes" : "no");
	bs_check(s.bsps == 1 && s.bsp_apic == lapic_id(),
	    "mp: BSP APIC id = this CPU's LAPIC id",
	    "BSP apic id %u, LAPIC says %u", s.bsp_apic, lapic_id());
	bs_check(s.ioapics == 1 && s.ioapic_addr == IOAPIC_ADDR,
	    "mp: one IOAPIC at 0xfec00000", "%u IOAPICs, addr 0x%x", s.ioapics,
	    s.ioapic_addr);
}

void bs_check_mptable(const struct bs_ctx *c)
{
	uint64_t a = mp_find_mpf();
	const struct mpf_intel *f = phys(a);
	const struct mpc_table *t;

	bs_check(a, "mp: floating pointer found below 1 MiB", "no \"_MP_\"");
	if (!a)
		return;
	bs_check(!checksum8(f, 16) && f->length == 1 && f->specification == MP_SPEC_REV,
	    "mp: floating pointer checksum, length 1, spec 1.4",
	    "at 0x%lx: sum 0x%x length %u spec %u", a, checksum8(f, 16),
	    f->length, f->specification);
	t = phys(f->physptr);
	if (!f->physptr || f->physptr >= HIMEM_START ||
	    memcmp(t->signature, MPC_SIGNATURE, 4)) {
		bs_check(false, "mp: config table \"PCMP\"", "physptr 0x%x",
		    f->physptr);
		return;
	}
	bs_check(t->length >= sizeof(*t) && t->spec == MP_SPEC_REV &&
	    !checksum8(t, t->length) && t->lapic == LAPIC_ADDR,
	    "mp: config table PCMP, spec 1.4, checksum, lapic 0xfee00000",
	    "at 0x%x: length %u spec %u sum 0x%x lapic 0x%x", f->physptr,
	    t->length, t->spec, checksum8(t, t->length), t->lapic);
	check_mp_entries(c, t);
}
