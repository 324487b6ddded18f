/*
 * ipc/: the vhost-user protocol, both sides.
 *
 *  - vu_msg.c      framing: send/receive one message with its fds, and the
 *                  per-type validation every received message goes through.
 *  - vu_mem.c      the backend's memory table (regions mmap'd from the fds
 *                  of SET_MEM_TABLE) and THE guest-address translator of a
 *                  device process.
 *  - vu_frontend.c the frontend (used by the vmm and the host test driver).
 *  - vu_backend.c  the backend library: one connection, the message loop,
 *                  vring state, kick-fd polling; devices plug in by ops.
 *
 * Every function returns 0 (or a documented non-negative value) on success
 * and -errno on failure. Peers are hostile: a message that breaks the
 * protocol makes the call fail with -EPROTO and the connection is then
 * treated as dead by its user.
 */
#ifndef IPC_VU_H
#define IPC_VU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user.h"

/* ---------------------------------------------------------------- vu_msg */

/*
 * Send one message: header (flags gets VHOST_USER_VERSION or'ed in by the
 * caller's choice of flags), hdr.size payload bytes, and `nfds` fds from
 * msg->fds as SCM_RIGHTS. Retries EINTR; a short send is -EPIPE. A
 * non-blocking socket waits for room; a blocking one whose SO_SNDTIMEO
 * expires gives -ETIMEDOUT. Returns 0 or -errno.
 */
int vu_msg_send(int sock, const struct vhost_user_msg *msg);

/*
 * Receive one message: the header first, then its size is checked against
 * VHOST_USER_MAX_PAYLOAD before any payload byte is read, then the payload
 * (one read of exactly hdr.size). fds arrive with the header; more than
 * VHOST_USER_MAX_FDS, or a truncated control message, is -EPROTO.
 * Received fds are O_CLOEXEC. On any error every received fd is closed and
 * msg->nfds is 0. `timeout_ms` < 0 waits forever for the first byte; once
 * it has arrived the rest of the message (header and payload) must arrive
 * within VU_MSG_REST_MS (or the timeout, if that ends sooner), so a peer
 * that sends half a message cannot stall the caller. On timeout
 * -ETIMEDOUT. Peer closed before a header: -ECONNRESET. Returns 0 or
 * -errno.
 */
#define VU_MSG_REST_MS 5000
int vu_msg_recv(int sock, struct vhost_user_msg *msg, int timeout_ms);

/*
 * Validate a message a BACKEND received from a frontend: version bits are 1,
 * the reply bit is clear, request is known to us, hdr.size is exactly right
 * for the type (SET_MEM_TABLE: 8 + 32 * nregions with 1 <= nregions <= 8;
 * GET/SET_CONFIG: 12 + config.size with config.size <= 256 and
 * offset + size <= 256), and the fd count is exactly what the type carries
 * (SET_MEM_TABLE: nregions; SET_VRING_KICK/CALL/ERR: 0 when the NOFD bit is
 * set, else 1; every other implemented type: 0). A request number the
 * spec defines but we do not implement passes with any size up to the
 * maximum and up to VHOST_USER_MAX_FDS fds, so the backend can refuse it
 * (REPLY_ACK failure) instead of dropping the peer; request 0 and numbers
 * past the spec's list are -EPROTO. Vring indices are not range-checked
 * here (the device's queue count decides). Returns 0 or -EPROTO; does not
 * close fds (vu_msg_close_fds does).
 */
int vu_msg_check_request(const struct vhost_user_msg *msg);

/*
 * Validate a reply a FRONTEND received to request `request`: version 1,
 * reply bit set, same request number, exact size for the reply type
 * (u64 for GET_FEATURES/GET_PROTOCOL_FEATURES/GET_QUEUE_NUM/REPLY_ACK
 * replies and GET_MAX_MEM_SLOTS, vring_state for GET_VRING_BASE, 12 +
 * `config_size` for GET_CONFIG with matching offset/size), and no fds.
 * Returns 0 or -EPROTO.
 */
int vu_msg_check_reply(const struct vhost_user_msg *msg, uint32_t request,
    uint32_t config_size);

/* Close every fd a message holds and set nfds to 0. */
void vu_msg_close_fds(struct vhost_user_msg *msg);

/* The spec's name of a request ("SET_MEM_TABLE"), or "UNKNOWN". */
const char *vu_request_name(uint32_t request);

/* ---------------------------------------------------------------- vu_mem */

struct vu_mem_region {
	uint64_t gpa;            /* guest_phys_addr */
	uint64_t size;           /* memory_size */
	uint64_t qva;            /* frontend's userspace_addr */
	uint64_t mmap_offset;
	uint8_t *host;           /* our mapping of [gpa, gpa+size) */
	void *map_base;          /* what mmap returned (for munmap) */
	size_t map_len;
};

struct vu_mem {
	unsigned nregions;
	struct vu_mem_region r[VHOST_USER_MAX_REGIONS];
};

/*
 * THE translator of a device process: host pointer for the guest-physical
 * range [gpa, gpa+len) when the whole range lies inside one region
 * (checked with __builtin_add_overflow), else NULL. len 0 is treated as 1.
 * Every access to guest memory by a device process goes through this.
 */
void *vu_mem_ptr(const struct vu_mem *mem, uint64_t gpa, uint64_t len);

/*
 * The same translator for a range that may continue in a guest-physically
 * adjacent region: host pointer for gpa and, in *got, how many bytes of
 * [gpa, gpa+len) are contiguous there (len when the whole range lies in
 * gpa's region, else up to that region's end; the caller translates the
 * rest at gpa + *got). NULL (and *got 0) when gpa is in no region or
 * gpa + len overflows. len 0 is treated as 1. vu_mem_ptr is this with
 * *got == len required.
 */
void *vu_mem_ptr_prefix(const struct vu_mem *mem, uint64_t gpa, uint64_t len,
    uint64_t *got);

/*
 * Convert a frontend user address range [qva, qva+len) (SET_VRING_ADDR) to
 * a guest-physical address: the whole range must lie in one region.
 * Returns 0 and *gpa, or -EFAULT.
 */
int vu_mem_qva_to_gpa(const struct vu_mem *mem, uint64_t qva, uint64_t len,
    uint64_t *gpa);

/*
 * Replace the table with the regions of a validated SET_MEM_TABLE message:
 * each fd is mmap'd MAP_SHARED read/write at its mmap_offset (regions that
 * overlap in guest-physical space, have size 0 or whose ends overflow are
 * -EINVAL, and nothing changes). Takes ownership of the fds (closes them
 * after mapping, or on error). The old table is unmapped on success.
 */
int vu_mem_set_table(struct vu_mem *mem, const struct vhost_user_memory *m,
    const int *fds, unsigned nfds);

/* Unmap every region. */
void vu_mem_clear(struct vu_mem *mem);

/* ----------------------------------------------------------- vu_frontend */

struct vu_front {
	int sock;                    /* -1 when closed */
	uint64_t features;           /* what GET_FEATURES returned */
	uint64_t protocol_features;  /* negotiated (ours & theirs) */
	int timeout_ms;              /* reply timeout (default 5000) */
	bool broken;                 /* a call failed: the peer is not trusted */
	char name[64];               /* for messages, e.g. "vda" */
	char why[128];               /* the first failure, "GET_CONFIG: no reply
	                              * in time"; "" while none (nothing is
	                              * printed: the caller reports it) */
};

/* Protocol features our frontend asks for. */
#define VU_FRONT_PROTOCOL_FEATURES \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | \
	 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG))

/* Wrap a connected socket (ownership passes to f). */
void vu_front_init(struct vu_front *f, int sock, const char *name);

/* Connect to a listening backend at `path` (AF_UNIX stream), waiting up to
 * timeout_ms for it to appear/accept (missing socket, ECONNREFUSED and a
 * full backlog are retried; the connect itself never blocks). Returns the
 * (blocking) socket or the last -errno. */
int vu_front_connect_path(const char *path, int timeout_ms);

/*
 * The start-up handshake: SET_OWNER, GET_FEATURES, and when the backend
 * offers VHOST_USER_F_PROTOCOL_FEATURES: GET_PROTOCOL_FEATURES,
 * SET_PROTOCOL_FEATURES(theirs & VU_FRONT_PROTOCOL_FEATURES). Fills
 * f->features and f->protocol_features.
 */
int vu_front_handshake(struct vu_front *f);

/* Single messages. With REPLY_ACK negotiated, messages without a reply are
 * sent with NEED_REPLY and the ack's u64 (0 = success) is checked. Sending
 * and the reply each wait at most f->timeout_ms. Any failure sets
 * f->broken and f->why (nothing is printed); once broken every call
 * returns -EPIPE. */
int vu_front_get_features(struct vu_front *f, uint64_t *features);
int vu_front_set_features(struct vu_front *f, uint64_t features);
int vu_front_get_protocol_features(struct vu_front *f, uint64_t *pf);
int vu_front_set_protocol_features(struct vu_front *f, uint64_t pf);
int vu_front_set_owner(struct vu_front *f);
int vu_front_reset_owner(struct vu_front *f);
int vu_front_get_queue_num(struct vu_front *f, uint64_t *num);
/* regions[i] is sent with fds[i]; n <= VHOST_USER_MAX_REGIONS. */
int vu_front_set_mem_table(struct vu_front *f,
    const struct vhost_user_memory_region *regions, const int *fds, unsigned n);
int vu_front_set_vring_num(struct vu_front *f, unsigned idx, unsigned num);
int vu_front_set_vring_addr(struct vu_front *f, unsigned idx, uint64_t desc_qva,
    uint64_t avail_qva, uint64_t used_qva);
int vu_front_set_vring_base(struct vu_front *f, unsigned idx, unsigned base);
int vu_front_get_vring_base(struct vu_front *f, unsigned idx, unsigned *base);
/* fd < 0 sends the NOFD bit. The fd is not closed (the kernel dups it). */
int vu_front_set_vring_kick(struct vu_front *f, unsigned idx, int fd);
int vu_front_set_vring_call(struct vu_front *f, unsigned idx, int fd);
int vu_front_set_vring_err(struct vu_front *f, unsigned idx, int fd);
int vu_front_set_vring_enable(struct vu_front *f, unsigned idx, bool enable);
int vu_front_get_config(struct vu_front *f, uint32_t offset, void *buf, uint32_t len);
int vu_front_set_config(struct vu_front *f, uint32_t offset, const void *buf,
    uint32_t len);

/* Close the socket (safe to call twice). */
void vu_front_close(struct vu_front *f);

/* ----------------------------------------------------------- vu_backend */

/* A vring as the frontend configured it: what a device needs to start it. */
struct vu_vring_config {
	unsigned index;
	uint16_t num;                /* queue size (power of 2, <= max size) */
	uint16_t base;               /* SET_VRING_BASE: next avail index */
	uint64_t desc_gpa;           /* translated from the user addresses */
	uint64_t avail_gpa;
	uint64_t used_gpa;
	bool event_idx;              /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;               /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
};

struct vu_backend;

/* What a device plugs into the backend library. Called on the library's
 * (single) thread. `dev` is vu_backend_config.dev. */
struct vu_backend_ops {
	/* Fill `len` bytes of config space from `offset` (the library has
	 * checked offset + len <= 256; bytes past the device's config read 0).
	 * Optional (NULL: CONFIG protocol feature not offered). */
	int (*get_config)(void *dev, uint32_t offset, uint8_t *buf, uint32_t len);
	/* Features were set (SET_FEATURES), already checked against offered. */
	void (*set_features)(void *dev, uint64_t features);
	/* Start servicing a vring: translate its parts with vu_mem_ptr.
	 * Returns 0, or -errno (the ring stays stopped; the library logs). */
	int (*queue_start)(void *dev, struct vu_backend *b,
	    const struct vu_mem *mem, const struct vu_vring_config *cfg);
	/* Stop a vring; return the next avail index to resume from
	 * (GET_VRING_BASE's answer). */
	uint16_t (*queue_stop)(void *dev, unsigned index);
	/* The vring's kick fd fired (already drained) and the ring is started
	 * and enabled: process available buffers. */
	void (*queue_kick)(void *dev, struct vu_backend *b, unsigned index);
	/* The device fd set with vu_backend_watch_fd is ready: `revents` as
	 * poll(2) reported it (within the events asked for, plus POLLERR /
	 * POLLHUP / POLLNVAL). Called after the kick fds of the same poll,
	 * before the socket. Optional (NULL: no device fd is ever polled). */
	void (*device_event)(void *dev, struct vu_backend *b, short revents);
};

struct vu_backend_config {
	const char *name;            /* for messages: "vmm-blk vda" */
	unsigned num_queues;         /* vrings the device has (GET_QUEUE_NUM) */
	uint16_t max_queue_size;     /* largest SET_VRING_NUM accepted */
	uint64_t features;           /* virtio features offered (VERSION_1 ...);
	                              * the library adds PROTOCOL_FEATURES */
	uint64_t protocol_features;  /* offered; MQ/REPLY_ACK/CONFIG typical */
	const struct vu_backend_ops *ops;
	void *dev;
};

/*
 * Serve one frontend on a connected socket until it disconnects (returns 0)
 * or breaks the protocol (returns -EPROTO after logging one line naming the
 * message and the reason). Every message goes through vu_msg_check_request
 * and then a per-type handler that checks values (vring index < num_queues,
 * num a power of 2 <= max_queue_size, features within the offered set,
 * ring addresses translatable and aligned, ...). A value error that the
 * spec lets a backend refuse gets a REPLY_ACK failure when REPLY_ACK is
 * negotiated and the frontend asked for it, else breaks the connection.
 * Stops every started vring before returning. The socket is not closed.
 */
int vu_backend_run(int sock, const struct vu_backend_config *cfg);

/* Signal the vring's call fd (used-buffer notification). No-op without one. */
void vu_backend_notify(struct vu_backend *b, unsigned index);

/* Ask the library to call queue_kick for this vring again soon, after it
 * has served the socket and the other rings (its poll does not wait while
 * a request is pending): a device that stops a long run of work with
 * buffers still pending uses it instead of waiting for a kick the driver
 * will not send. A library-internal flag (nothing is written to the
 * peer's kick fd); dropped when the ring stops, breaks or is not ready. */
void vu_backend_rekick(struct vu_backend *b, unsigned index);

/* Whether vring `index` is started, enabled (SET_VRING_ENABLE, when
 * PROTOCOL_FEATURES was acked), unbroken and has a kick fd: what a device
 * checks before it fills a ring from its own fd (a disabled ring must not
 * be used; the library calls queue_kick when it becomes ready). */
bool vu_backend_vring_ready(const struct vu_backend *b, unsigned index);

/* Poll one device fd (a net device's tap) alongside the socket and the
 * kick fds, for `events` (POLLIN and/or POLLOUT); events 0 stops polling
 * it (a device with nothing to do with the fd's data, such as a net
 * device without RX buffers, must stop, or the level-triggered poll
 * spins). Replaces the previous fd/events; a new connection starts with
 * none. ops->device_event is called when it is ready. The fd is not
 * owned (never closed by the library). No-op without device_event. */
void vu_backend_watch_fd(struct vu_backend *b, int fd, short events);

/* Signal the vring's err fd: the device found the ring broken (guest
 * error) and stopped it until the frontend restarts it (GET_VRING_BASE +
 * setup). Without an err fd yet, the signal is sent when SET_VRING_ERR
 * brings one. */
void vu_backend_ring_error(struct vu_backend *b, unsigned index);

#endif
