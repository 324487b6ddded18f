/*
 * serial_echo: "serial_echo: ready", then echo every byte read from COM1
 * (polling LSR.DR); after a line "quit" print "serial_echo: bye" and reset.
 */
#include "guest.h"

void guest_main(const struct guest_boot *gb)
{
	char line[8];
	unsigned n = 0;

	(void)gb;
	gprintf("serial_echo: ready\n");
	for (;;) {
		char ch = serial_getc();

		serial_putc(ch);
		if (ch == '\r' || ch == '\n') {
			if (n == 4 && !memcmp(line, "quit", 4))
				break;
			n = 0;
		} else if (n < sizeof(line)) {
			line[n++] = ch;     /* a longer line is never "quit" */
		}
	}
	gprintf("serial_echo: bye\n");
}
