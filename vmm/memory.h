/*
 * Guest RAM: one sealed memfd, mapped MAP_SHARED once, exposed to KVM as one
 * or two slots (split around the 32-bit MMIO hole when the guest has more
 * than MMIO_HOLE_START bytes). The fd is what later issues hand to device
 * processes.
 */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define GM_MAX_REGIONS 2

struct gm_region {
	uint64_t gpa;        /* guest-physical start */
	uint64_t size;       /* bytes */
	uint64_t fd_offset;  /* offset of this region in the memfd */
	uint8_t *hva;        /* host address (NULL before gm_map()) */
};

struct guest_mem {
	int fd;              /* memfd, -1 when not created */
	uint64_t size;       /* total RAM bytes (sum of regions) */
	uint8_t *base;       /* host mapping of the whole memfd */
	unsigned nregions;
	struct gm_region region[GM_MAX_REGIONS];
};

/*
 * Compute the region layout for `size` bytes of RAM without creating
 * anything: [0, min(size, MMIO_HOLE_START)) and, for the rest,
 * [MMIO_HOLE_END, ...). Returns 0, or -EINVAL (via e) for a size of 0, not
 * a multiple of 4 KiB, or one whose end overflows the address space.
 */
int gm_layout(struct guest_mem *gm, uint64_t size, struct err *e);

/*
 * gm_layout() then memfd_create + ftruncate + seal (F_SEAL_GROW |
 * F_SEAL_SHRINK | F_SEAL_SEAL) + one MAP_SHARED mapping, and fill each
 * region's hva. Returns 0 or -errno with e filled.
 */
int gm_create(struct guest_mem *gm, uint64_t size, struct err *e);

/* Unmap and close; safe on a zeroed or half-created guest_mem. */
void gm_destroy(struct guest_mem *gm);

/*
 * THE guest-address translator: host pointer for [gpa, gpa+len) if the
 * whole range lies inside one RAM region (checked with
 * __builtin_add_overflow), else NULL. len 0 is treated as 1. Every access
 * to guest memory by the vmm goes through this.
 */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Highest guest-physical address + 1 of RAM below the MMIO hole. */
uint64_t gm_low_end(const struct guest_mem *gm);

#endif
