/* hello: one '!' on COM1, then reset. The benchmark's minimal guest. */
#include "guest.h"

void guest_main(const struct guest_boot *gb)
{
	(void)gb;
	serial_putc('!');
}
