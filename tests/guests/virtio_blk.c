/*
 * virtio_blk: drive every virtio-blk device on the command line through
 * virtio-mmio (lib/virtio_mmio.c) with completions by interrupt, so the
 * whole path guest -> KVM ioeventfd -> vmm-blk -> KVM irqfd -> guest runs.
 * Disks hold THE pattern (disk d = d-th virtio_mmio.device). Per disk d:
 *   virtio_blk: disk D: capacity N sectors, features 0x...
 *   virtio_blk: disk D: id NAME
 * then reads sectors 0..7 and the last sector and checks the pattern; on a
 * read-only disk (RO offered) a write to sector 8 must fail with IOERR
 *   virtio_blk: disk D: read-only write refused
 * else writes sectors 16..23 with the pattern of disk d + 100, reads them
 * back and FLUSHes
 *   virtio_blk: disk D: flushed
 * then repeats write/read/verify of disk 0 vmmref.blk_iters=N times (default
 * 1) touching no device register but QueueNotify (an ioeventfd), and ends
 *   virtio_blk: all N checks passed
 * Switches: vmmref.blk_event_idx=0|1 (default 1) negotiates RING_EVENT_IDX;
 * vmmref.blk_mode=wait_kill: after the checks print "virtio_blk: ready for
 * kill", wait for disk 0 to report DEVICE_NEEDS_RESET with a config
 * interrupt, then read every other disk; vmmref.blk_mode=flush_wait: write
 * and FLUSH sectors 16..23 of disk 0, print "virtio_blk: flushed, waiting"
 * and halt forever. vmmref.virtio_ack=1 (default 0): the interrupt handler
 * reads and acknowledges InterruptStatus, as a level-triggered virtio-mmio
 * (QEMU's microvm, used to check this driver) needs; our vmm's irqfd does
 * not. Any failure: a "virtio_blk: not ok: ..." line, reset.
 */
#include "guest.h"
#include "virtio_mmio.h"

#define P "virtio_blk"
#define IO_SECTORS 8
#define IO_BYTES   (IO_SECTORS * VIRTIO_BLK_SECTOR_SIZE)
#define WRITE_SECTOR 16     /* sectors 16..23 get the pattern of disk d + 100 */
#define RO_SECTOR    8
#define KILL_WAIT_MS 60000

static struct vmmio_dev devs[VMMIO_MAX_DEVICES];
static uint8_t wbuf[IO_BYTES] __attribute__((aligned(4096)));
static uint8_t rbuf[IO_BYTES] __attribute__((aligned(4096)));
static char idbuf[VIRTIO_BLK_ID_BYTES + 4] __attribute__((aligned(8)));
static unsigned checks;

#define CHECK(cond, ...) do { if (!(cond)) guest_fail(P, __LINE__, __VA_ARGS__); \
	checks++; } while (0)

static uint64_t want_features(bool event_idx)
{
	return 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH |
	    1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_BLK_SIZE |
	    1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_SIZE_MAX |
	    (event_idx ? 1ull << VIRTIO_F_RING_EVENT_IDX : 0);
}

static uint64_t disk_setup(struct vmmio_dev *d, bool event_idx)
{
	uint64_t cap;

	CHECK(vmmio_probe(d, VIRTIO_ID_BLOCK, P), "disk %u: probe", d->index);
	CHECK(vmmio_init(d, want_features(event_idx), P) == 0, "disk %u: init", d->index);
	CHECK(vmmio_has(d, VIRTIO_F_RING_EVENT_IDX) == (event_idx &&
	    (d->device_features >> VIRTIO_F_RING_EVENT_IDX & 1)),
	    "disk %u: EVENT_IDX negotiation", d->index);
	cap = vmmio_config64(d, 0);   /* virtio_blk_config.capacity */
	gprintf(P ": disk %u: capacity %llu sectors, features 0x%llx\n", d->index,
	    (unsigned long long)cap, (unsigned long long)d->device_features);
	gprintf(P ": disk %u: negotiated 0x%llx\n", d->index,
	    (unsigned long long)d->features);
	CHECK(cap >= WRITE_SECTOR + IO_SECTORS + 1, "disk %u: capacity %llu too small",
	    d->index, (unsigned long long)cap);
	return cap;
}

/* A request that must complete with status want and used length want_len
 * (~0u: any). */
static void request(struct vmmio_dev *d, uint32_t type, uint64_t sector, void *buf,
    uint32_t len, int want, uint32_t want_len)
{
	uint32_t used_len = 0;
	int st = vmmio_blk_req(d, type, sector, buf, len, &used_len);

	CHECK(st == want, "disk %u: request type %u sector %llu: status %d, want %d",
	    d->index, type, (unsigned long long)sector, st, want);
	CHECK(want_len == ~0u || used_len == want_len,
	    "disk %u: request type %u sector %llu: used len %u, want %u", d->index,
	    type, (unsigned long long)sector, used_len, want_len);
}

static void read_verify(struct vmmio_dev *d, uint64_t sector, unsigned nsect,
    unsigned pattern_disk)
{
	uint32_t len = nsect * VIRTIO_BLK_SECTOR_SIZE;
	long bad;

	blk_zero(rbuf, len);
	request(d, VIRTIO_BLK_T_IN, sector, rbuf, len, VIRTIO_BLK_S_OK, len + 1);
	bad = blk_pattern_check(rbuf, sector, nsect, pattern_disk);
	CHECK(bad < 0, "disk %u: sector %llu offset %ld: read 0x%x, want 0x%x",
	    d->index, (unsigned long long)(sector + bad / VIRTIO_BLK_SECTOR_SIZE),
	    bad % VIRTIO_BLK_SECTOR_SIZE, rbuf[bad < 0 ? 0 : bad],
	    blk_pattern_byte(sector + bad / VIRTIO_BLK_SECTOR_SIZE,
	    bad % VIRTIO_BLK_SECTOR_SIZE, pattern_disk));
}

/* Write sectors 16..23 (wbuf already holds their pattern) and read back. */
static void write_verify(struct vmmio_dev *d)
{
	request(d, VIRTIO_BLK_T_OUT, WRITE_SECTOR, wbuf, IO_BYTES, VIRTIO_BLK_S_OK, 1);
	read_verify(d, WRITE_SECTOR, IO_SECTORS, d->index + 100);
}

static void get_id(struct vmmio_dev *d)
{
	memset(idbuf, 0, sizeof(idbuf));
	request(d, VIRTIO_BLK_T_GET_ID, 0, idbuf, VIRTIO_BLK_ID_BYTES,
	    VIRTIO_BLK_S_OK, ~0u);
	gprintf(P ": disk %u: id %s\n", d->index, idbuf);
}

static void flush(struct vmmio_dev *d)
{
	CHECK(vmmio_has(d, VIRTIO_BLK_F_FLUSH), "disk %u: FLUSH not offered", d->index);
	request(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, VIRTIO_BLK_S_OK, 1);
}

static void disk_checks(struct vmmio_dev *d, bool event_idx)
{
	uint64_t cap = disk_setup(d, event_idx);

	get_id(d);
	read_verify(d, 0, IO_SECTORS, d->index);
	read_verify(d, cap - 1, 1, d->index);
	if (vmmio_has(d, VIRTIO_BLK_F_RO)) {
		blk_pattern_fill(wbuf, RO_SECTOR, 1, d->index + 100);
		request(d, VIRTIO_BLK_T_OUT, RO_SECTOR, wbuf, VIRTIO_BLK_SECTOR_SIZE,
		    VIRTIO_BLK_S_IOERR, ~0u);
		read_verify(d, RO_SECTOR, 1, d->index);
		gprintf(P ": disk %u: read-only write refused\n", d->index);
		return;
	}
	blk_pattern_fill(wbuf, WRITE_SECTOR, IO_SECTORS, d->index + 100);
	write_verify(d);
	flush(d);
	gprintf(P ": disk %u: flushed\n", d->index);
}

/* The exit-counted loop: only QueueNotify writes (ioeventfd) touch the
 * device; completions come from the used ring. */
static void iterate(struct vmmio_dev *d, uint64_t iters)
{
	bool ro = vmmio_has(d, VIRTIO_BLK_F_RO);

	blk_pattern_fill(wbuf, WRITE_SECTOR, IO_SECTORS, d->index + 100);
	for (uint64_t i = 0; i < iters; i++) {
		if (ro)
			read_verify(d, 0, IO_SECTORS, d->index);
		else
			write_verify(d);
	}
	gprintf(P ": disk %u: %llu read/write/verify rounds\n", d->index,
	    (unsigned long long)iters);
}

static void wait_kill(unsigned ndev)
{
	int64_t isr;

	gprintf(P ": ready for kill\n");
	isr = vmmio_wait_needs_reset(&devs[0], KILL_WAIT_MS);
	CHECK(isr >= 0, "disk 0: no DEVICE_NEEDS_RESET within %u ms", KILL_WAIT_MS);
	CHECK(isr & VIRTIO_MMIO_INT_CONFIG, "disk 0: InterruptStatus 0x%llx lacks "
	    "the config-change bit", (unsigned long long)isr);
	gprintf(P ": disk 0: device needs reset, guest alive\n");
	for (unsigned i = 1; i < ndev; i++)
		read_verify(&devs[i], 0, IO_SECTORS, i);
	gprintf(P ": other disks still work\n");
}

static void flush_wait(bool event_idx)
{
	struct vmmio_dev *d = &devs[0];

	disk_setup(d, event_idx);
	CHECK(!vmmio_has(d, VIRTIO_BLK_F_RO), "disk 0 is read-only");
	blk_pattern_fill(wbuf, WRITE_SECTOR, IO_SECTORS, 100);
	request(d, VIRTIO_BLK_T_OUT, WRITE_SECTOR, wbuf, IO_BYTES, VIRTIO_BLK_S_OK, 1);
	flush(d);
	gprintf(P ": flushed, waiting\n");
	guest_halt_forever();
}

void guest_main(const struct guest_boot *gb)
{
	uint64_t event_idx = 1, iters = 1, ack = 0;
	char mode[16] = "";
	unsigned ndev;

	cmdline_get_u64(gb->cmdline, "vmmref.virtio_ack", &ack);
	irq_init();
	vmmio_setup(ack != 0);
	cmdline_get_u64(gb->cmdline, "vmmref.blk_event_idx", &event_idx);
	cmdline_get_u64(gb->cmdline, "vmmref.blk_iters", &iters);
	cmdline_get(gb->cmdline, "vmmref.blk_mode", mode, sizeof(mode));
	ndev = vmmio_find(gb->cmdline, devs, VMMIO_MAX_DEVICES);
	CHECK(ndev >= 1, "no virtio_mmio.device= on the command line");
	if (!strcmp(mode, "flush_wait"))
		flush_wait(event_idx != 0);
	CHECK(!mode[0] || !strcmp(mode, "wait_kill"), "unknown vmmref.blk_mode=%s", mode);
	for (unsigned i = 0; i < ndev; i++)
		disk_checks(&devs[i], event_idx != 0);
	iterate(&devs[0], iters);
	if (!strcmp(mode, "wait_kill"))
		wait_kill(ndev);
	gprintf(P ": all %u checks passed\n", checks);
}
