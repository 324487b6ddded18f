/*
 * virtio_blk_hostile: attack the first virtio-blk device from inside the
 * guest and prove it survives. Posts malformed chains, one at a time:
 *   loop chain, next index out of range, buffer in the MMIO hole, buffer at
 *   1 TiB (beyond RAM), length overflowing 2^64, readable descriptor after a
 *   writable one, and (when RING_INDIRECT_DESC is offered) an indirect table
 *   beyond RAM and an indirect descriptor inside an indirect table;
 * then two ring-level errors: an avail index that jumps by more than the
 * queue size, and a head index >= queue size. Each must break the queue:
 * the chain is never completed, the device reports DEVICE_NEEDS_RESET with
 * a config-change interrupt. For each the guest prints
 *   virtio_blk_hostile: NAME: DEVICE_NEEDS_RESET
 * resets the device, initializes it again and does a good read that must
 * return THE pattern ("good read after NAME: ok"). A chain ending in an
 * indirect table longer than the queue is valid and must read correctly.
 * Ends with
 *   virtio_blk_hostile: device survived all N hostile inputs
 * vmmref.blk_event_idx=0|1 (default 1) and vmmref.virtio_ack=0|1 (default
 * 0) as in virtio_blk; vmmref.hostile_only=chains|ring runs only the
 * malformed chains or only the ring-level errors.
 * Any failure: a "virtio_blk_hostile: not ok: ..." line, then reset.
 */
#include "guest.h"
#include "virtio_mmio.h"

#define P "virtio_blk_hostile"
#define IO_SECTORS 8
#define IO_BYTES   (IO_SECTORS * VIRTIO_BLK_SECTOR_SIZE)
#define MMIO_HOLE_ADDR 0xd0000000ull
#define BEYOND_RAM     (1ull << 40)
#define WRAPPING_ADDR  0xfffffffffffff000ull
#define WAIT_MS 10000
#define LONG_TABLE 32             /* entries: more than the queue (16) */

static struct vmmio_dev dev;
static uint8_t data[IO_BYTES] __attribute__((aligned(4096)));
static struct virtq_desc itable[LONG_TABLE] __attribute__((aligned(16)));
static struct virtq_desc itable2[2] __attribute__((aligned(16)));
static unsigned inputs;
static uint64_t want;

#define CHECK(cond, ...) do { if (!(cond)) guest_fail(P, __LINE__, __VA_ARGS__); } while (0)

static void set_desc(struct virtq_desc *t, unsigned i, uint64_t addr, uint32_t len,
    uint16_t flags, uint16_t next)
{
	t[i] = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static uint64_t hdr_addr(void)
{
	struct virtio_blk_req_hdr *h = (struct virtio_blk_req_hdr *)dev.scratch;

	*h = (struct virtio_blk_req_hdr){ .type = VIRTIO_BLK_T_IN, .sector = 0 };
	return (uint64_t)h;
}

static uint64_t status_addr(void)
{
	return (uint64_t)dev.scratch + sizeof(struct virtio_blk_req_hdr);
}

/* An IN request of data_len bytes at data_addr: descriptors 0, 1, 2. */
static void in_chain(uint64_t data_addr, uint32_t data_len)
{
	set_desc(dev.desc, 0, hdr_addr(), 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(dev.desc, 1, data_addr, data_len, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(dev.desc, 2, status_addr(), 1, VIRTQ_DESC_F_WRITE, 0);
}

/* A good read of sectors 0..7: status OK, used len 4097, THE pattern. */
static void check_read(const char *what, int st, uint32_t used_len)
{
	long bad = blk_pattern_check(data, 0, IO_SECTORS, 0);

	CHECK(st == VIRTIO_BLK_S_OK, "%s: status %d", what, st);
	CHECK(used_len == IO_BYTES + 1, "%s: used len %u", what, used_len);
	CHECK(bad < 0, "%s: wrong data at byte %ld", what, bad);
}

static void good_read_after(const char *name)
{
	uint32_t used_len = 0;
	int st;

	blk_zero(data, IO_BYTES);
	st = vmmio_blk_req(&dev, VIRTIO_BLK_T_IN, 0, data, IO_BYTES, &used_len);
	check_read("good read", st, used_len);
	gprintf(P ": good read after %s: ok\n", name);
}

/* The device must stop the queue without completing anything and report
 * DEVICE_NEEDS_RESET with a config interrupt; then reset, initialize
 * again and read. */
static void expect_needs_reset(const char *name)
{
	int64_t isr = vmmio_wait_needs_reset(&dev, WAIT_MS);
	uint16_t used = *(volatile uint16_t *)&dev.used->idx;

	CHECK(used == dev.last_used, "%s: completed (used len %u) instead of "
	    "breaking the queue", name, dev.used->ring[dev.last_used % dev.num].len);
	CHECK(isr >= 0, "%s: no DEVICE_NEEDS_RESET within %u ms", name, WAIT_MS);
	gprintf(P ": %s: DEVICE_NEEDS_RESET\n", name);
	CHECK(isr & VIRTIO_MMIO_INT_CONFIG, "%s: no config-change interrupt status "
	    "(InterruptStatus 0x%llx)", name, (unsigned long long)isr);
	inputs++;
	CHECK(vmmio_init(&dev, want, P) == 0, "%s: re-initialization", name);
	good_read_after(name);
}

/* Post the chain at head, kick, and require the queue to break. */
static void post_bad(const char *name, uint16_t head)
{
	vmmio_publish(&dev, head);
	vmmio_kick(&dev, true);
	expect_needs_reset(name);
}

static void bad_chains(void)
{
	in_chain((uint64_t)data, IO_BYTES);
	dev.desc[2].flags |= VIRTQ_DESC_F_NEXT;     /* 0 -> 1 -> 2 -> 1 -> 2 ... */
	dev.desc[2].next = 1;                       /* (all writable: only a loop) */
	post_bad("loop chain", 0);

	in_chain((uint64_t)data, IO_BYTES);
	dev.desc[1].next = 200;                     /* >= queue size */
	post_bad("next index out of range", 0);

	in_chain(MMIO_HOLE_ADDR, IO_BYTES);
	post_bad("buffer in the MMIO hole", 0);

	in_chain(BEYOND_RAM, IO_BYTES);
	post_bad("buffer beyond RAM", 0);

	in_chain(WRAPPING_ADDR, 0x2000);
	post_bad("length overflowing 2^64", 0);

	in_chain((uint64_t)data, IO_BYTES);         /* hdr, W data, R, W status */
	set_desc(dev.desc, 2, (uint64_t)data, 512, VIRTQ_DESC_F_NEXT, 3);
	set_desc(dev.desc, 3, status_addr(), 1, VIRTQ_DESC_F_WRITE, 0);
	post_bad("readable after writable", 0);
}

/* Valid (spec 2.7.5.3.1 bounds an indirect table by nothing but the
 * device's limit, 1024 here): a chain ending in an indirect table of
 * LONG_TABLE entries, more than the queue size; only 3 are used. */
static void long_indirect_table(void)
{
	struct virtq_used_elem e;
	volatile uint8_t *status = (volatile uint8_t *)status_addr();

	blk_zero(itable, sizeof(itable));
	blk_zero(data, IO_BYTES);
	*status = 0xff;
	set_desc(itable, 0, hdr_addr(), 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(itable, 1, (uint64_t)data, IO_BYTES, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(itable, 2, status_addr(), 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(dev.desc, 3, (uint64_t)itable, sizeof(itable), VIRTQ_DESC_F_INDIRECT, 0);
	vmmio_publish(&dev, 3);
	vmmio_kick(&dev, false);
	CHECK(vmmio_wait_used(&dev, &e, WAIT_MS) == 0, "indirect table of %u "
	    "entries: no completion within %u ms", LONG_TABLE, WAIT_MS);
	CHECK(e.id == 3, "indirect table of %u entries: used id %u", LONG_TABLE, e.id);
	check_read("indirect table longer than the queue", *status, e.len);
	gprintf(P ": indirect table of %u entries (queue %u): ok\n", LONG_TABLE, dev.num);
}

static void bad_indirect(void)
{
	if (!vmmio_has(&dev, VIRTIO_F_RING_INDIRECT_DESC)) {
		gprintf(P ": RING_INDIRECT_DESC not offered: indirect inputs skipped\n");
		return;
	}
	long_indirect_table();
	set_desc(dev.desc, 5, BEYOND_RAM, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	post_bad("indirect table beyond RAM", 5);

	set_desc(itable, 0, hdr_addr(), 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(itable, 1, (uint64_t)itable2, sizeof(itable2),
	    VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 2);
	set_desc(itable, 2, status_addr(), 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(itable2, 0, (uint64_t)data, IO_BYTES, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(itable2, 1, status_addr(), 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(dev.desc, 7, (uint64_t)itable, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	post_bad("indirect in indirect", 7);
}

static void ring_errors(void)
{
	uint16_t jump = (uint16_t)(dev.avail_idx + dev.num + 1);

	*(volatile uint16_t *)&dev.avail->idx = jump;
	vmmio_kick(&dev, true);
	expect_needs_reset("avail idx jump");

	vmmio_publish(&dev, (uint16_t)(dev.num + 3));   /* head >= queue size */
	vmmio_kick(&dev, true);
	expect_needs_reset("bad head index");
}

void guest_main(const struct guest_boot *gb)
{
	uint64_t event_idx = 1, ack = 0;
	char only[8] = "";

	cmdline_get_u64(gb->cmdline, "vmmref.virtio_ack", &ack);
	irq_init();
	vmmio_setup(ack != 0);
	cmdline_get_u64(gb->cmdline, "vmmref.blk_event_idx", &event_idx);
	cmdline_get(gb->cmdline, "vmmref.hostile_only", only, sizeof(only));
	want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC |
	    (event_idx ? 1ull << VIRTIO_F_RING_EVENT_IDX : 0);
	CHECK(vmmio_find(gb->cmdline, &dev, 1) == 1, "no virtio_mmio.device=");
	CHECK(vmmio_probe(&dev, VIRTIO_ID_BLOCK, P), "probe");
	CHECK(vmmio_init(&dev, want, P) == 0, "init");
	gprintf(P ": features 0x%llx, negotiated 0x%llx\n",
	    (unsigned long long)dev.device_features, (unsigned long long)dev.features);
	if (strcmp(only, "ring")) {
		bad_chains();
		bad_indirect();
	}
	if (strcmp(only, "chains"))
		ring_errors();
	gprintf(P ": device survived all %u hostile inputs\n", inputs);
}
