/*
 * CPUID normalisation (see cpuid.h), after what Firecracker's
 * cpu_config/x86_64/cpuid/normalize.rs does: KVM returns host topology in
 * leaves 4 and 0x8000001e and no usable leaf 0xb subleaf 1, which would
 * make Linux derive nonsense core counts from the host.
 */
#include <errno.h>
#include <string.h>

#include "cpuid.h"

#define CPUID_HYPERVISOR     (1u << 31)   /* leaf 1 ecx */
#define CPUID_HTT            (1u << 28)   /* leaf 1 edx */
#define TOPO_TYPE_SMT        1
#define TOPO_TYPE_CORE       2

struct kvm_cpuid_entry2 *
cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	unsigned i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == function &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == index))
			return &c->entries[i];
	return NULL;
}

/* Smallest k with 2^k >= n. */
static unsigned
order_base_2(unsigned n)
{
	unsigned k = 0;

	while ((1u << k) < n)
		k++;
	return k;
}

static int
cpuid_is_amd(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 0, 0);

	/* "AuthenticAMD" / "HygonGenuine": ebx "Auth"/"Hygo" */
	return e != NULL && (e->ebx == 0x68747541 || e->ebx == 0x6f677948);
}

static void
cpuid_leaf1(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 1, 0);

	if (e == NULL)
		return;
	e->ebx = (e->ebx & 0x0000ffff) | (id << 24) | ((ncpus > 255 ? 255 : ncpus) << 16);
	e->ecx |= CPUID_HYPERVISOR;
	if (ncpus > 1)
		e->edx |= CPUID_HTT;
	else
		e->edx &= ~CPUID_HTT;
}

/* Leaf 4 (Intel caches): cores per package, threads sharing each cache. */
static void
cpuid_leaf4(struct kvm_cpuid2 *c, unsigned ncpus)
{
	unsigned i, level, sharing;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != 4 || (e->eax & 0x1f) == 0)
			continue;
		level = (e->eax >> 5) & 0x7;
		sharing = level >= 3 ? ncpus - 1 : 0;
		e->eax &= ~((0x3fu << 26) | (0xfffu << 14));
		e->eax |= (((1u << order_base_2(ncpus)) - 1) & 0x3f) << 26;
		e->eax |= (sharing & 0xfff) << 14;
	}
}

/* Drop every entry of `function`. */
static void
cpuid_remove(struct kvm_cpuid2 *c, uint32_t function)
{
	unsigned i = 0;

	while (i < c->nent) {
		if (c->entries[i].function == function) {
			memmove(&c->entries[i], &c->entries[i + 1],
			    (c->nent - i - 1) * sizeof(c->entries[0]));
			c->nent--;
		} else {
			i++;
		}
	}
}

/* Leaf 0xb / 0x1f: subleaf 0 SMT (1 thread), 1 core (ncpus), 2 invalid. */
static int
cpuid_topology_leaf(struct kvm_cpuid2 *c, unsigned cap, uint32_t fn, unsigned id,
    unsigned ncpus)
{
	const uint32_t eax[3] = { 0, order_base_2(ncpus), 0 };
	const uint32_t ebx[3] = { 1, ncpus, 0 };
	const uint32_t ecx[3] = { TOPO_TYPE_SMT << 8 | 0, TOPO_TYPE_CORE << 8 | 1, 2 };
	unsigned i;

	cpuid_remove(c, fn);
	if (c->nent + 3 > cap)
		return -E2BIG;
	for (i = 0; i < 3; i++)
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){
			.function = fn, .index = i, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.eax = eax[i], .ebx = ebx[i], .ecx = ecx[i], .edx = id,
		};
	return 0;
}

static void
cpuid_amd(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus)
{
	struct kvm_cpuid_entry2 *e;

	if ((e = cpuid_find(c, 0x80000008, 0)) != NULL)
		e->ecx = (e->ecx & ~0xf0ffu) | (order_base_2(ncpus) << 12) | ((ncpus - 1) & 0xff);
	if ((e = cpuid_find(c, 0x8000001e, 0)) != NULL) {
		e->eax = id;               /* extended APIC id */
		e->ebx = id & 0xff;        /* core id; one thread per core */
		e->ecx = 0;                /* node 0, one node */
		e->edx = 0;
	}
}

int
cpuid_normalize(struct kvm_cpuid2 *c, unsigned cap, unsigned id, unsigned ncpus)
{
	struct kvm_cpuid_entry2 *leaf0 = cpuid_find(c, 0, 0);
	uint32_t max_basic = leaf0 != NULL ? leaf0->eax : 0;
	int rc;

	cpuid_leaf1(c, id, ncpus);
	cpuid_leaf4(c, ncpus);
	/* A topology leaf above the maximum basic leaf would be meaningless. */
	if (max_basic < 0xb)
		cpuid_remove(c, 0xb);
	else if ((rc = cpuid_topology_leaf(c, cap, 0xb, id, ncpus)) < 0)
		return rc;
	if (max_basic < 0x1f)
		cpuid_remove(c, 0x1f);
	else if ((rc = cpuid_topology_leaf(c, cap, 0x1f, id, ncpus)) < 0)
		return rc;
	if (cpuid_is_amd(c))
		cpuid_amd(c, id, ncpus);
	return 0;
}
