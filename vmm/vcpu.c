/*
 * One thread per vCPU: KVM_RUN and exit dispatch. A vCPU is told to leave
 * KVM_RUN by setting run->immediate_exit and sending it SIGUSR1 (handled by
 * a no-op so KVM_RUN returns EINTR). Each thread runs under the `vcpu`
 * seccomp profile, installed by the thread itself before anything else.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1
#define EAGAIN_SLEEP_MAX_NS 2000000L  /* AP waiting for SIPI on kvm-pvm */
#define VCPU_REKICK_NS      20000000L /* re-kick a vCPU not joined after 20 ms */

static void
vcpu_kick_handler(int sig)
{
	(void)sig;
}

static uint64_t
vcpu_rip(const struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return ~0ull;
	return regs.rip;
}

static const char *
vcpu_pvm_hint(const struct vcpu *v)
{
	return v->vm->kvm_pvm ? " (this host's KVM is kvm-pvm: guest CPL0 code is "
	    "emulated and unmodified kernels need a VMX/SVM host)" : "";
}

static void
vcpu_exit_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	uint32_t i;

	/* data_offset/size/count come from KVM and describe the run page. */
	for (i = 0; i < r->io.count; i++, data += r->io.size)
		vm_pio(v->vm, r->io.port, data, r->io.size,
		    r->io.direction == KVM_EXIT_IO_OUT);
}

static const char *
vcpu_internal_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "simultaneous exceptions";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
	default: return "unknown";
	}
}

static void
vcpu_exit_internal(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	vm_request_stop(v->vm, VM_STOP_ERROR,
	    "vCPU %u: KVM_EXIT_INTERNAL_ERROR (%s, suberror %u) at rip %#llx%s", v->id,
	    vcpu_internal_name(r->internal.suberror), r->internal.suberror,
	    (unsigned long long)vcpu_rip(v), vcpu_pvm_hint(v));
}

/* Handle one exit; returns 0 to keep running, -1 to stop this vCPU. */
static int
vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_exit_io(v);
		return 0;
	case KVM_EXIT_MMIO:
		vm_mmio(v->vm, r->mmio.phys_addr, r->mmio.data,
		    r->mmio.len > 8 ? 8 : r->mmio.len, r->mmio.is_write);
		return 0;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		vm_request_stop(v->vm, VM_STOP_SHUTDOWN, NULL);
		return -1;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_request_stop(v->vm, r->system_event.type == KVM_SYSTEM_EVENT_RESET ?
		    VM_STOP_RESET : VM_STOP_SHUTDOWN, NULL);
		return -1;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_exit_internal(v);
		return -1;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_stop(v->vm, VM_STOP_ERROR,
		    "vCPU %u: KVM_EXIT_FAIL_ENTRY reason %#llx at rip %#llx%s", v->id,
		    (unsigned long long)r->fail_entry.hardware_entry_failure_reason,
		    (unsigned long long)vcpu_rip(v), vcpu_pvm_hint(v));
		return -1;
	default:
		vm_request_stop(v->vm, VM_STOP_ERROR, "vCPU %u: unexpected KVM exit %u at rip %#llx",
		    v->id, r->exit_reason, (unsigned long long)vcpu_rip(v));
		return -1;
	}
}

/* KVM_RUN failed with errno; returns 0 to retry, -1 to stop. */
static int
vcpu_run_error(struct vcpu *v, int err, long *backoff_ns)
{
	struct timespec ts;

	if (err == EINTR)
		return 0;
	if (err == EAGAIN) {
		/* kvm-pvm: an AP that has not had its SIPI yet. Wait, then retry. */
		ts.tv_sec = 0;
		ts.tv_nsec = *backoff_ns;
		nanosleep(&ts, NULL);
		if (*backoff_ns < EAGAIN_SLEEP_MAX_NS)
			*backoff_ns *= 2;
		return 0;
	}
	vm_request_stop(v->vm, VM_STOP_ERROR, "vCPU %u: KVM_RUN: %s", v->id, strerror(err));
	return -1;
}

static void *
vcpu_thread(void *arg)
{
	char msg[SANDBOX_MSG_MAX];
	struct vcpu *v = arg;
	long backoff = 20000;
	sigset_t set;

	/* This thread's filter (no TSYNC): before the first KVM_RUN. */
	if (sandbox_seccomp(&sandbox_prog_vcpu, v->vm->seccomp_log,
	    "vmm-reference vCPU", msg) < 0) {
		vm_request_stop(v->vm, VM_STOP_ERROR, "%s (vCPU %u)", msg, v->id);
		return NULL;
	}
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (atomic_load(&v->vm->stop_reason) == VM_STOP_NONE) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (vcpu_run_error(v, errno, &backoff) < 0)
				break;
			continue;
		}
		backoff = 20000;
		if (vcpu_handle_exit(v) < 0)
			break;
	}
	return NULL;
}

int
vcpu_kick_signal_init(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler;  /* no SA_RESTART: KVM_RUN gets EINTR */
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int
vcpu_start_all(struct vm *vm, struct err *e)
{
	unsigned i;
	int rc;

	for (i = 0; i < vm->ncpus; i++) {
		rc = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (rc != 0)
			return err_set(e, -rc, "vCPU %u: pthread_create: %s", i, strerror(rc));
		vm->vcpus[i].started = 1;
	}
	return 0;
}

/* Kick v out of KVM_RUN or a blocking write. */
static void
vcpu_kick(struct vcpu *v)
{
	if (v->run != NULL)
		v->run->immediate_exit = 1;
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void
vcpu_stop_all(struct vm *vm)
{
	struct timespec deadline;
	unsigned i;

	/* No-op when a reason is already recorded; otherwise the vCPU loops
	 * would re-enter KVM_RUN after the kick. */
	vm_request_stop(vm, VM_STOP_ERROR, "main loop ended unexpectedly");
	for (i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		/* A kick that lands just before a blocking call is lost: repeat it. */
		for (;;) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += VCPU_REKICK_NS;
			if (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(v->thread, NULL, &deadline) != ETIMEDOUT)
				break;
			vcpu_kick(v);
		}
		v->started = 0;
	}
}
