/* C side of the entry: find the command line, run guest_main, reset. */
#include "guest.h"
#include "bootparam_x86_64.h"
#include "guest_layout_x86_64.h"
#include "pvh_x86_64.h"

extern struct guest_entry_state guest_entry;

static const char *find_cmdline(void)
{
	uint64_t p;

	if (guest_entry.path == ENTRY_PATH_PVH32) {
		const struct hvm_start_info *si = phys(guest_entry.rbx);

		p = si ? si->cmdline_paddr : 0;
	} else {
		const struct boot_params *bp = phys(guest_entry.rsi);

		p = bp ? bp->hdr.cmd_line_ptr |
		    (uint64_t)bp->ext_cmd_line_ptr << 32 : 0;
	}
	if (!p || p >= (uint64_t)GUEST_MAP_GIB << 30)
		return "";
	return phys(p);
}

void guest_c_start(void)
{
	struct guest_boot gb = {
		.kind = (int)guest_packaging,
		.entry = &guest_entry,
		.cmdline = find_cmdline(),
	};

	guest_main(&gb);
	guest_reset();
}

void guest_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_reset(void)
{
	outb(I8042_CMD_PORT, I8042_CMD_RESET);
	guest_halt_forever();
}

void guest_assert_fail(const char *file, int line, const char *expr,
    const char *detail, uint64_t a, uint64_t b)
{
	if (detail)
		gprintf("GUEST_ASSERT failed at %s:%d: %s (0x%llx != 0x%llx)\n",
		    file, line, expr, (unsigned long long)a,
		    (unsigned long long)b);
	else
		gprintf("GUEST_ASSERT failed at %s:%d: %s\n", file, line, expr);
	guest_reset();
}

void guest_fail(const char *prefix, int line, const char *fmt, ...)
{
	va_list ap;

	gprintf("%s: not ok: line %d: ", prefix, line);
	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
	gprintf("\n");
	guest_reset();
}

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_ADDR + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_ADDR + reg, v);
}

void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * 4000;

	while (rdtsc() < end)
		cpu_relax();
}

uint8_t checksum8(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return s;
}

static uint64_t mp_scan(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + 16 <= end; a += 16)
		if (!memcmp(phys(a), "_MP_", 4))
			return a;
	return 0;
}

uint64_t mp_find_mpf(void)
{
	uint64_t a = mp_scan(EBDA_START, 0xa0000);

	return a ? a : mp_scan(0xf0000, 0x100000);
}
