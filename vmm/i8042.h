/*
 * i8042 keyboard controller, enough for Linux's i8042 probe and the
 * keyboard-controller reset (command 0xFE on port 0x64), which ends the VM.
 * No keyboard or mouse is attached.
 */
#ifndef VMM_I8042_H
#define VMM_I8042_H

#include <stdint.h>

struct i8042;

/* reset(opaque) is called when the guest pulses the reset line. */
struct i8042 *i8042_new(void (*reset)(void *opaque), void *opaque);
void i8042_free(struct i8042 *k);

/* port is I8042_DATA_PORT or I8042_CMD_PORT. */
uint8_t i8042_read(struct i8042 *k, uint16_t port);
void i8042_write(struct i8042 *k, uint16_t port, uint8_t val);

#endif
