/*
 * vmm-reference: parse the CLI, build the VM, run its vCPUs, pump the
 * console, and exit 0 when the guest resets or shuts down (1 on error).
 *
 * The jail (sandbox/sandbox.h): the launched process stays as a supervisor
 * and the vmm runs as pid 1 of a new PID namespace; it opens everything
 * and starts its device processes, then enters the jail (no new PID
 * namespace, no filter yet), starts the vCPU threads (each installs the
 * vcpu profile on itself), and installs the vmm profile on the main thread
 * (no new process or thread after that). Nothing after sandbox_enter()
 * opens a file, creates a socket, forks or execs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"
#include "guest_layout_x86_64.h"
#include "i8042.h"
#include "sandbox.h"
#include "serial.h"
#include "vhost_dev.h"
#include "vm.h"

#define PROG "vmm-reference"
#define DEVICE_REAP_MS 2000   /* at exit: EOF, 100 ms, SIGTERM, SIGKILL after this */
#define NOFILE_SLACK 16       /* RLIMIT_NOFILE above the highest fd we hold */
/* fds the jail keeps: KVM, VM, guest RAM, stop, signal and room fds, the
 * vCPUs, the devices' */
#define KEEP_MAX (7 + CLI_MAX_VCPUS + VIRTIO_MMIO_MAX_DEVICES * VHOST_DEV_MAX_FDS)

/* The vhost-user devices, in CLI order (device i: window i, GSI 5 + i). */
static struct vhost_dev *devs[VIRTIO_MMIO_MAX_DEVICES];
static unsigned ndevs;
/* The read end of our supervisor's signal pipe (sandbox_new_pid_ns): the
 * number of each SIGTERM/INT/HUP/QUIT/USR1 sent to the launched pid. */
static int sup_sig_fd = -1;

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
			    " (with the virtio_mmio.device= entries of --block/--net)");
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

/* The signals the main loop takes through a signalfd. */
static void
main_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGCHLD);     /* a device process ended */
}

/* Block them before the PID namespace: the supervisor forwards them from
 * the moment it exists, and pid 1 would drop one that arrives unblocked
 * at its default action. All threads inherit the mask. */
static void
block_signals(void)
{
	sigset_t set;

	main_sigset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* In the vmm (pid 1): the rest of the signal setup; returns the signalfd. */
static int
setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	/* pid 1 of its namespace is never stopped by SIGTTIN/SIGTTOU: with
	 * them ignored a background read of the terminal fails with EIO
	 * (stdin then counts as closed) instead of spinning. */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	main_sigset(&set);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Start the device processes / connect the backends of every --block,
 * then every --net (windows in that order), and put their windows on the
 * kernel command line. */
static void
make_vhost_devices(struct vmm_config *cfg)
{
	unsigned i, n = cfg->nblock + cfg->nnet;
	struct err e;

	for (i = 0; i < n; i++) {
		if (virtio_mmio_cmdline_append(cfg->cmdline, sizeof(cfg->cmdline), i) < 0)
			die("--block/--net: the kernel command line with the "
			    "virtio_mmio.device= entries is longer than 4095 bytes");
		if (i < cfg->nblock)
			die_on(vhost_dev_create_block(&cfg->block[i], i, &devs[i], &e), &e);
		else
			die_on(vhost_dev_create_net(&cfg->net[i - cfg->nblock], i, &devs[i],
			    &e), &e);
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

/* A signal our supervisor passed on: the stop signals stop the VM
 * (returns 1), like our own signalfd's; anything else (SIGUSR1, a short
 * read) is ignored. */
static int
main_forwarded_signal(struct vm *vm)
{
	uint64_t sig;

	if (read(sup_sig_fd, &sig, sizeof(sig)) != sizeof(sig))
		return 0;
	if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT)
		return 0;
	vm_request_stop(vm, VM_STOP_SIGNAL, NULL);
	return 1;
}

enum { MAIN_FIXED_FDS = 5 };

/* How many pollfds the main loop passes to poll(), which fails with
 * EINVAL when that is above RLIMIT_NOFILE (entries with fd -1 count). */
static unsigned
main_pollfds(void)
{
	return MAIN_FIXED_FDS + ndevs * VHOST_DEV_POLLFDS;
}

static void
main_loop(struct vm *vm, int sfd, int room_efd)
{
	struct pollfd p[MAIN_FIXED_FDS + VIRTIO_MMIO_MAX_DEVICES * VHOST_DEV_POLLFDS];
	unsigned i, n = main_pollfds();
	int stdin_open = 1;
	uint64_t cnt;

	for (;;) {
		p[0] = (struct pollfd){ .fd = vm->stop_efd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = room_efd, .events = POLLIN };
		p[3] = (struct pollfd){ .fd = stdin_open && serial_rx_room(vm->serial) ?
		    STDIN_FILENO : -1, .events = POLLIN };
		p[4] = (struct pollfd){ .fd = sup_sig_fd, .events = POLLIN };
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
		if (p[4].revents & POLLIN && main_forwarded_signal(vm))
			break;
		if (p[4].revents & (POLLHUP | POLLERR) && !(p[4].revents & POLLIN)) {
			/* Our supervisor (the launched process) ended, e.g. by
			 * SIGKILL. Its PR_SET_PDEATHSIG cannot reach us after
			 * the jail (it has no CAP_KILL, we have another uid):
			 * stop, and our PID namespace takes everything with us. */
			vm_request_stop(vm, VM_STOP_ERROR, "the launched process "
			    "(our supervisor) ended: stopping the VM");
			break;
		}
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

/* Whether stdin is a terminal whose foreground job we are not. Asked
 * before the PID namespace, where process groups outside it (ours) read
 * as 0 and every job would look like the foreground one. */
static bool
stdin_in_background(void)
{
	pid_t fg;

	if (!isatty(STDIN_FILENO))
		return false;
	fg = tcgetpgrp(STDIN_FILENO);
	return fg >= 0 && fg != getpgrp();
}

/* Before anything is opened: drop every inherited fd but 0, 1, 2, then
 * become pid 1 of a new PID namespace; the launched process stays as our
 * supervisor (it forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT and ends as we
 * do), so everything we start lives in our namespace and dies with us. */
static void
jail_begin(const struct vmm_config *cfg)
{
	char msg[SANDBOX_MSG_MAX];

	if (close_range(3, ~0u, 0) < 0) {
		snprintf(msg, sizeof(msg), "sandbox: close_range: %s", strerror(errno));
		die(msg);
	}
	if (sandbox_new_pid_ns(PROG, SANDBOX_TERM_FORWARD, cfg->jail_id, cfg->jail_id,
	    &sup_sig_fd, msg) < 0)
		die(msg);
}

/* Every fd the vmm holds (it opened them all itself: jail_begin closed
 * the inherited ones), so that the jail closes none; returns how many. */
static unsigned
jail_keep_fds(const struct vm *vm, int sfd, int room_efd, int *keep)
{
	unsigned n = 0, i;

	keep[n++] = vm->kvm_fd;
	keep[n++] = vm->vm_fd;
	keep[n++] = vm->mem.fd;
	keep[n++] = vm->stop_efd;
	keep[n++] = sfd;
	keep[n++] = room_efd;
	keep[n++] = sup_sig_fd;
	for (i = 0; i < vm->ncpus; i++)
		keep[n++] = vm->vcpus[i].fd;
	for (i = 0; i < ndevs; i++)
		n += vhost_dev_fds(devs[i], keep + n, KEEP_MAX - n);
	return n;
}

/* Everything is open and every device process started: the jail, without
 * a filter yet (the vCPU threads are still to be created). As root the
 * vmm becomes uid/gid --jail-id; RLIMIT_NOFILE is just above the highest
 * fd it holds; its stdout may be a regular file (FSIZE unlimited). */
static void
jail_enter(const struct vm *vm, const struct vmm_config *cfg, int sfd, int room_efd)
{
	static int keep[KEEP_MAX];
	char msg[SANDBOX_MSG_MAX];
	struct sandbox_cfg sc;
	bool root = geteuid() == 0;
	unsigned n = jail_keep_fds(vm, sfd, room_efd, keep), i;
	int top = STDERR_FILENO;

	for (i = 0; i < n; i++)
		top = keep[i] > top ? keep[i] : top;
	sc = (struct sandbox_cfg){
		.role = PROG, .keep_fds = keep, .nkeep = n, .new_pid_ns = false,
		.uid = root ? cfg->jail_id : getuid(),
		.gid = root ? cfg->jail_id : getgid(),
		.nofile = (rlim_t)top + 1 + NOFILE_SLACK + main_pollfds(),
		.fsize = RLIM_INFINITY,
		.nproc_zero = false, .prog = NULL, .seccomp_log = cfg->seccomp_log,
	};
	if (sandbox_enter(&sc, msg) < 0)
		die(msg);
}

/* The vCPU threads run (each under its own filter): no more processes or
 * threads, and the vmm profile on the main thread. */
static void
jail_finish(struct vm *vm, const struct vmm_config *cfg)
{
	char msg[SANDBOX_MSG_MAX];

	if (sandbox_limit_procs(msg) < 0 ||
	    sandbox_seccomp(&sandbox_prog_vmm, cfg->seccomp_log, PROG, msg) < 0)
		die_stopping_vcpus(vm, msg);
}

int
main(int argc, char **argv)
{
	static struct vm vm = { .kvm_fd = -1, .vm_fd = -1 };
	struct vmm_config cfg;
	struct err e;
	int sfd, room_efd, reason;
	bool background;

	die_on(cli_parse(argc, argv, 0, &cfg, &e), &e);
	if (cfg.help) {
		fputs(cli_usage(), stdout);
		return 0;
	}
	die_on(cli_check_jail(&cfg, geteuid(), &e), &e);
	background = stdin_in_background();
	block_signals();
	jail_begin(&cfg);
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
	if (!background)
		console_raw(STDIN_FILENO);
	jail_enter(&vm, &cfg, sfd, room_efd);
	vm.seccomp_log = cfg.seccomp_log;
	if (vcpu_start_all(&vm, &e) < 0)
		die_stopping_vcpus(&vm, e.msg);
	jail_finish(&vm, &cfg);
	main_loop(&vm, sfd, room_efd);
	stop_everything(&vm, &cfg);
	reason = atomic_load(&vm.stop_reason);
	if (reason == VM_STOP_ERROR) {
		fprintf(stderr, PROG ": %s\n", vm.stop_msg);
		return 1;
	}
	return 0;
}
