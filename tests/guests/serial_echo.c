/*
 * serial_echo: interrupt-driven echo on COM1. Routes IOAPIC pin COM1_IRQ
 * to a vector, enables the UART's received-data interrupt (IER bit 0, and
 * OUT2 in MCR, which gates the IRQ line on PCs) and sleeps in hlt; the ISR
 * drains RBR while LSR.DR and echoes each byte. There is no polling
 * fallback: without the interrupt the guest sleeps forever. Prints
 * "serial_echo: ready"; after a line "quit" prints "serial_echo: N rx
 * interrupts" and "serial_echo: bye", then resets.
 */
#include "guest.h"
#include "guest_layout_x86_64.h"

#define COM1_VECTOR 0x24
#define UART_RBR 0
#define UART_IER 1
#define UART_MCR 4
#define UART_LSR 5
#define IER_RDI  0x01
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT2 0x08
#define LSR_DR   0x01

static char line[8];
static unsigned line_len;
static volatile bool quit_seen;
static volatile uint64_t rx_irqs;

/* Track the current line; true once a line "quit" ends. */
static bool line_is_quit(char ch)
{
	if (ch == '\r' || ch == '\n') {
		bool q = line_len == 4 && !memcmp(line, "quit", 4);

		line_len = 0;
		return q;
	}
	if (line_len < sizeof(line))
		line[line_len++] = ch;      /* a longer line is never "quit" */
	return false;
}

static void com1_isr(struct irq_frame *f)
{
	(void)f;
	rx_irqs++;
	while (!quit_seen && (inb(COM1_PORT + UART_LSR) & LSR_DR)) {
		char ch = (char)inb(COM1_PORT + UART_RBR);

		serial_putc(ch);
		if (line_is_quit(ch)) {
			quit_seen = true;
			outb(COM1_PORT + UART_IER, 0);   /* ignore what follows */
		}
	}
}

void guest_main(const struct guest_boot *gb)
{
	(void)gb;
	irq_init();
	irq_register(COM1_VECTOR, com1_isr);
	ioapic_route(COM1_IRQ, COM1_VECTOR, 0);     /* ISA: edge, active high */
	outb(COM1_PORT + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	outb(COM1_PORT + UART_IER, IER_RDI);
	gprintf("serial_echo: ready\n");
	irq_disable();
	while (!quit_seen)
		wait_for_interrupt();
	gprintf("serial_echo: %llu rx interrupts\n", (unsigned long long)rx_irqs);
	gprintf("serial_echo: bye\n");
}
