/*
 * vmm-reference: parse the CLI, build the VM, run its vCPUs, pump the
 * console, and exit 0 when the guest resets or shuts down (1 on error).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "guest_layout_x86_64.h"
#include "i8042.h"
#include "serial.h"
#include "vm.h"

#define PROG "vmm-reference"

struct loaded_file {
	uint8_t *data;
	size_t len;
};

static void __attribute__((noreturn))
die(const char *msg)
{
	console_restore();
	fprintf(stderr, PROG ": %s\n", msg);
	exit(1);
}

static void
die_on(int rc, const struct err *e)
{
	if (rc < 0)
		die(e->msg);
}

/* Read a whole regular file of at most `limit` bytes into a new buffer;
 * `what` names it in messages. A file that changes size while read is an
 * error, not a SIGBUS. */
static int
read_file(const char *what, const char *path, uint64_t limit, struct loaded_file *f,
    struct err *e)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = err_set(e, -errno, "%s %s: %s", what, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, -EINVAL, "%s %s: not a regular file", what, path);
	else if (st.st_size == 0)
		rc = err_set(e, -EINVAL, "%s %s: empty file", what, path);
	else if ((uint64_t)st.st_size > limit)
		rc = err_set(e, -EINVAL, "%s %s: %lld bytes, larger than guest memory", what,
		    path, (long long)st.st_size);
	else if ((buf = malloc((size_t)st.st_size)) == NULL)
		rc = err_set(e, -ENOMEM, "%s %s: out of memory", what, path);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	while (got < (size_t)st.st_size &&
	    ((n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got)) > 0 ||
	     (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	if (got < (size_t)st.st_size)
		rc = err_set(e, -EIO, "%s %s: read %zu of %lld bytes: %s", what, path, got,
		    (long long)st.st_size, n < 0 ? strerror(errno) : "file shrank");
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	f->data = buf;
	f->len = got;
	return 0;
}

static void
serial_irq(void *opaque, int level)
{
	kvm_irq_line(opaque, COM1_IRQ, level);
}

static void
i8042_reset(void *opaque)
{
	vm_request_stop(opaque, VM_STOP_RESET, NULL);
}

/* Load the kernel (and initramfs) into guest RAM; fills be. */
static void
load_guest(struct vm *vm, const struct vmm_config *cfg, struct boot_entry *be)
{
	struct loaded_file kernel = { 0 }, initrd = { 0 };
	struct boot_config bc;
	struct err e;

	die_on(read_file("kernel", cfg->kernel_path, vm->mem.size, &kernel, &e), &e);
	if (cfg->initramfs_path != NULL)
		die_on(read_file("initramfs", cfg->initramfs_path, vm->mem.size, &initrd, &e), &e);
	bc = (struct boot_config){
		.kernel = kernel.data, .kernel_len = kernel.len,
		.kernel_path = cfg->kernel_path,
		.initrd = initrd.data, .initrd_len = initrd.len,
		.initrd_path = cfg->initramfs_path,
		.cmdline = cfg->cmdline, .load_addr = cfg->kernel_load_addr,
		.ncpus = vm->ncpus,
	};
	die_on(boot_load(&vm->mem, &bc, be, &e), &e);
	free(kernel.data);
	free(initrd.data);
}

static void
build_vm(struct vm *vm, const struct vmm_config *cfg)
{
	struct boot_entry be;
	struct err e;
	unsigned i, max;

	die_on(kvm_open(vm, &e), &e);
	max = kvm_max_vcpus(vm);
	if (cfg->vcpus > max) {
		snprintf(e.msg, sizeof(e.msg), "--vcpu num=%u: more than the %u vCPUs KVM allows",
		    cfg->vcpus, max);
		die(e.msg);
	}
	vm->ncpus = cfg->vcpus;
	die_on(gm_create(&vm->mem, cfg->memory_mib << 20, &e), &e);
	load_guest(vm, cfg, &be);
	die_on(kvm_create_vm(vm, &e), &e);
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (vm->vcpus == NULL)
		die("vCPUs: out of memory");
	for (i = 0; i < vm->ncpus; i++)
		die_on(kvm_create_vcpu(vm, i, &be, &e), &e);
}

static int
make_devices(struct vm *vm, int room_efd)
{
	vm->serial = serial_new(STDOUT_FILENO, serial_irq, vm, room_efd);
	vm->i8042 = i8042_new(i8042_reset, vm);
	return vm->serial != NULL && vm->i8042 != NULL ? 0 : -ENOMEM;
}

/* Block the signals the main loop takes through a signalfd (all threads
 * inherit the mask). */
static int
setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void
main_loop(struct vm *vm, int sfd, int room_efd)
{
	int stdin_open = 1;
	uint64_t cnt;

	for (;;) {
		struct pollfd p[4] = {
			{ .fd = vm->stop_efd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = room_efd, .events = POLLIN },
			{ .fd = stdin_open && serial_rx_room(vm->serial) ? STDIN_FILENO : -1,
			  .events = POLLIN },
		};

		if (poll(p, 4, -1) < 0 && errno != EINTR) {
			vm_request_stop(vm, VM_STOP_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				vm_request_stop(vm, VM_STOP_SIGNAL, NULL);
			break;
		}
		if (p[2].revents && read(room_efd, &cnt, sizeof(cnt)) < 0) {
			/* nonblocking: nothing to drain; stdin is polled anyway */
		}
		if (p[3].revents && console_pump(STDIN_FILENO, vm->serial) < 0)
			stdin_open = 0;
	}
}

int
main(int argc, char **argv)
{
	static struct vm vm = { .kvm_fd = -1, .vm_fd = -1 };
	struct vmm_config cfg;
	struct err e;
	int sfd, room_efd, reason;

	die_on(cli_parse(argc, argv, 0, &cfg, &e), &e);
	if (cfg.help) {
		fputs(cli_usage(), stdout);
		return 0;
	}
	if (vcpu_kick_signal_init() < 0)
		die("vCPU kick signal: sigaction failed");
	sfd = setup_signals();
	vm.stop_efd = eventfd(0, EFD_CLOEXEC);
	room_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || vm.stop_efd < 0 || room_efd < 0)
		die("signalfd/eventfd: out of resources");
	build_vm(&vm, &cfg);
	if (make_devices(&vm, room_efd) < 0)
		die("devices: out of memory");
	console_raw(STDIN_FILENO);
	die_on(vcpu_start_all(&vm, &e), &e);
	main_loop(&vm, sfd, room_efd);
	vcpu_stop_all(&vm);
	console_restore();
	reason = atomic_load(&vm.stop_reason);
	if (reason == VM_STOP_ERROR) {
		fprintf(stderr, PROG ": %s\n", vm.stop_msg);
		return 1;
	}
	return 0;
}
