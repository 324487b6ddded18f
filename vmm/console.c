#include <errno.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "serial.h"

static struct termios console_saved;
static int console_fd = -1;

void
console_restore(void)
{
	if (console_fd >= 0) {
		tcsetattr(console_fd, TCSANOW, &console_saved);
		console_fd = -1;
	}
}

void
console_raw(int fd)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, &console_saved) < 0)
		return;
	raw = console_saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR;  /* keep host-side newline handling */
	console_fd = fd;
	atexit(console_restore);
	tcsetattr(fd, TCSANOW, &raw);
}

int
console_pump(int fd, struct serial *s)
{
	uint8_t buf[SERIAL_RX_FIFO];
	size_t room = serial_rx_room(s);
	ssize_t n;

	if (room == 0)
		return 0;
	if (room > sizeof(buf))
		room = sizeof(buf);
	n = read(fd, buf, room);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	serial_rx_push(s, buf, (size_t)n);
	return 0;
}
