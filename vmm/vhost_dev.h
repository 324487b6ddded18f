/*
 * A virtio-mmio device of the vmm whose queues a vhost-user backend serves:
 * either a device process the vmm spawns (vmm-blk or vmm-net over a
 * socketpair) or an external backend on a unix socket. One file per device
 * type (vhost_blk.c, vhost_net.c) says how to reach the backend and what
 * the config space holds; the rest is common (vhost_dev.c). The vmm keeps the register file
 * (virtio_mmio.c) and forwards the start/stop of the device over
 * vhost-user; guest kicks go to the backend through a KVM ioeventfd per
 * queue and its interrupts come back through one KVM irqfd, so I/O never
 * exits to the vmm. The main loop watches the backend (socket hang-up,
 * process exit, ring-error eventfds) and marks the device failed or
 * DEVICE_NEEDS_RESET; the vmm never exits because a backend died.
 */
#ifndef VMM_VHOST_DEV_H
#define VMM_VHOST_DEV_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cli.h"
#include "err.h"
#include "virtio_mmio.h"
#include "vu.h"

struct vm;

/* pollfd slots one device uses in the main loop: socket, wake eventfd and
 * the err eventfds. */
#define VHOST_DEV_POLLFDS (2 + VIRTIO_MMIO_MAX_QUEUES)
#define VHOST_DEV_CONNECT_MS 5000      /* socket=: wait for the backend */
#define VHOST_DEV_OP_MS 5000           /* a whole start or stop sequence */
#define VHOST_DEV_EXIT_GRACE_MS 100    /* at exit: EOF, then SIGTERM */
#define VHOST_DEV_LATE_MS 1000         /* at exit: wait for a process that
                                        * hung up to be reaped and reported */
/* fds one device holds once created: socket, call, wake, kick and err */
#define VHOST_DEV_MAX_FDS (3 + 2 * VIRTIO_MMIO_MAX_QUEUES)

/* virtio-blk feature bits the vmm passes through as a frontend: config
 * fields it serves from the cache and request types the backend handles.
 * Not CONFIG_WCE (config writes are not forwarded), ZONED, SECURE_ERASE,
 * LIFETIME... */
#define VHOST_DEV_BLK_FEATURES \
	((1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) | \
	 (1ull << VIRTIO_BLK_F_GEOMETRY) | (1ull << VIRTIO_BLK_F_RO) | \
	 (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH) | \
	 (1ull << VIRTIO_BLK_F_TOPOLOGY) | (1ull << VIRTIO_BLK_F_MQ) | \
	 (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | \
	 (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX) | \
	 (1ull << VIRTIO_F_RING_INDIRECT_DESC))

/* virtio-net feature bits the vmm passes through from the backend: the
 * offloads and ring features. Not MAC and STATUS (the vmm serves the
 * config space and offers them itself), nor CTRL_VQ, MQ, MTU (no control
 * queue, one queue pair, no MTU in the config). */
#define VHOST_DEV_NET_FEATURES \
	((1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6) | \
	 (1ull << VIRTIO_NET_F_GUEST_ECN) | (1ull << VIRTIO_NET_F_GUEST_UFO) | \
	 (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ull << VIRTIO_NET_F_HOST_ECN) | (1ull << VIRTIO_NET_F_HOST_UFO) | \
	 (1ull << VIRTIO_NET_F_MRG_RXBUF) | \
	 (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX) | \
	 (1ull << VIRTIO_F_RING_INDIRECT_DESC))
/* What the vmm offers a virtio-net guest on top of those. */
#define VHOST_DEV_NET_OWN_FEATURES \
	((1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS))

struct vhost_dev {
	struct virtio_mmio_dev mmio;
	struct vu_front front;
	struct vm *vm;               /* set by vhost_dev_attach() */
	unsigned index;              /* window and GSI number */
	char name[40];               /* "block vda", for messages */
	char backend[128];           /* "vmm-blk (pid N)", "vmm-net (pid N)" or
	                              * "backend at PATH" */
	pid_t pid;                   /* spawned backend; 0: none or reaped */
	unsigned nqueues;
	int call_efd;                /* KVM_IRQFD; every queue's call fd */
	int kick_efd[VIRTIO_MMIO_MAX_QUEUES];  /* KVM_IOEVENTFD per queue */
	int err_efd[VIRTIO_MMIO_MAX_QUEUES];   /* the backend's ring errors */
	int wake_efd;                /* vCPU -> main loop: poll err fds again */
	atomic_uint err_seen;        /* err fds the main loop saw readable and
	                              * left to the register file (not polled) */
	bool hung_up;                /* main loop: socket hang-up seen */
	bool said_bad_ring;          /* lock held: "unusable ring" printed */
	bool said_ring_error;        /* lock held: "broken by the guest" printed */
	atomic_bool reported;        /* a failure line was printed (or exiting) */
};

/*
 * Device `index` for one --block: with path=, open the image (O_RDWR, or
 * O_RDONLY with read_only=on; a regular file or block device whose size is
 * a non-zero multiple of 512), spawn vmm-blk (next to our binary, or
 * $VMM_BLK_BIN) on a socketpair and close our copy of the image (vmm-blk
 * gets `--jail-id b->jail_id` when we are root and it is not 0,
 * `--seccomp-log` and `--x-test-forbidden` when b asks); with
 * socket=, connect within VHOST_DEV_CONNECT_MS. Then the vhost-user
 * handshake, GET_QUEUE_NUM, GET_CONFIG (struct virtio_blk_config, whose
 * num_queues is set to the queues exposed; VIRTIO_BLK_F_MQ is offered only
 * with more than one), and the eventfds. Features offered to the guest:
 * the backend's & VHOST_DEV_BLK_FEATURES. The backend must offer
 * VIRTIO_F_VERSION_1 and the CONFIG protocol feature. Call from the main
 * thread before any vCPU runs. Returns 0 and *out, or -errno with e
 * ("--block path=X: ..." or "--block socket=P: ..."); nothing is left
 * behind on error.
 */
int vhost_dev_create_block(const struct cli_block *b, unsigned index,
    struct vhost_dev **out, struct err *e);

/*
 * Device `index` for one --net: with tap=, open the tap (tap_open: the
 * tap's flags and vnet header size set), spawn `vmm-net --socket-fd 3
 * --tap-fd 4 --id ID` (next to our binary, or $VMM_NET_BIN; --jail-id
 * n->jail_id when we are root and it is not 0, --seccomp-log and
 * --x-test-forbidden when n asks) on a socketpair and close our copy of
 * the tap; with socket=, connect within VHOST_DEV_CONNECT_MS. Then the
 * vhost-user handshake and GET_QUEUE_NUM (with MQ; at least 2 queues,
 * of which 2 are used: RX 0, TX 1), and the eventfds. The config space
 * (struct virtio_net_config: n->mac, status VIRTIO_NET_S_LINK_UP,
 * max_virtqueue_pairs 1) is the vmm's own: the CONFIG protocol feature is
 * not needed. Features offered to the guest: (the backend's &
 * VHOST_DEV_NET_FEATURES) | VHOST_DEV_NET_OWN_FEATURES; the backend must
 * offer VIRTIO_F_VERSION_1 and is only ever sent the bits it offered.
 * Call from the main thread before any vCPU runs. Returns 0 and *out, or
 * -errno with e ("--net tap=NAME: ..." or "--net socket=P: ..."); nothing
 * is left behind on error.
 */
int vhost_dev_create_net(const struct cli_net *n, unsigned index,
    struct vhost_dev **out, struct err *e);

/*
 * Wire d into the VM: KVM_IOEVENTFD for each queue (QueueNotify of its
 * window, 4 bytes, datamatch = queue index), KVM_IRQFD of the call
 * eventfd on GSI VIRTIO_MMIO_FIRST_IRQ + index, and the MMIO window in
 * vm->virtio[]. Returns 0 or -errno with e.
 */
int vhost_dev_attach(struct vhost_dev *d, struct vm *vm, struct err *e);

/*
 * Main loop, never blocks (no device lock, no sleep): fill VHOST_DEV_POLLFDS
 * pollfds (unused slots get fd -1): the socket (hang-up only) until it hung
 * up or the device failed, the wake eventfd, and each err eventfd not
 * already handed to the register file. Hand the polled result to
 * vhost_dev_poll_handle().
 */
void vhost_dev_pollfds(struct vhost_dev *d, struct pollfd *p);

/* Main loop, never blocks: a hang-up of a socket= backend fails the device
 * (one line on stderr); of a spawned vmm-blk or vmm-net it fails it silently (the
 * SIGCHLD line says how it ended). A readable err eventfd is left to the
 * register file (it checks, under its lock, that the queue is still the
 * started one, so a stale event never marks a restarted device) and a
 * config interrupt is raised. */
void vhost_dev_poll_handle(struct vhost_dev *d, const struct pollfd *p);

/* SIGCHLD arrived: reap d's process if it ended (WNOHANG) and fail the
 * device, printing how it ended unless a failure was already reported. */
void vhost_dev_child_check(struct vhost_dev *d);

/* Shut the socket down so a vCPU waiting for a reply returns at once
 * (VM exit, before the vCPUs are joined); failures are no longer
 * reported after this. A spawned process whose socket had already hung up
 * is first given VHOST_DEV_LATE_MS to end and be reported (its SIGCHLD can
 * come after the guest, seeing DEVICE_NEEDS_RESET, stopped the VM). */
void vhost_dev_shutdown(struct vhost_dev *d);

/* Store the fds d holds (the vmm's jail keeps them open) in fds[], which
 * has room for max (at least VHOST_DEV_MAX_FDS, else nothing is stored);
 * returns how many. */
unsigned vhost_dev_fds(const struct vhost_dev *d, int *fds, unsigned max);

/* `vmm-reference: stats: block vda: mmio_exits=N` on stderr. */
void vhost_dev_print_stats(struct vhost_dev *d);

/* Close every fd (EOF: a spawned device process exits by itself), give the
 * backends VHOST_DEV_EXIT_GRACE_MS, then SIGTERM, SIGKILL after
 * timeout_ms (devproc_terminate: in the jail the vmm may not signal them,
 * and then does not wait for them past the grace period; they die with
 * the vmm); free the devices. devs[i] may be NULL. */
void vhost_dev_destroy_all(struct vhost_dev **devs, unsigned n, int timeout_ms);

#endif
