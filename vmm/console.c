#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

/* A crash still gives the user their terminal back, then dies as it would:
 * SA_RESETHAND has put back the default action, and returning re-runs the
 * faulting instruction (nothing here needs more than the jail's profiles
 * allow: TCSETS/TCGETS on fd 0 and rt_sigreturn). */
static void
console_crash(int sig)
{
	(void)sig;
	console_restore();
}

static void
console_catch_crashes(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = console_crash;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void
console_raw(int fd)
{
	struct termios raw;
	pid_t fg;

	/* Not a terminal, or our controlling terminal while we are a
	 * background job (tcsetattr would stop us with SIGTTOU): leave it. */
	if (!isatty(fd) || tcgetattr(fd, &console_saved) < 0)
		return;
	fg = tcgetpgrp(fd);
	if (fg >= 0 && fg != getpgrp())
		return;
	raw = console_saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR;  /* keep host-side newline handling */
	console_fd = fd;
	atexit(console_restore);
	console_catch_crashes();
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
