/*
 * devices/net: the virtio-net device (virtio 1.2, 5.1) behind vmm-net: one
 * RX queue (0) and one TX queue (1) between the guest and a tap fd opened
 * with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR and TUNSETVNETHDRSZ 12 (the tap
 * takes and gives the same 12-byte struct virtio_net_hdr_v1 the guest
 * uses), and the vu_backend_ops that plug it into the vhost-user backend
 * library. main.c owns the process (arguments, opening and checking the
 * tap, sockets, the jail); this module reads and writes the tap fd it is
 * given and sets its offloads (TUNSETOFFLOAD) on SET_FEATURES. Nothing
 * here allocates: one struct net_dev holds every buffer.
 *
 * TX: a chain is checked (header >= 12 bytes, no writable buffer, frame
 * <= VIRTIO_NET_MAX_FRAME, header fields the negotiated features allow),
 * its header copied out of guest memory (checked once, used once), and
 * the frame written to the tap with one writev straight from guest
 * memory. RX: one frame read from the tap straight into the chain popped
 * for it (a bounce buffer behind it), or, when it does not fit, put
 * together in the bounce buffer and copied into as many chains as it
 * needs with MRG_RXBUF (num_buffers set, the used entries published
 * together). A guest that
 * posts no RX buffer: the frame read stays held, the tap is not polled
 * and RX kicks are enabled until the driver adds buffers.
 */
#ifndef DEVICES_NET_NET_H
#define DEVICES_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"
#include "virtq.h"
#include "vu.h"

#define NET_NUM_QUEUES 2u
#define NET_HDR_BYTES  sizeof(struct virtio_net_hdr_v1)          /* 12 */
#define NET_BUF_BYTES  (NET_HDR_BYTES + VIRTIO_NET_MAX_FRAME)    /* 65562 */
/* Frames read from the tap per wakeup (the tap is level-polled: the rest
 * comes at the next poll, after the socket and the kick fds). */
#define NET_RX_BATCH   64u
/* Longest run of TX work in one queue_kick before the library serves the
 * socket and the other ring (vu_backend_rekick). */
#define NET_MAX_RUN_US 500u

/* TUNSETOFFLOAD flags (linux/if_tun.h TUN_F_*). */
#define NET_TUN_F_CSUM    0x01u
#define NET_TUN_F_TSO4    0x02u
#define NET_TUN_F_TSO6    0x04u
#define NET_TUN_F_TSO_ECN 0x08u
#define NET_TUN_F_UFO     0x10u

/*
 * Frames moved and frames dropped. Every dropped chain is returned with
 * used len 0. dropped = short_header + writable_tx + oversized +
 * bad_chain + no_rx_buffer (what the summary line prints).
 */
struct net_stats {
	uint64_t rx_frames;       /* frames delivered to the guest */
	uint64_t tx_frames;       /* frames written to the tap */
	uint64_t short_header;    /* TX chain or RX chain with < 12 bytes */
	uint64_t writable_tx;     /* TX chain with a device-writable buffer */
	uint64_t oversized;       /* TX frame over VIRTIO_NET_MAX_FRAME */
	uint64_t bad_chain;       /* vq_pop -EBADMSG, RX chain with a readable
	                           * buffer, TX header the features forbid */
	uint64_t no_rx_buffer;    /* RX frame dropped: it did not fit the
	                           * chain (no MRG_RXBUF) or the whole ring */
	uint64_t ring_errors;     /* rings stopped (vq_pop -EIO), err fd */
	uint64_t tap_errors;      /* tap read/write failures (frame lost; not
	                           * the guest's fault, not in `dropped`) */
};

struct net_dev {
	int tap;                          /* not owned */
	const char *name;                 /* in messages: "vmm-net eth0" */
	bool ufo;                         /* the tap takes TUN_F_UFO: offer UFO */
	bool tap_dead;                    /* POLLERR on the tap: not polled */
	uint64_t features;                /* what the driver accepted */
	unsigned offloads;                /* TUN_F_* last set on the tap */
	/* TUNSETOFFLOAD; tests replace it. Returns 0 or -errno. */
	int (*set_offload)(int tap, unsigned flags);
	struct net_stats stats;
	struct vq vq[NET_NUM_QUEUES];
	/* RX: a frame from the tap in rx_buf[0, rx_len) (header first), or,
	 * rx_direct, read straight into rx_first (the common case: the frame
	 * fits the chain popped before the read); rx_hdr is its header,
	 * copied and checked. */
	bool rx_have;
	bool rx_direct;
	struct virtio_net_hdr_v1 rx_hdr;
	bool rx_waiting;                  /* no RX buffer: tap not polled */
	unsigned rx_bad_left;             /* bad RX chains this run may still
	                                   * return before it yields (rekick) */
	size_t rx_len;
	/* Chains popped for the frame and not yet pushed: rx_first (its
	 * header is written last), then rx_heads[1..] (MRG_RXBUF). */
	bool rx_first_valid;
	unsigned rx_nheads;               /* chains holding frame bytes */
	size_t rx_off;                    /* frame bytes copied so far */
	uint16_t rx_heads[VQ_MAX_SIZE];
	uint32_t rx_lens[VQ_MAX_SIZE];
	/* TX: a checked chain the tap refused with EAGAIN, retried on POLLOUT */
	bool tx_pending;
	struct virtio_net_hdr_v1 tx_hdr;  /* its header, copied and checked */
	struct vq_elem tx_elem;
	struct vq_elem rx_first;
	struct vq_elem rx_elem;
	struct iovec tx_iov[1024];        /* header copy + frame segments */
	struct iovec rx_iov[1024];        /* rx_first's segments + rx_buf */
	uint8_t rx_buf[NET_BUF_BYTES];
	uint8_t tx_buf[NET_BUF_BYTES];    /* a frame of more than 1023 segments */
};

/*
 * Set up a device over the tap fd `tap`; `ufo`: the tap accepted
 * TUN_F_UFO (main probes it) and UFO is offered. Makes no system call.
 */
void net_init(struct net_dev *d, int tap, bool ufo);

/* The virtio features offered: VERSION_1, CSUM, GUEST_CSUM, HOST/GUEST
 * TSO4/6, HOST/GUEST_ECN, HOST/GUEST_UFO (when d->ufo), MRG_RXBUF,
 * EVENT_IDX, RING_INDIRECT_DESC. Never MAC, STATUS, CTRL_VQ, MQ, MTU. */
uint64_t net_features(const struct net_dev *d);

/* The TUN_F_* offloads for accepted `features`: GUEST_CSUM -> CSUM, and
 * with it GUEST_TSO4 -> TSO4, GUEST_TSO6 -> TSO6, GUEST_ECN -> TSO_ECN
 * (only with TSO4 or TSO6: the tap refuses TSO_ECN alone), GUEST_UFO ->
 * UFO (nothing without GUEST_CSUM: the tap refuses TSO without CSUM, and
 * the spec makes the driver take them together). */
unsigned net_offloads(uint64_t features);

/* TUNSETOFFLOAD on a tap fd. Returns 0 or -errno. */
int net_tap_set_offload(int tap, unsigned flags);

/*
 * Whether a TX header is acceptable for a frame of `frame_len` bytes
 * (after the header) under `features`: flags only NEEDS_CSUM, and that
 * only with CSUM, csum_start + csum_offset + 2 <= frame_len; gso_type
 * NONE, or TCPV4 / TCPV6 / UDP with HOST_TSO4 / HOST_TSO6 / HOST_UFO and
 * gso_size > 0, the ECN bit only on those and only with HOST_ECN.
 */
bool net_tx_hdr_ok(uint64_t features, const struct virtio_net_hdr_v1 *h, uint64_t frame_len);

/* Fill a vu_backend_config: net's ops, d as dev, net_features,
 * MQ|REPLY_ACK (no CONFIG: config space is the frontend's), 2 queues,
 * VQ_MAX_SIZE. `name` (for the library's and the device's messages) must
 * outlive the run. */
void net_backend_config(struct net_dev *d, const char *name, struct vu_backend_config *cfg);

/* Zero the counters (a new connection); the held RX frame is kept. */
void net_stats_reset(struct net_dev *d);

/* The summary line (no newline): "vmm-net ID: rx N frames, tx N frames,
 * dropped N (short header N, writable tx N, oversized N, bad chain N,
 * no rx buffer N)". Returns what snprintf does. */
int net_summary(const struct net_dev *d, const char *id, char *buf, size_t len);

/*
 * The device's vhost-user callbacks; dev is a struct net_dev.
 *
 * queue_kick(TX): with kicks suppressed, batches of at most num chains
 * (pop, check, writev, push len 0; one vu_backend_notify per batch when
 * vq_should_notify), kicks re-enabled and the ring re-checked; past
 * NET_MAX_RUN_US with work pending it calls vu_backend_rekick. EAGAIN
 * from the tap keeps the chain (tx_pending), watches the tap for POLLOUT
 * and stops until then.
 * queue_kick(RX): the driver added buffers: deliver the held frame and
 * read on (at most NET_RX_BATCH frames), then poll the tap again.
 * device_event: the tap is readable (RX as above), writable (the held TX
 * chain, then the TX ring), or failed (not polled any more).
 * A chain vq_pop rejects (-EBADMSG) is dropped and counted; a broken ring
 * (-EIO) is stopped, logged and signalled on the err fd.
 */
extern const struct vu_backend_ops net_backend_ops;

#endif
