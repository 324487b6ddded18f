/*
 * The VM's device table and how the VM is asked to stop.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest_layout_x86_64.h"
#include "i8042.h"
#include "serial.h"
#include "vm.h"

static void
com1_read(struct vm *vm, uint16_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	data[0] = serial_read(vm->serial, off);
}

static void
com1_write(struct vm *vm, uint16_t off, const uint8_t *data, unsigned size)
{
	(void)size;
	serial_write(vm->serial, off, data[0]);
}

static void
i8042_data_read(struct vm *vm, uint16_t off, uint8_t *data, unsigned size)
{
	(void)off;
	memset(data, 0, size);
	data[0] = i8042_read(vm->i8042, I8042_DATA_PORT);
}

static void
i8042_data_write(struct vm *vm, uint16_t off, const uint8_t *data, unsigned size)
{
	(void)off;
	(void)size;
	i8042_write(vm->i8042, I8042_DATA_PORT, data[0]);
}

static void
i8042_cmd_read(struct vm *vm, uint16_t off, uint8_t *data, unsigned size)
{
	(void)off;
	memset(data, 0, size);
	data[0] = i8042_read(vm->i8042, I8042_CMD_PORT);
}

static void
i8042_cmd_write(struct vm *vm, uint16_t off, const uint8_t *data, unsigned size)
{
	(void)off;
	(void)size;
	i8042_write(vm->i8042, I8042_CMD_PORT, data[0]);
}

/* The explicit device table: port range -> device. Ports nobody claims
 * read as all-ones and drop writes (the PIC, PIT and port 0x61 are KVM's). */
static const struct pio_dev vm_pio_devices[] = {
	{ "com1", COM1_PORT, 8, com1_read, com1_write },
	{ "i8042-data", I8042_DATA_PORT, 1, i8042_data_read, i8042_data_write },
	{ "i8042-cmd", I8042_CMD_PORT, 1, i8042_cmd_read, i8042_cmd_write },
};

void
vm_pio(struct vm *vm, uint16_t port, uint8_t *data, unsigned size, int is_write)
{
	size_t i;

	for (i = 0; i < sizeof(vm_pio_devices) / sizeof(vm_pio_devices[0]); i++) {
		const struct pio_dev *d = &vm_pio_devices[i];
		uint16_t off = (uint16_t)(port - d->base);

		if (port < d->base || off >= d->len)
			continue;
		if (is_write)
			d->write(vm, off, data, size);
		else
			d->read(vm, off, data, size);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}

void
vm_mmio(struct vm *vm, uint64_t gpa, uint8_t *data, unsigned size, int is_write)
{
	uint64_t idx;

	if (gpa >= VIRTIO_MMIO_BASE) {
		idx = (gpa - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_WINDOW_SIZE;
		if (idx < vm->nvirtio && vm->virtio[idx] != NULL) {
			virtio_mmio_access(vm->virtio[idx],
			    (gpa - VIRTIO_MMIO_BASE) % VIRTIO_MMIO_WINDOW_SIZE, data, size,
			    is_write);
			return;
		}
	}
	if (!is_write)
		memset(data, 0xff, size);
}

void
vm_request_stop(struct vm *vm, enum vm_stop_reason why, const char *fmt, ...)
{
	int expected = VM_STOP_NONE;
	uint64_t one = 1;
	va_list ap;

	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)why))
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
		va_end(ap);
	}
	if (write(vm->stop_efd, &one, sizeof(one)) < 0) {
		/* eventfd cannot overflow with one write per VM */
	}
}
