/*
 * The virtual machine: KVM fds, guest RAM, vCPU threads and the legacy
 * devices, plus how the VM ends. Shared by the vmm's modules; not used by device processes.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "boot.h"
#include "err.h"
#include "memory.h"
#include "virtio_mmio.h"

struct vm;

/*
 * A port-I/O device: a small ops struct listed in the VM's explicit table
 * (vm_pio_devices in vm.c). `off` is relative to `base`; size is 1, 2 or 4.
 * Reads must fill all `size` bytes.
 */
struct pio_dev {
	const char *name;
	uint16_t base;
	uint16_t len;
	void (*read)(struct vm *vm, uint16_t off, uint8_t *data, unsigned size);
	void (*write)(struct vm *vm, uint16_t off, const uint8_t *data, unsigned size);
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
};

/* Why the VM stopped; decides the exit status. */
enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_RESET,       /* i8042 reset or KVM_SYSTEM_EVENT_RESET: exit 0 */
	VM_STOP_SHUTDOWN,    /* triple fault / system shutdown: exit 0 */
	VM_STOP_SIGNAL,      /* SIGTERM/SIGINT/SIGHUP on the vmm: exit 0 */
	VM_STOP_ERROR,       /* the guest or KVM failed: exit 1 */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int run_size;
	struct guest_mem mem;
	unsigned ncpus;
	struct vcpu *vcpus;
	int kvm_pvm;                  /* host KVM is kvm-pvm (no VMX/SVM) */
	int seccomp_log;              /* vCPU profile: report, don't kill */

	atomic_int stop_reason;       /* enum vm_stop_reason; first one wins */
	int stop_efd;                 /* eventfd the main loop waits on */
	char stop_msg[512];

	struct serial *serial;
	struct i8042 *i8042;

	/* virtio-mmio device i: window VIRTIO_MMIO_BASE + i * 0x1000 */
	struct virtio_mmio_dev *virtio[VIRTIO_MMIO_MAX_DEVICES];
	unsigned nvirtio;
};

/* kvm_x86_64.c */

/* Open /dev/kvm and check the API version and the capabilities we need.
 * Returns 0 or -errno with e naming /dev/kvm and what is missing. */
int kvm_open(struct vm *vm, struct err *e);

/* KVM_CAP_MAX_VCPUS (or NR_VCPUS) of the opened KVM. */
unsigned kvm_max_vcpus(const struct vm *vm);

/* Create the VM: TSS address, in-kernel irqchip, PIT, the memory slots of
 * vm->mem. Returns 0 or -errno with e. */
int kvm_create_vm(struct vm *vm, struct err *e);

/* Create vCPU `id` with CPUID, MSRs, LAPIC LINT0/LINT1, FPU; the BSP also
 * gets the boot registers from be. Returns 0 or -errno with e. */
int kvm_create_vcpu(struct vm *vm, unsigned id, const struct boot_entry *be,
    struct err *e);

/* Assert (level 1) or deassert (0) a GSI on the in-kernel irqchip. */
void kvm_irq_line(struct vm *vm, unsigned gsi, int level);

/* KVM_IOEVENTFD: a guest MMIO write of `len` bytes at `addr` whose value
 * equals `datamatch` signals eventfd `fd` instead of exiting to us.
 * Returns 0 or -errno. */
int kvm_ioeventfd(struct vm *vm, uint64_t addr, unsigned len, uint64_t datamatch,
    int fd);

/* KVM_IRQFD: a write to eventfd `fd` injects (an edge on) GSI `gsi`.
 * Returns 0 or -errno. */
int kvm_irqfd(struct vm *vm, unsigned gsi, int fd);

/* vcpu.c */

/* Install the no-op handler of the vCPU kick signal (SIGUSR1) and block it
 * in the calling thread (and so in every thread it creates; vCPU threads
 * unblock it). Call before creating any thread. Returns 0 or -errno. */
int vcpu_kick_signal_init(void);

/* Start one thread per vCPU running KVM_RUN and dispatching exits. Each
 * thread first installs the vcpu seccomp profile on itself (trap variant
 * with vm->seccomp_log); if that fails it stops the VM with the error
 * (VM_STOP_ERROR) and never enters the guest. */
int vcpu_start_all(struct vm *vm, struct err *e);

/* Make every vCPU leave KVM_RUN and join its thread. */
void vcpu_stop_all(struct vm *vm);

/* vm.c */

/* Request the VM to stop; the first reason wins. msg (printf-style, may be
 * NULL) is printed by the main loop on stderr when the reason is an error
 * or notable. Thread-safe; wakes the main loop. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Dispatch a port access to the device table; unclaimed reads return
 * all-ones and unclaimed writes are dropped. */
void vm_pio(struct vm *vm, uint16_t port, uint8_t *data, unsigned size, int is_write);

/* Dispatch an MMIO access (the in-kernel irqchip handles LAPIC/IOAPIC):
 * the virtio-mmio windows of vm->virtio[]; unclaimed reads return
 * all-ones and writes are dropped. */
void vm_mmio(struct vm *vm, uint64_t gpa, uint8_t *data, unsigned size, int is_write);

#endif
