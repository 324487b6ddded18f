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
#include "vhost_dev.h"
#include "vm.h"

#define PROG "vmm-reference"
#define DEVICE_REAP_MS 2000   /* at exit: EOF, 100 ms, SIGTERM, SIGKILL after this */

/* The vhost-user devices, in CLI order (device i: window i, GSI 5 + i). */
static struct vhost_dev *devs[VIRTIO_MMIO_MAX_DEVICES];
static unsigned ndevs;

struct loaded_file {
	uint8_t *data;
	size_t len;
};

static void __attribute__((noreturn))
die(const char *msg)
{
	console_restore();
	fprintf(stderr, PROG ": %s\n", msg);
	vhost_dev_destroy_all(devs, ndevs, DEVICE_REAP_MS);
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
	if (boot_load(&vm->mem, &bc, be, &e) < 0) {
		if (ndevs > 0 && strstr(e.msg, "cmdline") != NULL)
			snprintf(e.msg + strlen(e.msg), sizeof(e.msg) - strlen(e.msg),
			    " (with the virtio_mmio.device= entries of --block)");
		die(e.msg);
	}
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
	for (i = 0; i < ndevs; i++)
		die_on(vhost_dev_attach(devs[i], vm, &e), &e);
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
	sigaddset(&set, SIGCHLD);     /* a device process ended */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Start the device processes / connect the backends of every --block,
 * and put their windows on the kernel command line. */
static void
make_vhost_devices(struct vmm_config *cfg)
{
	struct err e;
	unsigned i;

	for (i = 0; i < cfg->nblock; i++) {
		if (virtio_mmio_cmdline_append(cfg->cmdline, sizeof(cfg->cmdline), i) < 0)
			die("--block: the kernel command line with the virtio_mmio.device= "
			    "entries is longer than 4095 bytes");
		die_on(vhost_dev_create_block(&cfg->block[i], i, &devs[i], &e), &e);
		ndevs = i + 1;
	}
}

/* A signal from the signalfd: SIGCHLD is a device process; others stop
 * the VM. Returns 1 when the VM must stop. */
static int
main_signal(struct vm *vm, int sfd)
{
	struct signalfd_siginfo si;
	unsigned i;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo != SIGCHLD) {
		vm_request_stop(vm, VM_STOP_SIGNAL, NULL);
		return 1;
	}
	for (i = 0; i < ndevs; i++)      /* SIGCHLDs coalesce: check all */
		vhost_dev_child_check(devs[i]);
	return 0;
}

enum { MAIN_FIXED_FDS = 4 };

static void
main_loop(struct vm *vm, int sfd, int room_efd)
{
	struct pollfd p[MAIN_FIXED_FDS + VIRTIO_MMIO_MAX_DEVICES * VHOST_DEV_POLLFDS];
	unsigned i, n = MAIN_FIXED_FDS + ndevs * VHOST_DEV_POLLFDS;
	int stdin_open = 1;
	uint64_t cnt;

	for (;;) {
		p[0] = (struct pollfd){ .fd = vm->stop_efd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = room_efd, .events = POLLIN };
		p[3] = (struct pollfd){ .fd = stdin_open && serial_rx_room(vm->serial) ?
		    STDIN_FILENO : -1, .events = POLLIN };
		for (i = 0; i < ndevs; i++)
			vhost_dev_pollfds(devs[i], &p[MAIN_FIXED_FDS + i * VHOST_DEV_POLLFDS]);
		if (poll(p, n, -1) < 0 && errno != EINTR) {
			vm_request_stop(vm, VM_STOP_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents && main_signal(vm, sfd))
			break;
		if (p[2].revents && read(room_efd, &cnt, sizeof(cnt)) < 0) {
			/* nonblocking: nothing to drain; stdin is polled anyway */
		}
		if (p[3].revents && console_pump(STDIN_FILENO, vm->serial) < 0)
			stdin_open = 0;
		for (i = 0; i < ndevs; i++)
			vhost_dev_poll_handle(devs[i], &p[MAIN_FIXED_FDS + i * VHOST_DEV_POLLFDS]);
	}
}

/* VM exit: unblock vCPUs waiting on a backend, join them, then the
 * statistics and the device processes. */
static void
stop_everything(struct vm *vm, const struct vmm_config *cfg)
{
	unsigned i;

	for (i = 0; i < ndevs; i++)
		vhost_dev_shutdown(devs[i]);
	vcpu_stop_all(vm);
	console_restore();
	for (i = 0; cfg->stats && i < ndevs; i++)
		vhost_dev_print_stats(devs[i]);
	vhost_dev_destroy_all(devs, ndevs, DEVICE_REAP_MS);
	ndevs = 0;
}

/* vcpu_start_all() failed partway: the vCPUs that run must stop before
 * the devices they use are torn down. */
static void __attribute__((noreturn))
die_stopping_vcpus(struct vm *vm, const char *msg)
{
	unsigned i;

	vm_request_stop(vm, VM_STOP_ERROR, "%s", msg);
	for (i = 0; i < ndevs; i++)
		vhost_dev_shutdown(devs[i]);
	vcpu_stop_all(vm);
	die(msg);
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
	make_vhost_devices(&cfg);
	build_vm(&vm, &cfg);
	if (make_devices(&vm, room_efd) < 0)
		die("devices: out of memory");
	console_raw(STDIN_FILENO);
	if (vcpu_start_all(&vm, &e) < 0)
		die_stopping_vcpus(&vm, e.msg);
	main_loop(&vm, sfd, room_efd);
	stop_everything(&vm, &cfg);
	reason = atomic_load(&vm.stop_reason);
	if (reason == VM_STOP_ERROR) {
		fprintf(stderr, PROG ": %s\n", vm.stop_msg);
		return 1;
	}
	return 0;
}
