/* cmocka: the 16550 model (vmm/serial.c) and the i8042 model (vmm/i8042.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "guest_layout_x86_64.h"
#include "i8042.h"
#include "serial.h"

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static int irq_level, irq_changes;

static void
fake_irq(void *opaque, int level)
{
	(void)opaque;
	irq_level = level;
	irq_changes++;
}

struct fixture {
	struct serial *s;
	int out[2];
};

static int
setup(void **state)
{
	static struct fixture f;

	assert_int_equal(pipe(f.out), 0);
	irq_level = 0;
	irq_changes = 0;
	f.s = serial_new(f.out[1], fake_irq, NULL, -1);
	assert_non_null(f.s);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	serial_free(f->s);
	close(f->out[0]);
	close(f->out[1]);
	return 0;
}

static void
test_output_goes_to_fd(void **state)
{
	struct fixture *f = *state;
	char buf[4] = { 0 };

	serial_write(f->s, RBR, 'o');
	serial_write(f->s, RBR, 'k');
	assert_int_equal(read(f->out[0], buf, 2), 2);
	assert_string_equal(buf, "ok");
	assert_int_equal(serial_read(f->s, LSR) & 0x60, 0x60); /* THRE | TEMT */
}

static void
test_rx_fifo_and_data_ready(void **state)
{
	struct fixture *f = *state;
	uint8_t big[SERIAL_RX_FIFO + 10];

	assert_int_equal(serial_read(f->s, LSR) & 1, 0);
	assert_int_equal(serial_rx_push(f->s, (const uint8_t *)"ab", 2), 2);
	assert_int_equal(serial_read(f->s, LSR) & 1, 1);
	assert_int_equal(serial_read(f->s, RBR), 'a');
	assert_int_equal(serial_read(f->s, RBR), 'b');
	assert_int_equal(serial_read(f->s, LSR) & 1, 0);
	memset(big, 'x', sizeof(big));
	assert_int_equal(serial_rx_push(f->s, big, sizeof(big)), SERIAL_RX_FIFO);
	assert_int_equal(serial_rx_room(f->s), 0);
}

static void
test_rx_interrupt(void **state)
{
	struct fixture *f = *state;

	serial_write(f->s, IER, 0x01);              /* RX data interrupt */
	assert_int_equal(irq_level, 0);
	assert_int_equal(serial_read(f->s, IIR) & 0x0f, 0x01); /* none pending */
	serial_rx_push(f->s, (const uint8_t *)"z", 1);
	assert_int_equal(irq_level, 1);
	assert_int_equal(serial_read(f->s, IIR) & 0x0f, 0x04);
	assert_int_equal(serial_read(f->s, RBR), 'z');
	assert_int_equal(irq_level, 0);
}

static void
test_thre_interrupt(void **state)
{
	struct fixture *f = *state;
	char c;

	serial_write(f->s, IER, 0x02);              /* enabling THRI raises it */
	assert_int_equal(irq_level, 1);
	assert_int_equal(serial_read(f->s, IIR) & 0x0f, 0x02);
	assert_int_equal(irq_level, 0);             /* reading IIR cleared it */
	serial_write(f->s, RBR, 'q');
	assert_int_equal(irq_level, 1);
	assert_int_equal(read(f->out[0], &c, 1), 1);
	serial_write(f->s, IER, 0);
	assert_int_equal(irq_level, 0);
}

static void
test_dlab_and_scratch(void **state)
{
	struct fixture *f = *state;

	serial_write(f->s, LCR, 0x83);
	serial_write(f->s, RBR, 0x01);              /* DLL, not output */
	serial_write(f->s, IER, 0x02);              /* DLM, not IER */
	assert_int_equal(serial_read(f->s, RBR), 0x01);
	assert_int_equal(serial_read(f->s, IER), 0x02);
	serial_write(f->s, LCR, 0x03);
	assert_int_equal(serial_read(f->s, IER), 0x00);
	assert_int_equal(irq_level, 0);
	serial_write(f->s, SCR, 0x5a);
	assert_int_equal(serial_read(f->s, SCR), 0x5a);
}

static void
test_loopback(void **state)
{
	struct fixture *f = *state;

	serial_write(f->s, MCR, 0x10 | 0x0a);       /* loop, RTS, OUT2 */
	assert_int_equal(serial_read(f->s, MSR) & 0xf0, 0x90); /* CTS, DCD */
	serial_write(f->s, RBR, 'L');
	assert_int_equal(serial_read(f->s, LSR) & 1, 1);
	assert_int_equal(serial_read(f->s, RBR), 'L');
	serial_write(f->s, MCR, 0x0b);
	assert_int_equal(serial_read(f->s, MSR), 0xb0);
}

static void
test_fifo_enable_reported(void **state)
{
	struct fixture *f = *state;

	serial_write(f->s, FCR, 0x07);
	assert_int_equal(serial_read(f->s, IIR) & 0xc0, 0xc0);
}

/* Clearing the RX FIFO (FCR bit 1) must tell the feeder there is room, or
 * a feeder that stopped reading stdin on a full FIFO would wait forever. */
static void
test_fifo_clear_signals_room(void **state)
{
	struct fixture *f = *state;
	uint8_t big[SERIAL_RX_FIFO];
	uint64_t cnt = 0;
	struct serial *s;
	int efd = eventfd(0, EFD_NONBLOCK);

	(void)f;
	assert_true(efd >= 0);
	s = serial_new(f->out[1], fake_irq, NULL, efd);
	memset(big, 'f', sizeof(big));
	assert_int_equal(serial_rx_push(s, big, sizeof(big)), SERIAL_RX_FIFO);
	assert_int_equal(serial_rx_room(s), 0);
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), -1);   /* nothing signalled yet */
	serial_write(s, FCR, 0x07);                           /* enable + clear RX/TX */
	assert_int_equal(serial_rx_room(s), SERIAL_RX_FIFO);
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_true(cnt >= 1);
	assert_int_equal(serial_read(s, LSR) & 1, 0);
	assert_int_equal(serial_rx_push(s, (const uint8_t *)"n", 1), 1);
	assert_int_equal(serial_read(s, RBR), 'n');           /* FIFO order restarts cleanly */
	serial_free(s);
	close(efd);
}

static int resets;

static void
fake_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

static void
test_i8042(void **state)
{
	struct i8042 *k = i8042_new(fake_reset, NULL);

	(void)state;
	resets = 0;
	assert_int_equal(i8042_read(k, I8042_CMD_PORT) & 1, 0);
	i8042_write(k, I8042_CMD_PORT, 0xaa);                /* self test */
	assert_int_equal(i8042_read(k, I8042_CMD_PORT) & 1, 1);
	assert_int_equal(i8042_read(k, I8042_DATA_PORT), 0x55);
	assert_int_equal(i8042_read(k, I8042_CMD_PORT) & 1, 0);
	i8042_write(k, I8042_CMD_PORT, 0x60);                /* write CTR */
	i8042_write(k, I8042_DATA_PORT, 0x65);
	i8042_write(k, I8042_CMD_PORT, 0x20);
	assert_int_equal(i8042_read(k, I8042_DATA_PORT), 0x65);
	assert_int_equal(resets, 0);
	i8042_write(k, I8042_CMD_PORT, 0xd1);                /* output port */
	i8042_write(k, I8042_DATA_PORT, 0x01);               /* reset line high */
	assert_int_equal(resets, 0);
	i8042_write(k, I8042_CMD_PORT, 0xd1);
	i8042_write(k, I8042_DATA_PORT, 0x00);               /* pulled low */
	assert_int_equal(resets, 1);
	i8042_write(k, I8042_CMD_PORT, 0xfe);
	assert_int_equal(resets, 2);
	i8042_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_output_goes_to_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fifo_and_data_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dlab_and_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_enable_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_clear_signals_room, setup, teardown),
		cmocka_unit_test(test_i8042),
	};

	return cmocka_run_group_tests_name("serial_i8042", tests, NULL, NULL);
}
