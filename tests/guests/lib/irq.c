/* IDT, dispatcher, local APIC, IOAPIC and 8259 masking (see irq.h). */
#include "guest.h"
#include "guest_layout_x86_64.h"

#define IDT_GATE_INTERRUPT 0x8e   /* present, DPL 0, 64-bit interrupt gate */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi, zero;
};
_Static_assert(sizeof(struct idt_gate) == 16, "idt gate");

extern const uint64_t irq_stub_table[IRQ_VECTORS];

static struct idt_gate idt[IRQ_VECTORS] __attribute__((aligned(16)));
static irq_handler_t handlers[IRQ_VECTORS];
static uint64_t counts[IRQ_VECTORS];

static const char *const exception_names[IRQ_FIRST_EXTERNAL] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
	"#TS", "#NP", "#SS", "#GP", "#PF", "res15", "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP", "res22", "res23", "res24", "res25", "res26", "res27",
	"#HV", "#VC", "#SX", "res31",
};

static void idt_set_gate(unsigned v, uint64_t addr)
{
	idt[v] = (struct idt_gate){
		.offset_lo = (uint16_t)addr, .selector = GSEL_CODE64,
		.type_attr = IDT_GATE_INTERRUPT, .offset_mid = (uint16_t)(addr >> 16),
		.offset_hi = (uint32_t)(addr >> 32),
	};
}

static void idt_load(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void irq_init(void)
{
	irq_disable();
	for (unsigned v = 0; v < IRQ_VECTORS; v++)
		idt_set_gate(v, irq_stub_table[v]);
	idt_load();
	pic_mask_all();
	lapic_enable();
}

void irq_register(unsigned vector, irq_handler_t h)
{
	GUEST_ASSERT(vector < IRQ_VECTORS);
	__atomic_store_n(&handlers[vector], h, __ATOMIC_SEQ_CST);
}

uint64_t irq_count(unsigned vector)
{
	return vector < IRQ_VECTORS ? __atomic_load_n(&counts[vector], __ATOMIC_RELAXED) : 0;
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* No handler: say what happened, on one line the tests can match, and end. */
__attribute__((noreturn)) static void irq_fatal(uint64_t vector,
    const struct irq_frame *f)
{
	console_force_unlock();   /* the faulting code may hold it */
	if (vector < IRQ_FIRST_EXTERNAL)
		gprintf("GUEST_ASSERT failed: exception %llu (%s) error 0x%llx at "
		    "rip 0x%llx (cs 0x%llx rflags 0x%llx rsp 0x%llx cr2 0x%llx)\n",
		    (unsigned long long)vector, exception_names[vector],
		    (unsigned long long)f->error_code, (unsigned long long)f->rip,
		    (unsigned long long)f->cs, (unsigned long long)f->rflags,
		    (unsigned long long)f->rsp, (unsigned long long)read_cr2());
	else
		gprintf("GUEST_ASSERT failed: unexpected interrupt vector %llu at "
		    "rip 0x%llx\n", (unsigned long long)vector,
		    (unsigned long long)f->rip);
	guest_reset();
}

void irq_dispatch(uint64_t vector, struct irq_frame *f)
{
	irq_handler_t h = vector < IRQ_VECTORS ? handlers[vector] : NULL;

	if (vector < IRQ_VECTORS)
		__atomic_fetch_add(&counts[vector], 1, __ATOMIC_RELAXED);
	if (vector == IRQ_SPURIOUS_VECTOR && !h)
		return;                  /* spurious: no EOI, by definition */
	if (!h)
		irq_fatal(vector, f);
	h(f);
	if (vector >= IRQ_FIRST_EXTERNAL && vector != IRQ_SPURIOUS_VECTOR)
		lapic_eoi();
}

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | IRQ_SPURIOUS_VECTOR);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_ADDR + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_ADDR + IOAPIC_WIN);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_ADDR + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_ADDR + IOAPIC_WIN, v);
}

unsigned ioapic_pins(void)
{
	return ((ioapic_read(IOAPIC_REG_VER) >> 16) & 0xff) + 1;
}

void ioapic_route(unsigned gsi, uint8_t vector, uint32_t flags)
{
	uint32_t reg = IOAPIC_REG_REDTBL + 2 * gsi;

	GUEST_ASSERT(gsi < ioapic_pins());
	GUEST_ASSERT(vector >= IRQ_FIRST_EXTERNAL);
	GUEST_ASSERT_EQ(flags & ~(IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW), 0);
	/* masked while the destination changes, unmasked by the last write */
	ioapic_write(reg, IOAPIC_MASKED);
	ioapic_write(reg + 1, lapic_id() << 24);
	ioapic_write(reg, vector | flags);   /* fixed delivery, physical dest */
}

void ioapic_mask(unsigned gsi, bool masked)
{
	uint32_t reg = IOAPIC_REG_REDTBL + 2 * gsi, lo;

	GUEST_ASSERT(gsi < ioapic_pins());
	lo = ioapic_read(reg) & ~IOAPIC_MASKED;
	ioapic_write(reg, lo | (masked ? IOAPIC_MASKED : 0));
}
