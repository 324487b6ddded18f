/*
 * vu-driver net modes: the driver is guest and vhost-user frontend of a
 * vhost-user-net backend (vring 0 = RX, vring 1 = TX), and the "peer" is
 * an AF_PACKET socket bound to the backend's tap interface (the driver
 * runs inside the tap's network namespace): a frame sent on the peer
 * socket leaves through the tap, the backend reads it from the tap fd and
 * puts it in an RX buffer; a frame on the TX ring is written to the tap
 * fd by the backend and arrives on the peer socket. The peer socket uses
 * PACKET_VNET_HDR, so offload metadata (checksum / GSO) is visible both
 * ways, and PACKET_IGNORE_OUTGOING, so it sees only what the tap received.
 *
 * Guest memory (offsets = guest-physical addresses): ring slots as in
 * drv.h; from DRV_DATA_BASE: RX buffers (rx_num of rx_stride bytes, RX
 * descriptor i = buffer i), then TX slots (tx_stride bytes each, TX slot
 * i owns descriptors [i*tx_k, i*tx_k+tx_k) and indirect table slot i);
 * hostile mode's scratch is the top DRV_SCRATCH bytes.
 *
 * Our frames: dst 02:00:00:00:00:02, src 02:00:00:00:00:01, ethertype
 * NET_ETHERTYPE, then a 16-byte tag ("vuDn", direction, kind, seq, total
 * length) and pattern bytes (seq * 31 + offset * 7 + direction); anything
 * else on the tap (the kernel's own traffic) is "foreign" and skipped.
 */
#ifndef TESTS_DRIVER_NET_H
#define TESTS_DRIVER_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "drv.h"

#define NET_HDR_LEN     12u                  /* struct virtio_net_hdr_v1 */
#define NET_PEER_HDR    10u                  /* struct virtio_net_hdr (PACKET_VNET_HDR) */
#define NET_ETH_LEN     14u
#define NET_ETHERTYPE   0x88b5u              /* IEEE local experimental */
#define NET_TAG_LEN     16u
#define NET_MIN_FRAME   (NET_ETH_LEN + NET_TAG_LEN)
#define NET_FULL_FRAME  1514u
#define NET_TX_STRIDE   0x10100u             /* >= 12 + VIRTIO_NET_MAX_FRAME */
#define NET_BUF_MAX     (NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 64u)

enum net_dir { NET_DIR_TX = 1, NET_DIR_RX = 2 };

struct net {
	struct drv d;
	const struct drv_opts *o;
	int peer;                /* AF_PACKET socket on --peer-if, or -1 */
	int peer_ifindex;
	bool mrg;                /* MRG_RXBUF acked */
	uint64_t rx_base, tx_base;
	uint32_t rx_stride, rx_len;
	unsigned rx_num;         /* RX buffers (= RX queue size) */
	unsigned tx_k;           /* descriptors per TX slot */
	unsigned tx_slots;
	unsigned tx_next;        /* next TX slot */
	uint64_t foreign;        /* frames that were not ours, skipped */
	uint64_t ring_errors;    /* err fd signals seen */
	char why[256];           /* the last failure of a helper */
};

/* A frame as received: virtio-net header + frame bytes. */
struct net_frame {
	struct virtio_net_hdr_v1 hdr;
	uint32_t len;
	uint16_t nbufs;          /* used entries it took (RX) */
	uint8_t data[VIRTIO_NET_MAX_FRAME + 64];
};

/* ---- net.c ---- */

/* Fill buf with our frame (dir, kind, seq) of `len` >= NET_MIN_FRAME bytes. */
void net_make_frame(uint8_t *buf, uint32_t len, unsigned dir, unsigned kind,
    uint32_t seq);

/* 1: our frame of direction dir, intact (*seq, *kind set); 0: not ours;
 * -1: ours but corrupt (n->why says where). */
int net_check_frame(struct net *n, const uint8_t *buf, uint32_t len,
    unsigned dir, uint32_t *seq, unsigned *kind);

/* Features this driver acks: VERSION_1, PROTOCOL_FEATURES, EVENT_IDX /
 * INDIRECT unless disabled, MRG_RXBUF with --mrg-rxbuf, offloads per
 * --offloads (csum: CSUM + GUEST_CSUM; tso: also HOST/GUEST_TSO4/6 and
 * ECN), all masked with what was offered. */
uint64_t net_pick_features(const struct net *n);

/* Zero *n with every fd -1 (net_close is then safe). */
void net_init(struct net *n, const struct drv_opts *o);

/* Open the AF_PACKET peer on ifname (PACKET_VNET_HDR,
 * PACKET_IGNORE_OUTGOING, 16 MiB buffers), drained. Error printed. */
int net_peer_open(struct net *n, const char *ifname);

/* Connect (drv_open) with two vrings; open the peer socket when
 * --peer-if is given. Prints one error line; returns 0 or -errno. */
int net_open(struct net *n, const struct drv_opts *o);

/* drv_start with `features`, lay out buffers (rx_len bytes per RX buffer,
 * tx_k descriptors per TX slot). Returns 0 or -errno (printed). */
int net_start(struct net *n, uint64_t features, uint32_t rx_len, unsigned tx_k);

void net_close(struct net *n);

/* Make RX buffers [first, first+count) available (one writable descriptor
 * each, rx_len bytes) and kick if the device asks (or `force`). */
int net_rx_post(struct net *n, unsigned first, unsigned count, bool force);

/* Take the next received frame (waiting up to timeout_ms): collects
 * num_buffers used entries with MRG_RXBUF (else exactly one), checks used
 * lengths against the buffers, reposts the buffers. Returns 0, -ETIMEDOUT,
 * -EIO (ring error), -ECONNRESET, -EILSEQ (malformed answer, n->why). */
int net_rx_frame(struct net *n, struct net_frame *f, int timeout_ms);

/* The next of OUR frames of direction dir (foreign ones are skipped and
 * counted) from the RX ring. 0 or -errno as net_rx_frame. */
int net_rx_ours(struct net *n, struct net_frame *f, int timeout_ms);

/* Put one frame on the TX ring in the next TX slot: header `h` and `len`
 * frame bytes from `frame`, in `nseg` (1..tx_k-1 data segments; 0: header
 * and frame in one descriptor) descriptors, or through an indirect table
 * when `indirect`. Not kicked. Returns the head or -ENOSPC when the slot
 * is still in flight. */
int net_tx_add(struct net *n, const struct virtio_net_hdr_v1 *h,
    const uint8_t *frame, uint32_t len, unsigned nseg, bool indirect);

/* Kick TX (force) and wait until every TX chain is used; each used len
 * must be 0 (nothing device-writable). Returns 0 or -errno. */
int net_tx_flush(struct net *n, int timeout_ms);

/* GET_VRING_BASE + setup of the TX vring on fresh memory; every TX slot
 * free again. */
int net_tx_restart(struct net *n);

/* Forget which RX buffers were posted (after the RX vring restarted). */
void net_rx_reset(struct net *n);

/* Wait for a used entry on vring q (EVENT_IDX/flags armed, call fd),
 * also watching both err fds and the socket. 0, -ETIMEDOUT, -EIO,
 * -ECONNRESET. */
int net_wait(struct net *n, struct drv_vq *q, int timeout_ms);

/* Peer side: send header (10 bytes, PACKET_VNET_HDR) + frame. */
int net_peer_send(struct net *n, const void *vh10, const uint8_t *frame,
    uint32_t len);

/* Peer side: the next frame the tap received (10-byte header into
 * f->hdr's first 10 bytes), waiting up to timeout_ms. Returns 0,
 * -ETIMEDOUT or -errno. */
int net_peer_recv(struct net *n, struct net_frame *f, int timeout_ms);

/* The next of OUR frames (direction dir) from the peer. */
int net_peer_ours(struct net *n, struct net_frame *f, int timeout_ms);

/* Discard whatever the peer socket holds. */
void net_peer_drain(struct net *n);

/* A description of an -errno from the wait helpers. */
const char *net_strerror(int rc);

/* ---- net_pkt.c: IPv4/TCP frames for the offload checks ---- */

/* An Ethernet + IPv4 + TCP frame of direction dir (our MACs, 10.77.0.2
 * <-> 10.77.0.1) with `payload` pattern bytes (byte j of the payload is
 * that of stream offset j); checksums full (partial = false) or the TCP
 * checksum field holding the pseudo-header sum (partial = true, for
 * NEEDS_CSUM). Returns the frame length. */
#define NET_TCP_HDRS (NET_ETH_LEN + 20u + 20u)
uint32_t net_tcp_frame(uint8_t *buf, uint32_t payload, unsigned dir, bool partial);

/* The payload byte at stream offset j of net_tcp_frame. */
uint8_t net_tcp_byte(uint32_t j);

/* Whether the IPv4 header checksum and the TCP checksum of a full
 * frame are right. */
bool net_tcp_csum_ok(const uint8_t *buf, uint32_t len);

/* Complete a NEEDS_CSUM frame in place (csum_start/offset). */
void net_csum_complete(uint8_t *buf, uint32_t len, uint16_t start, uint16_t off);

/* ---- modes ---- */
int drv_net_func(const struct drv_opts *o);
int drv_net_hostile(const struct drv_opts *o);
int drv_net_bench(const struct drv_opts *o);

#endif
