/*
 * Intel MultiProcessor Specification 1.4 tables: how a guest without ACPI
 * learns its CPUs, I/O APIC and ISA interrupt routing. Freestanding: used by
 * the vmm (builder) and the selftest guests (checker).
 */
#ifndef MPTABLE_X86_64_H
#define MPTABLE_X86_64_H

#include <stdint.h>

#define MPF_SIGNATURE  "_MP_"
#define MPC_SIGNATURE  "PCMP"
#define MP_SPEC_REV    4

enum mp_entry_type {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
};

#define MPC_CPU_ENABLED     1
#define MPC_CPU_BOOTPROCESSOR 2
#define MPC_APIC_USABLE     1
#define MP_IRQTYPE_INT      0
#define MP_IRQTYPE_NMI      1
#define MP_IRQTYPE_EXTINT   3

struct __attribute__((packed)) mpf_intel {
	char     signature[4];
	uint32_t physptr;
	uint8_t  length;         /* in 16-byte units: 1 */
	uint8_t  specification;
	uint8_t  checksum;
	uint8_t  feature1;
	uint8_t  feature2;
	uint8_t  feature3;
	uint8_t  feature4;
	uint8_t  feature5;
};
_Static_assert(sizeof(struct mpf_intel) == 16, "mpf_intel");

struct __attribute__((packed)) mpc_table {
	char     signature[4];
	uint16_t length;         /* base table incl. entries */
	uint8_t  spec;
	uint8_t  checksum;
	char     oem[8];
	char     productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
};
_Static_assert(sizeof(struct mpc_table) == 44, "mpc_table");

struct __attribute__((packed)) mpc_cpu {
	uint8_t  type;
	uint8_t  apicid;
	uint8_t  apicver;
	uint8_t  cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
};
_Static_assert(sizeof(struct mpc_cpu) == 20, "mpc_cpu");

struct __attribute__((packed)) mpc_bus {
	uint8_t type;
	uint8_t busid;
	char    bustype[6];
};
_Static_assert(sizeof(struct mpc_bus) == 8, "mpc_bus");

struct __attribute__((packed)) mpc_ioapic {
	uint8_t  type;
	uint8_t  apicid;
	uint8_t  apicver;
	uint8_t  flags;
	uint32_t apicaddr;
};
_Static_assert(sizeof(struct mpc_ioapic) == 8, "mpc_ioapic");

struct __attribute__((packed)) mpc_intsrc {
	uint8_t  type;
	uint8_t  irqtype;
	uint16_t irqflag;
	uint8_t  srcbus;
	uint8_t  srcbusirq;
	uint8_t  dstapic;
	uint8_t  dstirq;
};
_Static_assert(sizeof(struct mpc_intsrc) == 8, "mpc_intsrc");

struct __attribute__((packed)) mpc_lintsrc {
	uint8_t  type;
	uint8_t  irqtype;
	uint16_t irqflag;
	uint8_t  srcbusid;
	uint8_t  srcbusirq;
	uint8_t  destapic;
	uint8_t  destapiclint;
};
_Static_assert(sizeof(struct mpc_lintsrc) == 8, "mpc_lintsrc");

#endif
