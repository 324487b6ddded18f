/*
 * The memory table of a vhost-user backend: the regions of SET_MEM_TABLE,
 * each mmap'd from its fd, and the one checked translator from guest
 * addresses to our pointers.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vu.h"

void *
vu_mem_ptr_prefix(const struct vu_mem *mem, uint64_t gpa, uint64_t len, uint64_t *got)
{
	uint64_t end, rend;
	unsigned i;

	*got = 0;
	if (len == 0)
		len = 1;
	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (i = 0; i < mem->nregions; i++) {
		const struct vu_mem_region *r = &mem->r[i];

		if (__builtin_add_overflow(r->gpa, r->size, &rend))
			continue;
		if (gpa >= r->gpa && gpa < rend) {
			*got = end <= rend ? len : rend - gpa;
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

void *
vu_mem_ptr(const struct vu_mem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t got;
	void *p = vu_mem_ptr_prefix(mem, gpa, len, &got);

	return p != NULL && got >= (len == 0 ? 1 : len) ? p : NULL;
}

int
vu_mem_qva_to_gpa(const struct vu_mem *mem, uint64_t qva, uint64_t len, uint64_t *gpa)
{
	uint64_t end, rend;
	unsigned i;

	if (len == 0)
		len = 1;
	if (__builtin_add_overflow(qva, len, &end))
		return -EFAULT;
	for (i = 0; i < mem->nregions; i++) {
		const struct vu_mem_region *r = &mem->r[i];

		if (__builtin_add_overflow(r->qva, r->size, &rend))
			continue;
		if (qva >= r->qva && end <= rend) {
			*gpa = r->gpa + (qva - r->qva);
			return 0;
		}
	}
	return -EFAULT;
}

/* Regions must be non-empty, must not wrap in guest-physical, user or file
 * offset space, and must not overlap each other in guest-physical space. */
static int
check_regions(const struct vhost_user_memory *m)
{
	uint64_t end, end2;
	unsigned i, j;

	if (m->nregions == 0 || m->nregions > VHOST_USER_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < m->nregions; i++) {
		const struct vhost_user_memory_region *a = &m->regions[i];

		if (a->memory_size == 0 || a->memory_size > SIZE_MAX ||
		    __builtin_add_overflow(a->guest_phys_addr, a->memory_size, &end) ||
		    __builtin_add_overflow(a->userspace_addr, a->memory_size, &end2) ||
		    __builtin_add_overflow(a->mmap_offset, a->memory_size, &end2) ||
		    a->mmap_offset > (uint64_t)INT64_MAX - a->memory_size)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			const struct vhost_user_memory_region *b = &m->regions[j];

			if (a->guest_phys_addr < b->guest_phys_addr + b->memory_size &&
			    b->guest_phys_addr < end)
				return -EINVAL;
		}
	}
	return 0;
}

static void
unmap_all(struct vu_mem_region *r, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (r[i].map_base != NULL)
			munmap(r[i].map_base, r[i].map_len);
}

/* mmap one region: the offset is rounded down to a page and the pointer
 * moved forward by the remainder, as libvhost-user does. A region that
 * ends past the end of a regular file (a memfd) is refused: touching it
 * would raise SIGBUS in the device process. */
static int
map_region(struct vu_mem_region *out, const struct vhost_user_memory_region *in, int fd)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t delta = in->mmap_offset % (uint64_t)pg;
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < in->mmap_offset + in->memory_size)
		return -EINVAL;
	out->map_len = (size_t)(in->memory_size + delta);
	p = mmap(NULL, out->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
	    fd, (off_t)(in->mmap_offset - delta));
	if (p == MAP_FAILED)
		return -errno;
	out->map_base = p;
	out->host = (uint8_t *)p + delta;
	out->gpa = in->guest_phys_addr;
	out->size = in->memory_size;
	out->qva = in->userspace_addr;
	out->mmap_offset = in->mmap_offset;
	return 0;
}

int
vu_mem_set_table(struct vu_mem *mem, const struct vhost_user_memory *m,
    const int *fds, unsigned nfds)
{
	struct vu_mem_region r[VHOST_USER_MAX_REGIONS];
	unsigned i;
	int rc;

	memset(r, 0, sizeof(r));
	rc = check_regions(m);
	if (rc == 0 && nfds != m->nregions)
		rc = -EINVAL;
	for (i = 0; rc == 0 && i < m->nregions; i++)
		rc = map_region(&r[i], &m->regions[i], fds[i]);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (rc < 0) {
		unmap_all(r, VHOST_USER_MAX_REGIONS);
		return rc;
	}
	vu_mem_clear(mem);
	memcpy(mem->r, r, sizeof(r));
	mem->nregions = m->nregions;
	return 0;
}

void
vu_mem_clear(struct vu_mem *mem)
{
	unmap_all(mem->r, mem->nregions);
	memset(mem, 0, sizeof(*mem));
}
