/*
 * boot_state: check from inside the guest what the boot protocol promised.
 * One C source, packaged as PVH ELF, plain ELF64 and bzImage. Prints one
 * TAP-like line per check ("ok N - name" / "not ok N - name: why"), then
 * "boot_state: all N checks passed" or "boot_state: M of N checks FAILED",
 * then resets. Optional cmdline tokens sharpen the checks:
 *   expect.mem_mib=M       total RAM in the memory map
 *   expect.cpus=N          CPU entries in the MP table
 *   expect.cmdline_len=L   strlen of the command line
 *   expect.initrd_size=S   an initramfs of S bytes was passed
 *   expect.initrd_magic=T  ... and it starts with the bytes T
 */
#include "guest.h"
#include "boot_state.h"
#include "bzimage.h"
#include "guest_layout_x86_64.h"

static int nchecks, nfailed;

void bs_check(bool ok, const char *name, const char *why, ...)
{
	va_list ap;

	nchecks++;
	if (ok) {
		gprintf("ok %d - %s\n", nchecks, name);
		return;
	}
	nfailed++;
	gprintf("not ok %d - %s: ", nchecks, name);
	va_start(ap, why);
	gvprintf(why, ap);
	va_end(ap);
	gprintf("\n");
}

/* ---- GDT descriptors ---- */

static uint64_t gdtr_base(const struct bs_ctx *c)
{
	uint64_t b;

	memcpy(&b, c->es->gdtr + 2, 8);
	return c->pvh ? (uint32_t)b : b;
}

static uint16_t gdtr_limit(const struct bs_ctx *c)
{
	uint16_t l;

	memcpy(&l, c->es->gdtr, 2);
	return l;
}

static uint64_t gdt_desc(const struct bs_ctx *c, uint64_t sel)
{
	uint64_t idx = sel & ~7ull;

	if (idx == 0 || idx + 7 > gdtr_limit(c))
		return 0;
	return *(const uint64_t *)phys(gdtr_base(c) + idx);
}

/* Flat: base 0, limit 0xfffff with G=1, present, S=1. */
static bool desc_flat(uint64_t d)
{
	uint64_t base = ((d >> 16) & 0xffffff) | ((d >> 56) << 24);
	uint64_t limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);

	return !base && limit == 0xfffff && (d >> 55 & 1) && (d >> 47 & 1) &&
	    (d >> 44 & 1);
}

static bool desc_code(uint64_t d, bool is64)
{
	bool l = d >> 53 & 1, db = d >> 54 & 1;

	return desc_flat(d) && (d >> 43 & 1) && (is64 ? l && !db : db && !l);
}

static bool desc_data(uint64_t d)
{
	return desc_flat(d) && !(d >> 43 & 1) && (d >> 41 & 1) && (d >> 54 & 1);
}

static void check_segments(const struct bs_ctx *c)
{
	const struct guest_entry_state *es = c->es;
	uint64_t want_cs = c->pvh ? BOOT_SEL_CODE32 : BOOT_SEL_CODE64;
	uint64_t cs = gdt_desc(c, es->cs);
	static const uint64_t gdt[BOOT_GDT_ENTRIES] = { 0, BOOT_GDT_CODE32,
	    BOOT_GDT_CODE64, BOOT_GDT_DATA, BOOT_GDT_TSS };
	uint64_t base = gdtr_base(c);
	const uint64_t *boot_gdt = phys(BOOT_GDT_ADDR);
	int bad = -1;

	bs_check(base == BOOT_GDT_ADDR &&
	    gdtr_limit(c) >= BOOT_GDT_ENTRIES * 8 - 1, "gdtr: boot GDT at 0x500",
	    "base 0x%lx limit 0x%x", base, gdtr_limit(c));
	for (int i = 0; i < BOOT_GDT_ENTRIES && base == BOOT_GDT_ADDR; i++)
		if (boot_gdt[i] != gdt[i] && bad < 0)
			bad = i;
	bs_check(base == BOOT_GDT_ADDR && bad < 0, "gdt: boot descriptors",
	    "entry %d is 0x%lx, want 0x%lx", bad,
	    bad < 0 ? 0 : boot_gdt[bad],
	    bad < 0 ? 0 : gdt[bad]);
	bs_check(es->cs == want_cs && desc_code(cs, !c->pvh),
	    c->pvh ? "cs: selector 0x08, flat 32-bit code" :
	    "cs: selector 0x10, 64-bit code", "cs 0x%lx descriptor 0x%lx",
	    es->cs, cs);
	bs_check(es->ds == BOOT_SEL_DATA && es->es == BOOT_SEL_DATA &&
	    es->ss == BOOT_SEL_DATA && desc_data(gdt_desc(c, es->ds)) &&
	    desc_data(gdt_desc(c, es->ss)), "ds/es/ss: selector 0x18, flat data",
	    "ds 0x%lx es 0x%lx ss 0x%lx, ds descriptor 0x%lx", es->ds, es->es,
	    es->ss, gdt_desc(c, es->ds));
}

/* ---- entry registers ---- */

static void check_entry_pvh(const struct bs_ctx *c)
{
	const struct guest_entry_state *es = c->es;

	bs_check(es->rbx == PVH_INFO_ADDR, "ebx = hvm_start_info (0x6000)",
	    "ebx 0x%lx", es->rbx);
	bs_check(!(es->rflags & ((1 << 9) | (1 << 8) | (1 << 17))),
	    "eflags: IF, TF, VM clear", "eflags 0x%lx", es->rflags);
	bs_check((es->cr0 & ~(uint64_t)CR0_ET) == CR0_PE,
	    "cr0: PE set, paging and all other writable bits clear",
	    "cr0 0x%lx", es->cr0);
	bs_check(es->cr4 == 0, "cr4: all bits clear", "cr4 0x%lx", es->cr4);
	bs_check(!(es->efer & (EFER_LME | EFER_LMA)), "efer: LME, LMA clear",
	    "efer 0x%lx", es->efer);
}

static void check_entry_long(const struct bs_ctx *c)
{
	const struct guest_entry_state *es = c->es;
	uint64_t need0 = CR0_PE | CR0_PG;

	bs_check(es->rsi == ZERO_PAGE_ADDR, "rsi = zero page (0x7000)",
	    "rsi 0x%lx", es->rsi);
	bs_check(!(es->rflags & ((1 << 9) | (1 << 8))), "rflags: IF, TF clear",
	    "rflags 0x%lx", es->rflags);
	bs_check((es->cr0 & need0) == need0, "cr0: PE and PG set", "cr0 0x%lx",
	    es->cr0);
	bs_check(es->cr4 & CR4_PAE, "cr4: PAE set", "cr4 0x%lx", es->cr4);
	bs_check((es->efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	    "efer: LME and LMA set", "efer 0x%lx", es->efer);
}

/* ---- page tables ---- */

#define PTE_ADDR 0x000ffffffffff000ull

/* Translate va through the 4-level tables at cr3; ~0 when not mapped. */
static uint64_t pt_walk(uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & PTE_ADDR;

	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = ((const uint64_t *)phys(table))[(va >> shift) & 511];

		if (!(e & 1))
			return ~0ull;
		if (shift == 12 || (shift <= 30 && (e & 0x80))) {
			uint64_t mask = (1ull << shift) - 1;

			return ((e & PTE_ADDR) & ~mask) | (va & mask);
		}
		table = e & PTE_ADDR;
		if (table >= (uint64_t)GUEST_MAP_GIB << 30)
			return ~0ull;
	}
	return ~0ull;
}

static void check_paging(const struct bs_ctx *c)
{
	static const uint64_t probe[] = { 0, 0x7000, 0x9000, 0x100000,
	    0x200000, 0x3fffffff, 0x40000000, 0xbfffffff, 0xc0000000,
	    0xfee00000, 0xffffffff };
	uint64_t cr3 = c->es->cr3, bad = 0, got = 0;
	bool ok = true;

	bs_check((cr3 & PTE_ADDR) == BOOT_PML4_ADDR, "cr3 = 0x9000",
	    "cr3 0x%lx", cr3);
	for (unsigned i = 0; ok && i < sizeof(probe) / sizeof(probe[0]); i++) {
		got = pt_walk(cr3, probe[i]);
		if (got != probe[i])
			ok = false, bad = probe[i];
	}
	bs_check(ok, "page tables identity-map [0, 4 GiB)",
	    "va 0x%lx maps to 0x%lx", bad, got);
}

/* ---- command line ---- */

static const char *const known_expect[] = { "expect.mem_mib=",
	"expect.cpus=", "expect.cmdline_len=", "expect.initrd_size=",
	"expect.initrd_magic=" };

static bool expect_token_known(const char *tok, size_t len)
{
	for (unsigned i = 0; i < sizeof(known_expect) / sizeof(*known_expect); i++) {
		size_t kl = strlen(known_expect[i]);

		if (len > kl && !strncmp(tok, known_expect[i], kl))
			return true;
	}
	return false;
}

static void check_cmdline(const struct bs_ctx *c)
{
	const char *p = c->cmdline_ptr ? (const char *)phys(c->cmdline_ptr) : "";
	size_t len = c->cmdline_ptr ? strnlen(p, BOOT_CMDLINE_MAX) : 0;
	uint64_t want;
	size_t i;

	bs_check(c->cmdline_ptr == BOOT_CMDLINE_ADDR && len < BOOT_CMDLINE_MAX,
	    "cmdline at 0x20000, NUL-terminated", "ptr 0x%lx len %lu",
	    c->cmdline_ptr, (uint64_t)len);
	for (i = 0; i < len && p[i] >= 0x20 && p[i] < 0x7f; i++)
		;
	bs_check(i == len, "cmdline: printable ASCII", "byte %lu is 0x%x",
	    (uint64_t)i, (unsigned)(uint8_t)p[i]);
	if (cmdline_get_u64(p, "expect.cmdline_len", &want))
		bs_check(want == len, "cmdline length = expect.cmdline_len",
		    "strlen %lu, expected %lu", (uint64_t)len, want);
	/* every expect.* token is one we know, with a value: typos fail */
	const char *bad = NULL;
	for (const char *t = p; *t; ) {
		while (*t == ' ')
			t++;
		const char *e = t;
		while (*e && *e != ' ')
			e++;
		if (!strncmp(t, "expect.", 7) && !expect_token_known(t, e - t) &&
		    !bad)
			bad = t;
		t = e;
	}
	bs_check(!bad, "cmdline: every expect.* token known and valued",
	    "bad token at \"%s\"", bad ? bad : "");
}

void guest_main(const struct guest_boot *gb)
{
	struct bs_ctx c = {
		.gb = gb,
		.es = gb->entry,
		.pvh = gb->entry->path == ENTRY_PATH_PVH32,
	};
	static const char *const kinds[] = { "?", "elf", "pvh", "bzImage" };

	gprintf("# boot_state: packaged as %s, cmdline \"%s\"\n",
	    kinds[gb->kind <= 3 ? gb->kind : 0], gb->cmdline);
	bs_check((gb->kind == GUEST_KIND_PVH) == c.pvh,
	    "entered through the entry point of this packaging",
	    "packaged as %s but entered via %s", kinds[gb->kind <= 3 ? gb->kind : 0],
	    c.pvh ? "pvh_start32" : "the 64-bit entry");
	if (c.pvh) {
		check_entry_pvh(&c);
		check_segments(&c);
		bs_check_start_info(&c);
	} else {
		check_entry_long(&c);
		check_segments(&c);
		check_paging(&c);
		bs_check_zero_page(&c);
	}
	check_cmdline(&c);
	bs_check_memmap(&c);
	bs_check_initrd(&c);
	bs_check_mptable(&c);
	if (nfailed)
		gprintf("boot_state: %d of %d checks FAILED\n", nfailed, nchecks);
	else
		gprintf("boot_state: all %d checks passed\n", nchecks);
}
