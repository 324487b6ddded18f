/*
 * build/vu-driver: a host program that is guest and vhost-user frontend at
 * once. Its "guest RAM" is a memfd mapped here and handed to the backend as
 * one region (guest-physical address 0 = offset 0 of the memfd); it lays
 * out split rings in that memory, submits virtio-blk requests, kicks the
 * kick eventfd and waits on the call eventfd. Modes: func (functional
 * checks), hostile (malformed descriptor tables), bench (latency / IOPS).
 *
 * Guest memory layout (offsets = guest-physical addresses):
 *   [0, 1 MiB)          DRV_RING_SLOTS ring slots of 64 KiB; a restarted
 *                       vring gets the next (zeroed) slot
 *   [1 MiB, 1.25 MiB)   per-request header (16 B) + status (1 B), 64 B each
 *   [1.25 MiB, 2 MiB)   indirect descriptor tables, 4 KiB each
 *   [2 MiB, end)        data buffers (hostile mode: the top DRV_SCRATCH
 *                       bytes are the scratch area hostile chains point at)
 */
#ifndef TESTS_DRIVER_DRV_H
#define TESTS_DRIVER_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"
#include "vu.h"

#define DRV_RING_SLOTS     16u
#define DRV_RING_SLOT_SIZE 0x10000ull
#define DRV_RING_AVAIL_OFF 0x4000ull   /* desc table: 16 KiB for 1024 */
#define DRV_RING_USED_OFF  0x6000ull
#define DRV_HDR_BASE       0x100000ull
#define DRV_HDR_STRIDE     64u
#define DRV_HDR_SLOTS      4096u
#define DRV_IND_BASE       0x140000ull
#define DRV_IND_STRIDE     0x1000u     /* 256 descriptors */
#define DRV_IND_SLOTS      192u
#define DRV_DATA_BASE      0x200000ull
#define DRV_SCRATCH        (8ull << 20)
#define DRV_MAX_QUEUE      1024u

/* Command-line options of every mode. */
struct drv_opts {
	const char *mode;
	const char *socket;
	uint64_t mem_bytes;
	int timeout_ms;          /* vhost-user replies and request waits */
	unsigned queue_size;
	bool no_event_idx;
	bool no_indirect;
	/* func */
	uint64_t disk_size;      /* 0: not given */
	unsigned disk_index;
	bool read_only;
	const char *id;
	bool features_report;
	/* hostile */
	uint64_t seed;
	uint64_t count;
	bool corpus;
	unsigned good_every;
	int hostile_wait_ms;
	/* bench */
	const char *rw;
	uint32_t bs;
	unsigned qd;
	double seconds;
	double warmup;
	int backend_pid;         /* 0: not given */
	unsigned poll_us;
	/* net modes (net.h) */
	const char *peer_if;     /* tap interface the AF_PACKET peer binds */
	const char *tap;         /* tap-direct: the tap to open */
	bool mrg_rxbuf;
	uint32_t rx_buf_size;    /* 0: default */
	const char *offloads;    /* none | csum | tso */
	const char *dir;         /* net-bench: tx | rx */
	uint32_t frame_size;     /* net-bench: frame bytes after the header */
	double nobuf_seconds;    /* net-hostile: the no-RX-buffers phase */
};

/* The driver's view of one split virtqueue in its memory. */
struct drv_vq {
	unsigned num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t avail_idx;      /* shadow of avail->idx */
	uint16_t kicked_idx;     /* avail idx at the last kick decision */
	uint16_t last_used;      /* next used entry to read */
	bool event_idx;
	unsigned index;          /* vring index (blk: 0; net: RX 0, TX 1) */
	unsigned ring_slot;      /* ring slot the current layout uses */
	int kick_fd, call_fd, err_fd;
};

#define DRV_MAX_VQS 2u

struct drv {
	const struct drv_opts *o;
	struct vu_front f;
	int memfd;
	uint8_t *mem;
	uint64_t mem_size;
	uint64_t offered;        /* GET_FEATURES */
	uint64_t acked;          /* SET_FEATURES */
	uint64_t queue_num;      /* GET_QUEUE_NUM (1 without MQ) */
	struct virtio_blk_config cfg;
	bool have_cfg;
	unsigned ring_starts;    /* ring slots handed out so far */
	unsigned nvqs;           /* vrings drv_start sets up (1; net: 2) */
	/* vq is vring 0 (all blk modes use only it); vqs[i] is vring i. Each
	 * has its own kick, call and err eventfds (made by drv_open). */
	union {
		struct drv_vq vq;
		struct drv_vq vqs[DRV_MAX_VQS];
	};
	uint64_t kicks, calls;
};

/* A segment of a request chain: guest address, length, device-writable. */
struct drv_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* One virtio-blk request as func/hostile build it (one at a time or in
 * small batches; `slot` picks the header/status/indirect slot). */
struct drv_req {
	uint32_t type;
	uint64_t sector;
	uint64_t data_gpa;
	uint32_t data_len;
	unsigned nseg;           /* data segments (data_len split evenly) */
	bool data_write;         /* data is device-writable (IN, GET_ID) */
	bool indirect;
	unsigned slot;
	/* results */
	uint8_t status;
	uint32_t used_len;
};

/* ---- dev.c: memory, connection, vring setup ---- */

/* Print `vu-driver: what: strerror(-rc)` on stderr; returns rc. */
int drv_err(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The functional modes' check lines, counted in t: "ok NAME", "not ok
 * NAME: why" (fmt), "ok NAME: skip: why". */
struct drv_tally {
	unsigned checks, failed;
};
void drv_check(struct drv_tally *t, const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void drv_skip(struct drv_tally *t, const char *name, const char *why);

/* utime + stime in seconds, from a /proc/.../stat file (drv_stat_cpu_s)
 * or of process pid (drv_proc_cpu_s; 0: none); < 0 when unreadable. */
double drv_stat_cpu_s(const char *path);
double drv_proc_cpu_s(int pid);

/* Host pointer of our own guest range [gpa, gpa+len); aborts when outside
 * RAM (a driver bug, never backend input). */
void *drv_ptr(const struct drv *d, uint64_t gpa, uint64_t len);

/* Create the memfd RAM and eventfds, connect to o->socket and run the
 * handshake, GET_QUEUE_NUM (MQ) and GET_CONFIG (CONFIG). Prints one error
 * line naming the step; returns 0 or -errno. */
int drv_open(struct drv *d, const struct drv_opts *o);

/* Features this driver acks out of `offered` (device bits 0-23, VERSION_1,
 * INDIRECT/EVENT_IDX unless disabled by options, PROTOCOL_FEATURES). */
uint64_t drv_pick_features(const struct drv *d);

/* SET_FEATURES(features), SET_MEM_TABLE (one region) and the setup of
 * vrings 0 .. d->nvqs-1 with o->queue_size entries. Returns 0 or -errno
 * (error printed). */
int drv_start(struct drv *d, uint64_t features);

/* Lay out vring `index` in the next ring slot (zeroed) and send
 * SET_VRING_NUM, ADDR, BASE(0), KICK, CALL, ERR and ENABLE (with
 * PROTOCOL_FEATURES). drv_vring_setup does it for vring 0. */
int drv_vring_setup_q(struct drv *d, unsigned index);
int drv_vring_setup(struct drv *d);

/* GET_VRING_BASE (stops the vring) then its setup with fresh ring
 * memory: what a driver does after the backend signalled the err fd.
 * drv_vring_restart does it for vring 0. *base (may be NULL) gets
 * GET_VRING_BASE's answer. */
int drv_vring_restart_q(struct drv *d, unsigned index, unsigned *base);
int drv_vring_restart(struct drv *d);

/* Whether the backend closed the connection (poll + MSG_PEEK). */
bool drv_peer_closed(const struct drv *d);

void drv_close(struct drv *d);

/* Monotonic time in nanoseconds. */
uint64_t drv_now_ns(void);

/* ---- ring.c: split ring, driver side ---- */

/* Put `head` in the next avail entry (not yet published). */
void drv_vq_add(struct drv_vq *q, uint16_t head);

/* Publish avail idx and kick when the device asked for it (EVENT_IDX
 * avail_event / VIRTQ_USED_F_NO_NOTIFY), or always when `force`.
 * drv_kick does it for vring 0. */
int drv_kick_q(struct drv *d, struct drv_vq *q, bool force);
int drv_kick(struct drv *d, bool force);

/* Take the next used element. Returns 1 with *id and *len set, 0 when none. */
int drv_vq_get_used(struct drv_vq *q, uint32_t *id, uint32_t *len);

/* The device's avail_event (EVENT_IDX: the avail idx it wants a kick at). */
uint16_t drv_vq_avail_event(const struct drv_vq *q);

/* Used entries not yet taken. */
uint16_t drv_vq_used_pending(const struct drv_vq *q);

/* Ask for a used-buffer notification from the next used entry on
 * (EVENT_IDX used_event, else clear VIRTQ_AVAIL_F_NO_INTERRUPT), with the
 * fence before the caller re-checks the used ring. */
void drv_vq_arm(struct drv_vq *q);

/* Wait until vring 0's used ring has something new: busy-poll `poll_us`,
 * then ask for a notification and poll the call fd, err fd and the
 * socket. Returns 0, -ETIMEDOUT, -EIO (err fd fired: ring broken) or
 * -ECONNRESET (backend closed the connection). */
int drv_wait_used(struct drv *d, unsigned poll_us, int timeout_ms);

/* ---- blk.c: virtio-blk requests ---- */

uint8_t drv_pattern(uint64_t sector, unsigned off, unsigned disk);
void drv_fill_pattern(uint8_t *buf, uint64_t sector, uint64_t nsect, unsigned disk);
/* First mismatching byte offset, or -1 when buf holds the pattern. */
int64_t drv_check_pattern(const uint8_t *buf, uint64_t sector, uint64_t nsect,
    unsigned disk);

/* Write the request's header, status byte (0xff) and descriptors, using
 * descriptors [first, first + nseg + 2) (or [first] and an indirect table
 * in slot `r->slot`). Returns the head index. */
uint16_t drv_req_build(struct drv *d, const struct drv_req *r, unsigned first);

/* Build at descriptor 0, submit, wait (timeout), take the used element
 * and fill r->status / r->used_len. Returns 0 or -errno (error printed). */
int drv_req_do(struct drv *d, struct drv_req *r);

/* Good write of pattern `disk` to [sector, sector+nsect) in `nseg` data
 * segments (through an indirect table when `indirect`), then a read back
 * compared with it. Returns 0, -EILSEQ (data/status wrong, printed) or
 * -errno. */
int drv_write_verify(struct drv *d, uint64_t sector, uint32_t nsect,
    unsigned disk, unsigned nseg, bool indirect);

/* ---- modes ---- */
int drv_func(const struct drv_opts *o);
int drv_hostile(const struct drv_opts *o);
int drv_bench(const struct drv_opts *o);

#endif
