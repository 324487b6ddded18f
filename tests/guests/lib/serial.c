/* 16550 UART at COM1, polled: LSR.THRE before each byte out, LSR.DR in. */
#include "guest.h"
#include "guest_layout_x86_64.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_LSR 5
#define LSR_DR   0x01
#define LSR_THRE 0x20

void serial_putc(char c)
{
	unsigned spins = 0;

	/* bounded: a UART that never drains must not hang the guest */
	while (!(inb(COM1_PORT + UART_LSR) & LSR_THRE) && ++spins < 100000)
		cpu_relax();
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}

bool serial_can_read(void)
{
	return inb(COM1_PORT + UART_LSR) & LSR_DR;
}

char serial_getc(void)
{
	while (!serial_can_read())
		cpu_relax();
	return (char)inb(COM1_PORT + UART_RBR);
}
