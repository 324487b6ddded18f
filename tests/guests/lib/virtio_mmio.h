/*
 * A minimal virtio-mmio (virtio 1.2, 4.2, version 2 registers) driver for
 * the selftest guests: find the devices the vmm put on the command line
 * (`virtio_mmio.device=4K@0xADDR:IRQ`, in order), initialize one per 3.1.1,
 * set up queue 0 as a split ring (2.7) in static guest memory, post chains,
 * kick by writing QueueNotify and wait for the used ring BY INTERRUPT: the
 * device's IRQ goes through the IOAPIC (edge, as the MP table says) to a
 * vector whose handler only counts; completion is read from the used ring,
 * so after setup a request touches no device register but QueueNotify.
 * Also the virtio-blk request helpers and THE test-disk pattern.
 *
 * Named virtio_mmio.h, not virtio.h: include/virtio.h (the shared spec
 * header, found first through -Iinclude) owns that name.
 */
#ifndef GUEST_VIRTIO_MMIO_H
#define GUEST_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

#define VMMIO_MAX_DEVICES 7
#define VMMIO_QUEUE_SIZE  16        /* entries we use (<= QueueNumMax) */
#define VMMIO_FIRST_VECTOR 0x30     /* device i interrupts on vector 0x30 + i */
#define VMMIO_TIMER_VECTOR 0x2f     /* watchdog tick (LAPIC timer) */

struct vmmio_dev {
	unsigned index;             /* position on the command line */
	uint64_t base;              /* MMIO window (identity mapped) */
	unsigned gsi;               /* IOAPIC pin */
	uint64_t device_features;   /* what the device offered */
	uint64_t features;          /* what we negotiated */
	uint16_t num;               /* queue 0 size in use */
	uint16_t avail_idx;         /* our shadow of avail->idx */
	uint16_t last_used;         /* used->idx we have consumed up to */
	uint16_t kick_old;          /* avail idx at the previous kick decision */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint8_t *scratch;           /* per-device request header/status memory */
	volatile uint64_t irqs;     /* interrupts taken on this device's vector */
	uint64_t irqs_at_publish;   /* irqs when the last chain was published */
	volatile uint32_t isr_seen; /* InterruptStatus bits the handler acked */
};

/* One buffer of a chain: guest-physical address, length, device-writable. */
struct vmmio_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/* Parse every `virtio_mmio.device=SIZE@ADDR:IRQ` token of cmdline, in
 * order, into devs[0..max-1] (index, base, gsi; nothing else touched).
 * Returns the number found; a malformed token ends the guest with a
 * GUEST_ASSERT line. */
unsigned vmmio_find(const char *cmdline, struct vmmio_dev *devs, unsigned max);

/* Set up the guest side once: irq_init() must have run. Starts the watchdog
 * tick (LAPIC timer, periodic) that lets waits time out. ack_in_isr makes
 * the interrupt handler read and acknowledge InterruptStatus, which a
 * level-triggered virtio-mmio (QEMU's own) needs to drop its line; off for
 * our vmm, whose irqfd needs no ack (and whose exits we count). */
void vmmio_setup(bool ack_in_isr);

/* Check MagicValue, Version 2 and DeviceID == device_id; false (with a
 * reason printed under prefix) otherwise. */
bool vmmio_probe(struct vmmio_dev *d, uint32_t device_id, const char *prefix);

/* Initialize per 3.1.1: reset (and wait for Status 0), ACKNOWLEDGE,
 * DRIVER, features = offered & want (VERSION_1 must be offered and is
 * always in want), FEATURES_OK (checked), queue 0 of VMMIO_QUEUE_SIZE
 * entries in this device's static ring memory (zeroed), QueueReady,
 * DRIVER_OK. Routes the IRQ (gsi -> vector 0x30 + index, edge). Returns 0,
 * or -1 with the reason printed under prefix. */
int vmmio_init(struct vmmio_dev *d, uint64_t want, const char *prefix);

/* vmmio_init in two halves, for a driver that sets up its own queues
 * (virtio_net: queues 0 and 1) in between. _begin: reset, ACKNOWLEDGE,
 * DRIVER, features and FEATURES_OK (as vmmio_init; 0 or -1 with FAILED set
 * and the reason printed). _end: route the IRQ (gsi -> vector 0x30 + index,
 * edge; the handler counts d->irqs) and set DRIVER_OK. */
int vmmio_init_begin(struct vmmio_dev *d, uint64_t want, const char *prefix);
void vmmio_init_end(struct vmmio_dev *d);

/* Write 0 to Status and wait until it reads 0 (2.4.2). */
void vmmio_reset(struct vmmio_dev *d);

static inline bool vmmio_has(const struct vmmio_dev *d, unsigned bit)
{
	return (d->features >> bit) & 1;
}

/* Register access (32-bit, as 4.2.2 requires for the control registers). */
uint32_t vmmio_read(const struct vmmio_dev *d, uint32_t reg);
void vmmio_write(const struct vmmio_dev *d, uint32_t reg, uint32_t v);
/* 64-bit device-config field at offset off (config generation checked). */
uint64_t vmmio_config64(const struct vmmio_dev *d, uint32_t off);

/* Fill descriptors 0..n-1 with bufs as one chain (head 0). */
void vmmio_chain(struct vmmio_dev *d, const struct vmmio_buf *bufs, unsigned n);
/* Put head in the next avail slot and publish avail->idx (barriers
 * included); with EVENT_IDX first sets used_event so the next used entry
 * interrupts. No kick. */
void vmmio_publish(struct vmmio_dev *d, uint16_t head);
/* Kick queue 0 if the device asked for it (avail_event with EVENT_IDX,
 * else VIRTQ_USED_F_NO_NOTIFY); force kicks regardless. */
void vmmio_kick(struct vmmio_dev *d, bool force);
/* Wait (hlt, by interrupt) until used->idx passes last_used, then consume
 * one used element into *e. Returns 0, or -1 after timeout_ms (watchdog). */
int vmmio_wait_used(struct vmmio_dev *d, struct virtq_used_elem *e, uint64_t timeout_ms);
/* vmmio_chain + publish + kick + wait; asserts the used id is head 0. */
int vmmio_run_chain(struct vmmio_dev *d, const struct vmmio_buf *bufs, unsigned n,
    uint32_t *used_len);

/* Wait (hlt; Status re-read on every interrupt or tick) until Status has
 * DEVICE_NEEDS_RESET; returns the InterruptStatus seen then (already
 * acknowledged), or -1 after timeout_ms. Does MMIO reads: not for the
 * exit-counted data path. */
int64_t vmmio_wait_needs_reset(struct vmmio_dev *d, uint64_t timeout_ms);

/* Milliseconds since vmmio_setup, from the TSC (assumes <= 4 GHz like
 * delay_us, so timeouts are at least what they say). */
uint64_t vmmio_now_ms(void);

/* virtio-blk: one request of type at sector with a data buffer of len bytes
 * (device-writable for IN and GET_ID, readable for OUT, none when len is
 * 0). Returns the status byte, or -1 when the request did not complete; the
 * used length goes to *used_len when not NULL. */
int vmmio_blk_req(struct vmmio_dev *d, uint32_t type, uint64_t sector, void *buf,
    uint32_t len, uint32_t *used_len);

/* THE pattern: byte o of sector s of disk number disk is
 * (uint8_t)(s * 13 + o * 7 + disk * 101 + 1). Fill / check nsect sectors
 * starting at sector; buf must be 8-byte aligned. Check returns the byte
 * offset of the first mismatch, or -1. */
void blk_pattern_fill(void *buf, uint64_t sector, unsigned nsect, unsigned disk);
long blk_pattern_check(const void *buf, uint64_t sector, unsigned nsect, unsigned disk);
static inline uint8_t blk_pattern_byte(uint64_t s, unsigned o, unsigned disk)
{
	return (uint8_t)(s * 13 + o * 7 + disk * 101 + 1);
}
/* Zero len bytes (a multiple of 8, 8-byte aligned) a word at a time. */
void blk_zero(void *buf, uint64_t len);

#endif
