/*
 * Per-vCPU CPUID: KVM_GET_SUPPORTED_CPUID (which carries the KVM leaves
 * 0x40000000..) adjusted so the guest sees its own APIC id and a topology
 * that matches the MP table: `ncpus` cores of one thread in one package.
 */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <stdint.h>
#include <linux/kvm.h>

/* Entries cpuid_normalize() may append (leaves 0xb and 0x1f, 3 subleaves). */
#define CPUID_EXTRA_ENTRIES 6

/*
 * Rewrite c (nent entries, room for `cap`) for vCPU `id` of `ncpus`:
 * leaf 1 APIC id, logical count, HTT and hypervisor bits; leaf 4 core and
 * sharing counts; leaves 0xb/0x1f rebuilt (SMT level: 1 thread, core level:
 * ncpus, x2APIC id in edx) when the maximum basic leaf reaches them (else
 * dropped); on AMD,
 * 0x80000008 core count and 0x8000001e APIC/core ids. Returns 0, or -E2BIG
 * when `cap` has no room for the appended entries.
 */
int cpuid_normalize(struct kvm_cpuid2 *c, unsigned cap, unsigned id, unsigned ncpus);

/* Pointer to the entry for (function, index), or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

#endif
