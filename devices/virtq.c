/*
 * The split virtqueue (virtio 1.2, 2.7) from the device side. The driver is
 * another process and hostile: every index is masked or range-checked,
 * every descriptor is read once into a local copy, every buffer goes
 * through the vu_mem translator, and a chain visits at most num descriptors
 * of the table plus the entries of at most one indirect table (at most
 * VQ_MAX_SIZE of them, whatever num is).
 */
#include <errno.h>
#include <string.h>

#include "virtq.h"

/* Relaxed single loads/stores of ring fields the driver shares with us. */
#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* A place in a descriptor table while walking a chain. */
struct vq_walk {
	const struct virtq_desc *table;
	uint32_t size;          /* entries in table */
	uint32_t budget;        /* descriptors we may still visit */
	bool indirect;          /* table is an indirect table */
};

static bool
is_pow2(uint32_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* Translate one ring part: whole range in RAM and aligned. */
static void *
ring_part(const struct vu_mem *mem, uint64_t gpa, uint64_t len, uint64_t align)
{
	if (gpa % align != 0)
		return NULL;
	return vu_mem_ptr(mem, gpa, len);
}

int
vq_init(struct vq *vq, const struct vu_mem *mem, uint16_t num,
    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint16_t base,
    bool event_idx, bool indirect)
{
	memset(vq, 0, sizeof(*vq));
	if (!is_pow2(num) || num > VQ_MAX_SIZE)
		return -EINVAL;
	vq->desc = ring_part(mem, desc_gpa, VIRTQ_DESC_BYTES(num), VIRTQ_DESC_ALIGN);
	vq->avail = ring_part(mem, avail_gpa, VIRTQ_AVAIL_BYTES(num), VIRTQ_AVAIL_ALIGN);
	vq->used = ring_part(mem, used_gpa, VIRTQ_USED_BYTES(num), VIRTQ_USED_ALIGN);
	if (vq->desc == NULL || vq->avail == NULL || vq->used == NULL) {
		memset(vq, 0, sizeof(*vq));
		return -EINVAL;
	}
	vq->mem = mem;
	vq->num = num;
	vq->used_event = &vq->avail->ring[num];
	vq->avail_event = (uint16_t *)(void *)&vq->used->ring[num];
	vq->last_avail_idx = base;
	vq->used_idx = LOAD(&vq->used->idx);
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	return 0;
}

void
vq_reset(struct vq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/* One copy of a descriptor: every check and use reads the copy, never the
 * guest's table again. Indirect tables need not be aligned: memcpy. */
static void
read_desc(const struct virtq_desc *src, struct virtq_desc *d)
{
	memcpy(d, src, sizeof(*d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);    /* no re-reads of *src */
}

/* Append one buffer to the element, checking direction, range and sums.
 * A buffer that runs on into guest-physically adjacent regions becomes one
 * segment per region (each counted against VQ_MAX_IOV). */
static int
add_buffer(const struct vq *vq, struct vq_elem *e, const struct virtq_desc *d)
{
	bool writable = (d->flags & VIRTQ_DESC_F_WRITE) != 0;
	uint64_t *total = writable ? &e->in_len : &e->out_len;
	uint64_t addr = d->addr, left = d->len, got;
	unsigned n;
	void *p;

	if (d->len == 0)
		return 0;
	if (!writable && e->in_num != 0)
		return -EBADMSG;
	if (*total + d->len > UINT32_MAX)
		return -EBADMSG;
	while (left > 0) {
		n = e->out_num + e->in_num;
		p = vu_mem_ptr_prefix(vq->mem, addr, left, &got);
		if (p == NULL || n >= VQ_MAX_IOV)
			return -EBADMSG;
		e->iov[n].iov_base = p;
		e->iov[n].iov_len = (size_t)got;
		if (writable)
			e->in_num++;
		else
			e->out_num++;
		addr += got;            /* <= the region's end: no overflow */
		left -= got;
	}
	*total += d->len;
	return 0;
}

/*
 * Switch the walk to the indirect table d refers to: up to VQ_MAX_SIZE
 * entries whatever the queue size (Linux sends seg_max + 2 descriptors
 * through a table even on a smaller ring; QEMU accepts up to its
 * VIRTQUEUE_MAX_SIZE), in one region. Its WRITE flag is ignored
 * (2.7.5.3.2); its NEXT flag too: the table ends the chain, as in QEMU and
 * libvhost-user.
 */
static int
enter_indirect(const struct vq *vq, struct vq_walk *w, const struct virtq_desc *d)
{
	uint32_t entries = d->len / sizeof(struct virtq_desc);
	const struct virtq_desc *t;

	if (!vq->indirect || w->indirect)
		return -EBADMSG;
	if (d->len == 0 || d->len % sizeof(struct virtq_desc) != 0 || entries > VQ_MAX_SIZE)
		return -EBADMSG;
	t = vu_mem_ptr(vq->mem, d->addr, d->len);
	if (t == NULL)
		return -EBADMSG;
	w->table = t;
	w->size = entries;
	w->budget = entries;
	w->indirect = true;
	return 0;
}

/* Walk the chain starting at table index i (already < w->size). */
static int
walk_chain(const struct vq *vq, struct vq_elem *e, struct vq_walk *w, uint32_t i)
{
	struct virtq_desc d;
	int rc;

	for (;;) {
		if (i >= w->size || w->budget == 0)
			return -EBADMSG;
		w->budget--;
		read_desc(&w->table[i], &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			rc = enter_indirect(vq, w, &d);
			i = 0;
		} else {
			rc = add_buffer(vq, e, &d);
			if (rc == 0 && !(d.flags & VIRTQ_DESC_F_NEXT))
				return 0;
			i = d.next;
		}
		if (rc < 0)
			return rc;
	}
}

static void
elem_clear(struct vq_elem *e, uint16_t head)
{
	e->head = head;
	e->out_num = 0;
	e->in_num = 0;
	e->out_len = 0;
	e->in_len = 0;
}

static int
ring_broken(struct vq *vq)
{
	vq->broken = true;
	return -EIO;
}

int
vq_pop(struct vq *vq, struct vq_elem *e)
{
	struct vq_walk w;
	uint16_t avail_idx, head;

	if (vq->num == 0 || vq->broken)
		return 0;
	avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num)
		return ring_broken(vq);
	if (avail_idx == vq->last_avail_idx)
		return 0;
	head = LOAD(&vq->avail->ring[vq->last_avail_idx & (vq->num - 1)]);
	if (head >= vq->num)
		return ring_broken(vq);
	vq->last_avail_idx++;
	elem_clear(e, head);
	w.table = vq->desc;
	w.size = vq->num;
	w.budget = vq->num;
	w.indirect = false;
	if (walk_chain(vq, e, &w, head) < 0) {
		elem_clear(e, head);
		vq->bad_chains++;
		return -EBADMSG;
	}
	return 1;
}

void
vq_set_broken(struct vq *vq)
{
	if (vq->num != 0)
		vq->broken = true;
}

void
vq_fill(struct vq *vq, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *u;

	if (vq->num == 0)
		return;
	u = &vq->used->ring[vq->used_idx & (vq->num - 1)];
	STORE(&u->id, (uint32_t)head);
	STORE(&u->len, len);
	vq->used_idx++;
}

void
vq_flush(struct vq *vq)
{
	if (vq->num == 0)
		return;
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

void
vq_push(struct vq *vq, uint16_t head, uint32_t len)
{
	vq_fill(vq, head, len);
	vq_flush(vq);
}

bool
vq_should_notify(struct vq *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx;
	bool valid = vq->signalled_used_valid;

	if (vq->num == 0)
		return false;
	/* Our used idx store must be visible before we read the driver's
	 * suppression state (2.7.7.2 / 2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (valid && old == new)
		return false;
	if (!vq->event_idx)
		return !(LOAD(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	return virtq_need_event(LOAD(vq->used_event), new, old);
}

void
vq_set_notification(struct vq *vq, bool enable)
{
	uint16_t flags;

	if (vq->num == 0)
		return;
	if (vq->event_idx) {
		/* Disabling is a no-op: avail_event stays behind, so the
		 * driver does not kick until we move it forward again. */
		if (enable)
			STORE(vq->avail_event, vq->last_avail_idx);
	} else {
		flags = LOAD(&vq->used->flags);
		flags = enable ? (flags & ~VIRTQ_USED_F_NO_NOTIFY) :
		    (flags | VIRTQ_USED_F_NO_NOTIFY);
		STORE(&vq->used->flags, flags);
	}
	/* The flag/avail_event write must be visible before the caller
	 * re-reads avail idx, or a kick can be lost. */
	if (enable)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint16_t
vq_avail_pending(const struct vq *vq)
{
	if (vq->num == 0 || vq->broken)
		return 0;
	return (uint16_t)(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) -
	    vq->last_avail_idx);
}

/* Copy between buf and segments [first, first+n) of e, skipping `skip`
 * bytes of them first; to_iov says the direction. */
static size_t
iov_copy(const struct iovec *iov, unsigned n, size_t skip, uint8_t *buf,
    size_t len, bool to_iov)
{
	size_t done = 0, chunk;
	unsigned i;

	for (i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - skip;
		if (chunk > len - done)
			chunk = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + skip, buf + done, chunk);
		else
			memcpy(buf + done, (uint8_t *)iov[i].iov_base + skip, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

size_t
vq_iov_to_buf(const struct vq_elem *e, size_t skip, void *buf, size_t len)
{
	return iov_copy(e->iov, e->out_num, skip, buf, len, false);
}

size_t
vq_buf_to_iov(const struct vq_elem *e, size_t skip, const void *buf, size_t len)
{
	return iov_copy(e->iov + e->out_num, e->in_num, skip, (uint8_t *)(uintptr_t)buf,
	    len, true);
}
