/*
 * virtio_net: a minimal virtio-net driver over virtio-mmio (virtio 1.2,
 * 5.1) that answers ARP and ICMP echo, so a test can `ping` the guest from
 * the tap side: guest -> KVM ioeventfd -> vmm-net -> tap and back by KVM
 * irqfd. Drives every net device (DeviceID 1) among the
 * virtio_mmio.device= windows; net device k has the IPv4 address
 * virtio_net.ipK=A.B.C.D (k = 0 also virtio_net.ip=; default 10.(77+k).0.2).
 * Per device, in order:
 *   virtio_net: mac XX:XX:XX:XX:XX:XX
 *   virtio_net: net K: ip A.B.C.D, features 0x..., negotiated 0x...
 * and one hello frame (dst ff:ff:ff:ff:ff:ff, src its MAC, ethertype
 * 0x88b5, payload "vmm-reference virtio_net hello", 44 bytes, no padding);
 * then "virtio_net: ready" and, by interrupt (hlt until an irqfd fires),
 * it answers ARP requests for its address and ICMP echo requests to it
 * (reply: the request's id, sequence and payload, checksums computed).
 * virtio_net.count=N (default 0 = forever): after N echo replies have been
 * sent (used by the device) print "virtio_net: answered N echo requests"
 * and end (i8042 reset: the vmm exits 0). A config-change interrupt with
 * DEVICE_NEEDS_RESET in Status: "virtio_net: device needs reset", end.
 * Queues: 0 RX (buffers of 12 + 1514 bytes, re-posted after use), 1 TX.
 * Features: VERSION_1, MAC, STATUS, and MRG_RXBUF / RING_EVENT_IDX unless
 * virtio_net.mrg_rxbuf=0 / virtio_net.event_idx=0; no offloads. What the
 * device returns is checked, never trusted: used ids that are not
 * outstanding, lengths over the buffer, short headers, GSO or partial
 * checksums we did not negotiate, frames too long or too short are dropped
 * and counted (printed at the end as "virtio_net: net K: rx N frames, tx N
 * frames, dropped N"). vmmref.virtio_ack=1 as in virtio_blk.c.
 * A setup failure: a "virtio_net: not ok: ..." line, reset.
 */
#include "guest.h"
#include "virtio_mmio.h"

#define P "virtio_net"
#define NET_MAX_DEVS  4
#define NET_QSIZE     16                    /* entries per queue we use */
#define ETH_HLEN      14
#define ETH_FRAME_MAX 1514                  /* no VLAN, MTU 1500 */
#define HDR_LEN       ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define BUF_LEN       (HDR_LEN + ETH_FRAME_MAX)   /* 1526, as 5.1.6.3.1 asks */
#define BUF_STRIDE    1536
#define TX_DRAIN_MS   10000

#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_ARP   0x0806
#define ETHERTYPE_HELLO 0x88b5
#define HELLO_PAYLOAD   "vmm-reference virtio_net hello"
#define IP_PROTO_ICMP   1
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO       8

_Static_assert(VIRTQ_DESC_BYTES(NET_QSIZE) <= 0x100 &&
    0x100 + VIRTQ_AVAIL_BYTES(NET_QSIZE) <= 0x200 &&
    0x200 + VIRTQ_USED_BYTES(NET_QSIZE) <= 4096, "ring page layout");

/* One split virtqueue (2.7) in a page of its own: desc at 0, avail at
 * 0x100, used at 0x200. busy[id]: the buffer with head id is the device's. */
struct netq {
	unsigned index;
	uint16_t num, avail_idx, last_used, kick_old;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint8_t *bufs;                   /* num buffers of BUF_STRIDE bytes */
	bool busy[NET_QSIZE];
};

struct netdev {
	unsigned k;                      /* k-th net device */
	struct vmmio_dev *d;
	struct netq rx, tx;
	uint8_t mac[6], ip[4];
	uint64_t irqs_seen;
	/* RX frame being gathered from num_buffers buffers (MRG_RXBUF) */
	uint8_t frame[ETH_FRAME_MAX];
	uint32_t frame_len;
	unsigned bufs_left;
	bool frame_bad;
	uint64_t rx_frames, tx_frames, dropped, echo_sent;
};

static struct vmmio_dev devs[VMMIO_MAX_DEVICES];
static struct netdev nets[NET_MAX_DEVS];
static uint8_t ring_pages[NET_MAX_DEVS][2][4096] __attribute__((aligned(4096)));
static uint8_t buf_mem[NET_MAX_DEVS][2][NET_QSIZE * BUF_STRIDE] __attribute__((aligned(4096)));
static uint8_t reply[ETH_FRAME_MAX];
static uint64_t echo_answered;       /* replies the devices have taken */

#define CHECK(cond, ...) do { if (!(cond)) guest_fail(P, __LINE__, __VA_ARGS__); } while (0)

/* ---- byte order and checksums ------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 Internet checksum of n bytes (0 over a correct header). */
static uint16_t inet_csum(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---- split ring ---------------------------------------------------------- */

static volatile uint16_t *used_event(const struct netq *q)
{
	return (volatile uint16_t *)&q->avail->ring[q->num];
}

static volatile uint16_t *avail_event(const struct netq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->num];
}

static volatile uint16_t *used_idx(const struct netq *q)
{
	return (volatile uint16_t *)&q->used->idx;
}

static void write_addr(struct vmmio_dev *d, uint32_t lo_reg, const void *p)
{
	vmmio_write(d, lo_reg, (uint32_t)(uint64_t)p);
	vmmio_write(d, lo_reg + 4, (uint32_t)((uint64_t)p >> 32));
}

/* 3.1.1 step 7 for queue q->index: size min(NET_QSIZE, QueueNumMax). */
static void queue_setup(struct netdev *n, struct netq *q, unsigned index)
{
	struct vmmio_dev *d = n->d;
	uint8_t *page = ring_pages[n->k][index];
	uint32_t max;

	vmmio_write(d, VIRTIO_MMIO_QUEUE_SEL, index);
	max = vmmio_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	CHECK(max != 0 && vmmio_read(d, VIRTIO_MMIO_QUEUE_READY) == 0,
	    "net %u queue %u: QueueNumMax %u, QueueReady %u", n->k, index, max,
	    vmmio_read(d, VIRTIO_MMIO_QUEUE_READY));
	memset(q, 0, sizeof(*q));
	blk_zero(page, 4096);
	q->index = index;
	q->num = (uint16_t)(max < NET_QSIZE ? max : NET_QSIZE);
	q->desc = (struct virtq_desc *)page;
	q->avail = (struct virtq_avail *)(page + 0x100);
	q->used = (struct virtq_used *)(page + 0x200);
	q->bufs = buf_mem[n->k][index];
	vmmio_write(d, VIRTIO_MMIO_QUEUE_NUM, q->num);
	write_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, q->desc);
	write_addr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, q->avail);
	write_addr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, q->used);
	vmmio_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

static uint8_t *qbuf(const struct netq *q, uint16_t id)
{
	return q->bufs + (uint32_t)id * BUF_STRIDE;
}

/* Hand buffer id (one descriptor, len bytes) to the device. */
static void queue_post(struct netq *q, uint16_t id, uint32_t len, bool write)
{
	q->desc[id] = (struct virtq_desc){ .addr = (uint64_t)qbuf(q, id), .len = len,
	    .flags = write ? VIRTQ_DESC_F_WRITE : 0 };
	q->busy[id] = true;
	q->avail->ring[q->avail_idx % q->num] = id;
	__atomic_thread_fence(__ATOMIC_RELEASE);   /* desc and entry before idx */
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
}

static void queue_kick(struct netdev *n, struct netq *q)
{
	bool need;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);   /* idx store before the read */
	if (q->kick_old == q->avail_idx)
		return;
	if (vmmio_has(n->d, VIRTIO_F_RING_EVENT_IDX))
		need = virtq_need_event(*avail_event(q), q->avail_idx, q->kick_old);
	else
		need = !(*(volatile uint16_t *)&q->used->flags & VIRTQ_USED_F_NO_NOTIFY);
	q->kick_old = q->avail_idx;
	if (need)
		vmmio_write(n->d, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

/* Take the next used element; false when there is none. An id the device
 * does not hold (out of range, or returned twice) is dropped and counted:
 * *id is only ever a buffer that was posted. With EVENT_IDX, asks for an
 * interrupt at the next used entry before reporting the ring empty. */
static bool queue_pop(struct netdev *n, struct netq *q, uint16_t *id, uint32_t *len)
{
	for (;;) {
		uint16_t idx = *used_idx(q);

		CHECK((uint16_t)(idx - q->last_used) <= q->num, "net %u queue %u: used idx "
		    "%u jumped past %u + queue size %u", n->k, q->index, idx, q->last_used, q->num);
		if (idx == q->last_used) {
			if (!vmmio_has(n->d, VIRTIO_F_RING_EVENT_IDX))
				return false;
			*used_event(q) = q->last_used;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (*used_idx(q) == q->last_used)
				return false;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);   /* idx before the entry */
		volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->num];
		uint32_t eid = e->id;

		*len = e->len;
		q->last_used++;
		if (eid < q->num && q->busy[eid]) {
			q->busy[eid] = false;
			*id = (uint16_t)eid;
			return true;
		}
		n->dropped++;
		gprintf(P ": net %u queue %u: used id %u not outstanding, ignored\n",
		    n->k, q->index, eid);
	}
}

/* ---- TX ------------------------------------------------------------------ */

static void tx_reclaim(struct netdev *n)
{
	uint16_t id;
	uint32_t len;

	while (queue_pop(n, &n->tx, &id, &len))
		n->tx_frames++;
}

static bool tx_idle(const struct netdev *n)
{
	for (unsigned i = 0; i < n->tx.num; i++)
		if (n->tx.busy[i])
			return false;
	return true;
}

/* Send one frame (len <= ETH_FRAME_MAX) behind a zero header (no offload);
 * dropped and counted when every TX buffer is still the device's. */
static bool net_send(struct netdev *n, const uint8_t *frame, uint32_t len)
{
	struct netq *q = &n->tx;
	uint16_t id;

	tx_reclaim(n);
	for (id = 0; id < q->num && q->busy[id]; id++)
		;
	if (id == q->num) {
		n->dropped++;
		return false;
	}
	memset(qbuf(q, id), 0, HDR_LEN);
	memcpy(qbuf(q, id) + HDR_LEN, frame, len);
	queue_post(q, id, HDR_LEN + len, false);
	queue_kick(n, q);
	return true;
}

static void send_hello(struct netdev *n)
{
	static const char payload[] = HELLO_PAYLOAD;
	uint8_t *f = reply;

	memset(f, 0xff, 6);
	memcpy(f + 6, n->mac, 6);
	put16(f + 12, ETHERTYPE_HELLO);
	memcpy(f + ETH_HLEN, payload, sizeof(payload) - 1);
	net_send(n, f, ETH_HLEN + sizeof(payload) - 1);
}

/* ---- ARP and ICMP echo ---------------------------------------------------- */

static void eth_reply_header(const struct netdev *n, const uint8_t *req, uint16_t type)
{
	memcpy(reply, req + 6, 6);
	memcpy(reply + 6, n->mac, 6);
	put16(reply + 12, type);
}

/* An ARP request (RFC 826, Ethernet/IPv4) for our address: answer it. */
static void handle_arp(struct netdev *n, const uint8_t *f, uint32_t len)
{
	const uint8_t *a = f + ETH_HLEN;
	uint8_t *r = reply + ETH_HLEN;

	if (len < ETH_HLEN + 28 || get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4 || get16(a + 6) != 1 || memcmp(a + 24, n->ip, 4))
		return;
	eth_reply_header(n, f, ETHERTYPE_ARP);
	memcpy(r, a, 6);                 /* htype, ptype, hlen, plen */
	put16(r + 6, 2);                 /* reply */
	memcpy(r + 8, n->mac, 6);
	memcpy(r + 14, n->ip, 4);
	memcpy(r + 18, a + 8, 10);       /* target = the sender (mac, ip) */
	net_send(n, reply, ETH_HLEN + 28);
}

/* An ICMP echo request to our address, checksums right: reply with the
 * same id, sequence and payload (our IP header has no options). Counted
 * in echo_sent once a TX buffer took it. */
static void handle_ipv4(struct netdev *n, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + ETH_HLEN, *icmp;
	uint32_t ihl, total, icmp_len;
	uint8_t *r = reply + ETH_HLEN;

	if (len < ETH_HLEN + 20 || (ip[0] >> 4) != 4 || memcmp(f, n->mac, 6))
		return;
	ihl = (ip[0] & 0xfu) * 4;
	total = get16(ip + 2);
	if (ihl < 20 || total < ihl + 8 || ETH_HLEN + total > len ||
	    (get16(ip + 6) & 0x3fff) != 0 || ip[9] != IP_PROTO_ICMP ||
	    memcmp(ip + 16, n->ip, 4) || inet_csum(ip, ihl) != 0)
		return;
	icmp = ip + ihl;
	icmp_len = total - ihl;
	if (icmp[0] != ICMP_ECHO || icmp[1] != 0 || inet_csum(icmp, icmp_len) != 0)
		return;
	eth_reply_header(n, f, ETHERTYPE_IPV4);
	memset(r, 0, 20);
	r[0] = 0x45;
	put16(r + 2, (uint16_t)(20 + icmp_len));
	r[8] = 64;                       /* TTL */
	r[9] = IP_PROTO_ICMP;
	memcpy(r + 12, n->ip, 4);
	memcpy(r + 16, ip + 12, 4);
	put16(r + 10, inet_csum(r, 20));
	memcpy(r + 20, icmp, icmp_len);  /* id, sequence, payload */
	r[20] = ICMP_ECHO_REPLY;
	put16(r + 22, 0);
	put16(r + 22, inet_csum(r + 20, icmp_len));
	if (net_send(n, reply, ETH_HLEN + 20 + icmp_len))
		n->echo_sent++;
}

static void handle_frame(struct netdev *n, const uint8_t *f, uint32_t len)
{
	n->rx_frames++;
	if (len < ETH_HLEN)
		return;
	if (get16(f + 12) == ETHERTYPE_ARP)
		handle_arp(n, f, len);
	else if (get16(f + 12) == ETHERTYPE_IPV4)
		handle_ipv4(n, f, len);
}

/* ---- RX ------------------------------------------------------------------ */

/* The first buffer of a frame: check its header, note how many buffers
 * (num_buffers with MRG_RXBUF) carry the frame. Returns the frame bytes in
 * this buffer, or -1 (dropped). */
static long rx_first(struct netdev *n, const uint8_t *b, uint32_t len)
{
	const struct virtio_net_hdr_v1 *h = (const struct virtio_net_hdr_v1 *)b;
	unsigned nbuf = vmmio_has(n->d, VIRTIO_NET_F_MRG_RXBUF) ? h->num_buffers : 1;

	n->frame_len = 0;
	n->frame_bad = false;
	if (len < HDR_LEN)
		return -1;
	n->bufs_left = nbuf;
	if (nbuf == 0 || nbuf > n->rx.num) {
		n->bufs_left = 1;        /* no way to tell where it ends: this one */
		n->frame_bad = true;
	}
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE || (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		n->frame_bad = true;     /* offloads we did not negotiate */
	return len - HDR_LEN;
}

/* One used RX buffer (len as the device says, not trusted: over the
 * buffer size drops the frame it belongs to). */
static void rx_buffer(struct netdev *n, uint16_t id, uint32_t len)
{
	const uint8_t *b = qbuf(&n->rx, id);
	bool over = len > BUF_LEN;
	uint32_t off = 0;
	long part;

	if (over)
		len = BUF_LEN;
	if (n->bufs_left == 0) {
		part = rx_first(n, b, len);
		if (part < 0) {
			n->dropped++;
			return;
		}
		off = HDR_LEN;
	} else {
		part = len;
	}
	n->frame_bad |= over;
	if (n->frame_len + part > ETH_FRAME_MAX)
		n->frame_bad = true;
	else
		memcpy(n->frame + n->frame_len, b + off, (uint32_t)part);
	n->frame_len += n->frame_bad ? 0 : (uint32_t)part;
	if (--n->bufs_left)
		return;
	if (n->frame_bad)
		n->dropped++;
	else
		handle_frame(n, n->frame, n->frame_len);
}

/* Consume the RX used ring, re-posting every buffer; true if any. */
static bool rx_poll(struct netdev *n)
{
	uint16_t id;
	uint32_t len;
	bool any = false;

	while (queue_pop(n, &n->rx, &id, &len)) {
		rx_buffer(n, id, len);
		queue_post(&n->rx, id, BUF_LEN, true);
		any = true;
	}
	if (any)
		queue_kick(n, &n->rx);
	return any;
}

/* ---- setup ----------------------------------------------------------------- */

static void read_config(struct netdev *n)
{
	uint32_t gen, w0, w1;

	do {
		gen = vmmio_read(n->d, VIRTIO_MMIO_CONFIG_GENERATION);
		w0 = vmmio_read(n->d, VIRTIO_MMIO_CONFIG);
		w1 = vmmio_read(n->d, VIRTIO_MMIO_CONFIG + 4);
	} while (gen != vmmio_read(n->d, VIRTIO_MMIO_CONFIG_GENERATION));
	for (unsigned i = 0; i < 4; i++)
		n->mac[i] = (uint8_t)(w0 >> (8 * i));
	n->mac[4] = (uint8_t)w1;
	n->mac[5] = (uint8_t)(w1 >> 8);
	CHECK(!vmmio_has(n->d, VIRTIO_NET_F_STATUS) || (w1 >> 16 & VIRTIO_NET_S_LINK_UP),
	    "net %u: config status 0x%x: link not up", n->k, w1 >> 16);
}

static bool parse_ip(const char *s, uint8_t ip[4])
{
	for (unsigned i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		for (; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
			v = v * 10 + (unsigned)(*s - '0');
		if (!digits || v > 255 || *s != (i < 3 ? '.' : '\0'))
			return false;
		ip[i] = (uint8_t)v;
		s += i < 3;
	}
	return true;
}

static void get_ip(const char *cmdline, unsigned k, uint8_t ip[4])
{
	char key[24] = P ".ip0", val[24];

	key[sizeof(P ".ip") - 1] = (char)('0' + k);
	ip[0] = 10;
	ip[1] = (uint8_t)(77 + k);
	ip[2] = 0;
	ip[3] = 2;
	if (cmdline_get(cmdline, key, val, sizeof(val)) >= 0 ||
	    (k == 0 && cmdline_get(cmdline, P ".ip", val, sizeof(val)) >= 0))
		CHECK(parse_ip(val, ip), "%s: bad address %s", key, val);
}

static void net_setup(struct netdev *n, uint64_t want, const char *cmdline)
{
	get_ip(cmdline, n->k, n->ip);
	CHECK(vmmio_init_begin(n->d, want, P) == 0, "net %u: init", n->k);
	queue_setup(n, &n->rx, VIRTIO_NET_RXQ);
	queue_setup(n, &n->tx, VIRTIO_NET_TXQ);
	vmmio_init_end(n->d);
	CHECK(vmmio_has(n->d, VIRTIO_NET_F_MAC), "net %u: MAC not offered (features 0x%llx)",
	    n->k, (unsigned long long)n->d->device_features);
	read_config(n);
	gprintf(P ": mac %02x:%02x:%02x:%02x:%02x:%02x\n", n->mac[0], n->mac[1],
	    n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	gprintf(P ": net %u: ip %u.%u.%u.%u, features 0x%llx, negotiated 0x%llx\n", n->k,
	    n->ip[0], n->ip[1], n->ip[2], n->ip[3],
	    (unsigned long long)n->d->device_features, (unsigned long long)n->d->features);
	for (uint16_t id = 0; id < n->rx.num; id++)
		queue_post(&n->rx, id, BUF_LEN, true);
	queue_kick(n, &n->rx);
	send_hello(n);
}

/* ---- the loop -------------------------------------------------------------- */

/* After an interrupt: a config change with DEVICE_NEEDS_RESET ends us. */
static bool needs_reset(struct netdev *n)
{
	uint32_t isr;

	if (n->d->irqs == n->irqs_seen)
		return false;
	n->irqs_seen = n->d->irqs;
	isr = vmmio_read(n->d, VIRTIO_MMIO_INTERRUPT_STATUS) | n->d->isr_seen;
	if (!(isr & VIRTIO_MMIO_INT_CONFIG))
		return false;
	n->d->isr_seen &= ~VIRTIO_MMIO_INT_CONFIG;
	vmmio_write(n->d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	return (vmmio_read(n->d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

static void print_stats(unsigned nnet)
{
	for (unsigned k = 0; k < nnet; k++)
		gprintf(P ": net %u: rx %llu frames, tx %llu frames, dropped %llu\n", k,
		    (unsigned long long)nets[k].rx_frames,
		    (unsigned long long)nets[k].tx_frames,
		    (unsigned long long)nets[k].dropped);
}

/* Wait (by interrupt) until every TX buffer is back: the replies are out. */
static void drain_tx(unsigned nnet)
{
	uint64_t end = vmmio_now_ms() + TX_DRAIN_MS;
	bool idle = false;

	while (!idle && vmmio_now_ms() < end) {
		idle = true;
		for (unsigned k = 0; k < nnet; k++) {
			tx_reclaim(&nets[k]);
			idle &= tx_idle(&nets[k]);
		}
		if (!idle)
			wait_for_interrupt();
	}
	CHECK(idle, "TX buffers not used by the device within %u ms", TX_DRAIN_MS);
}

/* Serve until count echo requests are answered (0: forever) or a device
 * needs a reset. Interrupts stay off but in the hlt. */
static void serve(unsigned nnet, uint64_t count)
{
	irq_disable();
	for (;;) {
		bool work = false;
		uint64_t sent = 0;

		for (unsigned k = 0; k < nnet; k++) {
			if (needs_reset(&nets[k])) {
				gprintf(P ": device needs reset\n");
				print_stats(nnet);
				return;
			}
			work |= rx_poll(&nets[k]);
			tx_reclaim(&nets[k]);
			sent += nets[k].echo_sent;
		}
		if (count && sent >= count) {
			drain_tx(nnet);
			echo_answered = sent;
			gprintf(P ": answered %llu echo requests\n",
			    (unsigned long long)echo_answered);
			print_stats(nnet);
			return;
		}
		if (!work)
			wait_for_interrupt();
	}
}

void guest_main(const struct guest_boot *gb)
{
	uint64_t count = 0, ack = 0, mrg = 1, event_idx = 1, want;
	unsigned ndev, nnet = 0;

	cmdline_get_u64(gb->cmdline, "vmmref.virtio_ack", &ack);
	cmdline_get_u64(gb->cmdline, P ".count", &count);
	cmdline_get_u64(gb->cmdline, P ".mrg_rxbuf", &mrg);
	cmdline_get_u64(gb->cmdline, P ".event_idx", &event_idx);
	irq_init();
	vmmio_setup(ack != 0);
	ndev = vmmio_find(gb->cmdline, devs, VMMIO_MAX_DEVICES);
	want = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
	    (mrg ? 1ull << VIRTIO_NET_F_MRG_RXBUF : 0) |
	    (event_idx ? 1ull << VIRTIO_F_RING_EVENT_IDX : 0);
	for (unsigned i = 0; i < ndev && nnet < NET_MAX_DEVS; i++) {
		if (vmmio_read(&devs[i], VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
		    vmmio_read(&devs[i], VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_NET)
			continue;
		nets[nnet] = (struct netdev){ .k = nnet, .d = &devs[i] };
		net_setup(&nets[nnet], want, gb->cmdline);
		nnet++;
	}
	CHECK(nnet >= 1, "no virtio-net device among %u virtio_mmio.device= windows", ndev);
	gprintf(P ": ready\n");
	serve(nnet, count);
}
