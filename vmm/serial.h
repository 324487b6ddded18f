/*
 * 16550A UART on COM1 (0x3f8, IRQ 4). Guest output goes to an output fd
 * (stdout); bytes from the host (stdin) are queued with serial_rx_push().
 * Accessed from vCPU threads and the main thread: internally locked.
 */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#define SERIAL_RX_FIFO 64

struct serial;

/*
 * Create the UART; `out_fd` receives guest output; `irq` is raised through
 * raise_irq(opaque, level). room_efd (may be -1) is written whenever the
 * guest drains the receive FIFO, so the feeder can push more. NULL on ENOMEM.
 */
struct serial *serial_new(int out_fd, void (*raise_irq)(void *opaque, int level),
    void *opaque, int room_efd);

void serial_free(struct serial *s);

/* Register read/write at offset 0..7 from the base port. */
uint8_t serial_read(struct serial *s, unsigned off);
void serial_write(struct serial *s, unsigned off, uint8_t val);

/* Queue up to n host bytes for the guest; returns how many fit. */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t n);

/* Free space in the receive FIFO. */
size_t serial_rx_room(struct serial *s);

#endif
