/*
 * KVM setup for x86_64: the VM (TSS, irqchip, PIT, memory slots) and each
 * vCPU (CPUID, MSRs, LAPIC LINT pins, FPU, boot registers for the BSP).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"
#include "guest_layout_x86_64.h"
#include "vm.h"

#define KVM_TSS_ADDR        0xfffbd000ul
#define CPUID_MAX_ENTRIES   1024

#define MSR_IA32_TSC            0x00000010
#define MSR_IA32_SYSENTER_CS    0x00000174
#define MSR_IA32_SYSENTER_ESP   0x00000175
#define MSR_IA32_SYSENTER_EIP   0x00000176
#define MSR_IA32_MISC_ENABLE    0x000001a0
#define MSR_MTRR_DEF_TYPE       0x000002ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MISC_ENABLE_FAST_STRING 0x1
#define MTRR_ENABLE_WB          ((1u << 11) | 6)

#define APIC_LVT0       0x350
#define APIC_LVT1       0x360
#define APIC_MODE_NMI   0x4
#define APIC_MODE_EXTINT 0x7

int
kvm_open(struct vm *vm, struct err *e)
{
	static const struct { int cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	};
	size_t i;
	int v;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return err_set(e, -errno, "/dev/kvm: %s%s", strerror(errno),
		    errno == ENOENT ? " (KVM not available on this host)" : "");
	v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return err_set(e, -ENOTSUP, "/dev/kvm: API version %d, need %d", v,
		    KVM_API_VERSION);
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
			return err_set(e, -ENOTSUP, "/dev/kvm: missing %s", need[i].name);
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return err_set(e, -ENOTSUP, "/dev/kvm: KVM_GET_VCPU_MMAP_SIZE failed");
	vm->kvm_pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
	return 0;
}

unsigned
kvm_max_vcpus(const struct vm *vm)
{
	int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? (unsigned)n : 1;
}

static int
kvm_set_memory(struct vm *vm, struct err *e)
{
	unsigned i;

	for (i = 0; i < vm->mem.nregions; i++) {
		const struct gm_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return err_set(e, -errno, "KVM_SET_USER_MEMORY_REGION slot %u: %s",
			    i, strerror(errno));
	}
	return 0;
}

int
kvm_create_vm(struct vm *vm, struct err *e)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return err_set(e, -errno, "KVM_CREATE_VM: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return err_set(e, -errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_set(e, -errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return err_set(e, -errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return kvm_set_memory(vm, e);
}

/* KVM_GET_SUPPORTED_CPUID once per process (growing the buffer on E2BIG);
 * the result is shared by all vCPUs. */
static struct kvm_cpuid2 *
kvm_supported_cpuid(struct vm *vm, struct err *e)
{
	static struct kvm_cpuid2 *cpuid;
	unsigned n;

	for (n = 64; cpuid == NULL && n <= CPUID_MAX_ENTRIES; n *= 2) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (cpuid == NULL) {
			err_set(e, -ENOMEM, "CPUID: out of memory");
			return NULL;
		}
		cpuid->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		err_set(e, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(cpuid);
		cpuid = NULL;
		if (errno != E2BIG)
			break;
	}
	return cpuid;
}

static int
kvm_set_cpuid(struct vcpu *v, struct err *e)
{
	struct kvm_cpuid2 *sup = kvm_supported_cpuid(v->vm, e);
	struct kvm_cpuid2 *c;
	unsigned cap;
	int rc;

	if (sup == NULL)
		return -EINVAL;
	cap = sup->nent + CPUID_EXTRA_ENTRIES;
	if ((c = calloc(1, sizeof(*c) + cap * sizeof(c->entries[0]))) == NULL)
		return err_set(e, -ENOMEM, "CPUID: out of memory");
	memcpy(c, sup, sizeof(*sup) + sup->nent * sizeof(sup->entries[0]));
	rc = cpuid_normalize(c, cap, v->id, v->vm->ncpus);
	if (rc < 0)
		err_set(e, rc, "vCPU %u: CPUID: no room for the topology leaves", v->id);
	else if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		rc = err_set(e, -errno, "vCPU %u: KVM_SET_CPUID2: %s", v->id, strerror(errno));
	free(c);
	return rc;
}

static int
kvm_set_msrs(struct vcpu *v, struct err *e)
{
	static const struct { uint32_t index; uint64_t data; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 }, { MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB },
	};
	enum { N = sizeof(init) / sizeof(init[0]) };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[N];
	} msrs;
	int i, n;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = N;
	for (i = 0; i < N; i++) {
		msrs.entries[i].index = init[i].index;
		msrs.entries[i].data = init[i].data;
	}
	n = ioctl(v->fd, KVM_SET_MSRS, &msrs);
	if (n < 0)
		return err_set(e, -errno, "vCPU %u: KVM_SET_MSRS: %s", v->id, strerror(errno));
	if (n != N)
		return err_set(e, -EIO, "vCPU %u: KVM_SET_MSRS: MSR %#x refused",
		    v->id, init[n].index);
	return 0;
}

/* Set the delivery mode (bits 10:8) of a LAPIC LVT register. */
static void
lapic_set_delivery(struct kvm_lapic_state *lapic, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&lapic->regs[reg], &v, sizeof(v));
}

/* LINT0 = ExtINT (the PIC), LINT1 = NMI, as a BIOS leaves them. */
static int
kvm_set_lint(struct vcpu *v, struct err *e)
{
	struct kvm_lapic_state lapic;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return err_set(e, -errno, "vCPU %u: KVM_GET_LAPIC: %s", v->id, strerror(errno));
	lapic_set_delivery(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_delivery(&lapic, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		return err_set(e, -errno, "vCPU %u: KVM_SET_LAPIC: %s", v->id, strerror(errno));
	return 0;
}

static int
kvm_set_fpu(struct vcpu *v, struct err *e)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return err_set(e, -errno, "vCPU %u: KVM_SET_FPU: %s", v->id, strerror(errno));
	return 0;
}

static int
kvm_set_boot_regs(struct vcpu *v, const struct boot_entry *be, struct err *e)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return err_set(e, -errno, "vCPU %u: KVM_GET_SREGS: %s", v->id, strerror(errno));
	memset(&regs, 0, sizeof(regs));
	boot_vcpu_regs(be, &sregs, &regs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return err_set(e, -errno, "vCPU %u: KVM_SET_SREGS: %s", v->id, strerror(errno));
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return err_set(e, -errno, "vCPU %u: KVM_SET_REGS: %s", v->id, strerror(errno));
	return 0;
}

int
kvm_create_vcpu(struct vm *vm, unsigned id, const struct boot_entry *be, struct err *e)
{
	struct vcpu *v = &vm->vcpus[id];
	int rc;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return err_set(e, -errno, "vCPU %u: KVM_CREATE_VCPU: %s", id, strerror(errno));
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return err_set(e, -errno, "vCPU %u: mmap kvm_run: %s", id, strerror(errno));
	}
	if ((rc = kvm_set_cpuid(v, e)) < 0 || (rc = kvm_set_msrs(v, e)) < 0 ||
	    (rc = kvm_set_lint(v, e)) < 0 || (rc = kvm_set_fpu(v, e)) < 0)
		return rc;
	/* APs stay in wait-for-SIPI, as on hardware; only the BSP gets state. */
	if (id == 0)
		return kvm_set_boot_regs(v, be, e);
	return 0;
}

void
kvm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		/* Cannot happen with a valid GSI; nothing a device can do. */
	}
}

int
kvm_ioeventfd(struct vm *vm, uint64_t addr, unsigned len, uint64_t datamatch, int fd)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int
kvm_irqfd(struct vm *vm, unsigned gsi, int fd)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };

	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}
