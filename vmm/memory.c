/*
 * Guest RAM (see memory.h): one sealed memfd mapped once, its slot layout
 * around the MMIO hole, and gm_ptr(), the one guest-address translator.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_layout_x86_64.h"
#include "memory.h"

int
gm_layout(struct guest_mem *gm, uint64_t size, struct err *e)
{
	uint64_t low, end;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size == 0 || (size & 0xfff) != 0)
		return err_set(e, -EINVAL, "memory size %llu: must be a non-zero multiple of 4 KiB",
		    (unsigned long long)size);
	low = size < MMIO_HOLE_START ? size : MMIO_HOLE_START;
	gm->region[0] = (struct gm_region){ .gpa = 0, .size = low, .fd_offset = 0 };
	gm->nregions = 1;
	if (size > low) {
		if (__builtin_add_overflow(MMIO_HOLE_END, size - low, &end))
			return err_set(e, -EINVAL, "memory size %llu: too large",
			    (unsigned long long)size);
		gm->region[1] = (struct gm_region){ .gpa = MMIO_HOLE_END,
		    .size = size - low, .fd_offset = low };
		gm->nregions = 2;
	}
	gm->size = size;
	return 0;
}

int
gm_create(struct guest_mem *gm, uint64_t size, struct err *e)
{
	int rc;
	unsigned i;

	if ((rc = gm_layout(gm, size, e)) < 0)
		return rc;
	gm->fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (gm->fd < 0)
		return err_set(e, -errno, "guest memory: memfd_create: %s", strerror(errno));
	if (ftruncate(gm->fd, (off_t)size) < 0) {
		rc = err_set(e, -errno, "guest memory: %llu MiB: %s",
		    (unsigned long long)(size >> 20), strerror(errno));
		goto fail;
	}
	if (fcntl(gm->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		rc = err_set(e, -errno, "guest memory: seal: %s", strerror(errno));
		goto fail;
	}
	gm->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
	    gm->fd, 0);
	if (gm->base == MAP_FAILED) {
		gm->base = NULL;
		rc = err_set(e, -errno, "guest memory: mmap %llu MiB: %s",
		    (unsigned long long)(size >> 20), strerror(errno));
		goto fail;
	}
	for (i = 0; i < gm->nregions; i++)
		gm->region[i].hva = gm->base + gm->region[i].fd_offset;
	return 0;
fail:
	gm_destroy(gm);
	return rc;
}

void
gm_destroy(struct guest_mem *gm)
{
	if (gm->base != NULL)
		munmap(gm->base, gm->size);
	if (gm->fd >= 0)
		close(gm->fd);
	gm->base = NULL;
	gm->fd = -1;
}

void *
gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end, rend;
	unsigned i;

	if (len == 0)
		len = 1;
	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (i = 0; i < gm->nregions; i++) {
		const struct gm_region *r = &gm->region[i];

		rend = r->gpa + r->size;
		if (gpa >= r->gpa && end <= rend)
			return r->hva == NULL ? NULL : r->hva + (gpa - r->gpa);
	}
	return NULL;
}

uint64_t
gm_low_end(const struct guest_mem *gm)
{
	return gm->region[0].gpa + gm->region[0].size;
}
