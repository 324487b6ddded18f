/*
 * The host side of the serial console: stdin in raw mode when it is a
 * terminal (restored on every exit path, including fatal signals), and the
 * pump that feeds stdin bytes to the guest's UART.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stddef.h>

struct serial;

/* If fd is a tty of which we are the foreground process group, save its
 * mode and switch it to raw; the saved mode is restored by
 * console_restore(), also registered with atexit() and run on crash
 * signals. */
void console_raw(int fd);

/* Restore the terminal saved by console_raw(); idempotent and
 * async-signal-safe. */
void console_restore(void);

/* Read what stdin has (at most the UART's free room) and queue it.
 * Returns 0, or -1 at EOF/error (stop polling stdin). */
int console_pump(int fd, struct serial *s);

#endif
