/*
 * i8042 controller model: status/command port 0x64, data port 0x60.
 * Commands: 0x20 read CTR, 0x60 write CTR, 0xA7/0xA8 aux off/on, 0xA9 aux
 * test, 0xAA self test, 0xAB kbd test, 0xAD/0xAE kbd off/on, 0xD1 write
 * output port (bit 0 clear = reset), 0xFE pulse reset. Everything else is
 * ignored. Single-byte output buffer; no interrupts (nothing is attached).
 */
#include <pthread.h>
#include <stdlib.h>

#include "guest_layout_x86_64.h"
#include "i8042.h"

#define I8042_STR_OBF   0x01
#define I8042_STR_SYS   0x04
#define I8042_STR_CMD   0x08
#define I8042_CTR_DEFAULT 0x47 /* kbd irq, sys flag, translate */

struct i8042 {
	pthread_mutex_t lock;
	void (*reset)(void *opaque);
	void *opaque;
	uint8_t ctr;
	uint8_t out;        /* output buffer */
	int out_full;
	uint8_t pending_cmd;/* command waiting for its data byte, or 0 */
	uint8_t status_cmd; /* last write was to the command port */
};

struct i8042 *
i8042_new(void (*reset)(void *), void *opaque)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	k->reset = reset;
	k->opaque = opaque;
	k->ctr = I8042_CTR_DEFAULT;
	return k;
}

void
i8042_free(struct i8042 *k)
{
	if (k == NULL)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static void
i8042_put(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->out_full = 1;
}

/* Returns 1 when the command asks for a reset. Caller holds lock. */
static int
i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20: i8042_put(k, k->ctr); break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending_cmd = cmd;
		break;
	case 0xa9: case 0xab: i8042_put(k, 0x00); break; /* interface OK */
	case 0xaa: i8042_put(k, 0x55); break;            /* self test OK */
	case 0xfe: return 1;
	default: break;  /* 0xa7 0xa8 0xad 0xae and others: accepted */
	}
	return 0;
}

/* Data byte after a command that takes one. Returns 1 for a reset. */
static int
i8042_data(struct i8042 *k, uint8_t val)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case 0x60: k->ctr = val; break;
	case 0xd1: return (val & 1) == 0;   /* output port bit 0: CPU reset line */
	case 0xd2: case 0xd3: i8042_put(k, val); break; /* loop back */
	default: break;  /* writes to the (absent) keyboard or aux device */
	}
	return 0;
}

uint8_t
i8042_read(struct i8042 *k, uint16_t port)
{
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (port == I8042_CMD_PORT) {
		v = I8042_STR_SYS | (k->out_full ? I8042_STR_OBF : 0) |
		    (k->status_cmd ? I8042_STR_CMD : 0);
	} else {
		v = k->out;
		k->out_full = 0;
	}
	pthread_mutex_unlock(&k->lock);
	return v;
}

void
i8042_write(struct i8042 *k, uint16_t port, uint8_t val)
{
	int reset;

	pthread_mutex_lock(&k->lock);
	if (port == I8042_CMD_PORT) {
		k->status_cmd = 1;
		reset = i8042_command(k, val);
	} else {
		k->status_cmd = 0;
		reset = i8042_data(k, val);
	}
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset != NULL)
		k->reset(k->opaque);
}
