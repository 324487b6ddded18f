/* Guest-side virtio-mmio driver, split ring and virtio-blk helpers (see
 * virtio_mmio.h). */
#include "guest.h"
#include "virtio_mmio.h"

/* Ring page layout per device (queue of at most VMMIO_QUEUE_SIZE entries). */
#define RING_DESC_OFF    0x000
#define RING_AVAIL_OFF   0x100
#define RING_USED_OFF    0x200
#define RING_SCRATCH_OFF 0x800
_Static_assert(VIRTQ_DESC_BYTES(VMMIO_QUEUE_SIZE) <= RING_AVAIL_OFF, "desc");
_Static_assert(RING_AVAIL_OFF + VIRTQ_AVAIL_BYTES(VMMIO_QUEUE_SIZE) <= RING_USED_OFF, "avail");
_Static_assert(RING_USED_OFF + VIRTQ_USED_BYTES(VMMIO_QUEUE_SIZE) <= RING_SCRATCH_OFF, "used");

#define LAPIC_LVT_TIMER  0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV  0x3e0
#define LAPIC_TIMER_PERIODIC 0x20000
#define LAPIC_DIV_16     0x3
#define TICK_COUNT       625000     /* 10 ms at KVM's 1 GHz APIC bus / 16 */
#define TSC_PER_MS       4000000ull /* as delay_us: assume <= 4 GHz */
#define RESET_POLLS      100000

static uint8_t ring_mem[VMMIO_MAX_DEVICES][4096] __attribute__((aligned(4096)));
static struct vmmio_dev *vector_dev[VMMIO_MAX_DEVICES];
static volatile uint64_t ticks;
static bool ack_in_isr;
static uint64_t tsc_start;

uint32_t vmmio_read(const struct vmmio_dev *d, uint32_t reg)
{
	return mmio_read32(d->base + reg);
}

void vmmio_write(const struct vmmio_dev *d, uint32_t reg, uint32_t v)
{
	mmio_write32(d->base + reg, v);
}

/* ---- discovery ---------------------------------------------------------- */

static bool parse_num(const char **p, uint64_t *out)
{
	char buf[24];
	unsigned n = 0;

	while (**p && **p != '@' && **p != ':' && **p != ' ' && n < sizeof(buf) - 1)
		buf[n++] = *(*p)++;
	buf[n] = '\0';
	return parse_u64(buf, out);
}

/* "SIZE[K|M|G]@ADDR:IRQ[:ID]" */
static bool parse_device(const char *v, struct vmmio_dev *d)
{
	uint64_t size, base, irq;
	char sz[16];
	unsigned n = 0, shift = 0;

	while (*v && *v != '@' && n < sizeof(sz) - 1)
		sz[n++] = *v++;
	sz[n] = '\0';
	if (n && (sz[n - 1] | 0x20) == 'k')
		shift = 10;
	else if (n && (sz[n - 1] | 0x20) == 'm')
		shift = 20;
	if (shift)
		sz[n - 1] = '\0';
	if (!parse_u64(sz, &size) || *v++ != '@' || !parse_num(&v, &base) ||
	    *v++ != ':' || !parse_num(&v, &irq))
		return false;
	d->base = base;
	d->gsi = (unsigned)irq;
	/* our vmm: 4K windows; QEMU's microvm: 512 bytes, config at 0x100 */
	return (size << shift) >= 0x200 && irq < 24;
}

unsigned vmmio_find(const char *cmdline, struct vmmio_dev *devs, unsigned max)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline;
	unsigned found = 0;

	while ((p = strstr(p, key)) != NULL) {
		bool at_token = p == cmdline || p[-1] == ' ';

		p += sizeof(key) - 1;
		if (!at_token || found == max)
			continue;
		memset(&devs[found], 0, sizeof(devs[found]));
		devs[found].index = found;
		GUEST_ASSERT(parse_device(p, &devs[found]));
		found++;
	}
	return found;
}

/* ---- interrupts and time ------------------------------------------------ */

static void vmmio_isr(struct irq_frame *f)
{
	uint64_t i = f->vector - VMMIO_FIRST_VECTOR;

	struct vmmio_dev *d = i < VMMIO_MAX_DEVICES ? vector_dev[i] : NULL;
	uint32_t isr;

	if (!d)
		return;
	if (ack_in_isr) {
		isr = vmmio_read(d, VIRTIO_MMIO_INTERRUPT_STATUS);
		vmmio_write(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
		d->isr_seen |= isr;
	}
	d->irqs++;
}

static void tick_isr(struct irq_frame *f)
{
	(void)f;
	ticks++;
}

void vmmio_setup(bool ack)
{
	ack_in_isr = ack;
	tsc_start = rdtsc();
	irq_register(VMMIO_TIMER_VECTOR, tick_isr);
	lapic_write(LAPIC_TIMER_DIV, LAPIC_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | VMMIO_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, TICK_COUNT);
}

uint64_t vmmio_now_ms(void)
{
	return (rdtsc() - tsc_start) / TSC_PER_MS;
}

/* ---- initialization (3.1.1) --------------------------------------------- */

bool vmmio_probe(struct vmmio_dev *d, uint32_t device_id, const char *prefix)
{
	uint32_t magic = vmmio_read(d, VIRTIO_MMIO_MAGIC_VALUE);
	uint32_t version = vmmio_read(d, VIRTIO_MMIO_VERSION);
	uint32_t id = vmmio_read(d, VIRTIO_MMIO_DEVICE_ID);

	if (magic == VIRTIO_MMIO_MAGIC && version == 2 && id == device_id)
		return true;
	gprintf("%s: not ok: device %u at 0x%llx: magic 0x%x version %u device id %u"
	    " (want 0x%x, 2, %u)\n", prefix, d->index, (unsigned long long)d->base,
	    magic, version, id, VIRTIO_MMIO_MAGIC, device_id);
	return false;
}

void vmmio_reset(struct vmmio_dev *d)
{
	vmmio_write(d, VIRTIO_MMIO_STATUS, 0);
	for (unsigned i = 0; vmmio_read(d, VIRTIO_MMIO_STATUS) != 0; i++)
		GUEST_ASSERT(i < RESET_POLLS);
}

static void set_status(struct vmmio_dev *d, uint32_t bits)
{
	vmmio_write(d, VIRTIO_MMIO_STATUS, vmmio_read(d, VIRTIO_MMIO_STATUS) | bits);
}

static int negotiate(struct vmmio_dev *d, uint64_t want, const char *prefix)
{
	uint64_t f;

	vmmio_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = vmmio_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
	vmmio_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f |= (uint64_t)vmmio_read(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	d->device_features = f;
	if (!(f & (1ull << VIRTIO_F_VERSION_1))) {
		gprintf("%s: not ok: device %u does not offer VERSION_1 (features 0x%llx)\n",
		    prefix, d->index, (unsigned long long)f);
		return -1;
	}
	d->features = f & (want | 1ull << VIRTIO_F_VERSION_1);
	vmmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vmmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	vmmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vmmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	set_status(d, VIRTIO_STATUS_FEATURES_OK);
	if (!(vmmio_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		gprintf("%s: not ok: device %u refused features 0x%llx\n", prefix,
		    d->index, (unsigned long long)d->features);
		return -1;
	}
	return 0;
}

static void write_addr(struct vmmio_dev *d, uint32_t lo_reg, const void *p)
{
	uint64_t a = (uint64_t)p;

	vmmio_write(d, lo_reg, (uint32_t)a);
	vmmio_write(d, lo_reg + 4, (uint32_t)(a >> 32));
}

static int setup_queue0(struct vmmio_dev *d, const char *prefix)
{
	uint8_t *mem = ring_mem[d->index];
	uint32_t max;

	vmmio_write(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	max = vmmio_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max == 0 || vmmio_read(d, VIRTIO_MMIO_QUEUE_READY) != 0) {
		gprintf("%s: not ok: device %u queue 0: QueueNumMax %u, QueueReady %u\n",
		    prefix, d->index, max, vmmio_read(d, VIRTIO_MMIO_QUEUE_READY));
		return -1;
	}
	for (d->num = VMMIO_QUEUE_SIZE; d->num > max; d->num /= 2)
		;
	blk_zero(mem, sizeof(ring_mem[0]));
	d->desc = (struct virtq_desc *)(mem + RING_DESC_OFF);
	d->avail = (struct virtq_avail *)(mem + RING_AVAIL_OFF);
	d->used = (struct virtq_used *)(mem + RING_USED_OFF);
	d->scratch = mem + RING_SCRATCH_OFF;
	d->avail_idx = d->last_used = d->kick_old = 0;
	d->isr_seen = 0;
	vmmio_write(d, VIRTIO_MMIO_QUEUE_NUM, d->num);
	write_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, d->desc);
	write_addr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, d->avail);
	write_addr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, d->used);
	vmmio_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

int vmmio_init_begin(struct vmmio_dev *d, uint64_t want, const char *prefix)
{
	GUEST_ASSERT(d->index < VMMIO_MAX_DEVICES);
	vmmio_reset(d);
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, VIRTIO_STATUS_DRIVER);
	if (negotiate(d, want, prefix)) {
		set_status(d, VIRTIO_STATUS_FAILED);
		return -1;
	}
	return 0;
}

void vmmio_init_end(struct vmmio_dev *d)
{
	uint8_t vector = (uint8_t)(VMMIO_FIRST_VECTOR + d->index);

	vector_dev[d->index] = d;
	irq_register(vector, vmmio_isr);
	ioapic_route(d->gsi, vector, 0);   /* ISA IRQ: edge, active high */
	set_status(d, VIRTIO_STATUS_DRIVER_OK);
}

int vmmio_init(struct vmmio_dev *d, uint64_t want, const char *prefix)
{
	if (vmmio_init_begin(d, want, prefix))
		return -1;
	if (setup_queue0(d, prefix)) {
		set_status(d, VIRTIO_STATUS_FAILED);
		return -1;
	}
	vmmio_init_end(d);
	return 0;
}

uint64_t vmmio_config64(const struct vmmio_dev *d, uint32_t off)
{
	uint32_t gen, lo, hi;

	do {
		gen = vmmio_read(d, VIRTIO_MMIO_CONFIG_GENERATION);
		lo = vmmio_read(d, VIRTIO_MMIO_CONFIG + off);
		hi = vmmio_read(d, VIRTIO_MMIO_CONFIG + off + 4);
	} while (gen != vmmio_read(d, VIRTIO_MMIO_CONFIG_GENERATION));
	return (uint64_t)hi << 32 | lo;
}

/* ---- split ring (2.7) --------------------------------------------------- */

static volatile uint16_t *used_event(const struct vmmio_dev *d)
{
	return (volatile uint16_t *)((uint8_t *)d->avail + 4 + 2 * d->num);
}

static volatile uint16_t *avail_event(const struct vmmio_dev *d)
{
	return (volatile uint16_t *)((uint8_t *)d->used + 4 + 8 * d->num);
}

void vmmio_chain(struct vmmio_dev *d, const struct vmmio_buf *bufs, unsigned n)
{
	GUEST_ASSERT(n && n <= d->num);
	for (unsigned i = 0; i < n; i++)
		d->desc[i] = (struct virtq_desc){
			.addr = bufs[i].addr, .len = bufs[i].len,
			.flags = (uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
			    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)(i + 1 < n ? i + 1 : 0),
		};
}

void vmmio_publish(struct vmmio_dev *d, uint16_t head)
{
	d->avail->ring[d->avail_idx % d->num] = head;
	if (vmmio_has(d, VIRTIO_F_RING_EVENT_IDX))
		*used_event(d) = d->last_used;    /* interrupt on the next entry */
	d->irqs_at_publish = d->irqs;
	__atomic_thread_fence(__ATOMIC_RELEASE);   /* ring entry before idx */
	d->avail_idx++;
	*(volatile uint16_t *)&d->avail->idx = d->avail_idx;
}

void vmmio_kick(struct vmmio_dev *d, bool force)
{
	bool need;

	/* our avail->idx store must be visible before we read what the device
	 * asked for (store -> load: a full fence) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (force)
		need = true;
	else if (vmmio_has(d, VIRTIO_F_RING_EVENT_IDX))
		need = virtq_need_event(*avail_event(d), d->avail_idx, d->kick_old);
	else
		need = !(*(volatile uint16_t *)&d->used->flags & VIRTQ_USED_F_NO_NOTIFY);
	d->kick_old = d->avail_idx;
	if (need)
		vmmio_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static bool used_ready(const struct vmmio_dev *d)
{
	return *(volatile uint16_t *)&d->used->idx != d->last_used &&
	    d->irqs != d->irqs_at_publish;
}

int vmmio_wait_used(struct vmmio_dev *d, struct virtq_used_elem *e, uint64_t timeout_ms)
{
	uint64_t end = vmmio_now_ms() + timeout_ms;
	volatile struct virtq_used_elem *u;

	irq_disable();
	while (!used_ready(d)) {
		if (vmmio_now_ms() > end) {
			irq_enable();
			return -1;
		}
		wait_for_interrupt();
	}
	irq_enable();
	__atomic_thread_fence(__ATOMIC_ACQUIRE);   /* idx before the entry */
	u = &d->used->ring[d->last_used % d->num];
	e->id = u->id;
	e->len = u->len;
	d->last_used++;
	return 0;
}

int vmmio_run_chain(struct vmmio_dev *d, const struct vmmio_buf *bufs, unsigned n,
    uint32_t *used_len)
{
	struct virtq_used_elem e;

	vmmio_chain(d, bufs, n);
	vmmio_publish(d, 0);
	vmmio_kick(d, false);
	if (vmmio_wait_used(d, &e, 10000)) {
		gprintf("not ok: device %u: no completion with an interrupt within 10 s"
		    " (used idx %u, want %u; %llu interrupts)\n", d->index,
		    *(volatile uint16_t *)&d->used->idx, (uint16_t)(d->last_used + 1),
		    (unsigned long long)d->irqs);
		return -1;
	}
	GUEST_ASSERT_EQ(e.id, 0);
	if (used_len)
		*used_len = e.len;
	return 0;
}

int64_t vmmio_wait_needs_reset(struct vmmio_dev *d, uint64_t timeout_ms)
{
	uint64_t end = vmmio_now_ms() + timeout_ms;
	uint32_t isr;

	irq_disable();
	while (!(vmmio_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		if (vmmio_now_ms() > end) {
			irq_enable();
			return -1;
		}
		wait_for_interrupt();
	}
	irq_enable();
	isr = vmmio_read(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	vmmio_write(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr | d->isr_seen;
}

/* ---- virtio-blk --------------------------------------------------------- */

int vmmio_blk_req(struct vmmio_dev *d, uint32_t type, uint64_t sector, void *buf,
    uint32_t len, uint32_t *used_len)
{
	struct virtio_blk_req_hdr *hdr = (struct virtio_blk_req_hdr *)d->scratch;
	volatile uint8_t *status = d->scratch + sizeof(*hdr);
	struct vmmio_buf bufs[3];
	unsigned n = 0;

	*hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = sector };
	*status = 0xff;
	bufs[n++] = (struct vmmio_buf){ (uint64_t)hdr, sizeof(*hdr), false };
	if (len)
		bufs[n++] = (struct vmmio_buf){ (uint64_t)buf, len,
		    type != VIRTIO_BLK_T_OUT };
	bufs[n++] = (struct vmmio_buf){ (uint64_t)status, 1, true };
	if (vmmio_run_chain(d, bufs, n, used_len))
		return -1;
	return *status;
}

/* ---- THE pattern, eight bytes at a time --------------------------------- */

#define LOW7  0x7f7f7f7f7f7f7f7full
#define HIGH1 0x8080808080808080ull
#define STEP8 (56 * 0x0101010101010101ull)   /* 8 bytes on: +7 each */

/* Bytewise x + y mod 256 in each of the eight lanes (no carry across). */
static inline uint64_t lanes_add(uint64_t x, uint64_t y)
{
	return ((x & LOW7) + (y & LOW7)) ^ ((x ^ y) & HIGH1);
}

static uint64_t first_word(uint64_t s, unsigned disk)
{
	uint64_t w = 0;

	for (unsigned k = 0; k < 8; k++)
		w |= (uint64_t)blk_pattern_byte(s, k, disk) << (8 * k);
	return w;
}

void blk_pattern_fill(void *buf, uint64_t sector, unsigned nsect, unsigned disk)
{
	uint64_t *p = buf;

	for (uint64_t s = sector; s < sector + nsect; s++) {
		uint64_t w = first_word(s, disk);

		for (unsigned i = 0; i < VIRTIO_BLK_SECTOR_SIZE / 8; i++, w = lanes_add(w, STEP8))
			*p++ = w;
	}
}

static long first_diff(const uint8_t *b, uint64_t s, unsigned disk)
{
	for (unsigned o = 0; o < VIRTIO_BLK_SECTOR_SIZE; o++)
		if (b[o] != blk_pattern_byte(s, o, disk))
			return o;
	return 0;
}

long blk_pattern_check(const void *buf, uint64_t sector, unsigned nsect, unsigned disk)
{
	const uint64_t *p = buf;

	for (uint64_t s = sector; s < sector + nsect; s++) {
		uint64_t w = first_word(s, disk);

		for (unsigned i = 0; i < VIRTIO_BLK_SECTOR_SIZE / 8; i++, w = lanes_add(w, STEP8))
			if (p[i] != w)
				return (long)((s - sector) * VIRTIO_BLK_SECTOR_SIZE) +
				    first_diff((const uint8_t *)p, s, disk);
		p += VIRTIO_BLK_SECTOR_SIZE / 8;
	}
	return -1;
}

/* rep stosq: one instruction, where a C loop would become a call to the
 * byte-at-a-time memset. */
void blk_zero(void *buf, uint64_t len)
{
	uint64_t n = len / 8;

	__asm__ volatile("rep stosq" : "+D"(buf), "+c"(n) : "a"(0ull) : "memory");
}
